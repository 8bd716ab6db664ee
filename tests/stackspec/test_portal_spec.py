"""The portal spec: exactly the Stripe API parameters a stack declares, and their uses."""

from __future__ import annotations

import pytest

from infra.portal import configuration_args, update_command
from stackspec import schema as stripe_schema
from stackspec.declared import substitute
from stackspec.portal_spec import (
    UNMANAGED_PATHS,
    form_encode,
    portal_spec,
    spec_hash,
    unmanaged_fields,
    unmanaged_params,
)
from stackspec.schema import parameter_paths
from stackspec.settings import parse_settings
from stackspec.stackfiles import load_stack_file
from tests.stackspec.stack_configs import REPO, minimal_config, portal

EVERYTHING = {
    "name": "Everything portal",
    "loginPage": True,
    "businessProfile": {
        "headline": "Everything, declared",
        "termsOfServiceUrl": "https://example.com/terms",
        "privacyPolicyUrl": "https://example.com/privacy",
    },
    "features": {
        "customerUpdate": {"enabled": True, "allowedUpdates": ["email", "tax_id"]},
        "invoiceHistory": {"enabled": True},
        "paymentMethodUpdate": {"enabled": True, "paymentMethodConfiguration": "pmc_123"},
        "subscriptionCancel": {
            "enabled": True,
            "mode": "immediately",
            "prorationBehavior": "create_prorations",
            "cancellationReasons": {"enabled": True, "options": ["unused"]},
        },
        "subscriptionPause": {"enabled": True},
        "subscriptionUpdate": {
            "enabled": True,
            "defaultAllowedUpdates": ["price", "quantity"],
            "prorationBehavior": "always_invoice",
            "billingCycleAnchor": "now",
            "trialUpdateBehavior": "continue_trial",
            "scheduleAtPeriodEnd": ["shortening_interval"],
            "products": [
                {
                    "product": "team",
                    "prices": ["monthly"],
                    "adjustableQuantity": {"enabled": True, "minimum": 2, "maximum": 9},
                },
                {"product": "prod_existing", "prices": ["price_existing"]},
            ],
        },
    },
}
TEAM = {
    "name": "Team",
    "prices": {"monthly": {"currency": "usd", "unitAmount": 5, "interval": "month"}},
}


def everything():
    return parse_settings("dev", minimal_config(portal=EVERYTHING, products={"team": TEAM}))


def stack_spec(stack):
    name, config = load_stack_file(REPO / f"Pulumi.{stack}.yaml")
    return portal_spec(parse_settings(name, config, secrets_required=False))


@pytest.mark.parametrize("spec", ["everything", "dev", "prod"])
def test_every_parameter_the_spec_produces_is_in_stripes_schema(spec):
    spec = portal_spec(everything()) if spec == "everything" else stack_spec(spec)
    known = stripe_schema.request_paths(stripe_schema.CREATE_CONFIGURATION)
    unknown = sorted(set(parameter_paths(spec)) - known)
    assert unknown == [], f"not parameters of {stripe_schema.CREATE_CONFIGURATION}: {unknown}"


def test_every_unmanaged_path_is_a_real_parameter():
    assert set(UNMANAGED_PATHS) <= stripe_schema.request_paths()


def test_the_spec_is_the_stack_portal_in_stripe_terms():
    spec = portal_spec(everything())
    assert spec == {
        "name": "Everything portal",
        "business_profile": {
            "headline": "Everything, declared",
            "privacy_policy_url": "https://example.com/privacy",
            "terms_of_service_url": "https://example.com/terms",
        },
        "default_return_url": "https://app.example.com/account",
        "features": {
            "customer_update": {"enabled": True, "allowed_updates": ["email", "tax_id"]},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True, "payment_method_configuration": "pmc_123"},
            "subscription_cancel": {
                "enabled": True,
                "mode": "immediately",
                "proration_behavior": "create_prorations",
                "cancellation_reason": {"enabled": True, "options": ["unused"]},
            },
            "subscription_pause": {"enabled": True},
            "subscription_update": {
                "enabled": True,
                "default_allowed_updates": ["price", "quantity"],
                "proration_behavior": "always_invoice",
                "products": [
                    {
                        "product": "declared:team",
                        "prices": ["declared:team/monthly"],
                        "adjustable_quantity": {"enabled": True, "minimum": 2, "maximum": 9},
                    },
                    {"product": "prod_existing", "prices": ["price_existing"]},
                ],
                "billing_cycle_anchor": "now",
                "trial_update_behavior": "continue_trial",
                "schedule_at_period_end": {"conditions": [{"type": "shortening_interval"}]},
            },
        },
        "login_page": {"enabled": True},
        "metadata": {
            "managed-by": "pulumi/billing-portal",
            "stack": "dev",
            "spec-hash": spec_hash(spec),
        },
    }


