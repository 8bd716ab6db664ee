"""`drift` resolves declared products and prices from Stripe itself, end to end on the stand-in.

Without `--product-ids`, the drift check reads the products and prices the live configuration
names and recognises the ones this stack's Pulumi created by their metadata
(`stackspec.declared`). Here the catalog is created in the stand-in exactly as the Pulumi program
declares it (`infra.portal.StripePortal._declare_products`).
"""

from __future__ import annotations

import json

import pytest

from local.run.stack_features import create_stack_features
from local.run.stack_portal import create_declared_catalog
from stackspec.declared import declared_metadata, substitute
from stackspec.portal_spec import portal_spec
from stackspec.settings import Settings
from stackspec.stackfiles import read_settings
from tests.review.review_support import REPO, brand_as_declared, create_webhook_endpoint, run

pytestmark = pytest.mark.integration

DEV = read_settings(REPO / "Pulumi.dev.yaml")


def create_catalog(standin, settings: Settings) -> dict[str, str]:
    """The stack's declared products and prices (and the features they grant), as `pulumi up`
    creates them; {ref: id}."""
    ids = create_declared_catalog(standin.client(), settings)
    create_stack_features(standin.client(), settings, ids)
    return ids


def deploy(standin, ids: dict[str, str]) -> str:
    """dev's configuration with these ids, its account branded; returns the configuration id."""
    brand_as_declared(standin, DEV)
    create_webhook_endpoint(standin, DEV)
    spec = substitute(portal_spec(DEV), ids)
    return standin.client().v1.billing_portal.configurations.create(params=spec).id


def drift(env) -> object:
    return run("-C", str(REPO), "drift", "--stack", "dev", "--format", "json", environ=env)


def test_declared_products_are_recognised_by_their_metadata_and_nothing_drifts(standin, env):
    deploy(standin, create_catalog(standin, DEV))
    result = drift(env)
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["findings"] == []


def test_the_check_reads_each_product_and_price_the_configuration_names(standin, env):
    ids = create_catalog(standin, DEV)
    deploy(standin, ids)
    drift(env)
    read = {entry["path"] for entry in standin.requests(method="GET")}
    assert {
        f"/v1/products/{ids['declared:team']}",
        f"/v1/prices/{ids['declared:team/yearly']}",
    } <= read


def test_a_product_another_stack_created_is_not_taken_for_this_stacks(standin, env):
    ids = create_catalog(standin, DEV)
    client = standin.client()
    stranger = client.v1.products.create(
        params={"name": "Acme Team", "metadata": declared_metadata("prod", "declared:team")}
    ).id
    deploy(standin, {**ids, "declared:team": stranger})
    result = drift(env)
    assert result.code == 1
    settings = [finding["setting"] for finding in json.loads(result.out)["findings"]]
    assert "features.subscription_update.products" in settings


def test_a_product_without_metadata_leaves_its_reference_unresolved(standin, env):
    ids = create_catalog(standin, DEV)
    bare = standin.client().v1.products.create(params={"name": "Made by hand"}).id
    deploy(standin, {**ids, "declared:business": bare})
    result = drift(env)
    assert result.code == 1
    (products,) = [
        f
        for f in json.loads(result.out)["findings"]
        if f["setting"] == "features.subscription_update.products"
    ]
    assert "declared:business" in products["declared"]
    assert bare in products["live"]


def test_an_unknown_product_in_the_configuration_exits_2_with_one_line(standin, env):
    ids = create_catalog(standin, DEV)
    deploy(standin, {**ids, "declared:business": "prod_Vanished00001"})
    result = drift(env)
    assert result.code == 2
    assert result.err.startswith("error: Stripe has no products and prices")
    assert "prod_Vanished00001" in result.err
