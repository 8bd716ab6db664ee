"""Client for the stand-in's control API (``/_standin/…``), for tests, benchmarks and the local run.

Works the same against a stand-in in this process or in another one: it only speaks HTTP.
"""

from __future__ import annotations

from typing import Any

import requests
import stripe

from local.stripe.core.keys import LIVE_KEY, TEST_KEY


class StandinError(RuntimeError):
    """A control-API call failed."""


class StandinControl:
    """Handle on a running stand-in at ``url``."""

    test_key = TEST_KEY
    live_key = LIVE_KEY

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.url}/_standin/{path}", timeout=10, **kwargs)
        if response.status_code != 200:
            raise StandinError(f"{method} /_standin/{path}: {response.status_code} {response.text}")
        return response.json()

    def client(self, api_key: str | None = None, **options: Any) -> stripe.StripeClient:
        """A real ``stripe.StripeClient`` pointed at the stand-in (test key by default); file
        uploads, which the SDK sends to a separate address, go to the stand-in too."""
        return stripe.StripeClient(
            api_key or self.test_key,
            base_addresses={"api": self.url, "files": self.url},
            **options,
        )

    def health(self) -> dict[str, Any]:
        """``{"ok": true, "url": …}`` when the stand-in answers."""
        return self._call("GET", "health")

    def reset(self) -> None:
        """Forget all objects, idempotency keys, log entries, faults and latency."""
        self._call("POST", "reset")

    def requests(
        self, path_prefix: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Logged API requests, oldest first.

        Each entry: ``request_id, time, method, path, params`` (decoded form or query),
        ``idempotency_key, livemode, restricted_key, stripe_version, status`` (None when
        dropped), ``idempotent_replayed, fault`` (the fault applied, or None), ``duration_ms``.
        """
        query = {k: v for k, v in {"path_prefix": path_prefix, "method": method}.items() if v}
        return self._call("GET", "requests", params=query)["requests"]

    def inject_fault(
        self,
        *,
        status: int | None = None,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
        error_type: str | None = None,
        code: str | None = None,
        message: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        delay_ms: int = 0,
        drop: bool = False,
        when: str = "before",
    ) -> dict[str, Any]:
        """Make the next ``count`` matching API requests fail; returns the fault as stored.

        ``status`` answers with a Stripe error body (``error_type``/``code``/``message``/``param``
        override the defaults; ``body`` sends raw text instead); ``drop`` closes the connection
        without a response; ``delay_ms`` waits first (alone, it only slows the request down).
        ``when="after"`` lets the request take effect and then fails its response.
        """
        spec: dict[str, Any] = {
            "count": count,
            "status": status,
            "method": method,
            "path_prefix": path_prefix,
            "error_type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "headers": headers or {},
            "body": body,
            "delay_ms": delay_ms,
            "drop": drop,
            "when": when,
        }
        return self._call("POST", "faults", json=spec)["fault"]

    def pending_faults(self) -> list[dict[str, Any]]:
        """Faults not yet used up."""
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        """Drop pending faults and the added latency."""
        self._call("DELETE", "faults")

    def accept_keys(self, keys: list[str] | None) -> None:
        """Accept only these API keys from now on; ``None`` accepts any key of plausible form.

        Not undone by ``reset()``. The stand-in keeps only digests of the keys.
        """
        self._call("POST", "keys", json={"accept": keys})

    def restrict_key(self, key: str, permissions: dict[str, str]) -> None:
        """Give a restricted key (`rk_…`) only these permissions, `{resource: "read"|"write"}`
        by the URL's first segment after /v1/ (`customers`, `billing_portal`, …); anything
        else it asks for gets Stripe's 403. Not undone by ``reset()``."""
        self._call("POST", "keys/restricted", json={"key": key, "permissions": permissions})

    def set_latency(self, ms: int) -> None:
        """Add ``ms`` milliseconds to every API request (0 to stop)."""
        self._call("POST", "latency", json={"ms": ms})

    def set_rate_limit(self, per_second: int | None) -> None:
        """Answer 429 (Stripe's `rate_limit`) over `per_second` requests a second; None: off."""
        self._call("POST", "rate_limit", json={"per_second": per_second})

    def account(self) -> dict[str, Any]:
        """The account object ``GET /v1/account`` returns."""
        return self._call("GET", "account")

    def set_account(self, **changes: Any) -> dict[str, Any]:
        """Deep-merge changes into the account, e.g. ``settings={"branding": {...}}``."""
        return self._call("POST", "account", json=changes)

    def set_branding(self, **branding: Any) -> dict[str, Any]:
        """Set ``settings.branding`` fields: icon, logo, primary_color, secondary_color."""
        return self.set_account(settings={"branding": branding})

    def create_connected_account(
        self, account_id: str | None = None, mode: str = "test"
    ) -> dict[str, Any]:
        """A connected account of this (platform) account, as Connect onboarding leaves it."""
        payload = {"mode": mode, **({"id": account_id} if account_id else {})}
        return self._call("POST", "connected_accounts", json=payload)

    def connected_accounts(self, mode: str = "test") -> list[dict[str, Any]]:
        """Connected accounts of a mode, oldest first."""
        return self._call("GET", "connected_accounts", params={"mode": mode})["data"]

    def products(self, mode: str = "test") -> list[dict[str, Any]]:
        """Products of a mode, oldest first."""
        return self._call("GET", "products", params={"mode": mode})["data"]

    def prices(self, mode: str = "test") -> list[dict[str, Any]]:
        """Prices of a mode, oldest first."""
        return self._call("GET", "prices", params={"mode": mode})["data"]

    def subscriptions(self, mode: str = "test") -> list[dict[str, Any]]:
        """Subscriptions of a mode, oldest first (canceled ones included)."""
        return self._call("GET", "subscriptions", params={"mode": mode})["data"]

    def customers(self, mode: str = "test", include_deleted: bool = False) -> list[dict[str, Any]]:
        """Customers of a mode, oldest first; deleted ones (last state, ``deleted: true``) last."""
        params = {"mode": mode, "include_deleted": "true" if include_deleted else "false"}
        return self._call("GET", "customers", params=params)["data"]

    def sessions(self, mode: str = "test") -> list[dict[str, Any]]:
        """Portal sessions of a mode, oldest first."""
        return self._call("GET", "sessions", params={"mode": mode})["data"]

    def checkout_sessions(self, mode: str = "test") -> list[dict[str, Any]]:
        """Checkout Sessions of a mode, oldest first."""
        return self._call("GET", "checkout_sessions", params={"mode": mode})["data"]

    def complete_checkout_session(self, session_id: str) -> str:
        """Press the Checkout page's ``#checkout-complete``: the subscription starts, the session
        completes; returns where the page redirects (its success URL, the session id in it)."""
        return self._press(session_id, "complete")

    def cancel_checkout_session(self, session_id: str) -> str:
        """Press the Checkout page's ``#checkout-cancel``; returns its cancel URL."""
        return self._press(session_id, "cancel")

    def _press(self, session_id: str, action: str) -> str:
        url = f"{self.url}/c/pay/{session_id}/{action}"
        response = self._http.post(url, timeout=10, allow_redirects=False)
        if response.status_code != 303:
            raise StandinError(f"POST /c/pay/…/{action}: {response.status_code} {response.text}")
        return response.headers["Location"]

    def expire_checkout_session(self, session_id: str, api_key: str | None = None) -> Any:
        """Expire an open Checkout Session through Stripe's own endpoint
        (``POST /v1/checkout/sessions/{id}/expire``); returns the session."""
        return self.client(api_key).v1.checkout.sessions.expire(session_id)

    def configurations(self, mode: str = "test") -> list[dict[str, Any]]:
        """Portal configurations of a mode, the default one first."""
        return self._call("GET", "configurations", params={"mode": mode})["data"]

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        """Delete a customer as someone in the Dashboard would (either mode, no key)."""
        return self._call("DELETE", f"customers/{customer_id}")

    def events(self, mode: str = "test") -> list[dict[str, Any]]:
        """Events of a mode, oldest first."""
        return self._call("GET", "events", params={"mode": mode})["data"]

    def webhook_endpoints(self, mode: str = "test") -> list[dict[str, Any]]:
        """Webhook endpoints of a mode, oldest first (with their secrets)."""
        return self._call("GET", "webhook_endpoints", params={"mode": mode})["data"]

    def forward_webhooks(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        mode: str = "test",
        max_attempts: int | None = None,
        retry_delay_ms: int | None = None,
    ) -> dict[str, Any]:
        """``stripe listen --forward-to url``: send every event of ``mode`` (or only ``events``
        types) to ``url``, signed with ``secret`` (a new ``whsec_…`` if None). Returns
        ``{"url", "secret", "mode", "events"}``. Undone by ``reset()``."""
        spec: dict[str, Any] = {"url": url, "mode": mode}
        for name, value in (
            ("secret", secret),
            ("events", events),
            ("max_attempts", max_attempts),
            ("retry_delay_ms", retry_delay_ms),
        ):
            if value is not None:
                spec[name] = value
        return self._call("POST", "webhooks/forward", json=spec)

    def stop_forwarding(self) -> None:
        """Stop forwarding events."""
        self._call("DELETE", "webhooks/forward")

    def hold_webhooks(self, hold: bool = True) -> int:
        """Hold deliveries from now on (``True``), or release the held ones in order (returns
        how many)."""
        return self._call("POST", "webhooks/hold", json={"hold": hold})["released"]

    def held_webhooks(self) -> list[dict[str, Any]]:
        """Held deliveries, oldest first: ``{"event", "type", "via"}``."""
        return self._call("GET", "webhooks/held")["held"]

    def discard_held_webhooks(self) -> int:
        """Drop the held deliveries; returns how many."""
        return self._call("DELETE", "webhooks/held")["discarded"]

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every automatic delivery attempt, oldest first: ``event, type, url, via, attempt,
        status`` (None when no answer), ``error``, ``body`` (the answer's first 500 chars)."""
        return self._call("GET", "webhooks/deliveries")["deliveries"]

    def wait_webhooks(self, timeout: float = 10) -> bool:
        """Wait until no delivery is queued or in flight (retries included); False on timeout."""
        return self._call("POST", "webhooks/wait", json={"timeout": timeout})["idle"]

    def deliver_events(
        self, event_ids: list[str], *, parallel: bool = False, timestamp: int | None = None
    ) -> list[dict[str, Any]]:
        """Send these events to the forward target now, once each, in this order (repeats
        allowed), or all at once (``parallel``); the answers in the same order."""
        spec: dict[str, Any] = {"events": event_ids, "parallel": parallel}
        if timestamp is not None:
            spec["timestamp"] = timestamp
        return self._call("POST", "webhooks/deliver", json=spec)["results"]

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()
