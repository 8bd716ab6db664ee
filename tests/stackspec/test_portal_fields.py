"""The fields pulumi-stripe cannot set: spec → values → update params, and live → values.

What `PortalFields.diff`, `plan` and `drift` all compare; the live shapes here are the ones Stripe
returns (its defaults, `null`s and list order), so an unchanged stack shows no perpetual diff.
"""

from __future__ import annotations

import copy
import json

import pytest

from local.stripe.portal import new_configuration
from stackspec import portal_fields as fields
from stackspec import schema as stripe_schema
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.settings import parse_settings
from tests.stackspec.stack_configs import minimal_config
from tests.stackspec.test_portal_spec import everything, stack_spec

PAUSE = fields.SUBSCRIPTION_PAUSE
QUANTITY = fields.ADJUSTABLE_QUANTITY
IDS = {"declared:team": "prod_team", "declared:team/monthly": "price_team_m"}


def declared_everything() -> dict:
    return fields.declared_fields(substitute(portal_spec(everything()), IDS))


def stripe_default_configuration() -> dict:
    """A new configuration as Stripe returns it (the stand-in's copy of Stripe's defaults)."""
    return new_configuration("bpc_1", livemode=False, created=1)


def as_stripe_returns(declared: dict) -> dict:
    """A live configuration holding `declared`, shaped as Stripe returns it: every field
    present, defaults filled in, products in another order, conditions in another order."""
    live = stripe_default_configuration()
    params = fields.update_params(declared)
    live["name"] = params["name"] or None
    features = params["features"]
    payment = features["payment_method_update"]
    live["features"]["payment_method_update"] = {
        "enabled": payment["enabled"],
        "payment_method_configuration": payment["payment_method_configuration"] or None,
    }
    live["features"]["subscription_pause"]["enabled"] = features["subscription_pause"]["enabled"]
    update = live["features"]["subscription_update"]
    sent = features["subscription_update"]
    update["billing_cycle_anchor"] = sent["billing_cycle_anchor"]
    update["trial_update_behavior"] = sent["trial_update_behavior"]
    update["schedule_at_period_end"]["conditions"] = list(
        reversed(sent["schedule_at_period_end"]["conditions"] or [])
    )
    update["products"] = [
        {
            "product": product["product"],
            "prices": list(reversed(product["prices"])),
            "adjustable_quantity": {
                "maximum": None,
                "minimum": 1,
                **product["adjustable_quantity"],
            },
        }
        for product in reversed(sent["products"] or [])
    ]
    return live


def test_the_seven_paths_are_parameters_of_the_configuration_update():
    assert len(fields.PATHS) == 7
    assert set(fields.PATHS) <= stripe_schema.request_paths(stripe_schema.UPDATE_CONFIGURATION)


def test_the_declared_values_of_a_stack_that_declares_every_field():
    declared = declared_everything()
    assert declared[fields.NAME] == "Everything portal"
    assert (
        fields.comparable(
            fields.PAYMENT_METHOD_CONFIGURATION, declared[fields.PAYMENT_METHOD_CONFIGURATION]
        )
        == "pmc_123"
    )
    assert declared[PAUSE] == {"enabled": True}
    assert declared[fields.BILLING_CYCLE_ANCHOR] == "now"
    assert declared[fields.TRIAL_UPDATE_BEHAVIOR] == "continue_trial"
    assert declared[fields.SCHEDULE_AT_PERIOD_END] == {"conditions": ["shortening_interval"]}
    assert fields.comparable(QUANTITY, declared[QUANTITY]) == {
        "prod_team": {"enabled": True, "minimum": 2, "maximum": 9},
        "prod_existing": {"enabled": False, "minimum": 1, "maximum": None},
    }


def test_an_undeclared_field_has_stripes_default_so_up_converges_it():
    declared = fields.declared_fields(portal_spec(parse_settings("dev", minimal_config())))
    assert fields.changed_fields(declared, fields.live_fields(stripe_default_configuration())) == []
    assert declared[PAUSE] == {"enabled": False}  # a stack that drops pause gets it disabled
    assert declared[fields.NAME] is None


def test_no_perpetual_diff_against_the_live_shape_stripe_returns():
    for declared in (declared_everything(), fields.declared_fields(stack_spec("prod"))):
        live = fields.live_fields(as_stripe_returns(declared))
        assert fields.changed_fields(declared, live) == []


def test_no_diff_when_values_went_through_pulumis_state():
    # Pulumi keeps numbers as floats and may drop nulls from nested maps.
    declared = declared_everything()
    stored = json.loads(json.dumps(declared).replace(": 2,", ": 2.0,"))
    del stored[fields.NAME]
    stored[QUANTITY][1]["adjustable_quantity"].pop("maximum")
    stored[fields.NAME] = "Everything portal"
    assert fields.changed_fields(declared, stored) == []
    assert fields.update_params(stored) == fields.update_params(declared)


