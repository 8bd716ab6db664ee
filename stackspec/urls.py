"""URL and origin rules for stack settings: https only, localhost only outside production.

What a URL or an origin *is* (plain, https or loopback http, the origin's canonical form) is the
function's rule (`billing_portal.settings.parse_web_url`), so a URL infra accepts is one the
function accepts. On top, stack policy: localhost only outside production, and a token issuer or
key set on a local address is refused in every stack: a deployed function cannot reach it and
must never trust tokens a local issuer signs.
"""

from __future__ import annotations

from stackspec.function_contract import function_settings
from stackspec.reader import Section, config_set

EXAMPLE_URL = "https://app.example.com/account"


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - a deny list


def is_local_host(host: str | None) -> bool:
    """A local address for stack policy: the function's loopback hosts, and the other ones here."""
    host = (host or "").lower()
    return host in LOCAL_HOSTS or function_settings.is_local_host(host)


def origin_of(url: str) -> str:
    """The canonical origin of a URL the function accepts (lower case, no default port)."""
    return function_settings.web_origin(url) or url


def url_problem(value: str, production: bool, *, local_ok: bool = True) -> str | None:
    """Why a URL is not acceptable for a stack, or None. Localhost only outside production."""
    parsed = function_settings.parse_web_url(value)
    if parsed is None and "://" not in value:
        return f"{value!r} is not an absolute URL"
    if parsed is None:
        return (
            f"{value!r} is not a plain absolute http(s) URL (no user@, spaces, backslashes or "
            "non-ASCII characters; see docs/frontend.md, Return URLs)"
        )
    if is_local_host(parsed.host):
        if not local_ok:
            return (
                f"{value!r} points at a local address; a deployed function cannot reach it "
                "and must never trust it"
            )
        if production:
            return f"{value!r} points at {parsed.host}, allowed only in non-production stacks"
    if not function_settings.is_secure_web_url(value):
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
    """Why a value is not a browser origin for a stack, or None (the function's origin rule)."""
    if value == "*":
        return "'*' would let any web site call the function"
    parsed = function_settings.parse_web_url(value)
    if parsed is None or parsed.rest:
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
