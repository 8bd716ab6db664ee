"""Reading settings: the stack files, the defaults, and Pulumi.yaml's declaration of every key."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import yaml

from stackspec.settings import FIREBASE_JWKS_URL, SecretValue, SettingsError, parse_settings
from stackspec.stackfiles import load_stack_file
from stackspec.urls import is_local_host
from stackspec.webhook_spec import webhook_url
from tests.stackspec.stack_configs import (
    FUNCTION_KEY,
    PROJECT_FILE,
    REPO,
    engine_config,
    minimal_config,
)

STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml"))


def stack_settings(path):
    stack, config = load_stack_file(path)
    return parse_settings(stack, config, secrets_required=False)


# ---------------------------------------------------------------------------- Pulumi.yaml


def test_a_misspelt_key_is_refused_with_the_keys_pulumi_yaml_declares():
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    with pytest.raises(SettingsError) as caught:
        parse_settings("dev", minimal_config(zz_unknown_key=1))
    (problem,) = caught.value.problems
    assert problem.key == "billing-portal:zz_unknown_key"
    listed = problem.fix.split("known keys: ", 1)[1].split(" (or remove it)")[0].split(", ")
    assert sorted(listed) == sorted(declared), (
        "the parser reads other keys than Pulumi.yaml declares"
    )


@pytest.mark.parametrize(
    "key",
    ["production", "region", "customersCollection", "publicInvoker", "domainRestrictedSharing"],
)
def test_an_unset_key_takes_the_default_pulumi_yaml_declares(key):
    declared = yaml.safe_load(PROJECT_FILE.read_text())["config"][key]["default"]
    settings = parse_settings("dev", minimal_config())
    value = {
        "production": settings.production,
        "region": settings.region,
        "customersCollection": settings.customers_collection,
        "publicInvoker": settings.public_invoker,
        "domainRestrictedSharing": settings.domain_restricted_sharing,
    }[key]
    assert value == declared, f"{key}: the parser's default differs from Pulumi.yaml's"


def test_pulumi_yaml_runs_the_infra_program_in_a_virtualenv():
    project = yaml.safe_load(PROJECT_FILE.read_text())
    assert project["name"] == "billing-portal"
    assert project["main"] == "infra/"
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }


# ---------------------------------------------------------------------------- stack files


def test_there_is_a_dev_and_a_production_like_stack_file():
    assert [path.name for path in STACK_FILES] == ["Pulumi.dev.yaml", "Pulumi.prod.yaml"]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_each_stack_file_is_valid(path):
    assert stack_settings(path).stack == path.name.split(".")[1]


def test_only_the_prod_stack_is_marked_production():
    assert stack_settings(REPO / "Pulumi.dev.yaml").production is False
    assert stack_settings(REPO / "Pulumi.prod.yaml").production is True


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_no_stack_file_holds_a_plain_text_stripe_key(path):
    text = path.read_text()
    for prefix in ("sk_test_", "sk_live_", "rk_test_", "rk_live_"):
        for line in text.splitlines():
            assert prefix not in line.split("#", 1)[0], f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda path: path.name)
def test_no_deployed_stack_verifies_tokens_against_a_local_issuer(path):
    auth = stack_settings(path).auth
    for url in (auth.issuer, auth.jwks_url):
        assert url.startswith("https://"), url
        assert not is_local_host(url.split("/")[2].split(":")[0]), url


def test_an_encrypted_secret_in_a_stack_file_is_accepted_offline():
    config = minimal_config(stripeSecretKey={"secure": "v1:abc:def"})
    assert parse_settings("dev", config).stripe_secret_key == SecretValue(None)


# ---------------------------------------------------------------------------- defaults


def test_defaults_give_firebase_auth_of_the_project():
    auth = parse_settings("dev", minimal_config()).auth
    assert auth.issuer == "https://securetoken.google.com/acme-billing-dev"
    assert auth.audience == "acme-billing-dev"
    assert auth.jwks_url == FIREBASE_JWKS_URL


def test_origins_default_to_the_origin_of_the_default_return_url():
    settings = parse_settings("dev", minimal_config(defaultReturnUrl="https://App.example.com/a"))
    assert settings.allowed_origins == ("https://app.example.com",)
    assert settings.allowed_return_origins == ("https://app.example.com",)


def test_defaults_give_a_small_function_named_after_the_stack():
    function = parse_settings("Staging_EU", minimal_config()).function
    assert (function.name, function.service_account_id) == (
        "billing-portal-staging-eu",
        "billing-portal-staging-eu",
    )
    assert (function.min_instances, function.max_instances, function.memory) == (0, 10, "256Mi")
    assert (function.timeout_seconds, function.concurrency, function.cpu) == (30, 1, None)


@pytest.mark.parametrize("stack", ["dev", "a-very-long-stack-name-for-the-eu-region-staging"])
def test_the_build_account_is_a_valid_account_id_distinct_from_the_runtime_account(stack):
    function = parse_settings(stack, minimal_config()).function
    build = function.build_service_account_id
    assert 6 <= len(build) <= 30 and build.endswith("-build"), build
    assert build != function.service_account_id


@pytest.mark.parametrize(
    "name", [None, "a", "x" * 63, "billing-portal-with-a-name-of-exactly-thirty"]
)
def test_the_webhook_function_and_account_names_are_valid_and_distinct(name):
    config = minimal_config(function={"name": name} if name else {})
    function = parse_settings("a-very-long-stack-name-for-the-eu-region-staging", config).function
    assert function.webhook_name.endswith("-webhook") and len(function.webhook_name) <= 63
    assert re.fullmatch(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", function.webhook_name)
    account = function.webhook_service_account_id
    assert 6 <= len(account) <= 30 and account.endswith("-webhook"), account
    assert re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])", account)
    ids = {function.service_account_id, function.build_service_account_id, account}
    assert len(ids) == 3
    assert function.webhook_name != function.name


def test_a_function_name_that_would_collide_with_the_webhook_account_is_refused():
    name = "a" * 22 + "-webhook"  # its runtime account id would be the webhook account's
    with pytest.raises(SettingsError) as raised:
        parse_settings("dev", minimal_config(function={"name": name}))
    assert [p.key for p in raised.value.problems] == ["billing-portal:function.name"]


def test_the_webhook_url_is_the_functions_deterministic_address():
    settings = parse_settings("dev", minimal_config(region="europe-west1"))
    assert webhook_url(settings) == (
        "https://europe-west1-acme-billing-dev.cloudfunctions.net/billing-portal-dev-webhook"
    )


def test_defaults_use_the_existing_default_firestore_database():
    settings = parse_settings("dev", minimal_config(region="europe-west1"))
    assert dataclasses.astuple(settings.firestore) == ("(default)", False, "europe-west1")
    assert settings.customers_collection == "stripe_customers"


def test_defaults_give_a_portal_with_invoices_payment_methods_and_contact_updates():
    features = parse_settings("dev", minimal_config()).portal.features
    assert features.invoice_history is True
    assert features.payment_method_update.enabled is True
    assert features.customer_update.allowed_updates == ("email", "address")
    assert features.subscription_cancel.enabled is False
    assert features.subscription_update.enabled is False
    assert features.subscription_pause is None


def test_the_admin_key_defaults_to_the_function_key():
    settings = parse_settings("dev", minimal_config())
    assert settings.stripe_admin_key is None
    assert settings.stripe_management_key == SecretValue(FUNCTION_KEY)


def test_labels_always_name_the_app_and_stack():
    labels = parse_settings("dev", minimal_config(labels={"team": "payments"})).labels
    assert dict(labels) == {
        "app": "billing-portal",
        "stack": "dev",
        "managed-by": "pulumi",
        "team": "payments",
    }


# ---------------------------------------------------------------------------- the settings object


def test_settings_are_frozen():
    settings = parse_settings("dev", minimal_config())
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.region = "us-east1"
    with pytest.raises(TypeError):
        settings.labels["team"] = "x"


def test_a_secret_never_shows_in_the_settings_repr():
    assert FUNCTION_KEY not in repr(parse_settings("dev", minimal_config()))


def test_engine_text_values_read_the_same_as_stack_file_values():
    stack, config = load_stack_file(REPO / "Pulumi.dev.yaml")
    text, _ = engine_config(config, {})
    from_text = parse_settings(stack, text, secrets_required=False)
    assert from_text == parse_settings(stack, config, secrets_required=False)
    assert json.loads(text["billing-portal:portal"])["name"] == from_text.portal.name
