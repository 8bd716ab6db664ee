"""Review attacks on the adoption tool's user export and email matching (issue 24). Pure."""

from __future__ import annotations

import json

import pytest

from tools.userexport import (
    AppUser,
    ExportError,
    match_key,
    parse_csv,
    parse_firebase_json,
    verified_email_index,
)


@pytest.mark.parametrize(
    "customer_email",
    [
        "ada@example.com.",  # trailing dot: the same mailbox to DNS, not to this rule
        " ada@example.com",
        "ada@example.com\n",
        "ada+billing@example.com",  # a tag is another address here
        '"ada"@example.com',
        "ada@exаmple.com",  # Cyrillic а
        "ada@xn--exmple-cua.com",  # an IDN
        "ＡＤＡ@example.com",  # full-width
        "ada@EXAMPLE.com\u200b",
    ],
)
def test_a_lookalike_customer_email_never_matches_the_victims(customer_email):
    index, _ = verified_email_index([AppUser("victim", "ada@example.com", True)])
    assert index.get(match_key(customer_email) or "") is None


def test_case_is_the_only_difference_that_matches():
    index, _ = verified_email_index([AppUser("victim", "Ada@Example.com", True)])
    assert index[match_key("ada@example.COM")] == "victim"


def test_an_unverified_or_shared_email_captures_no_one():
    users = [
        AppUser("victim", "ada@example.com", True),
        AppUser("attacker", "ADA@example.com", True),
        AppUser("other", "bob@example.com", False),
    ]
    index, shared = verified_email_index(users)
    assert "ada@example.com" not in index and "ada@example.com" in shared
    assert "bob@example.com" not in index


@pytest.mark.parametrize("value", ["1", "yes", " true", "t", "TRUE\u00a0"])
def test_a_csv_verified_flag_other_than_true_or_false_is_an_error(value):
    with pytest.raises(ExportError):
        parse_csv(f"uid,email,email_verified\nu1,ada@example.com,{value}\n")


def test_a_csv_cell_with_an_embedded_newline_cannot_forge_a_second_row():
    text = 'uid,email,email_verified\nu1,"ada@example.com\nu2,bob@example.com",true\n'
    users = parse_csv(text)
    assert [user.uid for user in users] == ["u1"]
    assert match_key(users[0].email) is None


def test_a_firebase_export_with_a_duplicate_local_id_is_refused():
    users = [{"localId": "u1", "email": "a@example.com", "emailVerified": True}] * 2
    with pytest.raises(ExportError):
        parse_firebase_json(json.dumps({"users": users}))


@pytest.mark.parametrize("verified", ["true", 1, None])
def test_a_firebase_export_verified_flag_must_be_a_boolean(verified):
    users = [{"localId": "u1", "email": "a@example.com", "emailVerified": verified}]
    with pytest.raises(ExportError):
        parse_firebase_json(json.dumps({"users": users}))
