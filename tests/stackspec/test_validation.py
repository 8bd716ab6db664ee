"""Every settings rule: a mistake fails with the full config key, what is wrong, and the fix."""

from __future__ import annotations

import pytest

from stackspec.settings import SecretValue, SettingsError, SettingsProblem, parse_settings
from tests.stackspec.stack_configs import FUNCTION_KEY, minimal_config, portal

# A fake live key, its prefix assembled so that secret scanners do not flag it.
LIVE_KEY = SecretValue("rk_" + "live_LiveFunctionKey000000000001")


def problems_of(config, stack="dev") -> tuple[SettingsProblem, ...]:
    with pytest.raises(SettingsError) as raised:
        parse_settings(stack, config)
    return raised.value.problems


def the_problem(config, stack="dev") -> SettingsProblem:
    found = problems_of(config, stack)
    assert len(found) == 1, "expected one problem, got:\n" + "\n".join(map(str, found))
    return found[0]


def production(**project_values):
    """A production config that is valid apart from `project_values`."""
    profile = {
        "termsOfServiceUrl": "https://example.com/terms",
        "privacyPolicyUrl": "https://example.com/privacy",
    }
    values = {"production": True, "portal": {"businessProfile": profile}}
    values.update(project_values)
    return minimal_config(**values)


# ---------------------------------------------------------------------------- URLs and origins


def test_a_non_https_url_is_refused():
    problem = the_problem(minimal_config(defaultReturnUrl="http://app.example.com/account"))
    assert problem.key == "billing-portal:defaultReturnUrl"
    assert problem.problem == "'http://app.example.com/account' does not use https"
    assert "https" in problem.fix


def test_a_relative_url_is_refused():
    problem = the_problem(minimal_config(defaultReturnUrl="/account"))
    assert problem.problem == "'/account' is not an absolute URL"


def test_localhost_urls_are_allowed_outside_production():
    settings = parse_settings("dev", minimal_config(defaultReturnUrl="http://localhost:5173/a"))
    assert settings.default_return_url == "http://localhost:5173/a"


def test_localhost_urls_are_refused_in_production():
    problem = the_problem(production(defaultReturnUrl="http://localhost:5173/account"), "prod")
    assert problem.key == "billing-portal:defaultReturnUrl"
    assert "points at localhost, allowed only in non-production stacks" in problem.problem


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("issuer", "http://localhost:9099/local-issuer"),
        ("issuer", "https://127.0.0.1:8443/issuer"),
        ("jwksUrl", "http://localhost:9099/jwks.json"),
    ],
)
def test_a_local_token_issuer_is_refused_in_every_stack(name, url):
    problem = the_problem(minimal_config(auth={name: url}))
    assert problem.key == f"billing-portal:auth.{name}"
    assert "points at a local address" in problem.problem
    assert "must never trust it" in problem.problem


def test_a_non_https_token_issuer_is_refused():
    problem = the_problem(minimal_config(auth={"issuer": "http://issuer.example.com"}))
    assert problem.key == "billing-portal:auth.issuer"
    assert "does not use https" in problem.problem


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("https://app.example.com/", "is not an origin (scheme://host[:port], no path or trailing"),
        ("https://app.example.com/account", "is not an origin"),
        ("app.example.com", "is not an origin"),
        ("*", "'*' would let any web site call the function"),
        ("http://app.example.com", "does not use https"),
    ],
)
def test_a_malformed_origin_is_refused(origin, message):
    problem = the_problem(minimal_config(allowedOrigins=["https://ok.example.com", origin]))
    assert problem.key == "billing-portal:allowedOrigins[1]"
    assert message in problem.problem
    assert problem.fix == "list browser origins like https://app.example.com"


def test_a_malformed_return_origin_is_refused():
    problem = the_problem(minimal_config(allowedReturnOrigins=["https://app.example.com/x"]))
    assert problem.key == "billing-portal:allowedReturnOrigins[0]"


