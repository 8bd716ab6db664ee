"""`drift` checks the stack's webhook endpoint too, against the Stripe stand-in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from stackspec.webhook_spec import WEBHOOK_EVENTS, webhook_url
from tests.review.review_support import (
    DEV_PRODUCT_IDS,
    REPO,
    brand_as_declared,
    create_webhook_endpoint,
    run,
    table_row,
)

pytestmark = pytest.mark.integration

DEV = read_settings(REPO / "Pulumi.dev.yaml")
PROD = read_settings(REPO / "Pulumi.prod.yaml")


@pytest.fixture
def deployed(standin) -> None:
    """dev's configuration and branding as declared; no webhook endpoint yet."""
    brand_as_declared(standin, DEV)
    spec = substitute(portal_spec(DEV), DEV_PRODUCT_IDS)
    standin.client().v1.billing_portal.configurations.create(params=spec)


def drift(env: dict[str, str], *options: str) -> Any:
    argv = ["-C", str(REPO), "drift", "--stack", "dev", "--product-ids"]
    return run(*argv, json.dumps(DEV_PRODUCT_IDS), *options, environ=env)


def webhook_of(result) -> dict:
    return json.loads(result.out)["webhook"]


def drifted(result) -> list[str]:
    return sorted(c["setting"] for c in webhook_of(result)["checks"] if not c["matches"])


def test_an_endpoint_as_declared_is_no_drift(standin, env, deployed):
    endpoint = create_webhook_endpoint(standin, DEV)
    result = drift(env, "--format", "json")
    assert result.code == 0, result.out + result.err
    report = webhook_of(result)
    assert (report["endpoint_id"], report["drifted"]) == (endpoint["id"], False)
    assert sorted(c["setting"] for c in report["checks"]) == [
        "webhook.api_version",
        "webhook.enabled_events",
        "webhook.status",
        "webhook.url",
    ]
    assert "whsec_" not in result.out  # the secret is never read, let alone shown


def test_the_markdown_report_has_a_webhook_section(standin, env, deployed):
    endpoint = create_webhook_endpoint(standin, DEV)
    result = drift(env)
    assert result.code == 0, result.out + result.err
    assert "#### Webhook endpoint: all 4 declared fields match" in result.out
    assert f"Live endpoint `{endpoint['id']}`." in result.out
    assert table_row(result.out, "webhook.url")[1:] == [
        f"`{webhook_url(DEV)}`",
        f"`{webhook_url(DEV)}`",
        "✓",
    ]


def test_a_changed_url_is_drift(standin, env, deployed):
    endpoint = create_webhook_endpoint(standin, DEV)
    standin.client().v1.webhook_endpoints.update(
        endpoint["id"], params={"url": "https://elsewhere.example.com/hook"}
    )
    result = drift(env, "--format", "json")
    assert result.code == 1
    assert drifted(result) == ["webhook.url"]
    check = next(c for c in webhook_of(result)["checks"] if c["setting"] == "webhook.url")
    assert (check["declared"], check["live"]) == (
        webhook_url(DEV),
        "https://elsewhere.example.com/hook",
    )
    assert check["fix"].startswith("`pulumi up --refresh`")


def test_a_disabled_endpoint_is_drift_with_how_to_enable_it(standin, env, deployed):
    endpoint = create_webhook_endpoint(standin, DEV)
    standin.client().v1.webhook_endpoints.update(endpoint["id"], params={"disabled": True})
    result = drift(env)
    assert result.code == 1
    assert "#### Webhook endpoint: 1 field of 4 differ" in result.out
    assert table_row(result.out, "webhook.status")[1:] == ["`enabled`", "`disabled`", "✗"]
    assert f"webhook_endpoints/{endpoint['id']}" in result.out
    assert "-d disabled=false" in result.out


def test_a_missing_event_is_drift_naming_it(standin, env, deployed):
    events = [event for event in WEBHOOK_EVENTS if event != "customer.deleted"]
    create_webhook_endpoint(standin, DEV, enabled_events=events)
    result = drift(env, "--format", "json")
    assert result.code == 1
    assert drifted(result) == ["webhook.enabled_events"]
    check = webhook_of(result)["checks"][1]
    assert check["fix"].startswith("missing customer.deleted: `pulumi up --refresh`")


def test_events_in_another_order_are_no_drift(standin, env, deployed):
    create_webhook_endpoint(standin, DEV, enabled_events=list(reversed(WEBHOOK_EVENTS)))
    assert drift(env).code == 0


def test_no_endpoint_of_the_stack_is_drift(standin, env, deployed):
    create_webhook_endpoint(standin, PROD)  # another stack's endpoint is not this one's
    result = drift(env, "--format", "json")
    assert result.code == 1
    assert webhook_of(result)["endpoint_id"] is None
    assert drifted(result) == ["webhook.endpoint"]


def test_an_untagged_endpoint_at_the_stacks_url_is_found_by_its_url(standin, env, deployed):
    endpoint = create_webhook_endpoint(standin, DEV, metadata={})
    result = drift(env, "--format", "json")
    assert result.code == 0, result.out + result.err
    assert webhook_of(result)["endpoint_id"] == endpoint["id"]


def test_an_endpoint_id_picks_the_endpoint(standin, env, deployed):
    create_webhook_endpoint(standin, DEV)
    other = create_webhook_endpoint(standin, DEV, url="https://elsewhere.example.com/hook")
    result = drift(env, "--webhook-endpoint-id", other["id"], "--format", "json")
    assert result.code == 1
    assert webhook_of(result)["endpoint_id"] == other["id"]
    assert drifted(result) == ["webhook.url"]


def test_two_endpoints_claiming_the_stack_exit_2_with_one_line(standin, env, deployed):
    create_webhook_endpoint(standin, DEV)
    create_webhook_endpoint(standin, DEV)
    result = drift(env)
    assert result.code == 2
    assert result.err.startswith("error: 2 webhook endpoints are the stack's (we_")
    assert "--webhook-endpoint-id" in result.err and result.err.count("\n") == 1
