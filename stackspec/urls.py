"""URL and origin rules for stack settings: https only, localhost only outside production.

A token issuer or key set on a local address is refused in every stack: a deployed function
cannot reach it and must never trust tokens a local issuer signs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from stackspec.reader import Section, config_set

EXAMPLE_URL = "https://app.example.com/account"


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - a deny list


def is_local_host(host: str | None) -> bool:
    host = (host or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def url_problem(value: str, production: bool, *, local_ok: bool = True) -> str | None:
    """Why a URL is not acceptable for a stack, or None. Localhost only outside production."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.hostname or " " in value:
        return f"{value!r} is not an absolute URL"
    if is_local_host(parts.hostname):
        if not local_ok:
            return (
                f"{value!r} points at a local address; a deployed function cannot reach it "
                "and must never trust it"
            )
        if production:
            return f"{value!r} points at {parts.hostname}, allowed only in non-production stacks"
        if parts.scheme in ("http", "https"):
            return None
    if parts.scheme != "https":
        return f"{value!r} does not use https"
    return None


def read_url(
    section: Section, name: str, production: bool, *, required: bool = False, local_ok: bool = True
) -> str | None:
    fix = config_set(section.key(name), EXAMPLE_URL) if required else ""
    value = section.string(name, required=fix)
    if value is None:
        return None
    problem = url_problem(value, production, local_ok=local_ok)
    if problem:
        section.add(name, problem, f"use an https URL such as {EXAMPLE_URL}")
        return None
    return value


def origin_problem(value: str, production: bool) -> str | None:
    if value == "*":
        return "'*' would let any web site call the function"
    parts = urlsplit(value)
    if (
        not parts.scheme
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or value.endswith("/")
    ):
        return f"{value!r} is not an origin (scheme://host[:port], no path or trailing slash)"
    return url_problem(value, production)


def read_origins(top: Section, name: str, production: bool) -> tuple[str, ...]:
    origins = []
    for index, value in enumerate(top.strings(name)):
        problem = origin_problem(value, production)
        if problem:
            top.problems.add(
                f"{top.key(name)}[{index}]",
                problem,
                "list browser origins like https://app.example.com",
            )
        else:
            origins.append(origin_of(value))
    return tuple(dict.fromkeys(origins))
