"""The webhook half of the program under mocks: Stripe's endpoint, its secret, the function."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from billing_portal import settings as function_settings
from infra import service
from stackspec.function_contract import PLACEHOLDER_WEBHOOK_SECRET
from stackspec.webhook_spec import WEBHOOK_EVENTS, webhook_api_version, webhook_url
from tests.infra.infra_harness import ProgramRun, walk_strings
from tests.infra.mocks import WEBHOOK_ENDPOINT_ID, WEBHOOK_SECRET
from tests.infra.test_program import (
    FUNCTION,
    SECRET,
    SECRET_VERSION,
    SESSION_FUNCTION,
    STRIPE_KEY_SECRET,
    WEBHOOK_FUNCTION,
    env_of,
    settings_of,
)
from tests.infra.test_program import (
    WEBHOOK_SECRET as WEBHOOK_SECRET_RESOURCE,
)

ENDPOINT = "stripe:index/webhookEndpoint:WebhookEndpoint"


def webhook_function(run: ProgramRun):
    return run.one(FUNCTION, WEBHOOK_FUNCTION)


# ---------------------------------------------------------------------------- the endpoint


def test_the_endpoint_points_at_the_webhook_functions_url(stack_run):
    endpoint = stack_run.one(ENDPOINT)
    function = webhook_function(stack_run)
    assert endpoint.inputs["url"] == function.outputs["url"]  # what Google reports for it
    assert endpoint.inputs["url"] == webhook_url(settings_of(stack_run))
    assert stack_run.outputs["webhookUrl"] == endpoint.inputs["url"]
    assert stack_run.outputs["webhookEndpointId"] == WEBHOOK_ENDPOINT_ID


def test_the_endpoint_url_is_the_documented_deterministic_address_of_the_function(stack_run):
    settings = settings_of(stack_run)
    function = webhook_function(stack_run)
    assert stack_run.one(ENDPOINT).inputs["url"] == (
        f"https://{function.inputs['location']}-{function.inputs['project']}"
        f".cloudfunctions.net/{function.inputs['name']}"
    )
    assert function.inputs["name"] == settings.function.webhook_name


def test_the_endpoint_enables_exactly_the_events_the_function_handles(stack_run):
    events = stack_run.one(ENDPOINT).inputs["enabledEvents"]
    assert events == list(function_settings.WEBHOOK_EVENTS)
    assert tuple(events) == WEBHOOK_EVENTS
    assert "*" not in events


def test_the_endpoint_names_its_stack_and_speaks_the_functions_api_version(stack_run):
    endpoint = stack_run.one(ENDPOINT)
    assert endpoint.inputs["metadata"] == {
        "managed-by": "pulumi/billing-portal",
        "stack": stack_run.stack,
    }
    assert endpoint.inputs["apiVersion"] == webhook_api_version()
    assert endpoint.parent_name == "webhook"


# ---------------------------------------------------------------------------- the signing secret


def test_the_signing_secret_goes_into_its_own_secret_manager_secret_as_a_pulumi_secret(stack_run):
    settings = settings_of(stack_run)
    secret = stack_run.one(SECRET, WEBHOOK_SECRET_RESOURCE)
    assert secret.inputs["secretId"] == f"{settings.function.name}-webhook-secret"
    version = stack_run.one(SECRET_VERSION, f"{WEBHOOK_SECRET_RESOURCE}-version")
    assert rpc.is_rpc_secret(version.inputs["secretData"]), "secret data is not a Pulumi secret"
    assert version.plain("secretData") == WEBHOOK_SECRET


def test_the_signing_secret_is_in_no_other_input_and_no_output(stack_run):
    allowed = (SECRET_VERSION, f"{WEBHOOK_SECRET_RESOURCE}-version", "secretData")
    for registration in stack_run.registrations:
        for name, value in registration.inputs.items():
            if (registration.type, registration.name, name) == allowed:
                continue
            assert WEBHOOK_SECRET not in "".join(walk_strings(value)), (
                f"the webhook secret appears in input {name!r} of {registration.name}"
            )
    assert WEBHOOK_SECRET not in json.dumps(stack_run.outputs, default=str)


def test_the_signing_secret_is_never_config(stack_run):
    assert not [key for key in stack_run.config if "webhook" in key.lower()]


def test_the_webhook_reads_both_secrets_only_as_pinned_secret_env_vars(stack_run):
    project = settings_of(stack_run).gcp_project
    function = webhook_function(stack_run)
    assert function.plain("serviceConfig", "secretEnvironmentVariables") == [
        {
            "key": "STRIPE_SECRET_KEY",
            "projectId": project,
            "secret": stack_run.one(SECRET, STRIPE_KEY_SECRET).inputs["secretId"],
            "version": "1",
        },
        {
            "key": "STRIPE_WEBHOOK_SECRET",
            "projectId": project,
            "secret": stack_run.one(SECRET, WEBHOOK_SECRET_RESOURCE).inputs["secretId"],
            "version": "1",
        },
    ]
    assert not {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} & set(
        env_of(stack_run, WEBHOOK_FUNCTION)
    )


def test_the_session_function_does_not_get_the_webhook_secret(stack_run):
    secrets = stack_run.one(FUNCTION, SESSION_FUNCTION).plain(
        "serviceConfig", "secretEnvironmentVariables"
    )
    assert [variable["key"] for variable in secrets] == ["STRIPE_SECRET_KEY"]


# ---------------------------------------------------------------------------- the function


def test_the_webhook_is_the_same_archive_with_the_stripe_webhook_entry_point(stack_run):
    session = stack_run.one(FUNCTION, SESSION_FUNCTION).plain("buildConfig")
    webhook = webhook_function(stack_run).plain("buildConfig")
    assert webhook["entryPoint"] == function_settings.WEBHOOK_ENTRY_POINT == "stripe_webhook"
    assert session["entryPoint"] == function_settings.SESSION_ENTRY_POINT
    assert webhook["source"] == session["source"]
    assert webhook["runtime"] == session["runtime"] == "python312"


def test_the_webhook_environment_is_the_contracts_and_the_function_starts_with_it(stack_run):
    env = env_of(stack_run, WEBHOOK_FUNCTION)
    assert env == env_of(stack_run, SESSION_FUNCTION)
    deployed = {
        **env,
        "STRIPE_SECRET_KEY": "rk_test_PreviewPlaceholder0",
        "STRIPE_WEBHOOK_SECRET": PLACEHOLDER_WEBHOOK_SECRET,
        "FUNCTION_TARGET": function_settings.WEBHOOK_ENTRY_POINT,
    }
    loaded = function_settings.load_settings(deployed)
    assert loaded.stripe_webhook_secret == PLACEHOLDER_WEBHOOK_SECRET


def test_the_webhook_keeps_no_warm_instance_but_is_otherwise_sized_like_the_session(prod):
    session = prod.one(FUNCTION, SESSION_FUNCTION).plain("serviceConfig")
    webhook = webhook_function(prod).plain("serviceConfig")
    assert (session["minInstanceCount"], webhook["minInstanceCount"]) == (1, 0)
    for field in ("maxInstanceCount", "availableMemory", "timeoutSeconds"):
        assert webhook[field] == session[field], field


# ---------------------------------------------------------------------------- the URL guard


@pytest.mark.parametrize(
    ("reported", "warned"),
    [
        ("https://us-central1-acme-billing-dev.cloudfunctions.net/billing-portal-dev-webhook", 0),
        ("https://billing-portal-dev-webhook-abc123-uc.a.run.app", 1),
        (None, 0),
    ],
)
def test_a_different_url_reported_by_google_is_warned_about(monkeypatch, reported, warned):
    from stackspec.settings import parse_settings
    from tests.stackspec.stack_configs import minimal_config

    warnings: list[str] = []
    monkeypatch.setattr(service.pulumi.log, "warn", warnings.append)
    service._check_webhook_url(parse_settings("dev", minimal_config()), reported)
    assert len(warnings) == warned
