"""Function settings: every variable is validated at cold start with a message naming it."""

from __future__ import annotations

import pytest

from billing_portal.catalog import parse_prices
from billing_portal.settings import (
    FIREBASE_JWKS_URL,
    CheckoutOptions,
    SettingsError,
    load_settings,
)

BASE = {
    "STRIPE_SECRET_KEY": "sk_test_" + "a" * 24,
    "DEFAULT_RETURN_URL": "https://app.example.com/settings/billing",
    "GOOGLE_CLOUD_PROJECT": "acme-prod",
}


def settings_with(**changes: str | None):
    env = {**BASE, **changes}
    return load_settings({k: v for k, v in env.items() if v is not None})


def error_for(**changes: str | None) -> str:
    with pytest.raises(SettingsError) as caught:
        settings_with(**changes)
    return str(caught.value)


def test_missing_stripe_key_names_the_variable():
    assert "STRIPE_SECRET_KEY is not set" in error_for(STRIPE_SECRET_KEY=None)


def test_publishable_key_is_refused():
    assert "publishable" in error_for(STRIPE_SECRET_KEY="pk_test_" + "a" * 24)


def test_restricted_key_is_accepted_and_mode_follows_the_key():
    assert settings_with(STRIPE_SECRET_KEY="rk_live_" + "b" * 24).mode == "live"
    assert settings_with().mode == "test"


def test_defaults_are_firebase_auth_of_the_project():
    settings = settings_with()
    assert settings.auth_issuer == "https://securetoken.google.com/acme-prod"
    assert settings.auth_audience == "acme-prod"
    assert settings.auth_jwks_url == FIREBASE_JWKS_URL
    assert settings.customers_collection == "stripe_customers"
    assert settings.firestore_database == "(default)"


def test_return_origins_default_to_the_default_return_url_origin():
    assert settings_with().allowed_return_origins == {"https://app.example.com"}


def test_any_oidc_issuer_works_with_the_three_variables():
    settings = settings_with(
        GOOGLE_CLOUD_PROJECT=None,
        AUTH_ISSUER="https://acme.eu.auth0.com/",
        AUTH_AUDIENCE="billing",
        AUTH_JWKS_URL="https://acme.eu.auth0.com/.well-known/jwks.json",
    )
    assert (settings.auth_issuer, settings.auth_audience) == (
        "https://acme.eu.auth0.com/",
        "billing",
    )


def test_no_project_and_no_issuer_is_explained():
    message = error_for(GOOGLE_CLOUD_PROJECT=None)
    assert "AUTH_ISSUER" in message and "GOOGLE_CLOUD_PROJECT" in message


def test_plain_http_return_url_is_refused_outside_localhost():
    assert "DEFAULT_RETURN_URL" in error_for(DEFAULT_RETURN_URL="http://app.example.com/billing")
    assert settings_with(DEFAULT_RETURN_URL="http://localhost:3000/billing")


def test_missing_default_return_url_names_the_variable():
    assert "DEFAULT_RETURN_URL is not set" in error_for(DEFAULT_RETURN_URL=None)


def test_origin_with_a_path_is_refused():
    message = error_for(ALLOWED_ORIGINS="https://app.example.com/settings")
    assert "ALLOWED_ORIGINS" in message and "scheme://host" in message


def test_origins_are_normalised_and_split_on_commas():
    settings = settings_with(ALLOWED_ORIGINS="https://App.Example.com, http://localhost:5173")
    assert settings.allowed_origins == {"https://app.example.com", "http://localhost:5173"}


def test_malformed_configuration_id_names_the_variable():
    assert "PORTAL_CONFIGURATION_ID" in error_for(PORTAL_CONFIGURATION_ID="cfg_123")


def test_collection_with_a_slash_is_refused():
    assert "CUSTOMERS_COLLECTION" in error_for(CUSTOMERS_COLLECTION="a/b")


def test_non_numeric_timeout_names_the_variable():
    assert "STRIPE_TIMEOUT_SECONDS" in error_for(STRIPE_TIMEOUT_SECONDS="soon")


def test_repr_never_contains_the_key():
    settings = settings_with()
    assert BASE["STRIPE_SECRET_KEY"] not in repr(settings)


def test_https_proxy_is_read_for_the_stripe_client():
    assert settings_with(HTTPS_PROXY="http://proxy.internal:3128").https_proxy == (
        "http://proxy.internal:3128"
    )
    assert settings_with().https_proxy is None


def test_a_webhook_secret_must_be_a_signing_secret():
    assert settings_with(STRIPE_WEBHOOK_SECRET="whsec_" + "c" * 32).stripe_webhook_secret
    assert "STRIPE_WEBHOOK_SECRET" in error_for(STRIPE_WEBHOOK_SECRET="sk_test_" + "c" * 24)
    assert settings_with().stripe_webhook_secret is None


def test_the_webhook_entry_point_requires_its_secret():
    assert "STRIPE_WEBHOOK_SECRET" in error_for(FUNCTION_TARGET="stripe_webhook")
    webhook = settings_with(
        FUNCTION_TARGET="stripe_webhook", STRIPE_WEBHOOK_SECRET="whsec_" + "c" * 32
    )
    assert webhook.function_target == "stripe_webhook"
    assert settings_with().function_target == "create_portal_session"


