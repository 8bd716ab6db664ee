"""Pure naming rules of the customer mapping: document ids and idempotency keys."""

from __future__ import annotations

from billing_portal.customers import document_id
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