def test_a_localhost_origin_is_refused_in_production():
    problem = the_problem(production(allowedOrigins=["http://localhost:5173"]), "prod")
    assert problem.key == "billing-portal:allowedOrigins[0]"
    assert "allowed only in non-production stacks" in problem.problem


# ---------------------------------------------------------------------------- Stripe enums


@pytest.mark.parametrize(
    ("features", "key", "allowed"),
    [
        (
            {"customerUpdate": {"allowedUpdates": ["email", "avatar"]}},
            "portal.features.customerUpdate.allowedUpdates[1]",
            "address, email, name, phone, shipping, tax_id",
        ),
        (
            {"subscriptionCancel": {"enabled": True, "mode": "later"}},
            "portal.features.subscriptionCancel.mode",
            "at_period_end, immediately",
        ),
        (
            {"subscriptionCancel": {"enabled": True, "prorationBehavior": "sometimes"}},
            "portal.features.subscriptionCancel.prorationBehavior",
            "always_invoice, create_prorations, none",
        ),
        (
            {
                "subscriptionCancel": {
                    "enabled": True,
                    "cancellationReasons": {"enabled": True, "options": ["bored"]},
                }
            },
            "portal.features.subscriptionCancel.cancellationReasons.options[0]",
            "customer_service, low_quality, missing_features, other, switched_service, "
            "too_complex, too_expensive, unused",
        ),
        (
            {"subscriptionUpdate": {"defaultAllowedUpdates": ["plan"]}},
            "portal.features.subscriptionUpdate.defaultAllowedUpdates[0]",
            "price, promotion_code, quantity",
        ),
        (
            {"subscriptionUpdate": {"prorationBehavior": "never"}},
            "portal.features.subscriptionUpdate.prorationBehavior",
            "always_invoice, create_prorations, none",
        ),
        (
            {"subscriptionUpdate": {"billingCycleAnchor": "later"}},
            "portal.features.subscriptionUpdate.billingCycleAnchor",
            "now, unchanged",
        ),
        (
            {"subscriptionUpdate": {"trialUpdateBehavior": "keep"}},
            "portal.features.subscriptionUpdate.trialUpdateBehavior",
            "continue_trial, end_trial",
        ),
        (
            {"subscriptionUpdate": {"scheduleAtPeriodEnd": ["downgrade"]}},
            "portal.features.subscriptionUpdate.scheduleAtPeriodEnd[0]",
            "decreasing_item_amount, shortening_interval",
        ),
    ],
)
def test_a_value_stripe_does_not_accept_is_refused_with_the_allowed_values(features, key, allowed):
    problem = the_problem(minimal_config(portal=portal(**features)))
    assert problem.key == f"billing-portal:{key}"
    assert "is not one of the values Stripe's API accepts here" in problem.problem
    assert problem.fix == f"use one of: {allowed}"


def test_a_near_miss_enum_value_suggests_the_right_one():
    features = {"subscriptionCancel": {"enabled": True, "mode": "at_period_ends"}}
    problem = the_problem(minimal_config(portal=portal(**features)))
    assert "(did you mean 'at_period_end'?)" in problem.problem


# ---------------------------------------------------------------------------- plan switching


def plan_switching(products, **extra):
    update = {"enabled": True, "defaultAllowedUpdates": ["price"], "products": products}
    return minimal_config(portal=portal(subscriptionUpdate={**update, **extra}))


def test_more_than_ten_plan_switching_products_are_refused():
    products = [{"product": f"prod_{n:02d}", "prices": [f"price_{n:02d}"]} for n in range(11)]
    problem = the_problem(plan_switching(products))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products"
    assert problem.problem == "lists 11 products; Stripe allows at most 10"


def test_a_plan_switching_product_without_prices_is_refused():
    problem = the_problem(plan_switching([{"product": "prod_team", "prices": []}]))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products[0].prices"
    assert problem.problem == "is empty: a plan-switching product needs at least one price"


