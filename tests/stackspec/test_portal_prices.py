"""What a stack's portal sells, as the function is told (`PORTAL_PRICES`): encoding and reading.

The stack model builds the value from its portal spec (`function_contract.portal_prices`) with the
function's own encoder, and the function reads it back with its own parser: the two must agree
for any plan-switching list a stack can declare, and a list the function cannot read fails at
preview, naming the stack key.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_portal.catalog import (
    FIXED,
    MAX_QUANTITY,
    CatalogError,
    Quantity,
    encode_prices,
    parse_prices,
    product_quantity,
)
from stackspec.function_contract import placeholder_product_ids, portal_prices
from stackspec.settings import SettingsError, parse_settings
from tests.stackspec.stack_configs import minimal_config, portal

TEAM = {
    "name": "Team",
    "prices": {
        "monthly": {"currency": "eur", "unitAmount": 2900, "interval": "month"},
        "yearly": {"currency": "eur", "unitAmount": 29000, "interval": "year"},
    },
}


def switching(plans, enabled=True, **values):
    """A dev config whose portal switches between `plans` (stack-file shape)."""
    update = {"enabled": enabled, "defaultAllowedUpdates": ["price"], "products": plans}
    return minimal_config(portal=portal(subscriptionUpdate=update), **values)


def test_every_plan_switching_price_is_sold_with_its_products_quantity_bounds():
    config = switching(
        [
            {
                "product": "team",
                "prices": ["monthly", "yearly"],
                "adjustableQuantity": {"enabled": True, "minimum": 2, "maximum": 25},
            },
            {"product": "prod_solo", "prices": ["price_solo"]},
            {
                "product": "prod_seats",
                "prices": ["price_seats"],
                "adjustableQuantity": {"enabled": True},
            },
        ],
        products={"team": TEAM},
    )
    ids = {"declared:team/monthly": "price_1Team", "declared:team/yearly": "price_2Team"}
    value = portal_prices(parse_settings("dev", config), ids)
    assert value == "price_1Team:2-25,price_2Team:2-25,price_solo,price_seats:1-"


def test_a_portal_without_plan_switching_sells_nothing():
    config = switching([{"product": "prod_solo", "prices": ["price_solo"]}], enabled=False)
    assert portal_prices(parse_settings("dev", config), {}) == ""


def test_a_declared_price_is_sold_by_the_id_pulumi_gives_it_never_by_its_reference():
    config = switching([{"product": "team", "prices": ["monthly"]}], products={"team": TEAM})
    settings = parse_settings("dev", config)
    assert portal_prices(settings, {"declared:team/monthly": "price_Real"}) == "price_Real"
    placeholders = portal_prices(settings, placeholder_product_ids(settings))
    assert "declared:" not in placeholders and set(parse_prices(placeholders)) == {placeholders}


def test_a_maximum_the_function_cannot_hold_fails_at_preview_naming_the_products():
    product = {
        "product": "prod_seats",
        "prices": ["price_seats"],
        "adjustableQuantity": {"enabled": True, "maximum": MAX_QUANTITY + 1},
    }
    with pytest.raises(SettingsError) as raised:
        parse_settings("dev", switching([product]))
    keys = [problem.key for problem in raised.value.problems]
    assert keys == ["billing-portal:portal.features.subscriptionUpdate.products"], keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("price_a", {"price_a": FIXED}),
        ("price_a:1-1", {"price_a": FIXED}),
        ("price_a:0-9, price_b", {"price_a": Quantity(0, 9), "price_b": FIXED}),
        ("price_a:3-", {"price_a": Quantity(3, None)}),
        ("price_a,price_a", {"price_a": FIXED}),
    ],
)
def test_the_function_reads_each_entry_shape(raw, expected):
    assert parse_prices(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "declared:team/monthly",
        "price-a",
        "price_a:",
        "price_a:5-2",
        "price_a:1-0",
        "price_a:-5",
        "price_a:1-1000000",
        "price_a:1-5,price_a:1-6",
        "price_a:1-5:7",
    ],
)
def test_the_function_refuses_a_malformed_entry(raw):
    with pytest.raises(CatalogError):
        parse_prices(raw)


def test_an_open_maximum_is_bounded_by_stripes_largest_quantity():
    assert Quantity(2, None).allows(MAX_QUANTITY)
    assert not Quantity(2, None).allows(MAX_QUANTITY + 1)
    assert not Quantity(2, None).allows(1)
    assert FIXED.allows(1) and not FIXED.allows(0) and not FIXED.allows(2)


_ids = st.from_regex(r"price_[A-Za-z0-9_]{1,20}", fullmatch=True)
_quantities = st.one_of(
    st.none(),
    st.builds(
        lambda enabled, low, span, open_: {
            "enabled": enabled,
            "minimum": low,
            "maximum": None if open_ else max(low, 1) + span,
        },
        st.booleans(),
        st.integers(0, 1000),
        st.integers(0, 1000),
        st.booleans(),
    ),
)
_products = st.lists(
    st.builds(
        lambda index, prices, quantity: {
            "product": f"prod_{index}",
            "prices": [f"{price}_{index}" for price in prices],
            **({"adjustable_quantity": quantity} if quantity is not None else {}),
        },
        st.integers(0, 10**6),
        st.lists(_ids, min_size=1, max_size=3, unique=True),
        _quantities,
    ),
    max_size=10,
    unique_by=lambda product: product["product"],
)


@given(_products)
def test_what_the_stack_encodes_the_function_reads_back(products):
    read = parse_prices(encode_prices(products))
    expected = {
        price: product_quantity(product) for product in products for price in product["prices"]
    }
    assert read == expected