def test_a_disabled_feature_is_declared_only_as_disabled():
    features = {"subscriptionCancel": {"enabled": False, "mode": "immediately"}}
    spec = portal_spec(parse_settings("dev", minimal_config(portal=portal(**features))))
    assert spec["features"]["subscription_cancel"] == {"enabled": False}
    assert spec["features"]["subscription_update"] == {"enabled": False}


def test_an_undeclared_pause_feature_is_left_out():
    assert (
        "subscription_pause" not in portal_spec(parse_settings("dev", minimal_config()))["features"]
    )


# ---------------------------------------------------------------------------- the spec hash


def test_the_spec_hash_is_stable_and_ignores_metadata():
    spec = portal_spec(everything())
    assert spec_hash(spec) == spec_hash(portal_spec(everything()))
    assert spec_hash({**spec, "metadata": {"other": "x"}}) == spec["metadata"]["spec-hash"]
    assert len(spec["metadata"]["spec-hash"]) == 16


def test_the_spec_hash_changes_with_any_declared_setting():
    other = dict(EVERYTHING, loginPage=False)
    changed = parse_settings("dev", minimal_config(portal=other, products={"team": TEAM}))
    assert (
        portal_spec(changed)["metadata"]["spec-hash"]
        != (portal_spec(everything())["metadata"]["spec-hash"])
    )


# ---------------------------------------------------------------------------- pulumi-stripe gaps


def test_the_fields_pulumi_stripe_cannot_set_are_listed():
    assert unmanaged_fields(portal_spec(everything())) == UNMANAGED_PATHS


def test_a_spec_within_pulumi_stripe_reach_lists_no_gaps():
    spec = portal_spec(parse_settings("dev", minimal_config()))
    assert unmanaged_fields(spec) == ()
    assert unmanaged_params(spec) == {}


def test_the_manual_update_carries_exactly_the_unmanaged_fields():
    params = unmanaged_params(portal_spec(everything()))
    update = params["features"]["subscription_update"]
    assert params["name"] == "Everything portal"
    assert params["features"]["subscription_pause"] == {"enabled": True}
    assert params["features"]["payment_method_update"] == {
        "enabled": True,
        "payment_method_configuration": "pmc_123",
    }
    assert sorted(update) == [
        "billing_cycle_anchor",
        "products",
        "schedule_at_period_end",
        "trial_update_behavior",
    ]
    assert update["products"][0]["adjustable_quantity"] == {
        "enabled": True,
        "minimum": 2,
        "maximum": 9,
    }


def test_the_update_command_form_encodes_the_params_and_reads_the_key_from_the_shell():
    command = update_command("bpc_123", {"name": "A b", "features": {"x": {"on": True}}})
    assert command.splitlines() == [
        "curl https://api.stripe.com/v1/billing_portal/configurations/bpc_123 \\",
        '  -u "$STRIPE_ADMIN_KEY:" \\',
        "  -d 'name=A b' \\",
        "  -d 'features[x][on]=true'",
    ]


def test_form_encoding_follows_stripes_bracket_notation():
    params = {"a": {"b": [{"c": 1}, {"c": False}], "d": ["x", "y"]}}
    assert form_encode(params) == [
        ("a[b][0][c]", "1"),
        ("a[b][1][c]", "false"),
        ("a[d][0]", "x"),
        ("a[d][1]", "y"),
    ]


def test_declared_references_are_replaced_by_ids():
    spec = portal_spec(everything())
    ids = {"declared:team": "prod_9", "declared:team/monthly": "price_9"}
    product = substitute(spec, ids)["features"]["subscription_update"]["products"][0]
    assert (product["product"], product["prices"]) == ("prod_9", ["price_9"])
    assert spec["features"]["subscription_update"]["products"][0]["product"] == "declared:team"


def test_pulumi_stripe_gets_the_managed_part_of_the_spec():
    args = configuration_args(portal_spec(everything()), active=False)
    assert args["active"] is False
    assert args["default_return_url"] == "https://app.example.com/account"
    update = args["features"].subscription_updates[0]
    assert update.default_allowed_updates == ["price", "quantity"]
    assert [p.product for p in update.products] == ["declared:team", "prod_existing"]
