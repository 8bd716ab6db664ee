"""`drift` checks each product's features against the stack, end to end on the stand-in: a
feature attached or detached in the Dashboard is a finding, in the rows `plan` shows."""

from __future__ import annotations

import json

import pytest

from tests.review.review_support import REPO, run
from tests.review.test_review_products_live import DEV, create_catalog, deploy

pytestmark = pytest.mark.integration

BUSINESS = "entitlements.products[declared:business].features"
TEAM = "entitlements.products[declared:team].features"


def drift(env, *args: str):
    return run("-C", str(REPO), "drift", "--stack", "dev", "--format", "json", *args, environ=env)


def features_report(result) -> dict:
    return json.loads(result.out)["features"]


def feature_id(standin, lookup_key: str) -> str:
    features = standin.client().v1.entitlements.features.list(params={"lookup_key": lookup_key})
    return features.data[0].id


def test_features_as_declared_are_no_drift(standin, env):
    deploy(standin, create_catalog(standin, DEV))
    result = drift(env)
    assert result.code == 0, result.out + result.err
    report = features_report(result)
    assert report["drifted"] is False
    checks = {check["setting"]: check for check in report["checks"]}
    assert checks[BUSINESS]["live"] == ["export_csv", "seats", "sso"]
    assert checks[TEAM]["live"] == ["seats"]


def test_a_feature_detached_in_the_dashboard_is_drift(standin, env):
    ids = create_catalog(standin, DEV)
    deploy(standin, ids)
    client = standin.client()
    business = ids["declared:business"]
    (export,) = [
        attachment.id
        for attachment in client.v1.products.features.list(business).data
        if attachment.entitlement_feature.lookup_key == "export_csv"
    ]
    client.v1.products.features.delete(business, export)
    result = drift(env)
    assert result.code == 1
    (finding,) = [c for c in features_report(result)["checks"] if not c["matches"]]
    assert finding["setting"] == BUSINESS and finding["live"] == ["seats", "sso"]
    assert "detached in Stripe: export_csv" in finding["fix"]


def test_a_feature_attached_in_the_dashboard_is_drift(standin, env):
    ids = create_catalog(standin, DEV)
    deploy(standin, ids)
    standin.client().v1.products.features.create(
        ids["declared:team"], params={"entitlement_feature": feature_id(standin, "sso")}
    )
    result = drift(env, "--format", "markdown")  # the markdown report names it too
    assert result.code == 1
    assert "entitlements.products[declared:team].features" in result.out
    assert "attached in Stripe, not declared: sso" in result.out


def test_the_product_ids_output_serves_instead_of_metadata(standin, env):
    ids = create_catalog(standin, DEV)
    deploy(standin, ids)
    result = drift(env, "--product-ids", json.dumps(ids))
    assert result.code == 0, result.out + result.err
