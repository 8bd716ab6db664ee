"""One spec through all three: what `pulumi up` applies, what `plan` shows, what `drift` compares.

The `PortalFields` provider applies a stack's spec to a configuration at the Stripe stand-in (as
`pulumi up` does, after pulumi-stripe created it); then `python -m review drift` finds no
difference, `plan`'s rows for the fields are the live ones, and a Dashboard edit of one field is
the same single field for the provider's refresh+diff and for `drift`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.portal_fields import make_fields_provider, sent_hash
from review.drift import compare_live, expected_rows
from review.plan import configuration_rows
from stackspec import portal_fields as fields
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    DEV_PRODUCT_IDS,
    REPO,
    brand_as_declared,
    create_webhook_endpoint,
    run,
)

pytestmark = pytest.mark.integration


def spec_of(stack: str) -> dict[str, Any]:
    return substitute(portal_spec(read_settings(REPO / f"Pulumi.{stack}.yaml")), DEV_PRODUCT_IDS)


def up(standin, stack: str) -> tuple[str, dict[str, Any]]:
    """pulumi-stripe's create, then `PortalFields.create`; returns (id, the provider's outs)."""
    spec = spec_of(stack)
    configuration = standin.client().v1.billing_portal.configurations.create(
        params=fields.without_fields(spec)
    )
    inputs = {
        "configuration_id": configuration.id,
        "fields": fields.declared_fields(spec),
        "sent_hash": sent_hash(fields.without_fields(spec)),
        "api_key": standin.test_key,
        "api_base": standin.url,
    }
    outs = make_fields_provider().create(inputs).outs
    settings = read_settings(REPO / f"Pulumi.{stack}.yaml")
    brand_as_declared(standin, settings)
    create_webhook_endpoint(standin, settings)  # `pulumi up` declares it too
    return configuration.id, {**inputs, **outs}


def live(standin, configuration_id: str) -> dict[str, Any]:
    """The configuration as a reader gets it: products expanded (else Stripe leaves them out)."""
    return (
        standin.client()
        .v1.billing_portal.configurations.retrieve(
            configuration_id, params={"expand": list(fields.READ_EXPAND)}
        )
        .to_dict()
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_right_after_up_drift_finds_no_difference_and_plan_shows_the_live_fields(
    standin, env, stack
):
    configuration_id, _ = up(standin, stack)
    argv = ["-C", str(REPO), "drift", "--stack", stack, "--configuration-id", configuration_id]
    result = run(
        *argv, "--product-ids", json.dumps(DEV_PRODUCT_IDS), "--format", "json", environ=env
    )
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["findings"] == []
    # plan: the same rows for the seven fields as the live configuration has
    rows = configuration_rows(spec_of(stack), active=True)
    planned = {row: value for row, value in rows.items() if fields.field_of(row)}
    assert planned == fields.field_rows(fields.live_fields(live(standin, configuration_id)))


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (fields.NAME, {"name": "Renamed in the Dashboard"}),
        (fields.SUBSCRIPTION_PAUSE, {"features": {"subscription_pause": {"enabled": True}}}),
        (
            fields.TRIAL_UPDATE_BEHAVIOR,
            {"features": {"subscription_update": {"trial_update_behavior": "continue_trial"}}},
        ),
        (
            fields.SCHEDULE_AT_PERIOD_END,
            {"features": {"subscription_update": {"schedule_at_period_end": {"conditions": ""}}}},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_dashboard_edit_is_the_same_one_field_for_refresh_and_for_drift(standin, path, params):
    configuration_id, outs = up(standin, "prod")
    standin.client().v1.billing_portal.configurations.update(configuration_id, params=params)
    read = make_fields_provider().read(configuration_id, outs)
    assert fields.changed_fields(outs["fields"], read.outs["fields"]) == [path]
    assert make_fields_provider().diff(configuration_id, read.outs, outs).changes is True
    report = compare_live(
        "prod", expected_rows(spec_of("prod"), active=True), live(standin, configuration_id)
    )
    assert {fields.field_of(finding.setting) for finding in report.findings} == {path}
