"""`python -m tools.adopt` against the stand-in and the emulator, over real HTTP: a mixed
account is adopted exactly as the report says, nothing else is touched, a second run changes
nothing, and afterwards the portal and the webhook work on the users' old customers."""

from __future__ import annotations

import io
import json
import os

import pytest

from billing_portal.customers import document_id
from local.stripe import LIVE_KEY
from tests.function.conftest import function_env, session_customers
from tests.function.test_http_webhook import (
    customer_of_user,
    new_price,
    stored_state,
    stripe_state,
    subscribe,
)
from tools import adopt
from tools.adoptplan import Action, Rule, Unmatched
from tools.userexport import AppUser

pytestmark = pytest.mark.integration

MAPPING_FIELDS = {"stripe_customer_id", "livemode", "generation", "created_at", "uid"}


@pytest.fixture
def env(billing_pair, standin, firestore_emulator, dev_issuer, monkeypatch):
    """The session function's environment; the Firestore client reads the emulator host."""
    built = function_env(
        standin, firestore_emulator, dev_issuer, CUSTOMERS_COLLECTION=billing_pair.collection
    )
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", built["FIRESTORE_EMULATOR_HOST"])
    return built


def mapping(firestore_db, pair, uid):
    snapshot = firestore_db.collection(pair.collection).document(document_id(uid)).get()
    return snapshot.to_dict() if snapshot.exists else None


def metadata_of(standin, customer_id, mode="test"):
    (found,) = [c for c in standin.customers(mode) if c["id"] == customer_id]
    return found["metadata"]


def run_adopt(env, rule, **options):
    return adopt.run(env, rule=rule, stderr=io.StringIO(), workers=4, **options)


@pytest.fixture
def account(standin, billing_pair, dev_issuer):
    """A test-mode account an older integration filled, and this deployment's first user."""
    sdk = standin.client()
    live = standin.client(api_key=LIVE_KEY)
    price = new_price(sdk)
    tag = os.urandom(4).hex()
    uid = {name: f"adopt-{name}-{tag}" for name in ("meta", "email", "amb", "mapped", "unver")}

    def customer(client=sdk, **params):
        return client.v1.customers.create(params=params).id

    ids = {
        "meta": customer(metadata={"firebaseUID": uid["meta"]}, email="meta@example.com"),
        "email": customer(email=f"Email.User+{tag}@Example.com"),
        "nobody": customer(email="nobody@example.com"),
        "unverified": customer(email=f"unverified-{tag}@example.com"),
        "amb_live": customer(metadata={"firebaseUID": uid["amb"]}),
        "amb_new": customer(metadata={"firebaseUID": uid["amb"]}),
        "live_mode": customer(live, metadata={"firebaseUID": uid["meta"]}),
        "mapped_fn": customer_of_user(billing_pair, dev_issuer, standin, uid["mapped"]),
    }
    for name in ("meta", "email", "amb_live"):
        subscribe(sdk, ids[name], price)
    users = (
        AppUser(uid["meta"], None, False),
        AppUser(uid["email"], f"email.user+{tag}@example.com", True),
        AppUser(uid["amb"], None, False),
        AppUser(uid["mapped"], None, False),
        AppUser(uid["unver"], f"unverified-{tag}@example.com", False),
    )
    return uid, ids, Rule(metadata_key="firebaseUID", users=users)


def test_a_mixed_account_is_adopted_as_reported_and_a_second_run_changes_nothing(
    standin, billing_pair, firestore_db, env, account
):
    uid, ids, rule = account
    before_mapped = mapping(firestore_db, billing_pair, uid["mapped"])
    customers_before = {c["id"] for c in standin.customers()}

    dry = run_adopt(env, rule)
    actions = {plan.uid: plan.action for plan in dry.plans}
    assert actions == {
        uid["meta"]: Action.ADOPT,
        uid["email"]: Action.ADOPT,
        uid["amb"]: Action.ADOPT,
        uid["mapped"]: Action.COMPLETE,  # mapped by the function; its state not yet synced
    }
    proposals = {plan.uid: plan.customer.id for plan in dry.plans}
    assert proposals[uid["amb"]] == ids["amb_live"]  # the one with a live subscription
    assert [p.alternatives for p in dry.ambiguous] == [(ids["amb_new"],)]
    reasons = {s.customer.id: s.reason for s in dry.skipped}
    assert reasons == {
        ids["nobody"]: Unmatched.EMAIL_UNKNOWN,
        ids["unverified"]: Unmatched.EMAIL_UNKNOWN,
    }  # the live-mode customer is not even listed with a test key
    assert dry.exit_status(strict=False) == 0 and dry.exit_status(strict=True) == 1
    # A dry run writes nothing.
    for name in ("meta", "email", "amb"):
        assert mapping(firestore_db, billing_pair, uid[name]) is None
    assert "app_user_id" not in metadata_of(standin, ids["meta"])

    applied = run_adopt(env, rule, apply=True)
    assert applied.errors == [] and applied.exit_status(strict=False) == 0
    assert applied.done == {"mappings": 3, "metadata": 3, "states": 4}
    for name, customer in (("meta", "meta"), ("email", "email"), ("amb", "amb_live")):
        written = mapping(firestore_db, billing_pair, uid[name])
        assert set(written) == MAPPING_FIELDS
        assert (written["stripe_customer_id"], written["livemode"], written["generation"]) == (
            ids[customer],
            False,
            0,
        )
        assert written["uid"] == uid[name]
        assert metadata_of(standin, ids[customer])["app_user_id"] == uid[name]
        state = stored_state(firestore_db, billing_pair, uid[name])
        assert state["customer"] == ids[customer]
        assert state["subscriptions"] == stripe_state(standin, ids[customer]) != []
    assert metadata_of(standin, ids["meta"])["firebaseUID"] == uid["meta"]  # kept
    for untouched in ("nobody", "unverified", "amb_new"):
        assert "app_user_id" not in metadata_of(standin, ids[untouched])
    assert "app_user_id" not in metadata_of(standin, ids["live_mode"], mode="live")
    assert mapping(firestore_db, billing_pair, uid["mapped"]) == before_mapped
    assert mapping(firestore_db, billing_pair, uid["unver"]) is None
    # Nothing deleted, nothing created.
    assert {c["id"] for c in standin.customers()} == customers_before
    assert standin.customers(include_deleted=True) == standin.customers()

    states = {name: stored_state(firestore_db, billing_pair, uid[name]) for name in uid}
    mappings = {name: mapping(firestore_db, billing_pair, uid[name]) for name in uid}
    posts = len(standin.requests(method="POST"))
    again = run_adopt(env, rule, apply=True)
    assert again.done == {} and again.errors == []
    assert {plan.action for plan in again.plans} == {Action.ALREADY_MAPPED}
    assert len(standin.requests(method="POST")) == posts  # no Stripe write at all
    assert {name: stored_state(firestore_db, billing_pair, uid[name]) for name in uid} == states
    assert {name: mapping(firestore_db, billing_pair, uid[name]) for name in uid} == mappings


