"""The source's entry points, one row each: the target Cloud Functions names → its app's builder.

Cloud Functions deploys the one archive as two functions and tells each instance which one it is
(`FUNCTION_TARGET`, checked by `load_settings`). `build_instance` reads the settings, builds the
clients once and calls that target's builder in `ENTRY_POINTS`: the instance builds only the app
it serves. main.py exposes one handler per target, by name, as functions-framework finds it.
The Pulumi program deploys exactly these targets (tests/infra/test_entry_points.py). Another
entry point is another row here and a handler in main.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import flask

from . import logs
from .app import PortalApp
from .clients import Clients, build_clients
from .settings import SESSION_ENTRY_POINT, WEBHOOK_ENTRY_POINT, Settings, load_settings
from .stripe_api import preconnect, warm_sdk
from .tokens import EmulatorTokenVerifier, SigningKeys, TokenVerifier
from .warmup import BootWarmup
from .webhooks import WebhookApp

App = Callable[[flask.Request], flask.Response]
# A builder returns its entry point's app and the boot warm-up to start in the serving process
# (None: nothing to open ahead of the first request).
Builder = Callable[[Settings, Clients], tuple[App, BootWarmup | None]]


@dataclass(frozen=True)
class Instance:
    """What one instance serves: its entry point, that entry point's app, its boot warm-up."""

    target: str
    app: App
    warm_up: BootWarmup | None


def session_app(settings: Settings, clients: Clients) -> tuple[App, BootWarmup | None]:
    """The session function, and the warm-up of what its first request uses (see warmup.py):
    the signing keys, a Stripe connection, the Firestore channel."""
    keys = SigningKeys(settings.auth_jwks_url)
    verifier = TokenVerifier(keys, issuer=settings.auth_issuer, audience=settings.auth_audience)
    if settings.auth_emulator_host is not None:  # local only: see settings.auth_emulator_mode
        verifier = EmulatorTokenVerifier(
            issuer=settings.auth_issuer, audience=settings.auth_audience
        )
        logs.emit(emulator_mode_warning(settings))

    # --- boot warm-up (issue 16): each task's ready() tells a waiting request to go ahead ---
    def warm_keys(ready: Callable[[], None]) -> None:
        if settings.auth_emulator_host is None:  # emulator tokens need no keys (and no network)
            keys.prefetch()

    def warm_stripe(ready: Callable[[], None]) -> None:
        warm_sdk(clients.stripe_client)
        preconnect(clients.stripe_session, settings)

    boot = BootWarmup(
        {"keys": warm_keys, "stripe": warm_stripe, "firestore": clients.directory.warm_up}
    )
    # --- end of boot warm-up ---
    app = PortalApp(
        settings,
        verifier=verifier,
        directory=clients.directory,
        stripe=clients.stripe,
        billing=clients.billing,
        boot=boot,
    )
    return app, boot


def emulator_mode_warning(settings: Settings) -> dict[str, str]:
    """The start-up log line of Firebase Auth emulator mode: loud, since it trusts unsigned
    tokens."""
    return {
        "severity": "WARNING",
        "message": (
            f"FIREBASE_AUTH_EMULATOR_HOST={settings.auth_emulator_host}: Firebase Auth emulator "
            "mode. ID token signatures are NOT checked: this function accepts the emulator's "
            f"unsigned tokens for project {settings.auth_audience} (issuer "
            f"{settings.auth_issuer}) and no others. Local use only; never deploy it."
        ),
    }


def webhook_app(settings: Settings, clients: Clients) -> tuple[App, BootWarmup | None]:
    """The webhook function (it needs `STRIPE_WEBHOOK_SECRET`, checked by `load_settings`); no
    warm-up: Stripe's retries wait on a slow first delivery, not a person."""
    app = WebhookApp(
        settings,
        directory=clients.directory,
        billing=clients.billing,
        stripe_gateway=clients.stripe,
    )
    return app, None


ENTRY_POINTS: Mapping[str, Builder] = {
    SESSION_ENTRY_POINT: session_app,
    WEBHOOK_ENTRY_POINT: webhook_app,
}


def build_instance(env: Mapping[str, str] | None = None) -> Instance:
    """Build the instance's app from the environment: settings, clients and caches, once.

    No network work here (this runs in gunicorn's master, before it listens and forks): what the
    session function's first request uses is opened by its warm-up, started in the serving
    process (see warmup.py).
    """
    settings = load_settings(os.environ if env is None else env)
    clients = build_clients(
        settings, background=ThreadPoolExecutor(max_workers=8, thread_name_prefix="stripe-email")
    )
    app, warm_up = ENTRY_POINTS[settings.function_target](settings, clients)
    return Instance(settings.function_target, app, warm_up)
