"""Webhook health as code: a log-based metric and an alert policy per row of
`stackspec.alert_spec.alert_specs`, notifying the channels the stack names.

`ServiceHealth` declares, in the stack's project:

- for each alert, a `gcp.logging.Metric` counting the matching log entries (a DELTA INT64
  counter) and a `gcp.monitoring.AlertPolicy` that fires when the count over the stack's window
  exceeds the stack's tolerance; the policy's documentation is the runbook the notification
  carries;
- an email `gcp.monitoring.NotificationChannel` when the stack sets `alerts.email`; the channels
  in `alerts.notificationChannels` are used as they are. A stack with neither gets no channel and
  preview warns, once, that its alerts notify nobody.

Every resource waits for the APIs (Cloud Logging, Cloud Monitoring) that `PortalService` enables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from stackspec.alert_settings import no_channel_warning
from stackspec.alert_spec import AlertSpec, alert_specs
from stackspec.settings import Settings

AUTO_CLOSE = "1800s"  # an incident with no new failures for 30 min closes itself


class ServiceHealth(pulumi.ComponentResource):
    """The stack's alert policies on its functions' answers, and where they notify."""

    notification_channels: pulumi.Output[list[str]]
    policy_names: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        settings: Settings,
        apis: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("billing-portal:gcp:Health", name, None, opts)
        self._apis = list(apis)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._apis)
        channels: list[pulumi.Input[str]] = list(settings.alerts.notification_channels)
        if settings.alerts.email:
            channels.insert(0, self._email_channel(name, settings, child).name)
        if not settings.alerts.notifies:
            pulumi.log.warn(no_channel_warning(settings.stack), resource=self)
        policies = [
            self._policy(name, settings, spec, self._metric(name, settings, spec, child), channels)
            for spec in alert_specs(settings)
        ]
        self.notification_channels = pulumi.Output.all(*channels).apply(list)
        self.policy_names = pulumi.Output.all(*(p.name for p in policies)).apply(list)
        self.register_outputs(
            {"notificationChannels": self.notification_channels, "policies": self.policy_names}
        )

    def _email_channel(
        self, name: str, settings: Settings, opts: pulumi.ResourceOptions
    ) -> gcp.monitoring.NotificationChannel:
        return gcp.monitoring.NotificationChannel(
            f"{name}-email",
            project=settings.gcp_project,
            type="email",
            display_name=f"billing-portal {settings.stack} on-call",
            description=f"Alerts of the billing-portal stack {settings.stack}",
            labels={"email_address": settings.alerts.email or ""},
            user_labels=dict(settings.labels),
            opts=opts,
        )

    @staticmethod
    def _metric(
        name: str, settings: Settings, spec: AlertSpec, opts: pulumi.ResourceOptions
    ) -> gcp.logging.Metric:
        return gcp.logging.Metric(
            f"{name}-{spec.key}",
            project=settings.gcp_project,
            name=spec.metric,
            description=spec.description,
            filter=spec.log_filter,
            metric_descriptor=gcp.logging.MetricMetricDescriptorArgs(
                metric_kind="DELTA", value_type="INT64", unit="1", display_name=spec.description
            ),
            opts=opts,
        )

    def _policy(
        self,
        name: str,
        settings: Settings,
        spec: AlertSpec,
        metric: gcp.logging.Metric,
        channels: list[pulumi.Input[str]],
    ) -> gcp.monitoring.AlertPolicy:
        # The metric's name in the filter (an output) makes the policy wait for the metric:
        # Cloud Monitoring refuses a policy on a metric type it does not know yet.
        metric_filter = metric.name.apply(
            lambda metric_name: (
                f'metric.type="logging.googleapis.com/user/{metric_name}" '
                'AND resource.type="cloud_run_revision"'
            )
        )
        return gcp.monitoring.AlertPolicy(
            f"{name}-{spec.key}-policy",
            project=settings.gcp_project,
            display_name=spec.display_name,
            combiner="OR",
            severity=spec.severity,
            conditions=[
                gcp.monitoring.AlertPolicyConditionArgs(
                    display_name=spec.description,
                    condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                        filter=metric_filter,
                        comparison="COMPARISON_GT",
                        threshold_value=spec.tolerated,
                        duration="0s",  # the window is the alignment period below
                        aggregations=[
                            gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                                alignment_period=f"{spec.window_seconds}s",
                                per_series_aligner="ALIGN_DELTA",
                                cross_series_reducer="REDUCE_SUM",
                            )
                        ],
                        trigger=gcp.monitoring.AlertPolicyConditionConditionThresholdTriggerArgs(
                            count=1
                        ),
                    ),
                )
            ],
            notification_channels=channels,
            documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
                content=spec.runbook, mime_type="text/markdown", subject=spec.display_name
            ),
            alert_strategy=gcp.monitoring.AlertPolicyAlertStrategyArgs(auto_close=AUTO_CLOSE),
            user_labels=dict(settings.labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._apis, metric]),
        )
