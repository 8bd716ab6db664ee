"""The function as a real `functions-framework` server process, wired to the real local parts.

Every server started here is checked at teardown: no Stripe key and no minted ID token may
appear in anything it wrote (stdout and stderr), over the whole suite.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from billing_portal.settings import (
    CONTRACT,
    SESSION_ENTRY_POINT,
    WEBHOOK_ENTRY_POINT,
    build_environment,
)
from local.net import free_port
from local.process import REPO_ROOT, ServerProcess
from tests.support.stripe_objects import EVERY_FLOW_FEATURES

STRIPE_KEY = "sk_test_billingPortalSuite0123456789"
APP_ORIGIN = "https://app.example.test"
DEFAULT_RETURN_URL = f"{APP_ORIGIN}/settings/billing"
PROJECT = "billing-portal-tests"
WEBHOOK_SECRET = "whsec_billingPortalSuiteWebhook0123"
OUTPUT = REPO_ROOT / "test-output" / "function"
CONTRACT_KEYWORDS = frozenset(variable.keyword for variable in CONTRACT)


@dataclass
class FunctionServer:
    """A running function: its URL, its environment and its log."""

    url: str
    env: dict[str, str]
    process: ServerProcess
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def collection(self) -> str:
        return self.env["CUSTOMERS_COLLECTION"]

    def post(
        self,
        token: str | None = None,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> requests.Response:
        """POST to the function with an optional bearer token and JSON body."""
        sent = dict(headers or {})
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token}")
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        else:
            data = None
        return self.session.post(self.url, data=data, headers=sent, timeout=timeout)

    def log_lines(self) -> list[dict[str, Any]]:
        """The structured (JSON) lines the function has logged so far."""
        lines = []
        for raw in self.process.log_text().splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue
        return lines


def function_env(
    standin: Any, firestore: Any, issuer: Any, **overrides: str | None
) -> dict[str, str]:
    """The contract's environment for a test server, pointed at the local parts.

    Built with the function's own `build_environment`; `overrides` are by variable name, None
    unsets one. Names outside the contract (the process's own, like PATH) pass through.
    """
    values: dict[str, Any] = {
        "stripe_secret_key": STRIPE_KEY,
        "stripe_api_base": standin.url,
        "default_return_url": DEFAULT_RETURN_URL,
        "allowed_origins": [APP_ORIGIN, "http://localhost:5173"],
        "auth_issuer": issuer.issuer,
        "auth_audience": issuer.audience,
        "auth_jwks_url": issuer.jwks_url,
        "customers_collection": f"customers_{uuid.uuid4().hex[:10]}",
        "google_cloud_project": PROJECT,
        "firestore_emulator_host": firestore.host,
        "stripe_timeout_seconds": 2,
        "stripe_max_retries": 1,
        "firestore_timeout_seconds": 2,
    }
    process = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    for name, value in overrides.items():
        if name.lower() in CONTRACT_KEYWORDS:
            values[name.lower()] = value
        else:
            process[name] = value
    env = {**process, **build_environment(**values)}
    return {k: v for k, v in env.items() if v is not None}


def start_function(env: dict[str, str], name: str) -> FunctionServer:
    """Start `functions-framework` on a free port with `env`; wait until it listens.

    The entry point is `env["FUNCTION_TARGET"]` (the session function when unset), passed to
    the framework as Cloud Functions does: as `--target` and in the environment.
    """
    port = free_port()
    target = env.get("FUNCTION_TARGET") or SESSION_ENTRY_POINT
    argv = [
        str(Path(sys.executable).parent / "functions-framework"),
        f"--target={target}",
        "--source=function/main.py",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    process = ServerProcess(
        argv,
        name=f"function-{name}",
        log_path=OUTPUT / f"{name}-{port}.log",
        env=env,
        wait_port=("127.0.0.1", port),
        timeout=30,
    )
    process.start()
    return FunctionServer(url=f"http://127.0.0.1:{port}/", env=env, process=process)


def assert_no_secrets_logged(server: FunctionServer, tokens: list[str]) -> None:
    """Neither the Stripe key nor any ID token minted during the suite is in the server's log."""
    text = server.process.log_text()
    assert STRIPE_KEY not in text, f"the Stripe key leaked into {server.process.log_path}"
    assert WEBHOOK_SECRET not in text, f"the webhook secret leaked into {server.process.log_path}"
    leaked = [t for t in tokens if t and t in text]
    assert not leaked, f"{len(leaked)} ID token(s) leaked into {server.process.log_path}"
    signatures = [t.rsplit(".", 1)[-1] for t in tokens if t.count(".") == 2]
    assert not [s for s in signatures if len(s) > 16 and s in text], (
        f"a token signature leaked into {server.process.log_path}"
    )


def reset_standin(standin: Any) -> Any:
    """Reset the stand-in, then give its default configuration every deep link's feature.

    The function servers use the account's default configuration (no PORTAL_CONFIGURATION_ID),
    which survives resets; Stripe refuses a deep link whose feature is off, and the stand-in's
    default is the Dashboard's (no cancel, no plan switching).
    """
    standin.reset()
    client = standin.client()
    (default,) = [c for c in client.v1.billing_portal.configurations.list().data if c.is_default]
    client.v1.billing_portal.configurations.update(
        default.id, params={"features": EVERY_FLOW_FEATURES}
    )
    return standin


@pytest.fixture
def fresh_stripe_standin(stripe_standin: Any) -> Any:
    """The stand-in, reset, with a default configuration that enables every deep link."""
    return reset_standin(stripe_standin)


@pytest.fixture(scope="session", autouse=True)
def _every_flow_default_configuration(stripe_standin: Any) -> None:
    reset_standin(stripe_standin)


@pytest.fixture(scope="session")
def function_factory(
    stripe_standin, firestore_emulator, dev_issuer
) -> Iterator[Callable[..., FunctionServer]]:
    """Start extra function servers with changed settings; all are stopped and checked."""
    started: list[FunctionServer] = []

    def start(name: str = "custom", **overrides: str) -> FunctionServer:
        env = function_env(stripe_standin, firestore_emulator, dev_issuer, **overrides)
        server = start_function(env, name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.stop()
    for server in started:
        assert_no_secrets_logged(server, dev_issuer.minted_tokens())


@pytest.fixture(scope="session")
def function_server(function_factory) -> FunctionServer:
    """The shared warm instance most behaviour tests talk to."""
    return function_factory("shared")


@dataclass
class BillingPair:
    """A session function and a webhook function sharing one mapping collection."""

    session: FunctionServer
    webhook: FunctionServer

    @property
    def collection(self) -> str:
        return self.session.collection


@pytest.fixture(scope="session")
def billing_pair(function_factory) -> BillingPair:
    """The two entry points of one deployment, as a stack deploys them."""
    collection = f"customers_{uuid.uuid4().hex[:10]}"
    session = function_factory("billing-session", CUSTOMERS_COLLECTION=collection)
    webhook = function_factory(
        "webhook",
        CUSTOMERS_COLLECTION=collection,
        FUNCTION_TARGET=WEBHOOK_ENTRY_POINT,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    return BillingPair(session, webhook)


@pytest.fixture
def new_uid() -> str:
    """A user id no test has used."""
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def firestore_db(firestore_emulator) -> Any:
    """A Firestore client on the emulator the functions use, to seed and inspect mappings."""
    return firestore_emulator.client(PROJECT)


def customers_of(standin: Any, uid: str) -> list[dict[str, Any]]:
    """Every customer (deleted ones included) the stand-in holds for a user id."""
    return [
        c
        for c in standin.customers(include_deleted=True)
        if (c.get("metadata") or {}).get("app_user_id") == uid
    ]


def session_customers(standin: Any) -> list[str]:
    """The customer of every portal session created so far, oldest first."""
    return [
        r["params"]["customer"]
        for r in standin.requests(path_prefix="/v1/billing_portal/sessions", method="POST")
        if r["status"] == 200
    ]


@pytest.fixture
def standin(fresh_stripe_standin: Any, billing_pair: Any) -> Iterator[Any]:
    """A reset stand-in forwarding every event to the webhook function, deliveries held (tests
    release them in the order they choose)."""
    fresh_stripe_standin.forward_webhooks(billing_pair.webhook.url, secret=WEBHOOK_SECRET)
    fresh_stripe_standin.hold_webhooks(True)
    yield fresh_stripe_standin
    reset_standin(fresh_stripe_standin)
