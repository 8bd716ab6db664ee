"""The I/O of `verify`: where the URLs and keys come from, and the requests it sends.

- URLs and ids: the flags, else `pulumi stack output --json` (run once, in the project
  directory): `functionUrl`, `webhookUrl`, `portalConfigurationId`, `webhookEndpointId`,
  `stripeProductIds`.
- The function's Stripe key: `STRIPE_SECRET_KEY` (the variable the function itself reads), else
  the stack's secret `stripeSecretKey` (`pulumi config get stripeSecretKey`, which decrypts it).
- The key the portal configuration and the webhook endpoint are read with: `STRIPE_API_KEY`
  (the drift check's read-only key), else the stack's `stripeAdminKey`, else the function's key
  (as Pulumi itself: `stripeSecretKey` when there is no admin key).

Every request is one Stripe or the functions answer without changing anything: preflights,
requests without a token or a signature, and key probes on ids no object has. Keys are never
printed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from review import verify
from review.verify import Answer, Check

TIMEOUT_SECONDS = 30  # a cold start of a function with minInstances 0 takes seconds
PULUMI_TIMEOUT_SECONDS = 120
STRIPE_API = "https://api.stripe.com"


class PulumiError(RuntimeError):
    """A `pulumi` command failed: the message is one line."""


def ask(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    session: requests.Session | None = None,
) -> Answer:
    """Send one request; the answer, or the network error, as an `Answer`."""
    try:
        response = (session or requests).request(  # type: ignore[attr-defined]
            method, url, headers=dict(headers or {}), data=data, timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )  # fmt: skip
    except requests.RequestException as error:
        return Answer(error=type(error).__name__ + ": " + _one_line(str(error)))
    headers_seen = {name.lower(): value for name, value in response.headers.items()}
    return Answer(status=response.status_code, headers=headers_seen, body=response.content)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def function_checks(function_url: str, origins: tuple[str, ...]) -> list[Check]:
    """Preflights from each allowed origin and a foreign one; POST and GET without a token."""
    checks = []
    for origin in (*origins, verify.FOREIGN_ORIGIN):
        answer = ask(
            "OPTIONS",
            function_url,
            {
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        if origin == verify.FOREIGN_ORIGIN:
            checks.append(verify.foreign_preflight(answer))
        else:
            checks.append(verify.preflight(origin, answer))
    post = ask("POST", function_url, {"Content-Type": "application/json"}, b"{}")
    checks.append(verify.unauthenticated("POST", post))
    checks.append(verify.unauthenticated("GET", ask("GET", function_url)))
    return checks


def webhook_check(webhook_url: str) -> Check:
    """An unsigned event, as anyone on the internet could send it."""
    body = b'{"id": "evt_reviewVerifyUnsigned", "object": "event"}'
    return verify.unsigned_webhook(
        ask("POST", webhook_url, {"Content-Type": "application/json"}, body)
    )


def key_checks(
    key: str, api_base: str | None, return_url: str, configuration_id: str | None = None
) -> list[Check]:
    """The function key's kind, then each probe (the refusals only for a restricted key: a
    full key can do everything, which the kind check reports once); the portal session is
    asked for with the stack's configuration, as the function asks."""
    checks = [verify.key_kind(key)]
    base = (api_base or STRIPE_API).rstrip("/")
    with requests.Session() as session:
        session.trust_env = False  # no ~/.netrc: the key given is the key used
        for probe in verify.probes(return_url, configuration_id):
            if not probe.needed and not key.startswith("rk_"):
                continue
            headers = {"Authorization": f"Bearer {key}"}
            query = urlencode(probe.params)
            if probe.method == "GET":
                url, data = f"{base}{probe.path}" + (f"?{query}" if query else ""), None
            else:
                url, data = f"{base}{probe.path}", query.encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            checks.append(
                verify.probe_result(probe, ask(probe.method, url, headers, data, session))
            )
    return checks


@dataclass
class Pulumi:
    """The stack's outputs and secret config, read with the `pulumi` CLI once each."""

    cwd: Path
    stack: str
    environ: Mapping[str, str]
    _outputs: dict[str, Any] | None = None
    _outputs_error: str | None = None
    _config: dict[str, str | None] = field(default_factory=dict)

    def outputs(self) -> dict[str, Any]:
        """`pulumi stack output --json`; `PulumiError` when it fails."""
        if self._outputs is None and self._outputs_error is None:
            try:
                text = self._run("stack", "output", "--json")
                self._outputs = json.loads(text) if text.strip() else {}
            except (PulumiError, ValueError) as error:
                self._outputs_error = str(error)
        if self._outputs_error is not None:
            raise PulumiError(self._outputs_error)
        return self._outputs or {}

    def output(self, name: str) -> Any:
        """One stack output; `PulumiError` when the outputs cannot be read or lack it."""
        outputs = self.outputs()
        if outputs.get(name) in (None, ""):
            raise PulumiError(f"the stack {self.stack} has no output {name} (was `pulumi up` run?)")
        return outputs[name]

    def config(self, key: str) -> str | None:
        """A config value (a secret decrypted); None when the stack does not set it.
        `PulumiError` when pulumi cannot run or decrypt."""
        if key not in self._config:
            try:
                self._config[key] = self._run("config", "get", key).strip() or None
            except PulumiError as error:
                if "not found" not in str(error):
                    raise
                self._config[key] = None
        return self._config[key]

    def _run(self, *args: str) -> str:
        command = ["pulumi", *args, "--stack", self.stack, "--non-interactive"]
        shown = "pulumi " + " ".join(args)
        try:
            done = subprocess.run(
                command, cwd=self.cwd, env=dict(self.environ), capture_output=True, text=True,
                timeout=PULUMI_TIMEOUT_SECONDS, check=False,
            )  # fmt: skip
        except FileNotFoundError:
            raise PulumiError(f"`{shown}`: the pulumi CLI is not installed (not on PATH)") from None
        except subprocess.TimeoutExpired:
            raise PulumiError(f"`{shown}` did not finish in {PULUMI_TIMEOUT_SECONDS} s") from None
        if done.returncode != 0:
            reason = _one_line(done.stderr.removeprefix("error: ")) or f"exit {done.returncode}"
            raise PulumiError(f"`{shown}` failed: {reason}")
        return done.stdout
