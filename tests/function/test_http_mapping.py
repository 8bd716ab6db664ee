"""The mapping document over real HTTP: one user per document, old documents, malformed ones.

Documents are written straight into the emulator, as an older release or a hand edit left them,
and the function is then called like a browser would.
"""

from __future__ import annotations

import datetime
import hashlib

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from billing_portal.logs import user_ref
from tests.function.conftest import customers_of, session_customers

pytestmark = pytest.mark.integration


def hashed_id(uid: str) -> str:
    """The document id releases before issue 11 gave a user id Firestore cannot hold."""
    return "sha256-" + hashlib.sha256(uid.encode()).hexdigest()


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def stripe_customer(stripe_standin, uid: str) -> str:
    """A customer as the function creates it (tagged with the user id), made directly."""
    client = stripe_standin.client()
    return client.v1.customers.create(params={"metadata": {"app_user_id": uid}}).id


# --- item 2: two users, one document ---------------------------------------------------------


def test_a_user_whose_id_is_another_users_hashed_id_gets_a_customer_of_their_own(
    function_server, dev_issuer, stripe_standin, new_uid
):
    victim = f"team/{new_uid}"
    assert function_server.post(dev_issuer.mint(victim)).status_code == 200
    victims_customer = session_customers(stripe_standin)[-1]

    attacker = hashed_id(victim)  # a `sub` the attacker's issuer lets them choose
    response = function_server.post(dev_issuer.mint(attacker))
    assert response.status_code == 200, response.text
    assert session_customers(stripe_standin)[-1] != victims_customer
    assert [c["id"] for c in customers_of(stripe_standin, victim)] == [victims_customer]


def test_the_mapping_document_records_the_user_id(function_server, dev_issuer, firestore_db):
    uid = "team/ann-" + hashlib.sha256(str(now()).encode()).hexdigest()[:8]
    assert function_server.post(dev_issuer.mint(uid)).status_code == 200
    query = firestore_db.collection(function_server.collection)
    docs = query.where(filter=FieldFilter("uid", "==", uid)).get()
    assert len(docs) == 1
    assert docs[0].id != uid and "/" not in docs[0].id


def test_a_document_of_another_user_is_a_logged_502_and_never_a_session(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid
):
    someone = stripe_customer(stripe_standin, "someone-else")
    firestore_db.collection(function_server.collection).document(new_uid).create(
        {
            "stripe_customer_id": someone,
            "livemode": False,
            "generation": 0,
            "created_at": now(),
            "uid": "someone-else",
        }
    )
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "mapping_conflict"
    assert someone not in session_customers(stripe_standin)
    assert customers_of(stripe_standin, new_uid) == []
    lines = [line for line in function_server.log_lines() if line.get("user") == user_ref(new_uid)]
    assert any(line.get("code") == "mapping_conflict" for line in lines)
    text = function_server.process.log_text()
    assert new_uid not in text and "someone-else" not in text


def test_an_old_document_without_uid_is_still_used_for_its_user(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid
):
    customer = stripe_customer(stripe_standin, new_uid)
    firestore_db.collection(function_server.collection).document(new_uid).create(
        {"stripe_customer_id": customer, "livemode": False, "generation": 0, "created_at": now()}
    )
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 200, response.text
    assert session_customers(stripe_standin)[-1] == customer
    assert [c["id"] for c in customers_of(stripe_standin, new_uid)] == [customer]


def test_an_old_hashed_document_is_used_when_its_customer_is_tagged_with_the_user(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid
):
    uid = f"team/{new_uid}"
    customer = stripe_customer(stripe_standin, uid)
    ref = firestore_db.collection(function_server.collection).document(hashed_id(uid))
    ref.create(
        {"stripe_customer_id": customer, "livemode": False, "generation": 0, "created_at": now()}
    )
    response = function_server.post(dev_issuer.mint(uid))
    assert response.status_code == 200, response.text
    assert session_customers(stripe_standin)[-1] == customer
    assert ref.get().to_dict()["uid"] == uid, "verified once, then recorded"


def test_an_old_hashed_document_of_another_user_is_a_502_and_never_a_session(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid
):
    uid = f"team/{new_uid}"
    # Written by the old release for a user whose `sub` was literally this hashed id.
    squatter = stripe_customer(stripe_standin, hashed_id(uid))
    firestore_db.collection(function_server.collection).document(hashed_id(uid)).create(
        {"stripe_customer_id": squatter, "livemode": False, "generation": 0, "created_at": now()}
    )
    response = function_server.post(dev_issuer.mint(uid))
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "mapping_conflict"
    assert squatter not in session_customers(stripe_standin)


# --- item 7: a malformed mapping document is a clear 502 ---------------------------------------

GOOD = {"stripe_customer_id": "cus_Malformed0001", "livemode": False, "generation": 0}


@pytest.mark.parametrize(
    "changes",
    [
        {"generation": "abc"},
        {"generation": -1},
        {"generation": True},
        {"generation": 1.5},
        {"livemode": "false"},
        {"livemode": 0},
        {"stripe_customer_id": ""},
        {"stripe_customer_id": 42},
        {"stripe_customer_id": "acct_123"},
        {"stripe_customer_id": "cus_12/34"},
        {"uid": 5},
        {"created_at": "yesterday"},
        {"healed_at": 17},
        {"livemode": None},
    ],
    ids=lambda changes: "-".join(f"{k}={v!r}" for k, v in changes.items()),
)
def test_a_malformed_mapping_document_is_502_mapping_malformed(
    function_server, dev_issuer, stripe_standin, firestore_db, new_uid, changes
):
    document = {**GOOD, "created_at": now(), **changes}
    firestore_db.collection(function_server.collection).document(new_uid).create(document)
    sessions_before = len(session_customers(stripe_standin))
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "mapping_malformed"
    assert len(session_customers(stripe_standin)) == sessions_before
    assert customers_of(stripe_standin, new_uid) == []


def test_a_mapping_document_without_livemode_is_malformed(
    function_server, dev_issuer, firestore_db, new_uid
):
    document = {"stripe_customer_id": "cus_Malformed0002", "generation": 0, "created_at": now()}
    firestore_db.collection(function_server.collection).document(new_uid).create(document)
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "mapping_malformed"
