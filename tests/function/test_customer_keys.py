"""Pure naming rules of the customer mapping: document ids and idempotency keys."""

from __future__ import annotations

import datetime

import pytest

from billing_portal.customers import (
    Ownership,
    document_id,
    heal_wait_seconds,
    ownership,
    parse_mapping,
)
from billing_portal.errors import MappingMalformed
from billing_portal.stripe_api import customer_idempotency_key


def test_firebase_uid_is_the_document_id():
    assert document_id("x7Kq9ZtPd3Sg0aVwYbN2cR1eFh42") == "x7Kq9ZtPd3Sg0aVwYbN2cR1eFh42"


def test_oidc_subject_with_a_pipe_is_kept():
    assert document_id("auth0|64f1c2") == "auth0|64f1c2"


def test_subject_with_a_slash_is_hashed_so_the_path_stays_one_document():
    doc = document_id("tenant/42")
    assert doc.startswith("sha256-") and "/" not in doc
    assert doc == document_id("tenant/42"), "the same user always maps to the same document"


def test_reserved_document_ids_are_hashed():
    assert document_id("__name__").startswith("sha256-")
    assert document_id("..").startswith("sha256-")


def test_idempotency_key_differs_by_mode_and_generation_but_not_by_call():
    key = customer_idempotency_key("user-1", "test", 0)
    assert key == customer_idempotency_key("user-1", "test", 0)
    assert key != customer_idempotency_key("user-1", "live", 0)
    assert key != customer_idempotency_key("user-1", "test", 1)
    assert key != customer_idempotency_key("user-2", "test", 0)


def test_idempotency_key_does_not_carry_the_user_id():
    assert "user-1" not in customer_idempotency_key("user-1", "test", 0)


def test_a_user_id_shaped_like_a_hashed_id_is_hashed_again_so_no_two_users_share_a_document():
    victim = "team/alice"
    attacker = document_id(victim)
    assert attacker.startswith("sha256-")
    assert document_id(attacker) != document_id(victim)
    assert document_id(attacker).startswith("sha256-")


def test_ownership_of_a_document_recording_a_uid_is_that_uid():
    assert ownership("ann", "ann", "ann") is Ownership.OWNED
    assert ownership("bob", "ann", "ann") is Ownership.FOREIGN


def test_an_old_document_under_the_user_id_itself_is_that_users():
    assert ownership(None, "ann", "ann") is Ownership.OWNED


def test_an_old_document_under_a_hashed_id_needs_verifying():
    assert ownership(None, "team/ann", document_id("team/ann")) is Ownership.UNVERIFIED


def test_parse_mapping_accepts_what_the_function_writes():
    mapping = parse_mapping(
        {"stripe_customer_id": "cus_1", "livemode": False, "generation": 2, "uid": "ann"}
    )
    assert (mapping.customer_id, mapping.livemode, mapping.generation) == ("cus_1", False, 2)


@pytest.mark.parametrize(
    "changes", [{"generation": "abc"}, {"livemode": "false"}, {"generation": False}, {"uid": ""}]
)
def test_parse_mapping_refuses_wrong_types(changes):
    data = {"stripe_customer_id": "cus_1", "livemode": False, "generation": 0, **changes}
    with pytest.raises(MappingMalformed):
        parse_mapping(data)


def test_healing_waits_out_the_rest_of_the_interval_after_a_heal():
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    interval = datetime.timedelta(minutes=5)
    assert heal_wait_seconds(None, now, interval) == 0
    assert heal_wait_seconds(now - datetime.timedelta(seconds=10), now, interval) == 290
    assert heal_wait_seconds(now - interval, now, interval) == 0