def test_an_unknown_function_target_is_refused():
    assert "FUNCTION_TARGET" in error_for(FUNCTION_TARGET="main")


def test_without_portal_prices_the_portal_sells_nothing_a_deep_link_could_name():
    assert settings_with().portal_prices == {}


def test_portal_prices_are_read_with_their_quantities():
    prices = settings_with(PORTAL_PRICES="price_team:1-25,price_solo").portal_prices
    assert set(prices) == {"price_team", "price_solo"}
    assert (prices["price_team"].minimum, prices["price_team"].maximum) == (1, 25)
    assert not prices["price_solo"].adjustable


@pytest.mark.parametrize("raw", ["declared:team/monthly", "price_a:9-2", "price_a:1-5,price_a"])
def test_malformed_portal_prices_are_refused_naming_the_variable(raw):
    with pytest.raises(SettingsError) as caught:
        settings_with(PORTAL_PRICES=raw)
    assert caught.value.variable == "PORTAL_PRICES"
    assert "PORTAL_PRICES" in str(caught.value) and "subscriptionUpdate.products" in str(
        caught.value
    )


# ---- Firebase Auth emulator mode (FIREBASE_AUTH_EMULATOR_HOST): local emulators only ----------

EMULATOR_MODE = {
    "GOOGLE_CLOUD_PROJECT": "demo-acme",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8089",
    "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
}


def test_emulator_mode_on_the_emulators_with_a_demo_project():
    settings = settings_with(**EMULATOR_MODE)
    assert settings.auth_emulator_host == "127.0.0.1:9099"
    assert settings.auth_audience == "demo-acme"
    assert settings_with().auth_emulator_host is None


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"FIREBASE_AUTH_EMULATOR_HOST": "http://127.0.0.1:9099"}, "host:port"),
        ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1"}, "host:port"),
        ({"FIRESTORE_EMULATOR_HOST": None}, "FIRESTORE_EMULATOR_HOST"),
        ({"STRIPE_SECRET_KEY": "sk_" + "live_" + "a" * 24}, "live-mode"),
        ({"GOOGLE_CLOUD_PROJECT": "acme-prod"}, "demo-"),
        ({"GOOGLE_CLOUD_PROJECT": "demo-"}, "demo-"),
        ({"AUTH_AUDIENCE": "acme-prod"}, "demo-"),
        ({"AUTH_ISSUER": "https://issuer.example"}, "AUTH_ISSUER"),
        ({"AUTH_ISSUER": "https://securetoken.google.com/demo-other"}, "AUTH_ISSUER"),
        ({"K_SERVICE": "create-portal-session"}, "K_SERVICE"),
    ],
)
def test_emulator_mode_anywhere_else_is_refused_naming_the_variable(changes, named):
    message = error_for(**{**EMULATOR_MODE, **changes})
    assert message.startswith("FIREBASE_AUTH_EMULATOR_HOST")
    assert named in message


# --- checkout ------------------------------------------------------------------------------


def test_checkout_sells_the_portals_prices_unless_told_its_own():
    portal = "price_team:1-25,price_solo"
    assert settings_with(PORTAL_PRICES=portal).checkout_prices == parse_prices(portal)
    own = settings_with(PORTAL_PRICES=portal, CHECKOUT_PRICES="price_seats:2-").checkout_prices
    assert set(own) == {"price_seats"} and own["price_seats"].minimum == 2
    assert settings_with().checkout_prices == {}  # both empty: every checkout is refused


def test_checkout_options_default_to_stripes_plain_checkout():
    assert settings_with().checkout == CheckoutOptions(
        trial_days=0,
        allow_promotion_codes=False,
        automatic_tax=False,
        billing_address="auto",
        terms_consent=False,
    )


def test_checkout_options_are_read():
    options = settings_with(
        CHECKOUT_TRIAL_DAYS="730",
        CHECKOUT_ALLOW_PROMOTION_CODES="TRUE",
        CHECKOUT_AUTOMATIC_TAX="true",
        CHECKOUT_BILLING_ADDRESS="required",
        CHECKOUT_TERMS_CONSENT="true",
    ).checkout
    assert options == CheckoutOptions(730, True, True, "required", True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHECKOUT_PRICES", "price_a:5-1"),
        ("CHECKOUT_PRICES", "declared:team/monthly"),
        ("CHECKOUT_TRIAL_DAYS", "731"),
        ("CHECKOUT_TRIAL_DAYS", "-1"),
        ("CHECKOUT_TRIAL_DAYS", "7.5"),
        ("CHECKOUT_TRIAL_DAYS", "١٤"),  # digits Python's int() reads, Stripe does not
        ("CHECKOUT_ALLOW_PROMOTION_CODES", "yes"),
        ("CHECKOUT_AUTOMATIC_TAX", "1"),
        ("CHECKOUT_BILLING_ADDRESS", "always"),
        ("CHECKOUT_TERMS_CONSENT", "required"),
    ],
)
def test_a_bad_checkout_setting_stops_the_function_naming_the_variable(name, value):
    with pytest.raises(SettingsError) as caught:
        settings_with(**{name: value})
    assert caught.value.variable == name and name in str(caught.value)
