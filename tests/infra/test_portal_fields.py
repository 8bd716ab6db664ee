"""The `PortalFields` and `PortalRetirement` providers, run against the Stripe stand-in.

These providers are what `pulumi up` / `refresh` / `destroy` run (in Pulumi's own process) for the
fields pulumi-stripe cannot set; here their create/diff/update/read/delete are called directly
with the stand-in (a separate server process) as Stripe, and the stand-in's request log shows
exactly the form fields Stripe would receive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from infra.portal_fields import make_fields_provider, make_retirement_provider, sent_hash
from local.stripe.core.shapes import expand_paths
from stackspec import portal_fields as fields
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.infra.infra_harness import REPO

pytestmark = pytest.mark.integration

CONFIGURATIONS = "/v1/billing_portal/configurations"
PAUSE = fields.SUBSCRIPTION_PAUSE
PRODUCTS = "features.subscription_update.products"


@pytest.fixture
def standin(fresh_stripe_standin):
    return fresh_stripe_standin


def prod_spec() -> dict[str, Any]:
    """prod's spec: existing product ids, `adjustable_quantity` on one of them, conditions."""
    return portal_spec(read_settings(REPO / "Pulumi.prod.yaml"))


def create_as_pulumi_stripe(standin, spec: dict[str, Any]) -> str:
    """The configuration as pulumi-stripe creates it: everything but the seven fields."""
    params = fields.without_fields(spec)
    return standin.client().v1.billing_portal.configurations.create(params=params).id


def props(standin, configuration_id: str, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The inputs Pulumi hands the provider, pointed at the stand-in."""
    return {
        "configuration_id": configuration_id,
        "fields": fields.declared_fields(spec),
        "sent_hash": sent_hash(fields.without_fields(spec)),
        "api_key": standin.test_key,
        "api_base": standin.url,
        **extra,
    }


def live(standin, configuration_id: str) -> dict[str, Any]:
    (found,) = [c for c in standin.configurations() if c["id"] == configuration_id]
    return found


def updates(standin, configuration_id: str) -> list[list[list[str]]]:
    """The form fields of every update of the configuration, in order, as sent (but `expand`,
    which asks for the answer's products; see the expand test)."""
    path = f"{CONFIGURATIONS}/{configuration_id}"
    return [
        [pair for pair in entry["form"] if not pair[0].startswith("expand[")]
        for entry in standin.requests(path_prefix=path, method="POST")
    ]


def test_every_update_and_read_expands_the_products_stripe_leaves_out_otherwise(standin):
    # Stripe (and the stand-in) answer a configuration without its products unless the request
    # expands them: an unexpanded answer would record no products, and every preview would
    # propose putting them back.
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, configuration, spec)).outs
    make_fields_provider().read(configuration, outs)
    calls = standin.requests(path_prefix=f"{CONFIGURATIONS}/{configuration}")
    assert [(call["method"], expand_paths(call["params"])) for call in calls] == [
        ("POST", [PRODUCTS]),
        ("GET", [PRODUCTS]),
    ]
    assert (
        outs["fields"][fields.ADJUSTABLE_QUANTITY]
        == fields.declared_fields(spec)[fields.ADJUSTABLE_QUANTITY]
    )


