"""Deep links only within the catalog: the pure decisions, called directly.

The HTTP tests (test_http_deep_links.py) prove the function refuses these before any Stripe call;
these pin each rule on its own.
"""

from __future__ import annotations

import pytest

from billing_portal.catalog import FIXED, Quantity
from billing_portal.deep_links import check_catalog, check_item_quantities, check_retention_coupon
from billing_portal.errors import (
    CouponNotAllowed,
    InvalidQuantity,
    NotForSale,
    PriceNotAllowed,
    TooManyItems,
)
from billing_portal.stripe_api import SubscriptionOwner

CATALOG = {"price_team": Quantity(1, 25), "price_solo": FIXED, "price_seats": Quantity(5, None)}


def confirm(*items: dict) -> dict:
    return {
        "type": "subscription_update_confirm",
        "subscription_update_confirm": {"subscription": "sub_1", "items": list(items)},
    }


def owner(**item_prices: str | None) -> SubscriptionOwner:
    return SubscriptionOwner(customer_id="cus_1", item_prices=item_prices)


@pytest.mark.parametrize(
    "item",
    [
        {"id": "si_1"},
        {"id": "si_1", "price": "price_team"},
        {"id": "si_1", "price": "price_team", "quantity": 25},
        {"id": "si_1", "price": "price_solo", "quantity": 1},
        {"id": "si_1", "price": "price_seats", "quantity": 999_999},
        {"id": "si_1", "quantity": 10**30},  # decided once the item's price is known
    ],
)
def test_a_link_within_the_catalog_passes_the_first_check(item):
    check_catalog(confirm(item), CATALOG)


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"id": "si_1", "price": "price_nope"}, PriceNotAllowed),
        ({"id": "si_1", "price": "price_team", "quantity": 26}, InvalidQuantity),
        ({"id": "si_1", "price": "price_team", "quantity": 0}, InvalidQuantity),
        ({"id": "si_1", "price": "price_solo", "quantity": 2}, InvalidQuantity),
        ({"id": "si_1", "price": "price_seats", "quantity": 4}, InvalidQuantity),
        ({"id": "si_1", "price": "price_seats", "quantity": 10**30}, InvalidQuantity),
    ],
)
def test_a_price_or_quantity_the_portal_does_not_sell_is_refused(item, error):
    with pytest.raises(error):
        check_catalog(confirm(item), CATALOG)


def test_more_than_one_item_is_refused_whatever_they_name():
    with pytest.raises(TooManyItems):
        check_catalog(confirm({"id": "si_1"}, {"id": "si_2"}), CATALOG)


def test_without_a_catalog_no_price_may_be_named():
    with pytest.raises(PriceNotAllowed):
        check_catalog(confirm({"id": "si_1", "price": "price_team"}), {})


@pytest.mark.parametrize(
    ("current", "quantity", "allowed"),
    [
        ("price_team", 25, True),
        ("price_team", 26, False),
        ("price_solo", 1, True),
        ("price_solo", 2, False),
        ("price_legacy", 1, True),  # a plan the portal no longer offers: its quantity stays 1
        ("price_legacy", 3, False),
        (None, 2, False),
    ],
)
def test_a_quantity_change_alone_is_bounded_by_the_items_current_price(current, quantity, allowed):
    flow = confirm({"id": "si_1", "quantity": quantity})
    if allowed:
        check_item_quantities(flow, CATALOG, owner(si_1=current))
    else:
        with pytest.raises(InvalidQuantity):
            check_item_quantities(flow, CATALOG, owner(si_1=current))


@pytest.mark.parametrize(
    ("price", "kept", "allowed"),
    [
        ("price_team", 25, True),
        ("price_team", 26, False),
        ("price_solo", 1, True),
        ("price_solo", 20, False),
        ("price_seats", 4, False),
        ("price_solo", None, True),  # a metered item has no quantity to keep
    ],
)
def test_a_price_change_alone_is_bounded_by_the_new_price_at_the_items_quantity(
    price, kept, allowed
):
    flow = confirm({"id": "si_1", "price": price})
    holder = SubscriptionOwner("cus_1", {"si_1": "price_team"}, {"si_1": kept})
    if allowed:
        check_item_quantities(flow, CATALOG, holder)
    else:
        with pytest.raises(InvalidQuantity):
            check_item_quantities(flow, CATALOG, holder)


@pytest.mark.parametrize(
    "flow",
    [
        None,
        {"type": "payment_method_update"},
        {"type": "subscription_update", "subscription_update": {"subscription": "sub_1"}},
    ],
)
def test_flows_that_name_nothing_for_sale_pass(flow):
    check_catalog(flow, {})
    check_item_quantities(flow, {}, owner())
    check_retention_coupon(flow, frozenset())


def test_a_retention_coupon_the_stack_does_not_offer_is_refused():
    flow = {
        "type": "subscription_cancel",
        "subscription_cancel": {
            "subscription": "sub_1",
            "retention": {"type": "coupon_offer", "coupon_offer": {"coupon": "STAFF100"}},
        },
    }
    check_retention_coupon(flow, frozenset({"STAFF100"}))
    with pytest.raises(CouponNotAllowed):
        check_retention_coupon(flow, frozenset({"WINBACK20"}))


def test_every_refusal_is_a_400_with_a_code_a_frontend_can_show():
    for error in (PriceNotAllowed, InvalidQuantity, TooManyItems, CouponNotAllowed):
        assert issubclass(error, NotForSale) and error.status == 400
    codes = {e.code for e in (PriceNotAllowed, InvalidQuantity, TooManyItems, CouponNotAllowed)}
    assert codes == {
        "price_not_allowed",
        "invalid_quantity",
        "too_many_items",
        "coupon_not_allowed",
    }
