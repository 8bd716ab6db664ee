"""App users from an export file, and the one rule by which an email may match (pure).

Two formats: Firebase Auth's `firebase auth:export users.json --format=json`
(`{"users": [{"localId": …, "email": …, "emailVerified": true, …}]}`), or a CSV with the header
`uid,email,email_verified` (`true`/`false`). A file that is neither, or a row that is not of that
shape, is refused with its position: an export read wrongly would match wrongly.

Email matching is where an attacker could capture someone else's account: a customer's email is
whatever was typed into Stripe (a Checkout form, a portal that lets customers change their email),
never verified by Stripe. So a customer email matches a user only if it equals, byte for byte
after lower-casing ASCII letters, a *verified* email that exactly one user has, and only if both
are plain ASCII addresses with nothing around them (`match_key`): no Unicode folding (`K` KELVIN
SIGN lower-cases to `k`, `ß` case-folds to `ss`, NFKC turns full-width letters into ASCII), no
trimming, no invisible characters. An address that needs any of that is not matched by email; the
report lists it, and `--match-metadata` or a hand-written mapping adopts it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# One visible-ASCII local part, `@`, a dotted ASCII domain; nothing else, not even a space.
_PLAIN_EMAIL = re.compile(r"[!-~]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
CSV_HEADER = ["uid", "email", "email_verified"]
_MAX_UID = 128  # Firebase Auth's limit on a user id


class ExportError(ValueError):
    """The export file cannot be read as users; the message says where and why."""


@dataclass(frozen=True)
class AppUser:
    """One user of the app, as the export says."""

    uid: str
    email: str | None
    email_verified: bool


def match_key(email: object) -> str | None:
    """The key two emails must share to match, or None if this email never matches. Pure.

    Plain ASCII addresses only (`[!-~]` local part without a second `@`, LDH domain labels);
    ASCII letters lower-cased, nothing else changed.
    """
    if not isinstance(email, str) or not email.isascii() or not _PLAIN_EMAIL.fullmatch(email):
        return None
    if email.count("@") != 1:
        return None
    domain = email.partition("@")[2]
    if ".." in domain or "." not in domain:
        return None
    return email.lower()  # ASCII only here: lower() changes nothing but A–Z


def valid_uid(uid: object) -> bool:
    """A user id as Firebase Auth issues them: a non-empty string of at most 128 characters,
    printable, without surrounding whitespace. Pure."""
    return (
        isinstance(uid, str)
        and 0 < len(uid) <= _MAX_UID
        and uid == uid.strip()
        and uid.isprintable()
    )


def read_users(path: Path) -> list[AppUser]:
    """The users of an export file (JSON or CSV, by content); `ExportError` if it is neither."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    if text.lstrip().startswith("{"):
        return parse_firebase_json(text, str(path))
    return parse_csv(text, str(path))


def parse_firebase_json(text: str, name: str = "export") -> list[AppUser]:
    """Users of a Firebase `auth:export` JSON document. Pure."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ExportError(f"{name}: not JSON ({error})") from None
    users = document.get("users") if isinstance(document, dict) else None
    if not isinstance(users, list):
        raise ExportError(f'{name}: expected {{"users": [...]}} as `firebase auth:export` writes')
    found = []
    for index, user in enumerate(users):
        where = f"{name}: users[{index}]"
        if not isinstance(user, dict) or not valid_uid(user.get("localId")):
            raise ExportError(f"{where}: no valid localId")
        email = user.get("email")
        verified = user.get("emailVerified", False)
        if email is not None and not isinstance(email, str):
            raise ExportError(f"{where}: email is not a string")
        if not isinstance(verified, bool):
            raise ExportError(f"{where}: emailVerified is not true or false")
        found.append(AppUser(user["localId"], email, verified))
    return _unique(found, name)


def parse_csv(text: str, name: str = "export") -> list[AppUser]:
    """Users of a `uid,email,email_verified` CSV (with that header). Pure."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or [cell.strip() for cell in rows[0]] != CSV_HEADER:
        raise ExportError(
            f"{name}: expected the header `uid,email,email_verified` (or a Firebase auth:export "
            "JSON file)"
        )
    found = []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3:
            raise ExportError(f"{name}, line {line}: expected 3 columns, got {len(row)}")
        uid, email, verified = row
        if not valid_uid(uid):
            raise ExportError(f"{name}, line {line}: not a valid uid")
        if verified.lower() not in ("true", "false"):
            raise ExportError(f"{name}, line {line}: email_verified must be true or false")
        found.append(AppUser(uid, email or None, verified.lower() == "true"))
    return _unique(found, name)


def _unique(users: list[AppUser], name: str) -> list[AppUser]:
    counts = Counter(user.uid for user in users)
    twice = [uid for uid, count in counts.items() if count > 1]
    if twice:
        raise ExportError(f"{name}: {len(twice)} uid(s) appear more than once")
    return users


def verified_email_index(users: list[AppUser]) -> tuple[dict[str, str], set[str]]:
    """({match key: uid} for verified emails held by exactly one user, {keys held by several}).

    A key two users share matches neither: the email cannot say which of them a customer is.
    Pure.
    """
    holders: dict[str, list[str]] = {}
    for user in users:
        key = match_key(user.email) if user.email_verified else None
        if key is not None:
            holders.setdefault(key, []).append(user.uid)
    unique = {key: uids[0] for key, uids in holders.items() if len(uids) == 1}
    shared = {key for key, uids in holders.items() if len(uids) > 1}
    return unique, shared