def test_price_switching_without_products_is_refused():
    problem = the_problem(plan_switching([]))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products"
    assert problem.problem == "is empty while customers may switch price"


def test_plan_switching_without_allowed_updates_is_refused():
    features = {"subscriptionUpdate": {"enabled": True}}
    problem = the_problem(minimal_config(portal=portal(**features)))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.defaultAllowedUpdates"


def test_a_product_that_is_neither_an_id_nor_declared_is_refused():
    problem = the_problem(plan_switching([{"product": "team", "prices": ["monthly"]}]))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products[0].product"
    assert "'team' is neither a Stripe product id (prod_…) nor a product declared" in (
        problem.problem
    )


def test_a_product_referenced_by_id_needs_price_ids():
    problem = the_problem(plan_switching([{"product": "prod_team", "prices": ["monthly"]}]))
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products[0].prices[0]"
    assert problem.problem == "'monthly' is not a Stripe price id (price_…)"


def test_a_declared_product_needs_its_declared_prices():
    declared = {"team": {"name": "Team", "prices": {"monthly": TEAM_MONTHLY}}}
    config = plan_switching([{"product": "team", "prices": ["yearly"]}])
    config["billing-portal:products"] = declared
    problem = the_problem(config)
    assert problem.key == "billing-portal:portal.features.subscriptionUpdate.products[0].prices[0]"
    assert "'yearly' is not a price declared under billing-portal:products.team.prices" in (
        problem.problem
    )
    assert problem.fix == "use one of: monthly"


def test_a_price_of_a_declared_product_without_prices_says_where_to_declare_it():
    config = plan_switching([{"product": "team", "prices": ["monthly"]}])
    config["billing-portal:products"] = {"team": {"name": "Team"}}
    key = "billing-portal:portal.features.subscriptionUpdate.products[0].prices[0]"
    (problem,) = [p for p in problems_of(config, "dev") if p.key == key]
    assert "(none declared)" not in problem.fix
    assert problem.fix.startswith("declare it under billing-portal:products.team.prices"), (
        problem.fix
    )


def test_an_adjustable_quantity_needs_minimum_at_most_maximum():
    product = {
        "product": "prod_team",
        "prices": ["price_team"],
        "adjustableQuantity": {"minimum": 5, "maximum": 2},
    }
    problem = the_problem(plan_switching([product]))
    assert problem.key == (
        "billing-portal:portal.features.subscriptionUpdate.products[0].adjustableQuantity.maximum"
    )


# ---------------------------------------------------------------------------- declared products

TEAM_MONTHLY = {"currency": "eur", "unitAmount": 2900, "interval": "month"}


def test_a_declared_product_without_prices_is_refused():
    problem = the_problem(minimal_config(products={"team": {"name": "Team"}}))
    assert problem.key == "billing-portal:products.team.prices"
    assert problem.problem == "is empty"


def test_a_declared_price_needs_amount_currency_and_interval():
    found = problems_of(minimal_config(products={"team": {"name": "Team", "prices": {"m": {}}}}))
    assert [p.key for p in found] == [
        "billing-portal:products.team.prices.m.currency",
        "billing-portal:products.team.prices.m.unitAmount",
        "billing-portal:products.team.prices.m.interval",
    ]


def test_a_declared_price_interval_must_be_a_billing_interval():
    price = {**TEAM_MONTHLY, "interval": "fortnight"}
    problem = the_problem(minimal_config(products={"team": {"name": "T", "prices": {"m": price}}}))
    assert problem.key == "billing-portal:products.team.prices.m.interval"
    assert problem.fix == "use one of: day, week, month, year"


# ---------------------------------------------------------------------------- keys and secrets


# Assembled at run time, so no live-key-shaped string is in the tree for scanners to flag.
LIVE_LIKE_KEYS = [f"{kind}_live_abc12345" for kind in ("sk", "rk")]


