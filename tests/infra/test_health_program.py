"""Webhook health as code, under Pulumi's mocks: the log-based metrics, the alert policies on
them, and the notification wiring, for each stack file and for the channel choices a stack has.
"""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from billing_portal.billing_state import StateUnsettled
from stackspec.alert_spec import REQUEST_LOG, STDOUT_LOG, UNSETTLED_CODE, alert_specs
from tests.function.unit import in_process
from tests.function.unit.test_webhook_handlers import World, fixture, signed, webhook_app
from tests.infra.infra_harness import ProgramRun, load_stack, run_program
from tests.infra.mocks import MOCK_CHANNEL_NUMBER
from tests.infra.test_first_up import api_service
from tests.infra.test_program import settings_of

METRIC = "gcp:logging/metric:Metric"
POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
KEYS = ("webhook-server-errors", "webhook-unsettled", "session-server-errors")
EXISTING = "projects/acme-billing-dev/notificationChannels/123456789"


def metric(run: ProgramRun, key: str):
    return run.one(METRIC, f"health-{key}")


def policy(run: ProgramRun, key: str):
    return run.one(POLICY, f"health-{key}-policy")


def condition(run: ProgramRun, key: str) -> dict:
    (only,) = policy(run, key).plain("conditions")
    return only["conditionThreshold"]


def no_channel_warnings(run: ProgramRun) -> list[str]:
    return [w for w in run.warnings if w.startswith("billing-portal:alerts:")]


@pytest.fixture(scope="module")
def with_channels(tmp_path_factory) -> dict[str, ProgramRun]:
    """dev with only existing channels, and with an email and an existing channel."""
    runs = {}
    for label, alerts in {
        "existing": {"notificationChannels": [EXISTING]},
        "both": {"email": "oncall@acme-example.com", "notificationChannels": [EXISTING]},
    }.items():
        config = {**load_stack("dev"), "billing-portal:alerts": alerts}
        runs[label] = run_program("dev", config, tmp_path_factory.mktemp(label))
    return runs


# ---------------------------------------------------------------------------- metrics


def test_each_alert_counts_its_log_entries_with_a_delta_counter(stack_run):
    settings = settings_of(stack_run)
    assert sorted(m.name for m in stack_run.all(METRIC)) == sorted(f"health-{k}" for k in KEYS)
    for spec in alert_specs(settings):
        declared = metric(stack_run, spec.key)
        assert declared.inputs["project"] == settings.gcp_project
        assert declared.inputs["name"] == spec.metric
        assert declared.inputs["filter"] == spec.log_filter
        assert declared.inputs["metricDescriptor"]["metricKind"] == "DELTA"
        assert declared.inputs["metricDescriptor"]["valueType"] == "INT64"
        assert declared.parent_name == "health"


def test_the_5xx_metrics_count_cloud_runs_request_log_of_each_function(stack_run):
    settings = settings_of(stack_run)
    project = settings.gcp_project
    for key, service in (
        ("webhook-server-errors", settings.function.webhook_name),
        ("session-server-errors", settings.function.name),
    ):
        assert metric(stack_run, key).inputs["filter"] == (
            'resource.type="cloud_run_revision" '
            f'AND resource.labels.service_name="{service}" '
            f'AND logName="projects/{project}/logs/{REQUEST_LOG}" '
            "AND httpRequest.status>=500"
        )


def test_the_unsettled_metric_counts_the_webhooks_own_state_unsettled_lines(stack_run):
    settings = settings_of(stack_run)
    assert metric(stack_run, "webhook-unsettled").inputs["filter"] == (
        'resource.type="cloud_run_revision" '
        f'AND resource.labels.service_name="{settings.function.webhook_name}" '
        f'AND logName="projects/{settings.gcp_project}/logs/{STDOUT_LOG}" '
        'AND jsonPayload.code="state_unsettled"'
    )


def test_the_metric_names_are_the_stacks_own(dev, prod):
    """Two stacks in one project must not share a metric: each name starts with its function."""
    for run in (dev, prod):
        settings = settings_of(run)
        for declared in run.all(METRIC):
            assert declared.inputs["name"].split("/")[0] in (
                settings.function.name,
                settings.function.webhook_name,
            )


def test_the_webhook_logs_a_state_unsettled_delivery_as_the_metric_counts_it(capsys):
    """What the filter matches is what the function writes: the webhook's one line for a delivery
    it answered `state_unsettled` has that code under `code` (Cloud Logging: jsonPayload.code)."""
    assert StateUnsettled.code == UNSETTLED_CODE
    world = World()
    kind = "customer.subscription.updated"

    def unsettled(delivery, event):
        raise StateUnsettled("The subscription kept changing.")

    client = in_process.client(webhook_app(world, {kind: unsettled}))
    answer = client.post("/", **signed(fixture(kind)))
    assert answer.status_code == 503
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "httpRequest" in x]
    assert line["code"] == UNSETTLED_CODE
    assert line["httpRequest"]["status"] == 503


