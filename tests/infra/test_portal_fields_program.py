"""The whole program under Pulumi mocks: `pulumi up` applies every declared portal field.

For dev and prod: the `PortalFields` resource exists with the declared values (ids
substituted), runs after the configuration, the function gets the configuration id once the
fields are applied, `PortalRetirement` runs after the function, and nothing asks a person to run
a command after `up`.
"""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from stackspec import portal_fields as fields
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.settings import parse_settings
from stackspec.stackfiles import load_stack_file
from tests.infra.infra_harness import REPO, ProgramRun, load_stack, run_program
from tests.infra.mocks import PORTAL_CONFIGURATION_ID

PORTAL_FIELDS = "pulumi-python:dynamic/stripe:PortalFields"
PORTAL_RETIREMENT = "pulumi-python:dynamic/stripe:PortalRetirement"
CONFIGURATION = "stripe:index/portalConfiguration:PortalConfiguration"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
SESSION_FUNCTION = "service-function"


def declared(run: ProgramRun) -> dict:
    """The field values the stack declares, with the ids the program got for declared products."""
    name, config = load_stack_file(REPO / f"Pulumi.{run.stack}.yaml")
    spec = portal_spec(parse_settings(name, config, secrets_required=False))
    return fields.declared_fields(substitute(spec, run.outputs["stripeProductIds"]))


def depends_on(registration, name: str) -> bool:
    return any(urn.endswith(f"::{name}") for urn in registration.dependencies)


def test_the_fields_resource_carries_the_declared_values(stack_run):
    resource = stack_run.one(PORTAL_FIELDS)
    # Pulumi keeps numbers as floats and drops nulls inside maps: `normalised` restores them
    assert fields.normalised(resource.plain("fields")) == declared(stack_run)
    assert resource.plain("configuration_id") == PORTAL_CONFIGURATION_ID
    assert resource.inputs.get("api_base") is None  # Stripe itself
    assert not any(
        str(value).startswith("declared:")
        for product in resource.plain("fields")[fields.ADJUSTABLE_QUANTITY]
        for value in (product["product"], *product["prices"])
    )


@pytest.mark.parametrize("active", [True, False])
def test_the_fields_resource_is_told_whether_the_configuration_is_active(tmp_path, active):
    # pulumi-stripe's create leaves every configuration active; PortalFields applies `active`.
    config = load_stack("dev")
    config["billing-portal:portal"] = {**config["billing-portal:portal"], "active": active}
    run = run_program("dev", config, tmp_path)
    assert run.one(CONFIGURATION).inputs["active"] is active
    assert run.one(PORTAL_FIELDS).plain("active") is active, "PortalFields is not told `active`"


def test_prod_declares_the_team_seats_and_the_period_end_conditions(prod):
    values = fields.normalised(prod.one(PORTAL_FIELDS).plain("fields"))
    assert fields.comparable(fields.ADJUSTABLE_QUANTITY, values[fields.ADJUSTABLE_QUANTITY])[
        "prod_AcmeTeamLive01"
    ] == {"enabled": True, "minimum": 1, "maximum": 25}
    assert values[fields.SCHEDULE_AT_PERIOD_END] == {
        "conditions": ["decreasing_item_amount", "shortening_interval"]
    }


def test_the_fields_are_applied_after_the_configuration(stack_run):
    assert depends_on(stack_run.one(PORTAL_FIELDS), "portal-configuration")


def test_the_fields_resource_key_is_a_secret(stack_run):
    for kind in (PORTAL_FIELDS, PORTAL_RETIREMENT):
        assert rpc.is_rpc_secret(stack_run.one(kind).inputs["api_key"]), f"{kind}: plain key"


def test_what_pulumi_stripe_sends_is_hashed_so_its_updates_reapply_the_fields(stack_run):
    sent = stack_run.one(PORTAL_FIELDS).plain("sent_hash")
    assert isinstance(sent, str) and len(sent) == 64


def test_the_function_names_the_configuration_once_its_fields_are_applied(stack_run):
    assert depends_on(stack_run.one(FUNCTION, SESSION_FUNCTION), "portal-fields")


def test_the_retirement_runs_after_the_function(stack_run):
    retirement = stack_run.one(PORTAL_RETIREMENT)
    assert retirement.plain("configuration_id") == PORTAL_CONFIGURATION_ID
    function = stack_run.one(FUNCTION, SESSION_FUNCTION).name
    assert depends_on(retirement, "service") or depends_on(retirement, function)


@pytest.mark.parametrize("words", ["curl", "eval ", "manual", "STRIPE_ADMIN_KEY"])
def test_no_output_asks_for_a_command_after_up(stack_run, words):
    portal_outputs = {
        key: value for key, value in stack_run.outputs.items() if not key.startswith("branding")
    }
    assert words.lower() not in json.dumps(portal_outputs, default=str).lower()
    assert "portalManualUpdate" not in stack_run.outputs


def test_the_outputs_show_the_applied_fields(stack_run):
    assert fields.normalised(stack_run.outputs["portalFields"]) == declared(stack_run)


@pytest.mark.parametrize("doc", ["README.md", "docs/deploy.md", "docs/review.md"])
def test_no_guide_asks_for_a_portal_command_after_up(doc):
    text = (REPO / doc).read_text(encoding="utf-8")
    assert "portalManualUpdate" not in text, doc
    assert "curl https://api.stripe.com/v1/billing_portal" not in text, doc


def test_the_function_is_told_whether_the_portal_enables_pause(stack_run):
    env = stack_run.one(FUNCTION, SESSION_FUNCTION).plain("serviceConfig", "environmentVariables")
    assert env["PORTAL_SUBSCRIPTION_PAUSE"] == "false"  # neither stack enables pausing


@pytest.mark.parametrize(
    ("declared_pause", "told"), [(True, "true"), (False, "false"), (None, "false")]
)
def test_the_pause_variable_follows_the_same_mapping_portal_fields_applies(declared_pause, told):
    from stackspec.function_contract import function_environment
    from tests.stackspec.stack_configs import minimal_config, portal

    features = {} if declared_pause is None else {"subscriptionPause": {"enabled": declared_pause}}
    settings = parse_settings("dev", minimal_config(portal=portal(**features)))
    assert function_environment(settings, "bpc_1", None)["PORTAL_SUBSCRIPTION_PAUSE"] == told
    enabled = fields.declared_fields(portal_spec(settings))[fields.SUBSCRIPTION_PAUSE]["enabled"]
    assert enabled is (declared_pause is True)
