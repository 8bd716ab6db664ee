"""How the benchmark calls a function: the frontend's request, over a kept-alive connection."""

from __future__ import annotations

import requests

BODY = b"{}"
TIMEOUT = 30.0


def headers(token: str) -> dict[str, str]:
    """What the frontend sends: the user's ID token and a JSON body."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def post(session: requests.Session | None, url: str, token: str) -> requests.Response:
    """One portal-session request (a new connection when `session` is None)."""
    sender = session or requests
    return sender.post(url, data=BODY, headers=headers(token), timeout=TIMEOUT)


def post_ok(session: requests.Session, url: str, token: str) -> None:
    """One request that must answer 200; anything else stops the benchmark with the answer."""
    response = post(session, url, token)
    if response.status_code != 200:
        raise BenchError(f"POST {url} answered {response.status_code}: {response.text[:300]}")


class BenchError(RuntimeError):
    """A measurement could not be taken (a server failed, a request was refused)."""
