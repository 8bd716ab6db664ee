"""The portal spec: exactly the Stripe API parameters a stack declares, and their uses."""

from __future__ import annotations

import pytest

from infra.portal import configuration_args
from stackspec import schema as stripe_schema
from stackspec.declared import substitute
from stackspec.portal_fields import PATHS
from stackspec.portal_spec import portal_spec, spec_hash
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


def test_every_path_pulumi_stripe_cannot_set_is_a_real_parameter():
    assert set(PATHS) <= stripe_schema.request_paths(stripe_schema.UPDATE_CONFIGURATION)


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
