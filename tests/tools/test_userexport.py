"""The user export and the email rule: a customer's email (typed by anyone into Stripe) must
never capture another user's account. The attacks first."""

from __future__ import annotations

import json

import pytest

from tools.adoptplan import Customer, Rule, Source, Unmatched, group_by_user, match_customers
from tools.userexport import (
    AppUser,
    ExportError,
    match_key,
    parse_csv,
    parse_firebase_json,
    read_users,
)

VICTIM = AppUser("victim-uid", "kate@example.com", True)


def customer(cid: str, email: str | None, created: int = 1, **metadata: str) -> Customer:
    return Customer(cid, email, metadata, created, livemode=False)


def matched(customers, users, metadata_key=None):
    candidates, skipped = match_customers(customers, Rule(metadata_key, tuple(users)), False)
    return {c.customer.id: c.uid for c in candidates}, {s.customer.id: s.reason for s in skipped}


@pytest.mark.parametrize(
    "attacker_email",
    [
        "\u212aate@example.com",  # KELVIN SIGN: "K".lower() == "k"
        "ｋａｔｅ@example.com",  # full-width letters: NFKC makes them ASCII
        "kаte@example.com",  # Cyrillic а: a confusable, never the same address
        " kate@example.com",  # surrounding whitespace
        "kate@example.com ",
        "kate@example.com\n",
        "kate\u200b@example.com",  # zero-width space
        "kate@example.com\u00ad",  # soft hyphen (invisible)
        "kate@exa\u0301mple.com",  # combining mark
        "kate@example.com@evil.test",  # two @: which mailbox is it?
        "kate@example..com",
    ],
)
def test_a_lookalike_customer_email_does_not_capture_the_user(attacker_email):
    found, skipped = matched([customer("cus_attacker", attacker_email)], [VICTIM])
    assert found == {}
    assert skipped["cus_attacker"] in (Unmatched.EMAIL_NOT_PLAIN, Unmatched.EMAIL_UNKNOWN)


def test_sharp_s_does_not_case_fold_into_another_users_ss():
    users = [AppUser("strasse-uid", "strasse@example.com", True)]
    found, _ = matched([customer("cus_attacker", "straße@example.com")], users)
    assert found == {}


def test_an_unverified_email_matches_nobody():
    users = [AppUser("u1", "kate@example.com", False)]
    found, skipped = matched([customer("cus_1", "kate@example.com")], users)
    assert found == {} and skipped["cus_1"] is Unmatched.EMAIL_UNKNOWN


def test_an_email_two_users_have_verified_matches_neither():
    users = [AppUser("u1", "kate@example.com", True), AppUser("u2", "KATE@example.com", True)]
    found, skipped = matched([customer("cus_1", "kate@example.com")], users)
    assert found == {} and skipped["cus_1"] is Unmatched.EMAIL_SHARED


def test_a_customer_claiming_a_users_email_cannot_outbid_the_metadata_match():
    users = [VICTIM]
    real = customer("cus_real", None, created=1, firebaseUID="victim-uid")
    claim = customer("cus_claim", "kate@example.com", created=99)  # newer, same email
    candidates, _ = match_customers([real, claim], Rule("firebaseUID", tuple(users)), False)
    matches, outranked = group_by_user(candidates)
    assert [(m.uid, [c.id for c in m.customers], m.source) for m in matches] == [
        ("victim-uid", ["cus_real"], Source.METADATA)
    ]
    assert [(s.customer.id, s.reason) for s in outranked] == [("cus_claim", Unmatched.OUTRANKED)]


def test_a_plain_email_matches_case_insensitively():
    found, _ = matched([customer("cus_1", "Kate@Example.COM")], [VICTIM])
    assert found == {"cus_1": "victim-uid"}


def test_match_key_lower_cases_ascii_only():
    assert match_key("A.B+c@Mail.Example.org") == "a.b+c@mail.example.org"
    assert match_key("\u212a@example.com") is None
    assert match_key(None) is None and match_key("") is None and match_key("no-at-sign") is None


def test_firebase_auth_export_json_is_read_as_firebase_writes_it():
    document = {
        "users": [
            {
                "localId": "u1",
                "email": "a@example.com",
                "emailVerified": True,
                "passwordHash": "…",
                "providerUserInfo": [],
            },
            {"localId": "u2", "email": "b@example.com", "emailVerified": False},
            {"localId": "u3"},  # phone-only user: no email
        ]
    }
    assert parse_firebase_json(json.dumps(document)) == [
        AppUser("u1", "a@example.com", True),
        AppUser("u2", "b@example.com", False),
        AppUser("u3", None, False),
    ]


@pytest.mark.parametrize(
    "document",
    [
        "[]",
        '{"users": {}}',
        '{"users": [{"email": "a@example.com"}]}',
        '{"users": [{"localId": "u1", "emailVerified": "true"}]}',
        '{"users": [{"localId": " u1"}]}',
        '{"users": [{"localId": "u1"}, {"localId": "u1"}]}',
    ],
)
def test_a_json_export_of_another_shape_is_refused(document):
    with pytest.raises(ExportError):
        parse_firebase_json(document)


def test_csv_export_with_its_header():
    text = "uid,email,email_verified\nu1,a@example.com,true\nu2,,false\n"
    assert parse_csv(text) == [
        AppUser("u1", "a@example.com", True),
        AppUser("u2", None, False),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "u1,a@example.com,true\n",  # no header
        "uid,email,email_verified\nu1,a@example.com,yes\n",
        "uid,email,email_verified\nu1,a@example.com\n",
        "uid,email,email_verified\n,a@example.com,true\n",
    ],
)
def test_a_csv_of_another_shape_is_refused_with_its_line(text):
    with pytest.raises(ExportError):
        parse_csv(text)


def test_read_users_tells_json_from_csv_by_content(tmp_path):
    (tmp_path / "users.json").write_text('{"users": [{"localId": "u1"}]}', encoding="utf-8")
    (tmp_path / "users.csv").write_text("uid,email,email_verified\nu2,,false\n", encoding="utf-8")
    assert [u.uid for u in read_users(tmp_path / "users.json")] == ["u1"]
    assert [u.uid for u in read_users(tmp_path / "users.csv")] == ["u2"]
    with pytest.raises(ExportError):
        read_users(tmp_path / "missing.json")