def test_create_sends_exactly_the_seven_fields_form_encoded(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    make_fields_provider().create(props(standin, configuration, spec))
    assert [tuple(pair) for pair in updates(standin, configuration)[0]] == [
        ("name", "Acme billing portal"),
        ("features[payment_method_update][enabled]", "true"),
        ("features[payment_method_update][payment_method_configuration]", ""),
        ("features[subscription_pause][enabled]", "false"),
        ("features[subscription_update][billing_cycle_anchor]", "unchanged"),
        ("features[subscription_update][products][0][product]", "prod_AcmeTeamLive01"),
        ("features[subscription_update][products][0][prices][0]", "price_AcmeTeamMonthlyLive01"),
        ("features[subscription_update][products][0][prices][1]", "price_AcmeTeamYearlyLive01"),
        ("features[subscription_update][products][0][adjustable_quantity][enabled]", "true"),
        ("features[subscription_update][products][0][adjustable_quantity][minimum]", "1"),
        ("features[subscription_update][products][0][adjustable_quantity][maximum]", "25"),
        ("features[subscription_update][products][1][product]", "prod_AcmeBusinessLive01"),
        (
            "features[subscription_update][products][1][prices][0]",
            "price_AcmeBusinessMonthlyLive01",
        ),
        ("features[subscription_update][products][1][adjustable_quantity][enabled]", "false"),
        ("features[subscription_update][products][1][adjustable_quantity][minimum]", "1"),
        (
            "features[subscription_update][schedule_at_period_end][conditions][0][type]",
            "decreasing_item_amount",
        ),
        (
            "features[subscription_update][schedule_at_period_end][conditions][1][type]",
            "shortening_interval",
        ),
        ("features[subscription_update][trial_update_behavior]", "end_trial"),
    ]


def test_create_leaves_the_configuration_with_every_declared_field(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    created = make_fields_provider().create(props(standin, configuration, spec))
    assert created.id == configuration
    found = live(standin, configuration)
    assert found["name"] == "Acme billing portal"
    team = found["features"]["subscription_update"]["products"][0]
    assert team["adjustable_quantity"] == {"enabled": True, "maximum": 25, "minimum": 1}
    assert fields.changed_fields(fields.declared_fields(spec), fields.live_fields(found)) == []


def test_a_second_up_with_nothing_changed_changes_nothing(standin):
    spec = prod_spec()
    inputs = props(standin, create_as_pulumi_stripe(standin, spec), spec)
    outs = make_fields_provider().create(inputs).outs
    # the state as Pulumi keeps it: JSON numbers, and after a refresh, the live values
    stored = json.loads(json.dumps(outs))
    assert make_fields_provider().diff(inputs["configuration_id"], stored, inputs).changes is False
    read = make_fields_provider().read(inputs["configuration_id"], stored)
    assert (
        make_fields_provider().diff(inputs["configuration_id"], read.outs, inputs).changes is False
    )


def test_an_update_of_one_field_sends_that_field_only(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    inputs = props(standin, configuration, spec)
    outs = make_fields_provider().create(inputs).outs
    spec["features"]["subscription_pause"] = {"enabled": True}
    news = props(standin, configuration, spec)
    assert make_fields_provider().diff(configuration, outs, news).changes is True
    make_fields_provider().update(configuration, outs, news)
    assert updates(standin, configuration)[-1] == [
        ["features[subscription_pause][enabled]", "true"]
    ]
    assert live(standin, configuration)["features"]["subscription_pause"]["enabled"] is True


def test_read_shows_a_dashboard_edit_so_the_next_up_puts_it_back(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    inputs = props(standin, configuration, spec)
    outs = make_fields_provider().create(inputs).outs
    standin.client().v1.billing_portal.configurations.update(
        configuration, params={"name": "Edited in the Dashboard"}
    )
    read = make_fields_provider().read(configuration, outs)
    assert read.outs["fields"][fields.NAME] == "Edited in the Dashboard"
    assert fields.changed_fields(inputs["fields"], read.outs["fields"]) == [fields.NAME]
    assert make_fields_provider().diff(configuration, read.outs, inputs).changes is True
    make_fields_provider().update(configuration, read.outs, inputs)
    assert updates(standin, configuration)[-1] == [["name", "Acme billing portal"]]
    assert live(standin, configuration)["name"] == "Acme billing portal"


def test_an_update_by_pulumi_stripe_reapplies_every_field(standin):
    # pulumi-stripe resends the product list without adjustable_quantity: Stripe resets it
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, configuration, spec)).outs
    spec["business_profile"]["headline"] = "A new headline"
    resent = fields.without_fields(spec)["features"]["subscription_update"]["products"]
    standin.client().v1.billing_portal.configurations.update(
        configuration,
        params={
            "business_profile": spec["business_profile"],
            "features": {"subscription_update": {"products": resent}},
        },
    )
    team = live(standin, configuration)["features"]["subscription_update"]["products"][0]
    assert team["adjustable_quantity"]["enabled"] is False
    news = props(standin, configuration, spec)
    assert news["sent_hash"] != outs["sent_hash"]
    assert make_fields_provider().diff(configuration, outs, news).changes is True
    make_fields_provider().update(configuration, outs, news)
    team = live(standin, configuration)["features"]["subscription_update"]["products"][0]
    assert team["adjustable_quantity"] == {"enabled": True, "maximum": 25, "minimum": 1}
    assert len(updates(standin, configuration)[-1]) == len(updates(standin, configuration)[0])


def test_a_replaced_configuration_gets_the_fields_too(standin):
    spec = prod_spec()
    first = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, first, spec)).outs
    second = create_as_pulumi_stripe(standin, spec)
    news = props(standin, second, spec)
    assert make_fields_provider().diff(first, outs, news).changes is True
    updated = make_fields_provider().update(first, outs, news).outs
    assert updated["configuration_id"] == second
    assert live(standin, second)["name"] == "Acme billing portal"