# ---------------------------------------------------------------------------- policies


def test_each_policy_fires_when_its_metric_exceeds_the_stacks_tolerance_in_its_window(stack_run):
    settings = settings_of(stack_run)
    tolerances = {
        "webhook-server-errors": settings.alerts.webhook_server_errors,
        "webhook-unsettled": settings.alerts.webhook_unsettled,
        "session-server-errors": settings.alerts.session_server_errors,
    }
    window = f"{settings.alerts.window_minutes * 60}s"
    for key in KEYS:
        declared = policy(stack_run, key)
        threshold = condition(stack_run, key)
        assert threshold["filter"] == (
            f'metric.type="logging.googleapis.com/user/{metric(stack_run, key).inputs["name"]}" '
            'AND resource.type="cloud_run_revision"'
        )
        assert threshold["comparison"] == "COMPARISON_GT"
        assert threshold["thresholdValue"] == tolerances[key]
        assert threshold["duration"] == "0s"
        assert threshold["aggregations"] == [
            {
                "alignmentPeriod": window,
                "perSeriesAligner": "ALIGN_DELTA",
                "crossSeriesReducer": "REDUCE_SUM",
            }
        ]
        assert declared.inputs["combiner"] == "OR"
        assert declared.inputs["project"] == settings.gcp_project
        assert stack_run.depends_on(declared, metric(stack_run, key))


def test_the_stack_files_thresholds_reach_the_policies(prod):
    assert condition(prod, "session-server-errors")["thresholdValue"] == 10
    assert condition(prod, "webhook-server-errors")["thresholdValue"] == 0


def test_each_policy_carries_its_runbook_and_points_at_the_deploy_guide(stack_run):
    for spec in alert_specs(settings_of(stack_run)):
        documentation = policy(stack_run, spec.key).inputs["documentation"]
        assert documentation["mimeType"] == "text/markdown"
        assert documentation["content"] == spec.runbook
        assert "docs/deploy.md, Alerts" in documentation["content"]
    webhook_runbook = policy(stack_run, "webhook-server-errors").inputs["documentation"]
    assert "disables the endpoint" in webhook_runbook["content"]


def test_alert_resources_wait_for_the_logging_and_monitoring_apis(stack_run):
    for declared in stack_run.all(METRIC):
        assert stack_run.depends_on(declared, api_service(stack_run, "logging"))
    for declared in [*stack_run.all(POLICY), *stack_run.all(CHANNEL)]:
        assert stack_run.depends_on(declared, api_service(stack_run, "monitoring"))


# ---------------------------------------------------------------------------- notification


def test_prod_emails_its_on_call_address_from_one_channel_every_policy_notifies(prod):
    channel = prod.one(CHANNEL)
    assert channel.inputs["type"] == "email"
    assert channel.inputs["labels"] == {"email_address": "billing-oncall@acme-example.com"}
    assert channel.inputs["project"] == "acme-billing-prod"
    name = f"projects/acme-billing-prod/notificationChannels/{MOCK_CHANNEL_NUMBER}"
    for key in KEYS:
        assert policy(prod, key).plain("notificationChannels") == [name]
    assert prod.outputs["alertNotificationChannels"] == [name]
    assert no_channel_warnings(prod) == []


def test_a_stack_without_a_channel_gets_no_channel_resource_and_one_warning(dev):
    assert dev.all(CHANNEL) == []
    for key in KEYS:
        assert not rpc.unwrap_rpc_secret(policy(dev, key).inputs.get("notificationChannels"))
    (warning,) = no_channel_warnings(dev)
    assert "stack 'dev' names no notification channel" in warning
    assert "pulumi config set --path alerts.email" in warning
    assert dev.outputs["alertNotificationChannels"] == []


def test_existing_channels_are_used_as_named_without_a_new_one(with_channels):
    run = with_channels["existing"]
    assert run.all(CHANNEL) == []
    for key in KEYS:
        assert policy(run, key).plain("notificationChannels") == [EXISTING]
    assert no_channel_warnings(run) == []


def test_an_email_and_existing_channels_are_notified_together(with_channels):
    run = with_channels["both"]
    assert run.one(CHANNEL).inputs["labels"] == {"email_address": "oncall@acme-example.com"}
    created = f"projects/acme-billing-dev/notificationChannels/{MOCK_CHANNEL_NUMBER}"
    for key in KEYS:
        assert policy(run, key).plain("notificationChannels") == [created, EXISTING]
