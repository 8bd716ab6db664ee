"""The whole Pulumi program, run under mocks on each stack file: what it would create, exactly."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from billing_portal.settings import load_settings as load_function_settings
from infra.service import REQUIRED_APIS
from infra.stack_config import StackSettingsError
from stackspec.declared import MANAGED_BY
from stackspec.portal_spec import portal_spec
from stackspec.settings import SettingsError, parse_settings
from stackspec.stackfiles import load_stack_file
from tests.infra.infra_harness import (
    ADMIN_KEY,
    FUNCTION_KEY,
    ProgramRun,
    load_stack,
    run_program,
    walk_strings,
)
from tests.infra.mocks import PORTAL_CONFIGURATION_ID, WEBHOOK_ENDPOINT_ID

FUNCTION = "gcp:cloudfunctionsv2/function:Function"
PORTAL_CONFIGURATION = "stripe:index/portalConfiguration:PortalConfiguration"
STRIPE_PROVIDER = "pulumi:providers:stripe"
SECRET = "gcp:secretmanager/secret:Secret"
SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion"
PORTAL_FIELDS = "pulumi-python:dynamic/stripe:PortalFields"
PORTAL_RETIREMENT = "pulumi-python:dynamic/stripe:PortalRetirement"
ACCOUNT = "gcp:serviceaccount/account:Account"
SESSION_FUNCTION = "service-function"
WEBHOOK_FUNCTION = "service-webhook-function"
STRIPE_KEY_SECRET = "service-stripe-key"
WEBHOOK_SECRET = "service-webhook-secret"
CONTRACT_ENV_VARS = {
    "PORTAL_CONFIGURATION_ID",
    "PORTAL_SUBSCRIPTION_PAUSE",
    "PORTAL_PRICES",
    "DEFAULT_RETURN_URL",
    "ALLOWED_RETURN_ORIGINS",
    "ALLOWED_ORIGINS",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS_URL",
    "CUSTOMERS_COLLECTION",
    "FIRESTORE_DATABASE",
    "GOOGLE_CLOUD_PROJECT",
    "CHECKOUT_PRICES",
    "CHECKOUT_TRIAL_DAYS",
    "CHECKOUT_ALLOW_PROMOTION_CODES",
    "CHECKOUT_AUTOMATIC_TAX",
    "CHECKOUT_BILLING_ADDRESS",
    "CHECKOUT_TERMS_CONSENT",
}


def settings_of(run: ProgramRun):
    stack, config = load_stack_file(f"Pulumi.{run.stack}.yaml")
    return parse_settings(stack, config, secrets_required=False)


def session_function(run: ProgramRun):
    return run.one(FUNCTION, SESSION_FUNCTION)


def env_of(run: ProgramRun, function: str = SESSION_FUNCTION) -> dict:
    return run.one(FUNCTION, function).plain("serviceConfig", "environmentVariables")


def stripe_keys(run: ProgramRun) -> set[str]:
    names = ("billing-portal:stripeSecretKey", "billing-portal:stripeAdminKey")
    return {value for key, value in run.config.items() if key in names and value}


# ---------------------------------------------------------------------------- structure


def test_every_resource_belongs_to_the_portal_webhook_features_service_or_health_component(
    stack_run,
):
    for registration in stack_run.registrations:
        if registration.type.startswith("billing-portal:"):
            assert registration.parent.endswith(
                "pulumi:pulumi:Stack::billing-portal-" + stack_run.stack
            )
        else:
            assert registration.parent_name in (
                "portal",
                "webhook",
                "features",
                "service",
                "health",
            ), f"{registration.type} {registration.name} is not parented by a component"


def test_every_stripe_resource_uses_the_explicit_stripe_provider(stack_run):
    provider = stack_run.one(STRIPE_PROVIDER)
    for registration in stack_run.registrations:
        if registration.type.startswith("stripe:"):
            assert f"::{provider.name}::" in registration.provider, (
                f"{registration.type} {registration.name} uses provider {registration.provider!r}"
            )


def test_required_apis_are_enabled_and_never_disabled_on_destroy(stack_run):
    services = stack_run.all("gcp:projects/service:Service")
    assert sorted(s.inputs["service"] for s in services) == sorted(REQUIRED_APIS)
    for service in services:
        assert service.inputs["disableOnDestroy"] is False, f"{service.name} disables its API"


# ---------------------------------------------------------------------------- the Stripe key


def test_stripe_keys_appear_only_in_the_secret_version_and_the_stripe_provider(stack_run):
    allowed = {
        (SECRET_VERSION, f"{STRIPE_KEY_SECRET}-version", "secretData"),
        (STRIPE_PROVIDER, stack_run.one(STRIPE_PROVIDER).name, "apiKey"),
        # the dynamic resources' key, a Pulumi secret (tests/infra/test_portal_fields_program.py)
        (PORTAL_FIELDS, stack_run.one(PORTAL_FIELDS).name, "api_key"),
        (PORTAL_RETIREMENT, stack_run.one(PORTAL_RETIREMENT).name, "api_key"),
    }
    for key in stripe_keys(stack_run):
        for registration in stack_run.registrations:
            for name, value in registration.inputs.items():
                if (registration.type, registration.name, name) in allowed:
                    continue
                assert key not in "".join(walk_strings(value)), (
                    f"a Stripe key appears in input {name!r} of {registration.type} "
                    f"{registration.name}"
                )
        assert key not in json.dumps(stack_run.outputs, default=str), "a key is in the outputs"


def test_the_function_key_is_stored_as_a_secret_in_secret_manager(stack_run):
    version = stack_run.one(SECRET_VERSION, STRIPE_KEY_SECRET + "-version")
    assert rpc.is_rpc_secret(version.inputs["secretData"]), "secret data is not a Pulumi secret"
    assert version.plain("secretData") == rpc.unwrap_rpc_secret(
        stack_run.config["billing-portal:stripeSecretKey"]
    )


def test_the_stripe_provider_key_is_a_pulumi_secret(stack_run):
    provider = stack_run.one(STRIPE_PROVIDER)
    assert rpc.is_rpc_secret(provider.inputs["apiKey"]), "the provider's api key is plain text"


def test_the_stripe_provider_uses_the_admin_key_when_one_is_set(prod):
    provider_key = prod.one(STRIPE_PROVIDER).plain("apiKey")
    assert provider_key == ADMIN_KEY.replace("sk_test_", "sk_live_")


def test_the_stripe_provider_falls_back_to_the_function_key(dev):
    assert dev.one(STRIPE_PROVIDER).plain("apiKey") == FUNCTION_KEY


def test_the_function_reads_the_key_only_as_a_secret_env_var_from_that_secret(stack_run):
    function = session_function(stack_run)
    secret = stack_run.one(SECRET, STRIPE_KEY_SECRET)
    assert function.plain("serviceConfig", "secretEnvironmentVariables") == [
        {
            "key": "STRIPE_SECRET_KEY",
            "projectId": settings_of(stack_run).gcp_project,
            "secret": secret.inputs["secretId"],
            "version": "1",
        }
    ]
    assert "STRIPE_SECRET_KEY" not in env_of(stack_run)


# ---------------------------------------------------------------------------- IAM


def iam_grants(run: ProgramRun) -> list[tuple[str, str, str, str, str | None]]:
    """Every IAM grant the program makes: (type, role, target, member, condition expression)."""
    grants = []
    for registration in run.registrations:
        # (`iampolicy`, not `policy`: an alert policy grants nothing)
        kind = registration.type.lower()
        if any(word in kind for word in ("iammember", "iambinding", "iampolicy")):
            target = (
                registration.inputs.get("secretId")
                or registration.inputs.get("repository")
                or registration.inputs.get("name")
                or registration.inputs.get("project")
            )
            condition = registration.inputs.get("condition") or {}
            grants.append(
                (
                    registration.type,
                    registration.inputs["role"],
                    target,
                    registration.inputs["member"],
                    condition.get("expression"),
                )
            )
    return sorted(grants, key=lambda grant: tuple(str(part) for part in grant))


def member_of(run: ProgramRun, account_name_suffix: str) -> str:
    settings = settings_of(run)
    accounts = [r for r in run.all(ACCOUNT) if r.name.endswith(account_name_suffix)]
    assert len(accounts) == 1, f"expected one service account named *{account_name_suffix}"
    email = f"{accounts[0].inputs['accountId']}@{settings.gcp_project}.iam.gserviceaccount.com"
    return f"serviceAccount:{email}"


def test_the_session_function_service_account_has_exactly_two_grants(stack_run):
    settings = settings_of(stack_run)
    member = member_of(stack_run, "-runtime")
    mine = [grant for grant in iam_grants(stack_run) if grant[3] == member]
    database = f"projects/{settings.gcp_project}/databases/{settings.firestore.database}"
    assert mine == [
        (
            "gcp:projects/iAMMember:IAMMember",
            "roles/datastore.user",
            settings.gcp_project,
            member,
            f'resource.name == "{database}"',
        ),
        (
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            "roles/secretmanager.secretAccessor",
            stack_run.one(SECRET, STRIPE_KEY_SECRET).inputs["secretId"],
            member,
            None,
        ),
    ]


def test_firestore_access_is_limited_to_the_stacks_database_by_an_iam_condition(stack_run):
    grant = next(
        r
        for r in stack_run.all("gcp:projects/iAMMember:IAMMember")
        if r.inputs["role"] == "roles/datastore.user"
    )
    condition = grant.inputs.get("condition")
    assert condition, f"{grant.name} grants roles/datastore.user on every database of the project"
    assert condition["title"] and condition["description"]


def test_the_webhook_service_account_has_exactly_its_three_grants(stack_run):
    settings = settings_of(stack_run)
    member = member_of(stack_run, "-webhook")
    mine = [grant for grant in iam_grants(stack_run) if grant[3] == member]
    database = f"projects/{settings.gcp_project}/databases/{settings.firestore.database}"
    assert mine == [
        (
            "gcp:projects/iAMMember:IAMMember",
            "roles/datastore.user",
            settings.gcp_project,
            member,
            f'resource.name == "{database}"',
        ),
        (
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            "roles/secretmanager.secretAccessor",
            stack_run.one(SECRET, STRIPE_KEY_SECRET).inputs["secretId"],
            member,
            None,
        ),
        (
            "gcp:secretmanager/secretIamMember:SecretIamMember",
            "roles/secretmanager.secretAccessor",
            stack_run.one(SECRET, WEBHOOK_SECRET).inputs["secretId"],
            member,
            None,
        ),
    ]


def test_only_the_webhook_account_may_read_the_webhook_secret(stack_run):
    webhook_secret = stack_run.one(SECRET, WEBHOOK_SECRET).inputs["secretId"]
    readers = {grant[3] for grant in iam_grants(stack_run) if grant[2] == webhook_secret}
    assert readers == {member_of(stack_run, "-webhook")}
    assert member_of(stack_run, "-runtime") not in readers


def test_each_function_runs_as_its_own_service_account(stack_run):
    accounts = {
        function.name: function.plain("serviceConfig", "serviceAccountEmail")
        for function in stack_run.all(FUNCTION)
    }
    assert accounts == {
        SESSION_FUNCTION: member_of(stack_run, "-runtime").removeprefix("serviceAccount:"),
        WEBHOOK_FUNCTION: member_of(stack_run, "-webhook").removeprefix("serviceAccount:"),
    }


def test_both_functions_are_built_by_the_build_service_account(stack_run):
    build_member = member_of(stack_run, "-build")
    for function in stack_run.all(FUNCTION):
        build_config = function.plain("buildConfig")
        assert "serviceAccount" in build_config, "the build would run as the default account"
        assert build_config["serviceAccount"].endswith(
            "/serviceAccounts/" + build_member.removeprefix("serviceAccount:")
        )


def test_the_build_service_account_has_exactly_the_roles_a_function_build_needs(stack_run):
    settings = settings_of(stack_run)
    member = member_of(stack_run, "-build")
    repository = stack_run.one("gcp:artifactregistry/repository:Repository")
    source_bucket = stack_run.one("gcp:storage/bucket:Bucket")
    bucket_name = f"{source_bucket.name}-7d1e2f3"
    grants = [grant[:3] + grant[4:] for grant in iam_grants(stack_run) if grant[3] == member]
    assert grants == [
        (
            "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
            "roles/artifactregistry.writer",
            repository.inputs["repositoryId"],
            None,
        ),
        ("gcp:projects/iAMMember:IAMMember", "roles/logging.logWriter", settings.gcp_project, None),
        (
            "gcp:projects/iAMMember:IAMMember",
            "roles/storage.objectViewer",
            settings.gcp_project,
            'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-") || '
            f'resource.name == "projects/_/buckets/{bucket_name}" || '
            f'resource.name.startsWith("projects/_/buckets/{bucket_name}/")',
        ),
    ]


def test_the_build_pushes_images_to_the_stacks_own_repository(stack_run):
    settings = settings_of(stack_run)
    repository = stack_run.one("gcp:artifactregistry/repository:Repository")
    assert repository.inputs["format"] == "DOCKER"
    assert repository.inputs["location"] == settings.region
    for function in stack_run.all(FUNCTION):
        assert function.plain("buildConfig", "dockerRepository") == (
            f"projects/{settings.gcp_project}/locations/{settings.region}"
            f"/repositories/{repository.inputs['repositoryId']}"
        )


def test_the_only_other_grants_let_anyone_invoke_the_two_function_services(stack_run):
    others = [g for g in iam_grants(stack_run) if not g[3].startswith("serviceAccount:")]
    assert others == [
        (
            "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
            "roles/run.invoker",
            stack_run.one(FUNCTION, name).inputs["name"],
            "allUsers",
            None,
        )
        for name in (SESSION_FUNCTION, WEBHOOK_FUNCTION)
    ]


def test_public_invoker_false_leaves_the_session_function_private_not_the_webhook(tmp_path):
    config = {**load_stack("dev"), "billing-portal:publicInvoker": False}
    run = run_program("dev", config, tmp_path)
    invokers = run.all("gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    # Stripe cannot authenticate to Google: the webhook is public whatever the setting.
    assert [invoker.inputs["name"] for invoker in invokers] == [
        run.one(FUNCTION, WEBHOOK_FUNCTION).inputs["name"]
    ]


# ---------------------------------------------------------------------------- the function


def test_the_function_is_python_312_with_the_contract_entry_point(stack_run):
    build_config = session_function(stack_run).plain("buildConfig")
    assert build_config["runtime"] == "python312"
    assert build_config["entryPoint"] == "create_portal_session"


def test_the_function_env_is_exactly_the_contract(stack_run):
    assert set(env_of(stack_run)) == CONTRACT_ENV_VARS
    assert "STRIPE_API_BASE" not in env_of(stack_run)


def test_the_portal_configuration_id_reaches_the_function_env(stack_run):
    assert env_of(stack_run)["PORTAL_CONFIGURATION_ID"] == PORTAL_CONFIGURATION_ID


# What each stack's portal sells, as the function is told: every plan-switching price, by the id
# Pulumi created (dev declares its catalog) or the stack names (prod), with its product's bounds.
PORTAL_PRICES = {
    "dev": "price_mock_team_monthly,price_mock_team_yearly,price_mock_business_monthly",
    "prod": "price_AcmeTeamMonthlyLive01:1-25,price_AcmeTeamYearlyLive01:1-25,"
    "price_AcmeBusinessMonthlyLive01",
}


@pytest.mark.parametrize("function", [SESSION_FUNCTION, WEBHOOK_FUNCTION])
def test_the_function_env_carries_the_portals_prices_by_their_real_ids(stack_run, function):
    env = env_of(stack_run, function)
    assert env["PORTAL_PRICES"] == PORTAL_PRICES[stack_run.stack], function


def test_the_function_reads_the_portals_prices_and_their_quantities(prod):
    env = {**env_of(prod), "STRIPE_SECRET_KEY": FUNCTION_KEY.replace("rk_test_", "rk_live_")}
    prices = load_function_settings(env).portal_prices
    assert set(prices) == {
        "price_AcmeTeamMonthlyLive01",
        "price_AcmeTeamYearlyLive01",
        "price_AcmeBusinessMonthlyLive01",
    }
    team = prices["price_AcmeTeamMonthlyLive01"]
    assert (team.minimum, team.maximum) == (1, 25)
    assert not prices["price_AcmeBusinessMonthlyLive01"].adjustable


# What each stack sells through Checkout, as the function is told: dev sells every plan-switching
# price (its checkout lists none), by the ids Pulumi created; prod lists its monthly prices by id,
# the team price with its product's bounds.
CHECKOUT_PRICES = {
    "dev": PORTAL_PRICES["dev"],
    "prod": "price_AcmeTeamMonthlyLive01:1-25,price_AcmeBusinessMonthlyLive01",
}
# Each stack file's checkout settings, as the function's variables.
CHECKOUT_SETTINGS = {
    "dev": {
        "CHECKOUT_TRIAL_DAYS": "0",
        "CHECKOUT_ALLOW_PROMOTION_CODES": "true",
        "CHECKOUT_AUTOMATIC_TAX": "false",
        "CHECKOUT_BILLING_ADDRESS": "auto",
        "CHECKOUT_TERMS_CONSENT": "false",
    },
    "prod": {
        "CHECKOUT_TRIAL_DAYS": "14",
        "CHECKOUT_ALLOW_PROMOTION_CODES": "true",
        "CHECKOUT_AUTOMATIC_TAX": "true",
        "CHECKOUT_BILLING_ADDRESS": "required",
        "CHECKOUT_TERMS_CONSENT": "true",
    },
}


@pytest.mark.parametrize("function", [SESSION_FUNCTION, WEBHOOK_FUNCTION])
def test_the_function_env_carries_the_checkout_catalog_and_settings(stack_run, function):
    env = env_of(stack_run, function)
    assert env["CHECKOUT_PRICES"] == CHECKOUT_PRICES[stack_run.stack], function
    checkout = {name: value for name, value in env.items() if name.startswith("CHECKOUT_")}
    assert checkout == {
        "CHECKOUT_PRICES": CHECKOUT_PRICES[stack_run.stack],
        **CHECKOUT_SETTINGS[stack_run.stack],
    }


def test_the_function_starts_with_the_stacks_checkout_environment(stack_run):
    key = (
        FUNCTION_KEY.replace("rk_test_", "rk_live_") if stack_run.stack == "prod" else FUNCTION_KEY
    )
    load_function_settings({**env_of(stack_run), "STRIPE_SECRET_KEY": key})  # must not raise


def test_the_function_env_carries_the_stack_settings(stack_run):
    settings = settings_of(stack_run)
    assert env_of(stack_run) == {
        "PORTAL_CONFIGURATION_ID": PORTAL_CONFIGURATION_ID,
        "PORTAL_SUBSCRIPTION_PAUSE": "false",
        "PORTAL_PRICES": PORTAL_PRICES[stack_run.stack],
        "DEFAULT_RETURN_URL": settings.default_return_url,
        "ALLOWED_RETURN_ORIGINS": ",".join(settings.allowed_return_origins),
        "ALLOWED_ORIGINS": ",".join(settings.allowed_origins),
        "AUTH_ISSUER": f"https://securetoken.google.com/{settings.gcp_project}",
        "AUTH_AUDIENCE": settings.gcp_project,
        "AUTH_JWKS_URL": (
            "https://www.googleapis.com/service_accounts/v1/jwk/"
            "securetoken@system.gserviceaccount.com"
        ),
        "CUSTOMERS_COLLECTION": "stripe_customers",
        "FIRESTORE_DATABASE": "(default)",
        "GOOGLE_CLOUD_PROJECT": settings.gcp_project,
        "CHECKOUT_PRICES": CHECKOUT_PRICES[stack_run.stack],
        **CHECKOUT_SETTINGS[stack_run.stack],
    }


def test_the_function_is_sized_as_the_stack_says(stack_run):
    sizing = settings_of(stack_run).function
    service_config = session_function(stack_run).plain("serviceConfig")
    assert service_config["minInstanceCount"] == sizing.min_instances
    assert service_config["maxInstanceCount"] == sizing.max_instances
    assert service_config["availableMemory"] == sizing.memory
    assert service_config["timeoutSeconds"] == sizing.timeout_seconds
    assert service_config["maxInstanceRequestConcurrency"] == sizing.concurrency


def test_prod_keeps_a_warm_instance_and_dev_scales_to_zero(dev, prod):
    assert session_function(dev).plain("serviceConfig", "minInstanceCount") == 0
    assert session_function(prod).plain("serviceConfig", "minInstanceCount") == 1


@pytest.mark.parametrize("type_", [FUNCTION, SECRET, "gcp:storage/bucket:Bucket"])
def test_google_resources_carry_the_stack_labels(stack_run, type_):
    for resource in stack_run.all(type_):
        labels = resource.plain("labels")
        assert labels == dict(settings_of(stack_run).labels)
        assert labels["app"] == "billing-portal"
        assert labels["stack"] == stack_run.stack
        assert labels["env"] == stack_run.stack


def test_the_source_bucket_is_uniform_and_never_public(stack_run):
    bucket = stack_run.one("gcp:storage/bucket:Bucket")
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"


def test_the_function_builds_from_the_uploaded_content_addressed_archive(stack_run):
    archive = stack_run.one("gcp:storage/bucketObject:BucketObject")
    for function in stack_run.all(FUNCTION):  # both functions: the same archive, the same object
        storage_source = function.plain("buildConfig", "source", "storageSource")
        assert storage_source == {
            "bucket": "service-source-7d1e2f3",
            "object": archive.inputs["name"],
        }
    zip_name = archive.inputs["name"].rsplit("/", 1)[-1]
    assert (stack_run.build_dir / zip_name).is_file()
    assert archive.inputs["source"].path == str(stack_run.build_dir / zip_name)


def test_dev_creates_its_firestore_database(dev):
    database = dev.one("gcp:firestore/database:Database")
    assert database.inputs["name"] == "(default)"
    assert database.inputs["locationId"] == "eur3"
    assert database.inputs["type"] == "FIRESTORE_NATIVE"
    assert database.inputs["deletionPolicy"] == "ABANDON"


def test_a_database_a_production_stack_creates_is_delete_protected(tmp_path):
    firestore = {"database": "portal", "create": True, "location": "eur3"}
    config = {**load_stack("prod"), "billing-portal:firestore": firestore}
    run = run_program("prod", config, tmp_path)
    database = run.one("gcp:firestore/database:Database")
    assert database.inputs["deleteProtectionState"] == "DELETE_PROTECTION_ENABLED"
    assert env_of(run)["FIRESTORE_DATABASE"] == "portal"


def test_prod_uses_its_existing_firestore_database(prod):
    assert prod.all("gcp:firestore/database:Database") == []
    assert env_of(prod)["FIRESTORE_DATABASE"] == "(default)"


# ---------------------------------------------------------------------------- the Stripe portal


def test_the_portal_configuration_declares_the_stack_business_profile(stack_run):
    profile = settings_of(stack_run).portal.business_profile
    configuration = stack_run.one(PORTAL_CONFIGURATION)
    assert configuration.inputs["businessProfile"] == {
        "headline": profile.headline,
        "privacyPolicyUrl": profile.privacy_policy_url,
        "termsOfServiceUrl": profile.terms_of_service_url,
    }
    assert configuration.inputs["defaultReturnUrl"] == settings_of(stack_run).default_return_url


def test_the_portal_configuration_declares_the_stack_features(stack_run):
    spec = portal_spec(settings_of(stack_run))["features"]
    ids = stack_run.outputs["stripeProductIds"]
    features = stack_run.one(PORTAL_CONFIGURATION).inputs["features"]
    update = spec["subscription_update"]
    cancel = spec["subscription_cancel"]
    assert features == {
        "customerUpdate": {
            "enabled": True,
            "allowedUpdates": spec["customer_update"]["allowed_updates"],
        },
        "invoiceHistory": {"enabled": spec["invoice_history"]["enabled"]},
        "paymentMethodUpdate": {"enabled": spec["payment_method_update"]["enabled"]},
        "subscriptionCancel": {
            "enabled": True,
            "mode": cancel["mode"],
            "prorationBehavior": cancel["proration_behavior"],
            "cancellationReason": cancel["cancellation_reason"],
        },
        "subscriptionUpdates": [
            {
                "enabled": True,
                "defaultAllowedUpdates": update["default_allowed_updates"],
                "prorationBehavior": update["proration_behavior"],
                "products": [
                    {
                        "product": ids.get(product["product"], product["product"]),
                        "prices": [ids.get(price, price) for price in product["prices"]],
                    }
                    for product in update["products"]
                ],
            }
        ],
    }


def test_the_portal_configuration_is_active_with_the_stack_login_page(dev, prod):
    assert dev.one(PORTAL_CONFIGURATION).inputs["active"] is True
    assert dev.one(PORTAL_CONFIGURATION).inputs["loginPage"] == {"enabled": False}
    assert prod.one(PORTAL_CONFIGURATION).inputs["loginPage"] == {"enabled": True}


def test_the_portal_configuration_metadata_names_its_owner_stack_and_spec(stack_run):
    metadata = stack_run.one(PORTAL_CONFIGURATION).inputs["metadata"]
    assert metadata == {
        "managed-by": MANAGED_BY,
        "stack": stack_run.stack,
        "spec-hash": stack_run.outputs["portalSpecHash"],
    }


def test_declared_products_and_prices_are_created_and_switched_between(dev):
    products = {p.inputs["name"]: p for p in dev.all("stripe:index/product:Product")}
    assert sorted(products) == ["Acme Business", "Acme Team"]
    prices = dev.all("stripe:index/price:Price")
    team_prices = sorted(
        (p.inputs["unitAmount"], p.inputs["recurring"]["interval"])
        for p in prices
        if p.inputs["product"] == "prod_mock_team"
    )
    assert team_prices == [(2900, "month"), (29000, "year")]
    switchable = dev.one(PORTAL_CONFIGURATION).inputs["features"]["subscriptionUpdates"][0]
    assert switchable["products"][0] == {
        "product": "prod_mock_team",
        "prices": ["price_mock_team_monthly", "price_mock_team_yearly"],
    }


def test_prod_references_its_live_catalog_by_id(prod):
    assert prod.all("stripe:index/product:Product") == []
    assert prod.all("stripe:index/price:Price") == []


# ---------------------------------------------------------------------------- outputs


def test_the_stack_outputs_what_the_readme_promises(stack_run):
    outputs = stack_run.outputs
    settings = settings_of(stack_run)
    assert outputs["functionUrl"] == (
        f"https://{settings.region}-{settings.gcp_project}.cloudfunctions.net/"
        f"{settings.function.name}"
    )
    assert outputs["portalConfigurationId"] == PORTAL_CONFIGURATION_ID
    assert outputs["serviceAccountEmail"].endswith(
        f"@{settings.gcp_project}.iam.gserviceaccount.com"
    )
    assert outputs["buildServiceAccountEmail"] == (
        f"{settings.function.build_service_account_id}@{settings.gcp_project}.iam.gserviceaccount.com"
    )
    assert outputs["customersCollection"] == settings.customers_collection
    assert outputs["webhookUrl"] == (
        f"https://{settings.region}-{settings.gcp_project}.cloudfunctions.net/"
        f"{settings.function.webhook_name}"
    )
    assert outputs["webhookEndpointId"] == WEBHOOK_ENDPOINT_ID
    assert outputs["webhookServiceAccountEmail"] == (
        f"{settings.function.webhook_service_account_id}@{settings.gcp_project}"
        ".iam.gserviceaccount.com"
    )


# ---------------------------------------------------------------------------- failing early


def test_a_settings_mistake_fails_the_program_with_the_key_and_fix(tmp_path):
    config = {**load_stack("dev"), "billing-portal:region": "Europe West"}
    with pytest.raises(StackSettingsError) as raised:
        run_program("dev", config, tmp_path)
    assert isinstance(raised.value, SettingsError)
    assert "billing-portal:region: 'Europe West' is not a Google Cloud region" in str(raised.value)


def test_a_plain_text_stripe_key_in_the_engine_config_is_refused(tmp_path):
    config = {**load_stack("dev"), "billing-portal:stripeAdminKey": ADMIN_KEY}
    with pytest.raises(
        StackSettingsError, match="billing-portal:stripeAdminKey: is stored in plain"
    ):
        run_program("dev", config, tmp_path)
