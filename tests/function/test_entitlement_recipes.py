"""The backend recipe of docs/entitlements.md, run as written against the emulator and a state
the webhook wrote (the collection name swapped for this test deployment's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from billing_portal.customers import document_id
from tests.function.test_http_entitlements import plan
from tests.function.test_http_webhook import customer_of_user, held_ids

pytestmark = pytest.mark.integration

# The function's tests also run with only the function's packages (Python 3.12): no PyYAML here.
REPO = Path(__file__).resolve().parents[2]


def python_recipe(collection: str):
    text = (REPO / "docs" / "entitlements.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace: dict = {}
    exec(code.replace('"stripe_customers"', repr(collection)), namespace)  # noqa: S102
    return namespace["has_entitlement"]


def test_the_documented_python_check_reads_what_the_webhook_wrote(
    billing_pair, standin, dev_issuer, new_uid, firestore_db
):
    sdk = standin.client()
    export = sdk.v1.entitlements.features.create(
        params={"lookup_key": "export_csv", "name": "Export"}
    ).id
    price = plan(sdk, "Business", [export])
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    sdk.v1.subscriptions.create(params={"customer": customer, "items": [{"price": price}]})
    standin.deliver_events(held_ids(standin))
    assert document_id(new_uid) == new_uid  # the recipe reads the document by the uid
    has_entitlement = python_recipe(billing_pair.collection)
    assert has_entitlement(firestore_db, new_uid, "export_csv") is True
    assert has_entitlement(firestore_db, new_uid, "sso") is False
    assert has_entitlement(firestore_db, "someone-else", "export_csv") is False