@pytest.mark.parametrize("key", LIVE_LIKE_KEYS)
@pytest.mark.parametrize("name", ["stripeSecretKey", "stripeAdminKey"])
def test_a_live_key_is_refused_in_a_stack_not_marked_production(name, key):
    problem = the_problem(minimal_config(**{name: SecretValue(key)}))
    assert problem.key == f"billing-portal:{name}"
    assert problem.problem == "is a live-mode key, but this stack is not marked production"
    assert "`pulumi config set production true`" in problem.fix


def test_a_live_key_is_accepted_in_a_production_stack():
    settings = parse_settings("prod", production(stripeSecretKey=LIVE_KEY))
    assert settings.stripe_secret_key == LIVE_KEY


def test_a_publishable_key_is_refused():
    problem = the_problem(minimal_config(stripeSecretKey=SecretValue("pk_test_abc")))
    assert problem.problem == "is not a Stripe secret or restricted key (that is a publishable key)"


def test_a_stripe_key_in_plain_text_is_refused():
    problem = the_problem(minimal_config(stripeSecretKey=FUNCTION_KEY))
    assert problem.key == "billing-portal:stripeSecretKey"
    assert problem.problem.startswith("is stored in plain text")
    assert "pulumi config set --secret stripeSecretKey" in problem.fix


def test_a_missing_stripe_key_says_how_to_set_it():
    config = minimal_config()
    del config["billing-portal:stripeSecretKey"]
    problem = the_problem(config)
    assert problem.problem == "is not set"
    assert problem.fix.startswith("`pulumi config set --secret stripeSecretKey rk_test_…`")


def test_a_missing_google_cloud_project_says_how_to_set_it():
    config = minimal_config()
    del config["gcp:project"]
    problem = the_problem(config)
    assert problem.key == "gcp:project"
    assert problem.fix == "`pulumi config set gcp:project <your-project-id>`"


def test_a_missing_default_return_url_is_refused():
    config = minimal_config()
    del config["billing-portal:defaultReturnUrl"]
    assert the_problem(config).key == "billing-portal:defaultReturnUrl"


# ---------------------------------------------------------------------------- production


def test_a_production_stack_needs_terms_of_service_and_privacy_urls():
    found = problems_of(minimal_config(production=True), "prod")
    assert [p.key for p in found] == [
        "billing-portal:portal.businessProfile.termsOfServiceUrl",
        "billing-portal:portal.businessProfile.privacyPolicyUrl",
    ]
    assert found[0].problem == "is required in a production stack (customers see it in the portal)"
    assert "--path portal.businessProfile.termsOfServiceUrl" in found[0].fix


# ---------------------------------------------------------------------------- features


def test_enabled_cancellation_reasons_need_options():
    cancel = {"enabled": True, "cancellationReasons": {"enabled": True, "options": []}}
    problem = the_problem(minimal_config(portal=portal(subscriptionCancel=cancel)))
    assert problem.key == (
        "billing-portal:portal.features.subscriptionCancel.cancellationReasons.options"
    )


def test_enabled_customer_updates_need_allowed_updates():
    customer = {"enabled": True, "allowedUpdates": []}
    problem = the_problem(minimal_config(portal=portal(customerUpdate=customer)))
    assert problem.key == "billing-portal:portal.features.customerUpdate.allowedUpdates"


def test_a_payment_method_configuration_must_be_a_pmc_id():
    payment = {"paymentMethodConfiguration": "cards-only"}
    problem = the_problem(minimal_config(portal=portal(paymentMethodUpdate=payment)))
    assert problem.key == (
        "billing-portal:portal.features.paymentMethodUpdate.paymentMethodConfiguration"
    )


# ---------------------------------------------------------------------------- Google Cloud


