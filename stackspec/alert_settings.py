"""The alerts part of stack settings: who is told when the functions fail, and at what count.

`read_alerts` reads `billing-portal:alerts`. Every stack gets the same three alert policies
(`stackspec.alert_spec`); the stack file chooses only:

- where notifications go: `email` (Pulumi creates an email notification channel for it) and/or
  `notificationChannels` (existing Cloud Monitoring channels — Slack, PagerDuty, SMS — by their
  full resource name). Neither: the policies still open incidents in Cloud Monitoring, but nobody
  is told; preview says so once (a warning, not an error: a sandbox stack may want exactly that);
- the window the answers are counted over (`windowMinutes`) and, per alert, how many answers in
  one window are tolerated before it fires (`webhookServerErrors`, `webhookUnsettled`,
  `sessionServerErrors`; 0 = the first one fires).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackspec.reader import Section, config_set

# Cloud Monitoring evaluates a threshold over an alignment period of at most a day; an hour is
# plenty for "the webhook keeps failing", and a short window keeps the alert prompt.
MAX_WINDOW_MINUTES = 60
DEFAULT_WINDOW_MINUTES = 10
DEFAULT_WEBHOOK_SERVER_ERRORS = 0  # Stripe retries, but every 5xx is a bug or an outage
DEFAULT_WEBHOOK_UNSETTLED = 2  # a busy subscription can race once; three times in a row is not
DEFAULT_SESSION_SERVER_ERRORS = 5  # a user retries a button; a burst is an outage
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}")
_CHANNEL = re.compile(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/notificationChannels/[0-9]+")


@dataclass(frozen=True)
class AlertSettings:
    """Where the stack's alerts notify, the counting window, and each alert's tolerance."""

    email: str | None = None
    notification_channels: tuple[str, ...] = ()
    window_minutes: int = DEFAULT_WINDOW_MINUTES
    webhook_server_errors: int = DEFAULT_WEBHOOK_SERVER_ERRORS
    webhook_unsettled: int = DEFAULT_WEBHOOK_UNSETTLED
    session_server_errors: int = DEFAULT_SESSION_SERVER_ERRORS

    @property
    def notifies(self) -> bool:
        """Whether any alert reaches a person (a channel is created or named)."""
        return bool(self.email or self.notification_channels)


def read_alerts(section: Section) -> AlertSettings:
    """Read `billing-portal:alerts`; every mistake names its key and the fix."""
    email = section.string("email")
    if email is not None and not _EMAIL.fullmatch(email):
        section.add(
            "email",
            f"{email!r} is not one email address",
            "give one address (an on-call alias), or list more channels under notificationChannels",
        )
        email = None
    channels = section.strings("notificationChannels")
    for index, channel in enumerate(channels):
        if not _CHANNEL.fullmatch(channel):
            section.problems.add(
                f"{section.key('notificationChannels')}[{index}]",
                f"{channel!r} is not a notification channel's resource name",
                "use projects/<project>/notificationChannels/<id> (`gcloud beta monitoring "
                "channels list --format='value(name)'`)",
            )
    channels = tuple(c for c in channels if _CHANNEL.fullmatch(c))
    window = section.integer(
        "windowMinutes", DEFAULT_WINDOW_MINUTES, minimum=1, maximum=MAX_WINDOW_MINUTES
    )
    webhook_errors = section.integer(
        "webhookServerErrors", DEFAULT_WEBHOOK_SERVER_ERRORS, minimum=0
    )
    unsettled = section.integer("webhookUnsettled", DEFAULT_WEBHOOK_UNSETTLED, minimum=0)
    session_errors = section.integer(
        "sessionServerErrors", DEFAULT_SESSION_SERVER_ERRORS, minimum=0
    )
    section.finish()
    return AlertSettings(
        email=email,
        notification_channels=channels,
        window_minutes=window,
        webhook_server_errors=webhook_errors,
        webhook_unsettled=unsettled,
        session_server_errors=session_errors,
    )


def no_channel_warning(stack: str) -> str:
    """What preview says, once, for a stack whose alerts notify nobody."""
    return (
        f"billing-portal:alerts: stack '{stack}' names no notification channel, so its alert "
        "policies (webhook 5xx, webhook state_unsettled, session 5xx) open incidents in Cloud "
        "Monitoring but tell nobody, and a webhook Stripe disables after days of failures goes "
        "unnoticed. Fix: "
        + config_set("alerts.email", "oncall@example.com", path=True)
        + " (or list existing channels under billing-portal:alerts.notificationChannels; "
        "docs/deploy.md, Alerts)"
    )
