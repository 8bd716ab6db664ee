"""The stack's portal in the stand-in, as the local run creates it (`--stack`)."""

from __future__ import annotations

import pytest

from local.run.dev_tools import catalog_plans
from local.run.stack_portal import (
    account_portal_prices,
    create_stack_portal,
    portal_environment,
    stack_settings,
)

pytestmark = pytest.mark.integration
PRODUCTS = "features.subscription_update.products"  # Stripe returns them only when expanded


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_files_portal_is_created_in_the_stand_in(fresh_stripe_standin, stack):
    client = fresh_stripe_standin.client()
    settings = stack_settings(stack)
    configuration_id, prices, _, _ = create_stack_portal(client, settings)
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
    configuration_id, _, _, _ = create_stack_portal(client, stack_settings("prod"))
    products = client.v1.billing_portal.configurations.retrieve(
        configuration_id, params={"expand": [PRODUCTS]}
    ).features.subscription_update.products
    assert [product.product for product in products] == [
        "prod_AcmeTeamLive01",
        "prod_AcmeBusinessLive01",
    ]
    prices = [price for product in products for price in product.prices]
    assert len(prices) == 3 and not any(price.startswith("price_Acme") for price in prices)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_local_function_is_told_what_the_stack_portal_sells_by_the_stand_ins_ids(
    fresh_stripe_standin, stack
):
    from billing_portal.catalog import parse_prices

    client = fresh_stripe_standin.client()
    settings = stack_settings(stack)
    created = create_stack_portal(client, settings)
    products = client.v1.billing_portal.configurations.retrieve(
        created.configuration_id, params={"expand": [PRODUCTS]}
    ).features.subscription_update.products
    sold = parse_prices(
        portal_environment(settings, created.configuration_id, created.portal_prices)[
            "PORTAL_PRICES"
        ]
    )
    assert set(sold) == {price for product in products for price in product.prices}
    bounds = {(q.minimum, q.maximum) for q in sold.values()}
    # prod's team plan is adjustable 1–25, its business plan is not; dev declares no quantities
    assert bounds == ({(1, 25), (1, 1)} if stack == "prod" else {(1, 1)}), bounds


def test_a_real_accounts_configuration_is_read_for_what_it_sells(fresh_stripe_standin):
    client = fresh_stripe_standin.client()
    created = create_stack_portal(client, stack_settings("prod"))
    assert account_portal_prices(client, created.configuration_id) == created.portal_prices
    assert account_portal_prices(client, None) == ""  # the default: no plan switching


def test_a_portal_that_sells_nothing_still_overrides_an_inherited_value():
    settings = stack_settings("dev")
    assert portal_environment(settings, None, "")["PORTAL_PRICES"] == ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_local_function_is_told_what_the_stacks_checkout_sells_by_the_stand_ins_ids(
    fresh_stripe_standin, stack
):
    from billing_portal.catalog import parse_prices

    client = fresh_stripe_standin.client()
    settings = stack_settings(stack)
    created = create_stack_portal(client, settings)
    env = portal_environment(
        settings, created.configuration_id, created.portal_prices, created.checkout_prices
    )
    sold = parse_prices(env["CHECKOUT_PRICES"])
    portal = parse_prices(created.portal_prices)
    for price in sold:  # each a price of the stand-in, sold with its product's bounds
        assert client.v1.prices.retrieve(price).id == price
        assert sold[price] == portal[price]
    if stack == "dev":  # its checkout lists no prices: what the portal sells, in its order
        assert env["CHECKOUT_PRICES"] == created.portal_prices
    else:  # prod lists the two monthly prices by their live ids: here, their stand-ins
        assert len(sold) == 2 and not any(price.startswith("price_Acme") for price in sold)
        assert [(q.minimum, q.maximum) for q in sold.values()] == [(1, 25), (1, 1)]
    checkout = {name: value for name, value in env.items() if name.startswith("CHECKOUT_")}
    assert set(checkout) == {
        "CHECKOUT_PRICES",
        "CHECKOUT_TRIAL_DAYS",
        "CHECKOUT_ALLOW_PROMOTION_CODES",
        "CHECKOUT_AUTOMATIC_TAX",
        "CHECKOUT_BILLING_ADDRESS",
        "CHECKOUT_TERMS_CONSENT",
    }
    assert checkout["CHECKOUT_TRIAL_DAYS"] == str(settings.checkout.trial_days)


def test_an_empty_checkout_catalog_still_overrides_an_inherited_value():
    settings = stack_settings("dev")
    assert portal_environment(settings, None, "")["CHECKOUT_PRICES"] == ""


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_features_are_created_and_attached_to_the_products_granting_them(
    fresh_stripe_standin, stack
):
    client = fresh_stripe_standin.client()
    settings = stack_settings(stack)
    create_stack_portal(client, settings)
    features = client.v1.entitlements.features.list(params={"limit": 100}).data
    assert {f.lookup_key: f.name for f in features} == {
        f.lookup_key: f.name for f in settings.features.features
    }
    by_name = {p.name: p.id for p in client.v1.products.list(params={"limit": 100}).data}
    for grant in settings.features.grants:
        declared = grant.product.removeprefix("declared:")
        product = next((p for p in settings.products if p.key == declared), None)
        product_id = by_name[product.name] if product else grant.product
        attached = client.v1.products.features.list(product_id).data
        assert sorted(a.entitlement_feature.lookup_key for a in attached) == sorted(
            grant.features
        ), grant