def test_a_stack_that_stops_declaring_pause_gets_pause_disabled(standin):
    spec = prod_spec()
    spec["features"]["subscription_pause"] = {"enabled": True}
    configuration = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, configuration, spec)).outs
    del spec["features"]["subscription_pause"]
    make_fields_provider().update(configuration, outs, props(standin, configuration, spec))
    assert live(standin, configuration)["features"]["subscription_pause"]["enabled"] is False


def test_a_configuration_declared_inactive_is_inactive_after_the_first_up(standin):
    # pulumi-stripe creates every configuration active: Stripe's create has no `active`, and the
    # Terraform provider it bridges sends it only on an update that changes it ("On create it is
    # always set as `true`", pulumi_stripe.PortalConfiguration). The first full apply sends it.
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    assert live(standin, configuration)["active"] is True
    make_fields_provider().create(props(standin, configuration, spec, active=False))
    assert live(standin, configuration)["active"] is False, f"{configuration} is still active"


def test_a_configuration_declared_active_gets_no_active_parameter(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    make_fields_provider().create(props(standin, configuration, spec, active=True))
    (sent,) = updates(standin, configuration)
    assert not [pair for pair in sent if pair[0] == "active"], sent


def test_a_replaced_configuration_declared_inactive_is_made_inactive_too(standin):
    spec = prod_spec()
    first = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, first, spec, active=False)).outs
    second = create_as_pulumi_stripe(standin, spec)
    make_fields_provider().update(first, outs, props(standin, second, spec, active=False))
    assert live(standin, second)["active"] is False, f"the new configuration {second} is active"


def test_delete_leaves_the_fields_as_they_are(standin):
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    outs = make_fields_provider().create(props(standin, configuration, spec)).outs
    before = live(standin, configuration)
    make_fields_provider().delete(configuration, outs)
    assert live(standin, configuration) == before


def test_a_misspelt_field_is_refused_by_the_stand_in_as_by_stripe(standin):
    import stripe

    configuration = create_as_pulumi_stripe(standin, prod_spec())
    with pytest.raises(stripe.InvalidRequestError, match="features\\[subscription_pause\\]"):
        standin.client().v1.billing_portal.configurations.update(
            configuration, params={"features": {"subscription_pause": {"enabeld": True}}}
        )


# ---------------------------------------------------------------------------- retirement


def retirement_props(standin, configuration_id: str) -> dict[str, Any]:
    return {
        "configuration_id": configuration_id,
        "api_key": standin.test_key,
        "api_base": standin.url,
    }


def test_a_replaced_configuration_is_deactivated_by_the_retirement_update(standin):
    spec = prod_spec()
    first = create_as_pulumi_stripe(standin, spec)
    provider = make_retirement_provider()
    outs = provider.create(retirement_props(standin, first)).outs
    assert live(standin, first)["active"] is True
    second = create_as_pulumi_stripe(standin, spec)
    news = retirement_props(standin, second)
    assert provider.diff("retirement", outs, news).changes is True
    assert provider.diff("retirement", outs, dict(outs)).changes is False
    provider.update("retirement", outs, news)
    assert (live(standin, first)["active"], live(standin, second)["active"]) == (False, True)


def test_destroy_deactivates_the_stacks_configuration(standin):
    configuration = create_as_pulumi_stripe(standin, prod_spec())
    provider = make_retirement_provider()
    outs = provider.create(retirement_props(standin, configuration)).outs
    provider.delete("retirement", outs)
    assert live(standin, configuration)["active"] is False


# ---------------------------------------------------------------------------- serialised


@pytest.mark.parametrize("which", ["fields", "retirement"])
def test_the_serialized_provider_runs_where_this_repository_cannot_be_imported(
    standin, tmp_path, which
):
    # Pulumi pickles the provider into the state and runs it in its own process; `-I` leaves
    # the repository off sys.path there, as it may be off the provider host's path.
    spec = prod_spec()
    configuration = create_as_pulumi_stripe(standin, spec)
    if which == "fields":
        provider = make_fields_provider()
        inputs = props(standin, configuration, spec)
        call = "provider.create(props); print(json.dumps(sorted(sys.modules)))"
    else:
        provider = make_retirement_provider()
        inputs = retirement_props(standin, configuration)
        call = "provider.delete('retirement', props); print(json.dumps(sorted(sys.modules)))"
    script = (
        "import base64, json, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "props = json.loads(sys.stdin.read())\n"
        f"{call}\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, serialize_provider(provider)],
        input=json.dumps(inputs),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert not [m for m in modules if m.split(".")[0] in ("stackspec", "infra", "review")]
    found = live(standin, configuration)
    if which == "fields":
        assert found["name"] == "Acme billing portal"
    else:
        assert found["active"] is False
