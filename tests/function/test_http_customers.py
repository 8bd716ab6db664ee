"""The customer mapping over real HTTP: function server ↔ Firestore emulator ↔ Stripe stand-in."""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe
from google.cloud import firestore

from tests.function.conftest import STRIPE_KEY

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db(firestore_db) -> firestore.Client:
    """The suite's Firestore client on the emulator the function uses."""
    return firestore_db


def customers_of(standin, uid: str) -> list[dict]:
    return [
        c
        for c in standin.customers(include_deleted=True)
        if (c.get("metadata") or {}).get("app_user_id") == uid
    ]


def customer_creates(standin, uid: str) -> list[dict]:
    return [
        r
        for r in standin.requests(path_prefix="/v1/customers", method="POST")
        if r["path"] == "/v1/customers"
        and (r["params"].get("metadata") or {}).get("app_user_id") == uid
    ]


def test_new_user_gets_a_portal_url(function_server, dev_issuer, new_uid):
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url"}, "the response says nothing else about the customer"
    assert "/p/session/" in response.json()["url"]


def test_new_user_gets_exactly_one_customer_tagged_with_the_user_id(
    function_server, dev_issuer, stripe_standin, new_uid
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    customers = customers_of(stripe_standin, new_uid)
    assert len(customers) == 1, f"customers for {new_uid}: {customers}"


def test_new_user_mapping_document_is_written(
    function_server, dev_issuer, stripe_standin, db, new_uid
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    doc = db.collection(function_server.collection).document(new_uid).get()
    assert doc.exists, f"{function_server.collection}/{new_uid} was not written"
    data = doc.to_dict()
    assert data["stripe_customer_id"] == customers_of(stripe_standin, new_uid)[0]["id"]
    assert data["livemode"] is False
    assert data["generation"] == 0
    assert isinstance(data["created_at"], datetime.datetime)


def test_verified_email_is_set_on_the_new_customer(
    function_server, dev_issuer, stripe_standin, new_uid
):
    token = dev_issuer.mint(new_uid, email="ann@example.test", email_verified=True)
    assert function_server.post(token).status_code == 200
    assert customers_of(stripe_standin, new_uid)[0]["email"] == "ann@example.test"


def test_unverified_email_is_not_sent_to_stripe(
    function_server, dev_issuer, stripe_standin, new_uid
):
    token = dev_issuer.mint(new_uid, email="eve@example.test", email_verified=False)
    assert function_server.post(token).status_code == 200
    assert customers_of(stripe_standin, new_uid)[0].get("email") is None


def test_returning_user_gets_the_same_customer_without_a_create(
    function_server, dev_issuer, stripe_standin, new_uid
):
    first = function_server.post(dev_issuer.mint(new_uid))
    assert first.status_code == 200
    creates_before = len(customer_creates(stripe_standin, new_uid))
    second = function_server.post(dev_issuer.mint(new_uid))
    assert second.status_code == 200
    assert len(customer_creates(stripe_standin, new_uid)) == creates_before
    sessions = [
        r["params"]["customer"]
        for r in stripe_standin.requests(path_prefix="/v1/billing_portal/sessions")
        if r["status"] == 200
    ]
    assert sessions[-1] == sessions[-2] == customers_of(stripe_standin, new_uid)[0]["id"]


def test_warm_instance_reads_no_firestore_document_for_a_returning_user(
    function_server, dev_issuer, firestore_emulator, new_uid
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    before = firestore_emulator.stats()
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    after = firestore_emulator.stats()
    reads = ("GetDocument", "BatchGetDocuments", "RunQuery")
    assert {m: after.get(m, 0) - before.get(m, 0) for m in reads} == dict.fromkeys(reads, 0)


def test_cold_instance_finds_the_existing_mapping(
    function_server, function_factory, dev_issuer, stripe_standin, new_uid
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    other = function_factory("cold", CUSTOMERS_COLLECTION=function_server.collection)
    assert other.post(dev_issuer.mint(new_uid)).status_code == 200
    assert len(customers_of(stripe_standin, new_uid)) == 1


def test_fifty_concurrent_first_requests_make_one_customer_and_one_mapping(
    function_server, dev_issuer, stripe_standin, db, new_uid
):
    tokens = [dev_issuer.mint(new_uid) for _ in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda t: function_server.post(t, timeout=60), tokens))
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * 50, [r.text for r in responses if r.status_code != 200][:3]
    customers = customers_of(stripe_standin, new_uid)
    assert len(customers) == 1, f"{len(customers)} customers for one user"
    docs = [d for d in db.collection(function_server.collection).stream() if d.id == new_uid]
    assert len(docs) == 1
    assert docs[0].to_dict()["stripe_customer_id"] == customers[0]["id"]


def test_failed_mapping_write_is_recovered_by_the_next_request(
    function_server, dev_issuer, stripe_standin, firestore_emulator, db, new_uid
):
    firestore_emulator.fail_next("Commit", count=1, code=7)  # PERMISSION_DENIED: not retried
    failed = function_server.post(dev_issuer.mint(new_uid))
    assert failed.status_code == 502, failed.text
    assert len(customers_of(stripe_standin, new_uid)) == 1, "the customer was created"
    assert not db.collection(function_server.collection).document(new_uid).get().exists

    retried = function_server.post(dev_issuer.mint(new_uid))
    assert retried.status_code == 200, retried.text
    customers = customers_of(stripe_standin, new_uid)
    assert len(customers) == 1, "the retry reused the customer instead of making another"
    doc = db.collection(function_server.collection).document(new_uid).get()
    assert doc.to_dict()["stripe_customer_id"] == customers[0]["id"]


def test_deleted_customer_is_replaced_once_and_the_caller_still_gets_a_url(
    function_server, dev_issuer, stripe_standin, db, new_uid
):
    assert function_server.post(dev_issuer.mint(new_uid)).status_code == 200
    original = customers_of(stripe_standin, new_uid)[0]["id"]
    stripe_standin.delete_customer(original)

    healed = function_server.post(dev_issuer.mint(new_uid))
    assert healed.status_code == 200, healed.text
    doc = db.collection(function_server.collection).document(new_uid).get().to_dict()
    assert doc["generation"] == 1
    assert doc["stripe_customer_id"] != original
    live = [c for c in customers_of(stripe_standin, new_uid) if not c.get("deleted")]
    assert [c["id"] for c in live] == [doc["stripe_customer_id"]]


def test_mapping_of_the_other_mode_is_refused_and_left_untouched(
    function_server, dev_issuer, db, new_uid
):
    live_mapping = {
        "stripe_customer_id": "cus_LiveOnly123",
        "livemode": True,
        "generation": 0,
        "created_at": datetime.datetime.now(datetime.UTC),
    }
    db.collection(function_server.collection).document(new_uid).create(live_mapping)
    response = function_server.post(dev_issuer.mint(new_uid))
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "mode_mismatch"
    stored = db.collection(function_server.collection).document(new_uid).get().to_dict()
    assert stored["stripe_customer_id"] == "cus_LiveOnly123" and stored["livemode"] is True


def test_configuration_id_is_passed_to_stripe_when_set(
    function_factory, dev_issuer, stripe_standin, new_uid
):
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": stripe_standin.url})
    configuration = client.v1.billing_portal.configurations.create(
        params={"features": {"invoice_history": {"enabled": True}}}
    ).id
    server = function_factory("configured", PORTAL_CONFIGURATION_ID=configuration)
    assert server.post(dev_issuer.mint(new_uid)).status_code == 200
    last = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions")[-1]
    assert last["params"]["configuration"] == configuration


def test_return_url_and_flow_reach_stripe(function_server, dev_issuer, stripe_standin, new_uid):
    body = {
        "return_url": "https://app.example.test/account?from=portal",
        "locale": "de",
        "flow": "payment_method_update",
    }
    response = function_server.post(dev_issuer.mint(new_uid), body)
    assert response.status_code == 200, response.text
    params = stripe_standin.requests(path_prefix="/v1/billing_portal/sessions")[-1]["params"]
    assert params["return_url"] == body["return_url"]
    assert params["locale"] == "de"
    assert params["flow_data"] == {"type": "payment_method_update"}
