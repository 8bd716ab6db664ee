"""The stack's portal in the stand-in, as the local run creates it (`--stack`)."""

from __future__ import annotations

import pytest

from local.run.dev_tools import catalog_plans
from local.run.stack_portal import create_stack_portal, stack_settings

pytestmark = pytest.mark.integration
PRODUCTS = "features.subscription_update.products"  # Stripe returns them only when expanded


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_files_portal_is_created_in_the_stand_in(fresh_stripe_standin, stack):
    client = fresh_stripe_standin.client()
    settings = stack_settings(stack)
    configuration_id, prices = create_stack_portal(client, settings)
    configuration = client.v1.billing_portal.configurations.retrieve(
        configuration_id, params={"expand": [PRODUCTS]}
    )
    assert configuration.business_profile.headline == settings.portal.business_profile.headline
    assert configuration.name == settings.portal.name
    switching = configuration.features.subscription_update
    assert switching.enabled
    listed = [price for product in switching.products for price in product.prices]
    assert listed and set(listed) <= set(prices), (listed, prices)
    plans = catalog_plans(client, prices)  # what the example page names plans by
    assert set(plans) == set(prices)


def test_prods_existing_products_keep_their_ids_and_get_stand_in_prices(fresh_stripe_standin):
    client = fresh_stripe_standin.client()
    configuration_id, _ = create_stack_portal(client, stack_settings("prod"))
    products = client.v1.billing_portal.configurations.retrieve(
        configuration_id, params={"expand": [PRODUCTS]}
    ).features.subscription_update.products
    assert [product.product for product in products] == [
        "prod_AcmeTeamLive01",
        "prod_AcmeBusinessLive01",
    ]
    prices = [price for product in products for price in product.prices]
    assert len(prices) == 3 and not any(price.startswith("price_Acme") for price in prices)