def test_stripe_null_billing_cycle_anchor_is_its_default_unchanged():
    live = stripe_default_configuration()
    assert live["features"]["subscription_update"]["billing_cycle_anchor"] is None
    assert fields.live_fields(live)[fields.BILLING_CYCLE_ANCHOR] == "unchanged"


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        (fields.NAME, lambda c: c.update(name="Renamed in the Dashboard")),
        (
            fields.PAYMENT_METHOD_CONFIGURATION,
            lambda c: c["features"]["payment_method_update"].update(
                payment_method_configuration="pmc_other"
            ),
        ),
        (PAUSE, lambda c: c["features"]["subscription_pause"].update(enabled=False)),
        (
            fields.BILLING_CYCLE_ANCHOR,
            lambda c: c["features"]["subscription_update"].update(billing_cycle_anchor="unchanged"),
        ),
        (
            QUANTITY,
            lambda c: c["features"]["subscription_update"]["products"][0][
                "adjustable_quantity"
            ].update(maximum=3),
        ),
        (
            fields.SCHEDULE_AT_PERIOD_END,
            lambda c: c["features"]["subscription_update"]["schedule_at_period_end"].update(
                conditions=[]
            ),
        ),
        (
            fields.TRIAL_UPDATE_BEHAVIOR,
            lambda c: c["features"]["subscription_update"].update(
                trial_update_behavior="end_trial"
            ),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_live_edit_of_one_field_is_exactly_that_field(path, edit):
    declared = declared_everything()
    live = as_stripe_returns(declared)
    edit(live)
    assert fields.changed_fields(declared, fields.live_fields(live)) == [path]


def test_a_change_of_prices_alone_is_not_a_field_change():
    declared = declared_everything()
    live = as_stripe_returns(declared)
    live["features"]["subscription_update"]["products"][0]["prices"] = ["price_other"]
    assert fields.changed_fields(declared, fields.live_fields(live)) == []


def test_a_product_pulumi_stripe_resent_without_adjustable_quantity_is_a_change():
    declared = declared_everything()
    live = as_stripe_returns(declared)
    for product in live["features"]["subscription_update"]["products"]:
        product["adjustable_quantity"] = {"enabled": False, "maximum": None, "minimum": 1}
    assert fields.changed_fields(declared, fields.live_fields(live)) == [QUANTITY]


def test_the_update_params_of_every_field():
    assert fields.update_params(declared_everything()) == {
        "name": "Everything portal",
        "features": {
            "payment_method_update": {"enabled": True, "payment_method_configuration": "pmc_123"},
            "subscription_pause": {"enabled": True},
            "subscription_update": {
                "billing_cycle_anchor": "now",
                "products": [
                    {
                        "product": "prod_team",
                        "prices": ["price_team_m"],
                        "adjustable_quantity": {"enabled": True, "minimum": 2, "maximum": 9},
                    },
                    {
                        "product": "prod_existing",
                        "prices": ["price_existing"],
                        "adjustable_quantity": {"enabled": False, "minimum": 1},
                    },
                ],
                "schedule_at_period_end": {"conditions": [{"type": "shortening_interval"}]},
                "trial_update_behavior": "continue_trial",
            },
        },
    }


def test_undeclared_fields_are_sent_as_unset_or_stripes_default():
    declared = fields.declared_fields(portal_spec(parse_settings("dev", minimal_config())))
    params = fields.update_params(declared)
    assert params["name"] == ""
    assert params["features"]["subscription_pause"] == {"enabled": False}
    update = params["features"]["subscription_update"]
    assert update["schedule_at_period_end"] == {"conditions": ""}
    assert update["products"] == ""
    assert (update["billing_cycle_anchor"], update["trial_update_behavior"]) == (
        "unchanged",
        "end_trial",
    )


def test_the_params_of_one_field_touch_that_field_only():
    assert fields.update_params(declared_everything(), [PAUSE]) == {
        "features": {"subscription_pause": {"enabled": True}}
    }


def test_pulumi_stripe_is_given_the_spec_without_the_fields():
    spec = portal_spec(everything())
    rest = fields.without_fields(spec)
    assert "name" not in rest
    assert "subscription_pause" not in rest["features"]
    assert rest["features"]["payment_method_update"] == {"enabled": True}
    update = rest["features"]["subscription_update"]
    assert not {"billing_cycle_anchor", "schedule_at_period_end", "trial_update_behavior"} & set(
        update
    )
    assert all("adjustable_quantity" not in product for product in update["products"])
    assert spec == portal_spec(everything()), "the spec itself is left as it was"


def test_rows_are_named_like_the_configurations_other_rows_and_map_back_to_their_field():
    rows = fields.field_rows(declared_everything())
    assert rows["features.subscription_pause.enabled"] is True
    assert rows["features.subscription_update.products[prod_team].adjustable_quantity.maximum"] == 9
    assert rows["features.subscription_update.schedule_at_period_end.conditions[].type"] == [
        "shortening_interval"
    ]
    assert {fields.field_of(row) for row in rows} == set(fields.PATHS)
    assert fields.field_of("features.subscription_pause.duration.type") is None
    assert fields.field_of("features.subscription_update.products[prod_team].prices") is None


def test_the_module_runs_from_its_source_alone():
    # `infra.portal_fields` executes this file's source where `stackspec` is not importable.
    import inspect

    namespace: dict = {"__name__": "by_value"}
    exec(compile(inspect.getsource(fields), "portal_fields.py", "exec"), namespace)  # noqa: S102
    declared = copy.deepcopy(declared_everything())
    assert namespace["update_params"](declared) == fields.update_params(declared)
