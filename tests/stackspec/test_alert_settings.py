"""`billing-portal:alerts`: defaults, the stack files' values, and each mistake with its key."""

from __future__ import annotations

import pytest

from stackspec.alert_settings import AlertSettings, no_channel_warning
from stackspec.alert_spec import alert_specs
from stackspec.settings import parse_settings
from stackspec.stackfiles import read_settings
from tests.stackspec.stack_configs import REPO, minimal_config
from tests.stackspec.test_validation import the_problem


def test_no_alerts_block_means_the_defaults_and_no_channel():
    alerts = parse_settings("dev", minimal_config()).alerts
    assert alerts == AlertSettings()
    assert (alerts.window_minutes, alerts.webhook_server_errors) == (10, 0)
    assert (alerts.webhook_unsettled, alerts.session_server_errors) == (2, 5)
    assert not alerts.notifies


def test_the_stack_files_alerts():
    dev = read_settings(REPO / "Pulumi.dev.yaml").alerts
    prod = read_settings(REPO / "Pulumi.prod.yaml").alerts
    assert not dev.notifies
    assert prod.email == "billing-oncall@acme-example.com"
    assert prod.session_server_errors == 10


def test_an_email_and_existing_channels_are_read():
    channel = "projects/acme-billing-dev/notificationChannels/42"
    alerts = parse_settings(
        "dev",
        minimal_config(alerts={"email": "oncall@example.com", "notificationChannels": [channel]}),
    ).alerts
    assert (alerts.email, alerts.notification_channels) == ("oncall@example.com", (channel,))
    assert alerts.notifies


@pytest.mark.parametrize(
    ("alerts", "key", "words"),
    [
        ({"email": "oncall"}, "alerts.email", "is not one email address"),
        ({"email": "a@example.com,b@example.com"}, "alerts.email", "is not one email address"),
        (
            {"notificationChannels": ["slack-payments"]},
            "alerts.notificationChannels[0]",
            "is not a notification channel's resource name",
        ),
        ({"windowMinutes": 0}, "alerts.windowMinutes", "outside 1..60"),
        ({"windowMinutes": 600}, "alerts.windowMinutes", "outside 1..60"),
        ({"webhookServerErrors": -1}, "alerts.webhookServerErrors", "outside 0..∞"),
        ({"sessionServerErrors": "many"}, "alerts.sessionServerErrors", "must be a whole number"),
        ({"webhookUnsetled": 3}, "alerts.webhookUnsetled", "is not a known setting"),
    ],
)
def test_each_alerts_mistake_names_its_key(alerts, key, words):
    problem = the_problem(minimal_config(alerts=alerts))
    assert problem.key == f"billing-portal:{key}"
    assert words in problem.problem
    assert problem.fix


def test_the_no_channel_warning_names_the_stack_and_the_fix():
    warning = no_channel_warning("staging")
    assert "stack 'staging' names no notification channel" in warning
    assert "`pulumi config set --path alerts.email oncall@example.com`" in warning
    assert "\n" not in warning


def test_the_thresholds_and_window_reach_the_alert_specs():
    settings = parse_settings(
        "dev",
        minimal_config(
            alerts={
                "windowMinutes": 5,
                "webhookServerErrors": 1,
                "webhookUnsettled": 7,
                "sessionServerErrors": 9,
            }
        ),
    )
    specs = {spec.key: spec for spec in alert_specs(settings)}
    assert {key: spec.tolerated for key, spec in specs.items()} == {
        "webhook-server-errors": 1,
        "webhook-unsettled": 7,
        "session-server-errors": 9,
    }
    assert {spec.window_seconds for spec in specs.values()} == {300}
    assert specs["webhook-server-errors"].metric.startswith(settings.function.webhook_name + "/")
    assert specs["session-server-errors"].metric.startswith(settings.function.name + "/")
