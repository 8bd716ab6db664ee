"""Products and prices through the unmodified stripe SDK: created, found, listed, validated."""

from __future__ import annotations

import json

import pytest
import stripe

pytestmark = pytest.mark.integration


@pytest.fixture
def product(sdk):
    return sdk.v1.products.create(params={"name": "Team", "metadata": {"key": "team"}})


def monthly(sdk, product_id: str, **extra):
    params = {
        "product": product_id,
        "currency": "EUR",
        "unit_amount": 2900,
        "recurring": {"interval": "month"},
        **extra,
    }
    return sdk.v1.prices.create(params=params)


def test_a_product_keeps_its_name_and_metadata(sdk, product):
    found = sdk.v1.products.retrieve(product.id)
    assert product.id.startswith("prod_")
    assert (found.name, found.metadata.to_dict(), found.active) == ("Team", {"key": "team"}, True)


def test_a_recurring_price_gets_stripes_defaults(sdk, product):
    price = monthly(sdk, product.id, metadata={"key": "team/monthly"})
    found = sdk.v1.prices.retrieve(price.id)
    assert (found.product, found.currency, found.unit_amount, found.type) == (
        product.id,
        "eur",
        2900,
        "recurring",
    )
    assert (found.recurring.interval, found.recurring.interval_count) == ("month", 1)
    assert found.metadata.to_dict() == {"key": "team/monthly"}


def test_a_price_with_product_data_creates_its_product(sdk, fresh_stripe_standin):
    price = sdk.v1.prices.create(
        params={"currency": "usd", "unit_amount": 500, "product_data": {"name": "Add-on"}}
    )
    assert sdk.v1.products.retrieve(price.product).name == "Add-on"
    assert price.type == "one_time"


def test_prices_are_listed_per_product_newest_first(sdk, product):
    first = monthly(sdk, product.id)
    second = monthly(sdk, product.id, unit_amount=3900)
    other = sdk.v1.products.create(params={"name": "Other"})
    monthly(sdk, other.id)
    listed = sdk.v1.prices.list(params={"product": product.id})
    assert [price.id for price in listed.data] == [second.id, first.id]


def test_products_are_listed_by_ids_and_activity(sdk, product):
    archived = sdk.v1.products.create(params={"name": "Old", "active": False})
    assert [p.id for p in sdk.v1.products.list(params={"active": True}).data] == [product.id]
    by_id = sdk.v1.products.list(params={"ids": [archived.id]})
    assert [p.id for p in by_id.data] == [archived.id]


def test_a_price_of_an_unknown_product_is_refused(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        monthly(sdk, "prod_DoesNotExist01")
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "resource_missing",
        "product",
    )


def test_a_per_unit_price_without_an_amount_is_refused(sdk, product):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.prices.create(params={"product": product.id, "currency": "eur"})
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "unit_amount")


def test_a_price_interval_stripe_does_not_have_is_refused(sdk, product):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        monthly(sdk, product.id, recurring={"interval": "fortnight"})
    assert caught.value.param == "recurring[interval]"


def test_a_product_needs_a_name(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.products.create(params={"description": "nameless"})  # type: ignore[typeddict-item]
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "name")


def test_an_unknown_price_is_404_and_names_the_other_mode(sdk, fresh_stripe_standin, product):
    price = monthly(sdk, product.id)
    live = fresh_stripe_standin.client(fresh_stripe_standin.live_key, max_network_retries=0)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        live.v1.prices.retrieve(price.id)
    assert caught.value.http_status == 404
    assert "a similar object exists in test mode" in caught.value.user_message


def test_a_default_price_on_the_product_is_refused_as_unsupported(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.products.create(
            params={"name": "Team", "default_price_data": {"currency": "eur", "unit_amount": 1}}
        )
    assert "does not support default_price_data" in caught.value.user_message


def test_a_price_is_retrieved_with_its_product_only_when_expanded(sdk):
    from tests.local.stripe.shape_check import differences

    product = sdk.v1.products.create(params={"name": "Team"})
    price = sdk.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
        }
    )
    assert sdk.v1.prices.retrieve(price.id).product == product.id
    expanded = sdk.v1.prices.retrieve(price.id, params={"expand": ["product"]})
    assert expanded.product.id == product.id and expanded.product.name == "Team"
    raw = sdk.raw_request("get", f"/v1/prices/{price.id}", expand=["product"])
    assert differences(json.loads(raw.body), expanded=["product"]) == []
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.prices.retrieve(price.id, params={"expand": ["currency_options"]})
