"""API keys: which are accepted, which mode they select, and how they appear in messages.

Full keys are never stored: an explicit allow-list is kept as SHA-256 digests, and everything
that is shown or logged uses ``mask()``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from local.stripe.core.errors import StripeError

KEY_FORM = re.compile(r"^(?P<kind>sk|rk)_(?P<mode>test|live)_[0-9A-Za-z]{8,}$")
_PREFIX = re.compile(r"^[a-z]{2,4}_(?:test|live)_")
TEST_KEY = "sk_test_standin" + "0" * 24
LIVE_KEY = "sk_" + "live_" + "standin" + "0" * 24  # assembled: no live-key-shaped literal

MISSING_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


@dataclass(frozen=True)
class ApiKey:
    """What the stand-in remembers about the key of a request."""

    livemode: bool
    restricted: bool
    masked: str
    # A restricted key's permissions ({resource: read|write}); None: it may do anything.
    permissions: Mapping[str, str] | None = field(default=None, compare=False)

    @property
    def mode(self) -> str:
        """``"live"`` or ``"test"``."""
        return "live" if self.livemode else "test"


def mask(key: str) -> str:
    """``sk_test_****abcd``: the prefix and, for long enough keys, the last four characters."""
    prefix_match = _PREFIX.match(key)
    prefix = prefix_match.group(0) if prefix_match else ""
    secret = key[len(prefix) :]
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"{prefix}****{tail}"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class KeyRing:
    """Decides whether a request's key is accepted.

    With ``accepted=None`` any key of plausible form (``sk_`` or ``rk_``, ``test`` or ``live``)
    is; otherwise only the listed keys are.
    """

    def __init__(self, accepted: Iterable[str] | None = None) -> None:
        self._digests: list[bytes] | None = None
        self._permissions: dict[bytes, dict[str, str]] = {}
        self.accept(accepted)

    def restrict(self, key: str, permissions: Mapping[str, str]) -> None:
        """Give a restricted key (`rk_…`) only these permissions from now on (see
        `local.stripe.core.permissions`); a key never restricted may do anything."""
        form = KEY_FORM.match(key) if isinstance(key, str) else None
        if form is None or form["kind"] != "rk":
            shown = mask(key) if isinstance(key, str) else type(key).__name__
            raise ValueError(f"only a restricted key (rk_…) has permissions: {shown}")
        self._permissions[_digest(key)] = dict(permissions)

    def accept(self, accepted: Iterable[str] | None) -> None:
        """Accept only these keys from now on (``None``: any key of plausible form)."""
        if accepted is None:
            self._digests = None
            return
        keys = list(accepted)
        for key in keys:
            if not isinstance(key, str) or not KEY_FORM.match(key):
                shown = mask(key) if isinstance(key, str) else type(key).__name__
                raise ValueError(f"not a Stripe secret or restricted key: {shown}")
        self._digests = [_digest(key) for key in keys]

    def authenticate(self, authorization: str | None) -> ApiKey:
        """Return the request's key, or raise the 401 Stripe sends."""
        key = _key_from_header(authorization)
        if key is None:
            raise StripeError(401, MISSING_KEY_MESSAGE)
        form = KEY_FORM.match(key)
        if form is None or not self._allows(key):
            raise StripeError(401, f"Invalid API Key provided: {mask(key)}")
        return ApiKey(
            livemode=form["mode"] == "live",
            restricted=form["kind"] == "rk",
            masked=mask(key),
            permissions=self._permissions.get(_digest(key)),
        )

    def _allows(self, key: str) -> bool:
        if self._digests is None:
            return True
        digest = _digest(key)
        return any(hmac.compare_digest(digest, allowed) for allowed in self._digests)


def _key_from_header(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        # curl -u sk_test_…: sends the key as the user name with an empty password.
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0] or None
    return ""