def test_after_adoption_the_portal_uses_the_old_customer_and_its_events_reach_the_state(
    standin, billing_pair, dev_issuer, firestore_db, env, account
):
    uid, ids, rule = account
    assert run_adopt(env, rule, apply=True).errors == []
    standin.discard_held_webhooks()

    answer = billing_pair.session.post(dev_issuer.mint(uid["meta"]))
    assert answer.status_code == 200
    assert session_customers(standin)[-1] == ids["meta"]  # no duplicate customer
    users_customers = [
        c["id"]
        for c in standin.customers()
        if uid["meta"] in (c["metadata"].get("app_user_id"), c["metadata"].get("firebaseUID"))
    ]
    assert users_customers == [ids["meta"]]

    sdk = standin.client()
    (subscription,) = [s for s in standin.subscriptions() if s["customer"] == ids["meta"]]
    sdk.v1.subscriptions.update(subscription["id"], params={"cancel_at_period_end": True})
    assert standin.hold_webhooks(False) >= 1
    assert standin.wait_webhooks()
    state = stored_state(firestore_db, billing_pair, uid["meta"])
    assert state["subscriptions"][0]["cancel_at_period_end"] is True
    assert state["subscriptions"] == stripe_state(standin, ids["meta"])
    assert all(d["status"] == 200 for d in standin.webhook_deliveries())


def test_the_command_line_reports_and_exits_by_what_needs_a_human(
    standin, env, account, tmp_path, monkeypatch, capsys
):
    uid, _ids, rule = account
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    export = tmp_path / "users.json"
    export.write_text(
        json.dumps(
            {
                "users": [
                    {"localId": u.uid, "email": u.email, "emailVerified": u.email_verified}
                    for u in rule.users or ()
                ]
            }
        ),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    argv = ["--match-metadata", "firebaseUID", "--users", str(export), "--report", str(report)]
    assert adopt.main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""  # the progress bar is for a terminal only
    assert out.startswith("DRY RUN (test mode)") and f"ambiguous {uid['amb']}" in out
    # The sources count the users to adopt, not also the one only being finished (by app_user_id).
    assert "\n  matched, to adopt: 3 (by email 1, metadata 2)\n" in out
    assert "\n  already mapped, finishing metadata/state: 1\n" in out
    assert "@" not in out  # ids only: no emails in the report
    assert json.loads(report.read_text())["applied"] is False
    assert adopt.main([*argv, "--strict"]) == 1
    assert adopt.main(["--users", str(tmp_path / "missing.json")]) == 2
    assert adopt.main([]) == 2


def test_a_restricted_key_with_the_documented_permissions_is_enough(
    standin, billing_pair, firestore_db, env, account
):
    # docs/adopt.md: Customers write (list, mark), Subscriptions read (the sync, ambiguity),
    # Entitlements read (the sync).
    uid, ids, rule = account
    key = "rk_test_adopt" + os.urandom(8).hex()
    standin.restrict_key(key, {"customers": "read"})
    refused = run_adopt({**env, "STRIPE_SECRET_KEY": key}, rule, apply=True)
    assert refused.errors and refused.exit_status(strict=False) == 1  # cannot mark: read only
    permissions = {"customers": "write", "subscriptions": "read", "entitlements": "read"}
    standin.restrict_key(key, permissions)
    applied = run_adopt({**env, "STRIPE_SECRET_KEY": key}, rule, apply=True)
    assert applied.errors == [] and applied.exit_status(strict=False) == 0
    assert metadata_of(standin, ids["email"])["app_user_id"] == uid["email"]