def test_concurrency_above_one_needs_a_whole_cpu():
    problem = the_problem(minimal_config(function={"concurrency": 8}))
    assert problem.key == "billing-portal:function.concurrency"
    assert "`pulumi config set --path function.cpu 1`" in problem.fix


def test_max_instances_below_min_instances_is_refused():
    problem = the_problem(minimal_config(function={"minInstances": 3, "maxInstances": 2}))
    assert problem.key == "billing-portal:function.maxInstances"


def test_a_number_out_of_range_is_refused_with_the_range():
    problem = the_problem(minimal_config(function={"timeoutSeconds": 7200}))
    assert problem.key == "billing-portal:function.timeoutSeconds"
    assert problem.problem == "is 7200, outside 1..3600"


def test_a_memory_size_must_have_a_unit():
    problem = the_problem(minimal_config(function={"memory": "512"}))
    assert problem.key == "billing-portal:function.memory"


def test_an_invalid_function_name_is_refused():
    problem = the_problem(minimal_config(function={"name": "Billing_Portal"}))
    assert problem.key == "billing-portal:function.name"


def test_a_label_must_follow_google_cloud_rules():
    problem = the_problem(minimal_config(labels={"team": "Payments Team"}))
    assert problem.key == "billing-portal:labels.team"
    assert problem.problem == "'Payments Team' is not a valid label value"


def test_a_firestore_database_id_must_be_valid():
    problem = the_problem(minimal_config(firestore={"database": "My DB"}))
    assert problem.key == "billing-portal:firestore.database"


def test_a_collection_id_cannot_be_a_path():
    problem = the_problem(minimal_config(customersCollection="users/stripe"))
    assert problem.key == "billing-portal:customersCollection"


def test_a_region_must_be_a_google_cloud_region():
    problem = the_problem(minimal_config(region="Europe West"))
    assert problem.key == "billing-portal:region"


def test_a_google_cloud_project_must_be_a_project_id():
    config = {**minimal_config(), "gcp:project": "My Project"}
    assert the_problem(config).key == "gcp:project"


# ---------------------------------------------------------------------------- shape and typos


def test_an_unknown_key_is_refused_with_a_suggestion():
    config = minimal_config(portal={"features": {"subscriptionCancle": {"enabled": True}}})
    problem = the_problem(config)
    assert problem.key == "billing-portal:portal.features.subscriptionCancle"
    assert problem.problem == "is not a known setting"
    assert problem.fix.startswith("did you mean 'subscriptionCancel'?")


def test_an_unknown_top_level_key_is_refused():
    problem = the_problem(minimal_config(regoin="europe-west1"))
    assert problem.key == "billing-portal:regoin"
    assert problem.fix.startswith("did you mean 'region'?")


def test_a_wrongly_typed_value_names_its_key():
    problem = the_problem(minimal_config(publicInvoker="sometimes"))
    assert problem.key == "billing-portal:publicInvoker"
    assert problem.problem == "must be true or false, got 'sometimes'"


def test_domain_restricted_sharing_must_be_true_or_false():
    problem = the_problem(minimal_config(domainRestrictedSharing="enforced"))
    assert problem.key == "billing-portal:domainRestrictedSharing"
    assert problem.problem == "must be true or false, got 'enforced'"


def test_an_object_setting_given_a_scalar_is_refused():
    problem = the_problem(minimal_config(function="big"))
    assert problem.key == "billing-portal:function"
    assert problem.problem.startswith("must be an object")


def test_every_problem_is_reported_at_once():
    config = minimal_config(region="mars", customersCollection="a/b", production="maybe")
    with pytest.raises(SettingsError) as raised:
        parse_settings("dev", config)
    error = raised.value
    assert error.keys == (
        "billing-portal:production",
        "billing-portal:region",
        "billing-portal:customersCollection",
    )
    assert str(error).splitlines()[0] == "stack 'dev' has 3 configuration problems:"
    assert "  - billing-portal:region: 'mars' is not a Google Cloud region. Fix: " in str(error)
