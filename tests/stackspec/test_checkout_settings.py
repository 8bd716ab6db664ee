"""`billing-portal:checkout`: what a user without a plan may buy, and how Checkout asks.

Every mistake fails at preview with one problem naming the exact key and the fix; what previews is
what the function accepts (`CHECKOUT_*`, built by the function's own contract and checked with its
own `load_settings`); `CHECKOUT_PRICES` holds only prices the stack sells, with their product's
quantity bounds, in the order the stack lists them.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_portal.catalog import FIXED, Quantity, parse_prices
from billing_portal.settings import load_settings
from stackspec.checkout_settings import CheckoutSettings, checkout_price_refs
from stackspec.function_contract import (
    check_environment,
    checkout_prices,
    function_environment,
    placeholder_key,
    placeholder_product_ids,
    portal_prices,
)
from stackspec.settings import SettingsError, SettingsProblem, parse_settings
from stackspec.stackfiles import read_settings
from tests.stackspec.stack_configs import REPO, minimal_config, portal

TEAM = {
    "name": "Team",
    "prices": {
        "monthly": {"currency": "eur", "unitAmount": 2900, "interval": "month"},
        "yearly": {"currency": "eur", "unitAmount": 29000, "interval": "year"},
    },
}
SOLO = {
    "name": "Solo",
    "prices": {"monthly": {"currency": "eur", "unitAmount": 900, "interval": "month"}},
}
PLANS = [
    {
        "product": "team",
        "prices": ["monthly", "yearly"],
        "adjustableQuantity": {"enabled": True, "minimum": 2, "maximum": 25},
    },
    {"product": "prod_seats", "prices": ["price_seats"], "adjustableQuantity": {"enabled": True}},
    {"product": "prod_old", "prices": ["price_old"]},
]
IDS = {
    "declared:team": "prod_1Team",
    "declared:team/monthly": "price_1TeamMonthly",
    "declared:team/yearly": "price_1TeamYearly",
    "declared:solo": "prod_1Solo",
    "declared:solo/monthly": "price_1SoloMonthly",
}
TERMS = {"termsOfServiceUrl": "https://example.com/terms"}


def stack(checkout=None, *, enabled=True, profile=None, **values):
    """A dev config selling PLANS through its portal, with `checkout` as its checkout key."""
    update = {"enabled": enabled, "defaultAllowedUpdates": ["price"], "products": PLANS}
    config_portal = portal(subscriptionUpdate=update)
    if profile:
        config_portal["businessProfile"] = profile
    extra = {} if checkout is None else {"checkout": checkout}
    return minimal_config(
        portal=config_portal, products={"team": TEAM, "solo": SOLO}, **extra, **values
    )


def the_problem(config) -> SettingsProblem:
    with pytest.raises(SettingsError) as raised:
        parse_settings("dev", config)
    found = raised.value.problems
    assert len(found) == 1, "expected one problem, got:\n" + "\n".join(map(str, found))
    return found[0]


# ---------------------------------------------------------------------------- defaults


def test_without_the_key_checkout_sells_the_portals_plan_switching_prices_with_safe_defaults():
    settings = parse_settings("dev", stack())
    assert settings.checkout == CheckoutSettings()
    assert settings.checkout.trial_days == 0
    assert not settings.checkout.allow_promotion_codes
    assert not settings.checkout.automatic_tax
    assert settings.checkout.billing_address == "auto"
    assert not settings.checkout.terms_of_service_consent
    value = checkout_prices(settings, IDS)
    assert value == portal_prices(settings, IDS)
    assert value == ("price_1TeamMonthly:2-25,price_1TeamYearly:2-25,price_seats:1-,price_old")


def test_without_plan_switching_the_default_sells_nothing_as_the_portal_does():
    settings = parse_settings("dev", stack(enabled=False))
    assert checkout_price_refs(settings.checkout, settings.portal) == ()
    assert checkout_prices(settings, IDS) == ""
    env = function_environment(settings, "bpc_1", "", checkout_prices(settings, IDS))
    assert "CHECKOUT_PRICES" not in env  # unset: the function sells PORTAL_PRICES, here nothing


# ---------------------------------------------------------------------------- prices


def test_listed_prices_are_sold_in_their_order_with_their_products_quantity_bounds():
    config = stack({"prices": ["price_old", "team/yearly", "solo/monthly", "price_seats"]})
    settings = parse_settings("dev", config)
    value = checkout_prices(settings, IDS)
    assert value == "price_old,price_1TeamYearly:2-25,price_1SoloMonthly,price_seats:1-"
    assert list(parse_prices(value).items()) == [
        ("price_old", FIXED),
        ("price_1TeamYearly", Quantity(2, 25)),
        ("price_1SoloMonthly", FIXED),  # a declared product the portal does not switch to
        ("price_seats", Quantity(1, None)),
    ]


def test_a_listed_price_is_sold_even_when_the_portal_does_not_switch_plans():
    settings = parse_settings("dev", stack({"prices": ["team/monthly"]}, enabled=False))
    assert checkout_prices(settings, IDS) == "price_1TeamMonthly:2-25"


def test_a_price_id_the_stack_does_not_sell_is_refused_naming_the_entry():
    problem = the_problem(stack({"prices": ["team/monthly", "price_Elsewhere"]}))
    assert problem.key == "billing-portal:checkout.prices[1]"
    assert problem.problem == "'price_Elsewhere' is not a price of a product this stack sells"
    assert "billing-portal:portal.features.subscriptionUpdate.products[].prices" in problem.fix


def test_an_undeclared_product_is_refused_naming_the_declared_ones():
    problem = the_problem(stack({"prices": ["enterprise/monthly"]}))
    assert problem.key == "billing-portal:checkout.prices[0]"
    assert "'enterprise', which is not a product declared under billing-portal:products" in (
        problem.problem
    )
    assert "(solo, team)" in problem.fix


def test_an_undeclared_price_of_a_declared_product_lists_its_prices():
    problem = the_problem(stack({"prices": ["team/weekly"]}))
    assert problem.key == "billing-portal:checkout.prices[0]"
    assert "'weekly' is not a price declared under billing-portal:products.team.prices" in (
        problem.problem
    )
    assert problem.fix == "use one of: team/monthly, team/yearly"


@pytest.mark.parametrize("name", ["monthly", "team/", "/monthly", "prod_1Team", "declared:team"])
def test_a_name_that_is_neither_a_declared_price_nor_a_price_id_is_refused(name):
    problem = the_problem(stack({"prices": [name]}))
    assert problem.key == "billing-portal:checkout.prices[0]"
    assert "is neither a declared price (product/price) nor a price id (price_…)" in (
        problem.problem
    )


def test_a_price_listed_twice_is_refused():
    problem = the_problem(stack({"prices": ["team/monthly", "price_old", "team/monthly"]}))
    assert problem.key == "billing-portal:checkout.prices[2]"
    assert problem.fix == "list each price once"


def test_an_empty_price_list_is_refused_rather_than_read_as_the_default():
    problem = the_problem(stack({"prices": []}))
    assert problem.key == "billing-portal:checkout.prices"
    assert "remove the key" in problem.fix


def test_prices_must_be_a_list_of_strings():
    problem = the_problem(stack({"prices": {"team": "monthly"}}))
    assert problem.key == "billing-portal:checkout.prices"
    assert problem.problem.startswith("must be a list of strings")


# ---------------------------------------------------------------------------- the other keys


@pytest.mark.parametrize(("days", "shown"), [(731, "is 731, outside 0..730"), (-1, "is -1")])
def test_trial_days_must_be_0_to_730(days, shown):
    problem = the_problem(stack({"trialDays": days}))
    assert problem.key == "billing-portal:checkout.trialDays"
    assert shown in problem.problem
    assert problem.fix == "use a value from 0 to 730"


def test_trial_days_must_be_a_whole_number():
    problem = the_problem(stack({"trialDays": "two weeks"}))
    assert problem.key == "billing-portal:checkout.trialDays"


@pytest.mark.parametrize("key", ["allowPromotionCodes", "automaticTax", "termsOfServiceConsent"])
def test_a_flag_must_be_true_or_false(key):
    problem = the_problem(stack({key: "yes"}, profile=TERMS))
    assert problem.key == f"billing-portal:checkout.{key}"
    assert problem.fix == "write true or false"


def test_the_billing_address_is_auto_or_required():
    problem = the_problem(stack({"billingAddress": "requried"}))
    assert problem.key == "billing-portal:checkout.billingAddress"
    assert "did you mean 'required'?" in problem.problem
    assert problem.fix == "use one of: auto, required"


def test_terms_consent_needs_the_stacks_terms_of_service_url():
    problem = the_problem(stack({"termsOfServiceConsent": True}))
    assert problem.key == "billing-portal:checkout.termsOfServiceConsent"
    assert "no terms of service URL" in problem.problem
    assert "billing-portal:portal.businessProfile.termsOfServiceUrl" in problem.fix
    settings = parse_settings("dev", stack({"termsOfServiceConsent": True}, profile=TERMS))
    assert settings.checkout.terms_of_service_consent


def test_a_misspelt_key_is_refused_with_a_suggestion():
    problem = the_problem(stack({"trialDay": 7}))
    assert problem.key == "billing-portal:checkout.trialDay"
    assert "did you mean 'trialDays'?" in problem.fix


def test_checkout_must_be_an_object():
    problem = the_problem(stack(["team/monthly"]))
    assert problem.key == "billing-portal:checkout"


def test_every_mistake_is_reported_at_once():
    config = stack({"prices": ["price_x"], "trialDays": 9999, "billingAddress": "never"})
    with pytest.raises(SettingsError) as raised:
        parse_settings("dev", config)
    assert raised.value.keys == (
        "billing-portal:checkout.prices[0]",
        "billing-portal:checkout.trialDays",
        "billing-portal:checkout.billingAddress",
    )


def test_the_engines_json_text_reads_as_the_stack_files_object():
    checkout = {"prices": ["team/monthly"], "trialDays": 7, "automaticTax": True}
    from_file = parse_settings("dev", stack(checkout))
    from_engine = parse_settings("dev", stack(json.dumps(checkout)))
    assert from_engine.checkout == from_file.checkout


# ---------------------------------------------------------------------------- the function's env


def test_the_function_is_told_every_checkout_setting_by_its_own_contract():
    checkout = {
        "prices": ["team/monthly", "price_seats"],
        "trialDays": 14,
        "allowPromotionCodes": True,
        "automaticTax": True,
        "billingAddress": "required",
        "termsOfServiceConsent": True,
    }
    settings = parse_settings("dev", stack(checkout, profile=TERMS))
    env = function_environment(settings, "bpc_1", "", checkout_prices(settings, IDS))
    assert {name: value for name, value in env.items() if name.startswith("CHECKOUT_")} == {
        "CHECKOUT_PRICES": "price_1TeamMonthly:2-25,price_seats:1-",
        "CHECKOUT_TRIAL_DAYS": "14",
        "CHECKOUT_ALLOW_PROMOTION_CODES": "true",
        "CHECKOUT_AUTOMATIC_TAX": "true",
        "CHECKOUT_BILLING_ADDRESS": "required",
        "CHECKOUT_TERMS_CONSENT": "true",
    }
    env["STRIPE_SECRET_KEY"] = placeholder_key(False)
    assert check_environment(env) is None


def test_preview_checks_checkout_prices_by_placeholder_ids_never_by_reference():
    settings = parse_settings("dev", stack({"prices": ["solo/monthly"]}))
    ids = placeholder_product_ids(settings)
    assert "declared:solo/monthly" in ids  # named only by the checkout, still given an id
    value = checkout_prices(settings, ids)
    assert "declared:" not in value and list(parse_prices(value)) == [ids["declared:solo/monthly"]]


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_each_stack_file_declares_checkout_and_its_function_accepts_it(name):
    settings = read_settings(REPO / f"Pulumi.{name}.yaml")
    assert (REPO / f"Pulumi.{name}.yaml").read_text().count("billing-portal:checkout:") == 1
    ids = placeholder_product_ids(settings)
    env = function_environment(settings, "bpc_1", "", checkout_prices(settings, ids))
    env["STRIPE_SECRET_KEY"] = placeholder_key(settings.production)
    assert check_environment(env) is None
    assert env["CHECKOUT_PRICES"]


# ---------------------------------------------------------------------------- preview ⇒ function

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 1000),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1, max_value=800),
    st.sampled_from(["", "true", "False", "yes", "14", "auto", "required", "never", " 7 "]),
)
_names = st.sampled_from(
    ["team/monthly", "team/yearly", "solo/monthly", "price_seats", "price_old", "price_x", "x/y"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    trial=_values,
    promotion=_values,
    tax=_values,
    address=_values,
    consent=_values,
    prices=st.one_of(st.none(), st.lists(_names, max_size=4)),
    with_terms=st.booleans(),
)
def test_whatever_preview_accepts_the_function_starts_with(
    trial, promotion, tax, address, consent, prices, with_terms
):
    checkout = {
        key: value
        for key, value in (
            ("trialDays", trial),
            ("allowPromotionCodes", promotion),
            ("automaticTax", tax),
            ("billingAddress", address),
            ("termsOfServiceConsent", consent),
            ("prices", prices),
        )
        if value is not None
    }
    try:
        settings_ = parse_settings("dev", stack(checkout, profile=TERMS if with_terms else None))
    except SettingsError as error:  # refused: every line names a checkout key
        assert all(key.startswith("billing-portal:checkout") for key in error.keys), error
        return
    env = function_environment(settings_, "bpc_1", "", checkout_prices(settings_, IDS))
    env["STRIPE_SECRET_KEY"] = placeholder_key(False)
    loaded = load_settings(env)  # must not raise
    assert dict(loaded.checkout_prices) == parse_prices(env["CHECKOUT_PRICES"])
