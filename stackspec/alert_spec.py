"""The stack's health alerts as data: which log entries are counted, and when an alert fires.

Pure: `alert_specs(settings)` is what `infra/health.py` declares (a log-based counter metric and
an alert policy per row) and what the tests and docs/deploy.md describe. Three rows:

- `webhook-server-errors` — the webhook function answered 5xx. Stripe retries such a delivery
  for up to three days and then disables the endpoint, after which every user's plan goes stale
  without a sound; this is the early warning.
- `webhook-unsettled` — the webhook answered `503 state_unsettled` (the subscription kept
  changing while its state was written; Stripe redelivers). Rare and harmless once; repeated, a
  sign that the state of some users is not being written.
- `session-server-errors` — the session function (portal, billing state) answered 5xx: users
  cannot open the portal or see their plan.

What is counted, and why these filters. A gen2 function runs as a Cloud Run service of the same
name, so its logs have `resource.type="cloud_run_revision"` and
`resource.labels.service_name=<function name>`. Two logs matter:

- Cloud Run's request log (`run.googleapis.com%2Frequests`): one entry per request with
  `httpRequest.status`, written by the platform, so it also counts the 5xx the code never
  answered itself (a crash, a timeout, an instance that ran out of memory).
- the function's own stdout (`run.googleapis.com%2Fstdout`): `function/billing_portal/logs.py`
  writes one JSON line per request, which Cloud Logging turns into `jsonPayload`, with the error
  code under `jsonPayload.code` (`state_unsettled`). That line also carries an `httpRequest`
  (Cloud Logging lifts it into the entry), which is why the 5xx filters name the request log:
  without it every 5xx would be counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackspec.settings import Settings

REQUEST_LOG = "run.googleapis.com%2Frequests"
STDOUT_LOG = "run.googleapis.com%2Fstdout"
UNSETTLED_CODE = "state_unsettled"  # billing_state.StateUnsettled.code
METRIC_PREFIX = "logging.googleapis.com/user/"


@dataclass(frozen=True)
class AlertSpec:
    """One alert: the log entries its metric counts and when its policy fires."""

    key: str  # the Pulumi name suffix, and the stack setting's subject
    setting: str  # the `billing-portal:alerts.<setting>` holding its tolerance
    metric: str  # the log-based metric's name (unique per stack: it starts with the function)
    description: str
    log_filter: str
    tolerated: int  # fires when more answers than this arrive in one window
    window_seconds: int
    display_name: str
    severity: str  # Cloud Monitoring's policy severity: CRITICAL | ERROR | WARNING
    runbook: str  # markdown: what the notification tells the person on call

    @property
    def metric_type(self) -> str:
        return f"{METRIC_PREFIX}{self.metric}"


def service_filter(project: str, service: str, log: str) -> str:
    """The log entries of one log of one function (its Cloud Run service)."""
    return (
        'resource.type="cloud_run_revision" '
        f'AND resource.labels.service_name="{service}" '
        f'AND logName="projects/{project}/logs/{log}"'
    )


def server_error_filter(project: str, service: str) -> str:
    """Requests of `service` that Cloud Run answered with a 5xx (from its request log)."""
    return f"{service_filter(project, service, REQUEST_LOG)} AND httpRequest.status>=500"


def unsettled_filter(project: str, service: str) -> str:
    """The webhook's own log lines for deliveries it answered `state_unsettled`."""
    return f'{service_filter(project, service, STDOUT_LOG)} AND jsonPayload.code="{UNSETTLED_CODE}"'


def alert_specs(settings: Settings) -> tuple[AlertSpec, ...]:
    """The stack's three alerts, in the order docs/deploy.md lists them."""
    project, stack = settings.gcp_project, settings.stack
    session, webhook = settings.function.name, settings.function.webhook_name
    alerts = settings.alerts
    window = alerts.window_minutes * 60
    per = f"in {alerts.window_minutes} min"
    return (
        AlertSpec(
            key="webhook-server-errors",
            setting="webhookServerErrors",
            metric=f"{webhook}/server-errors",
            description=f"5xx answers of the Stripe webhook function {webhook} (stack {stack})",
            log_filter=server_error_filter(project, webhook),
            tolerated=alerts.webhook_server_errors,
            window_seconds=window,
            display_name=(
                f"billing-portal {stack}: webhook 5xx (> {alerts.webhook_server_errors} {per})"
            ),
            severity="CRITICAL",
            runbook=(
                f"The Stripe webhook `{webhook}` answers 5xx. Stripe retries for up to three days "
                "and then **disables the endpoint**: users' plans stop updating.\n\n"
                "1. Read the errors: Logs Explorer, "
                f'`resource.labels.service_name="{webhook}" severity>=ERROR`.\n'
                "2. Fix or roll back (docs/deploy.md, Rolling back), then check the endpoint: "
                f"`python -m review drift --stack {stack}` (`webhook.status` must be `enabled`).\n"
                "3. Replay what failed from the Dashboard (Developers → Webhooks → the endpoint "
                "→ failed events → Resend); the state is rebuilt from Stripe, so order does "
                "not matter.\n\ndocs/deploy.md, Alerts."
            ),
        ),
        AlertSpec(
            key="webhook-unsettled",
            setting="webhookUnsettled",
            metric=f"{webhook}/state-unsettled",
            description=f"state_unsettled answers of the Stripe webhook {webhook} (stack {stack})",
            log_filter=unsettled_filter(project, webhook),
            tolerated=alerts.webhook_unsettled,
            window_seconds=window,
            display_name=(
                f"billing-portal {stack}: webhook state_unsettled "
                f"(> {alerts.webhook_unsettled} {per})"
            ),
            severity="WARNING",
            runbook=(
                f"The webhook `{webhook}` keeps answering `503 state_unsettled`: a user's "
                "subscriptions changed while their state was written, again and again. Stripe "
                "redelivers, so a few are harmless; many mean some users' state is not being "
                "written.\n\n1. Find the users: Logs Explorer, "
                f'`resource.labels.service_name="{webhook}" jsonPayload.code="{UNSETTLED_CODE}"` '
                "(`jsonPayload.user` is a hash of the user id).\n"
                "2. Look for a script or integration updating those subscriptions in a loop.\n\n"
                "docs/deploy.md, Alerts."
            ),
        ),
        AlertSpec(
            key="session-server-errors",
            setting="sessionServerErrors",
            metric=f"{session}/server-errors",
            description=f"5xx answers of the portal session function {session} (stack {stack})",
            log_filter=server_error_filter(project, session),
            tolerated=alerts.session_server_errors,
            window_seconds=window,
            display_name=(
                f"billing-portal {stack}: session function 5xx "
                f"(> {alerts.session_server_errors} {per})"
            ),
            severity="ERROR",
            runbook=(
                f"The session function `{session}` answers 5xx: users cannot open the billing "
                "portal or see their plan.\n\n"
                f'1. Read the errors: Logs Explorer, `resource.labels.service_name="{session}" '
                "severity>=ERROR`; `jsonPayload.code` says which (`stripe_unavailable`: Stripe, "
                "`stripe_misconfigured`: the key, `internal`: a bug, with its stack trace in "
                "Error Reporting).\n"
                "2. Stripe's status page for an outage; else fix or roll back "
                "(docs/deploy.md, Rolling back).\n\ndocs/deploy.md, Alerts."
            ),
        ),
    )
