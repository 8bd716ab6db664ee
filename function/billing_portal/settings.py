"""The function's deploy-time settings: read from the environment once, at cold start.

`load_settings` is pure (a mapping in, a frozen object out) so every rule is unit-tested; a
mistake raises `SettingsError` naming the variable and the fix, and the instance does not start.

This module owns the function's environment contract (`CONTRACT`): which variables exist, what
they mean, their defaults, and (through `load_settings`) what a valid value is. Everything that
starts the function — the Pulumi program, the local run, the benchmark, the tests — builds the
environment with `build_environment` and, in the Pulumi program's case, checks it with
`load_settings` at preview. It imports only the standard library (and `catalog`, which does
too), so infra can load it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import CatalogError, Quantity, encode_prices, parse_prices

FIREBASE_JWKS_URL = (
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
)
_KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[0-9A-Za-z_]{8,}$")
_CONFIGURATION_PATTERN = re.compile(r"^bpc_[0-9A-Za-z]+$")
_WEBHOOK_SECRET_PATTERN = re.compile(r"whsec_[0-9A-Za-z_]{8,}")  # with fullmatch
COUPON_ID = re.compile(r"[A-Za-z0-9_]{1,255}")  # with fullmatch; what a deep link may name
_COLLECTION_PATTERN = re.compile(r"^[^/]{1,1500}$")


# The two entry points of the one source archive (Cloud Functions' FUNCTION_TARGET names one).
SESSION_ENTRY_POINT = "create_portal_session"
WEBHOOK_ENTRY_POINT = "stripe_webhook"
# The Stripe event types the webhook acts on; the stack's webhook endpoint enables exactly these.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.deleted",
    "checkout.session.completed",
    "entitlements.active_entitlement_summary.updated",
)


@dataclass(frozen=True)
class Variable:
    """One environment variable of the contract: its name, meaning and default (as prose)."""

    name: str
    meaning: str
    default: str = "—"  # "—": required, or unset means "not used"; see `meaning`
    is_list: bool = False  # comma-separated; `build_environment` joins a list of values

    @property
    def keyword(self) -> str:
        """The `build_environment` keyword for this variable: its name in lower case."""
        return self.name.lower()


CONTRACT: tuple[Variable, ...] = (
    Variable(
        "STRIPE_SECRET_KEY",
        "Stripe secret (`sk_…`) or restricted (`rk_…`) key, test or live, at least 8 characters "
        "after the mode; deployed stacks mount it from Secret Manager",
        "required",
    ),
    Variable(
        "STRIPE_API_BASE", "a Stripe stand-in's base URL, for tests and the local run", "Stripe"
    ),
    Variable(
        "PORTAL_CONFIGURATION_ID",
        "`bpc_…` portal configuration of the stack",
        "Stripe's default configuration",
    ),
    Variable(
        "PORTAL_SUBSCRIPTION_PAUSE",
        "`true` when the stack's portal configuration lets customers pause subscriptions; only "
        "then is the `subscription_pause` deep link accepted (`true` or `false`)",
        "`false`",
    ),
    Variable(
        "PORTAL_PRICES",
        "what the stack's portal sells: every price of its plan-switching products, comma-"
        "separated, each with its product's quantities (`price_…`: 1 only; `price_…:1-25`: 1 to "
        "25; `price_…:2-`: 2 or more, at most 999999); built from the stack with Pulumi's price "
        "ids. A `subscription_update_confirm` deep link may name only these",
        "none (a deep link may change no price, nor a quantity beyond 1)",
    ),
    Variable(
        "DEFAULT_RETURN_URL",
        "where the portal returns when the caller names no `return_url`; a plain https URL "
        "(http for localhost)",
        "required",
    ),
    Variable(
        "ALLOWED_RETURN_ORIGINS",
        "comma-separated origins a caller's `return_url` may point to",
        "origin of `DEFAULT_RETURN_URL`",
        is_list=True,
    ),
    Variable(
        "ALLOWED_ORIGINS",
        "comma-separated browser origins allowed by CORS",
        "none (no browser origin allowed)",
        is_list=True,
    ),
    Variable("AUTH_ISSUER", "the ID tokens' `iss`", "Firebase Auth of `GOOGLE_CLOUD_PROJECT`"),
    Variable("AUTH_AUDIENCE", "the ID tokens' `aud`", "`GOOGLE_CLOUD_PROJECT`"),
    Variable(
        "AUTH_JWKS_URL",
        "the issuer's signing keys (a plain https URL)",
        "Firebase Auth's key set",
    ),
    Variable(
        "FIREBASE_AUTH_EMULATOR_HOST",
        "`host:port` of the Firebase Auth emulator, as the Firebase Admin SDK reads it: the "
        "function then accepts that emulator's unsigned ID tokens (`alg` `none`) and no other, "
        "with every claim still checked. For the local loop only: refused unless "
        "`FIRESTORE_EMULATOR_HOST` is set, the Stripe key is a test key, `AUTH_AUDIENCE` is a "
        "`demo-` project whose Firebase issuer is `AUTH_ISSUER`, and none of `K_SERVICE`, "
        "`K_REVISION`, `K_CONFIGURATION` (set on Cloud Run) is; no stack can set it (preview "
        "refuses it)",
        "none (every token's signature is checked)",
    ),
    Variable(
        "CUSTOMERS_COLLECTION",
        "Firestore collection of the user → customer mapping (no `/`)",
        "`stripe_customers`",
    ),
    Variable("FIRESTORE_DATABASE", "Firestore database id", "`(default)`"),
    Variable(
        "GOOGLE_CLOUD_PROJECT",
        "Google Cloud project (also read as `GCP_PROJECT`)",
        "none; then all three `AUTH_*` are required",
    ),
    Variable("FIRESTORE_EMULATOR_HOST", "`host:port` of a Firestore emulator", "real Firestore"),
    Variable("STRIPE_TIMEOUT_SECONDS", "Stripe read timeout, 0.1–60", "`10`"),
    Variable("STRIPE_MAX_RETRIES", "Stripe network retries, 0–5", "`2`"),
    Variable("FIRESTORE_TIMEOUT_SECONDS", "Firestore deadline, 0.1–60", "`5`"),
    Variable("HTTPS_PROXY", "proxy for outgoing HTTPS (also `https_proxy`)", "none"),
    Variable(
        "STRIPE_WEBHOOK_SECRET",
        "`whsec_…` signing secret of the stack's webhook endpoint; deployed stacks mount it from "
        "Secret Manager",
        "required by the `stripe_webhook` entry point; unused by the session function",
    ),
    Variable(
        "FUNCTION_TARGET",
        "the entry point this instance serves (`create_portal_session` or `stripe_webhook`); "
        "set by Cloud Functions from the deployed entry point, by the tests and the local run",
        "`create_portal_session`",
    ),
    Variable(
        "CHECKOUT_PRICES",
        "what `POST /checkout` sells: comma-separated prices in `PORTAL_PRICES`' form (a bound "
        "makes the quantity adjustable within it); built from the stack's checkout prices",
        "`PORTAL_PRICES`' value (both empty: every checkout is refused, `price_not_allowed`)",
    ),
    Variable(
        "CHECKOUT_TRIAL_DAYS",
        "free trial days of a subscription started by Checkout, 0–730 (0: no trial)",
        "`0`",
    ),
    Variable(
        "CHECKOUT_ALLOW_PROMOTION_CODES",
        "`true` to let customers enter promotion codes in Checkout (`true` or `false`)",
        "`false`",
    ),
    Variable(
        "CHECKOUT_AUTOMATIC_TAX",
        "`true` to have Stripe Tax compute tax in Checkout; the address Checkout collects is "
        "saved to the customer (`true` or `false`)",
        "`false`",
    ),
    Variable(
        "CHECKOUT_BILLING_ADDRESS",
        "Checkout's billing address collection: `auto` (only when needed) or `required`",
        "`auto`",
    ),
    Variable(
        "CHECKOUT_TERMS_CONSENT",
        "`true` to require accepting the terms of service in Checkout (the account's terms URL, "
        "set by the stack) (`true` or `false`)",
        "`false`",
    ),
    Variable(
        "RETENTION_COUPONS",
        "comma-separated coupon ids a `subscription_cancel` deep link may offer to keep the "
        "customer; the caller picks among these, never another coupon",
        "none (a deep link's coupon is refused)",
        is_list=True,
    ),
)
_BY_KEYWORD = {variable.keyword: variable for variable in CONTRACT}


def build_environment(**values: Any) -> dict[str, Any]:
    """The contract's environment from keyword values (`default_return_url=...`, ...).

    Keywords are the variable names in lower case; an unknown one is a `TypeError`, so a caller
    cannot invent a variable the function never reads. `None` leaves a variable unset (its
    default applies); lists are joined with commas; numbers become text; any other value (a
    string, or a value resolved later such as a Pulumi `Output`) is passed through as is.
    """
    unknown = sorted(set(values) - set(_BY_KEYWORD))
    if unknown:
        raise TypeError(f"not a function environment variable: {', '.join(unknown)}")
    env: dict[str, Any] = {}
    for keyword, value in values.items():
        variable = _BY_KEYWORD[keyword]
        if value is None:
            continue
        if variable.is_list and isinstance(value, Iterable) and not isinstance(value, str):
            value = ",".join(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value:g}" if isinstance(value, float) else str(value)
        env[variable.name] = value
    return env


def contract_table() -> str:
    """The contract as a Markdown table (docs/architecture.md holds a copy that a test compares)."""
    lines = ["| env var | meaning | default |", "|---|---|---|"]
    lines += [f"| `{v.name}` | {v.meaning} | {v.default} |" for v in CONTRACT]
    return "\n".join(lines) + "\n"


def is_stripe_secret_key(value: str) -> bool:
    """A Stripe secret or restricted key, test or live (publishable keys cannot open sessions)."""
    return bool(_KEY_PATTERN.fullmatch(value))


class SettingsError(ValueError):
    """A missing or malformed environment variable; the message names it and the fix.

    `variable` is the environment variable at fault, so that a deployment tool can point at the
    setting of its own that produced it.
    """

    def __init__(self, message: str, *, variable: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


BILLING_ADDRESS_COLLECTION = ("auto", "required")
MAX_TRIAL_DAYS = 730  # Stripe's limit for subscription_data.trial_period_days


@dataclass(frozen=True)
class CheckoutOptions:
    """The stack's Checkout settings: what every Checkout Session the function opens asks for."""

    trial_days: int = 0  # 0: no trial
    allow_promotion_codes: bool = False
    automatic_tax: bool = False
    billing_address: str = "auto"  # one of BILLING_ADDRESS_COLLECTION
    terms_consent: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the function needs to know about its deployment."""

    stripe_secret_key: str
    stripe_api_base: str | None
    portal_configuration_id: str | None
    default_return_url: str
    allowed_return_origins: frozenset[str]
    allowed_origins: frozenset[str]
    auth_issuer: str
    auth_audience: str
    auth_jwks_url: str
    customers_collection: str
    firestore_database: str
    google_cloud_project: str | None
    stripe_timeout_seconds: float
    stripe_max_retries: int
    firestore_timeout_seconds: float
    https_proxy: str | None = None
    retention_coupons: frozenset[str] = frozenset()
    stripe_webhook_secret: str | None = None
    subscription_pause: bool = False  # the configuration lets customers pause subscriptions
    # price id → quantities: what the portal's plan switching sells (`catalog.py`)
    portal_prices: Mapping[str, Quantity] = field(default_factory=dict)
    function_target: str = SESSION_ENTRY_POINT
    # Firebase Auth emulator mode (`auth_emulator_mode`): its host, None for signed tokens only
    auth_emulator_host: str | None = None
    # price id → quantities: what `POST /checkout` sells (`CHECKOUT_PRICES`, else the portal's)
    checkout_prices: Mapping[str, Quantity] = field(default_factory=dict)
    checkout: CheckoutOptions = field(default_factory=lambda: CheckoutOptions())

    @property
    def livemode(self) -> bool:
        """True when the Stripe key is a live-mode key."""
        return "_live_" in self.stripe_secret_key[:8]

    @property
    def mode(self) -> str:
        """`live` or `test`, the Stripe mode of the key."""
        return "live" if self.livemode else "test"

    def __repr__(self) -> str:  # never print the key, even in a debugger or a crash report
        return f"Settings(mode={self.mode!r}, project={self.google_cloud_project!r}, …)"


# A "plain" web URL: the one shape the function's parser and a browser's WHATWG parser read the
# same way. Printable ASCII only (no space, no control character, no backslash, no non-ASCII: a
# browser strips tab/newline, turns `\\` into `/` and re-encodes the rest, Python does not), and no
# userinfo: any `@` before the path is refused. See docs/frontend.md, "Return URLs".
_PLAIN_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9.-]{1,253})(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"(?P<rest>[/?#][\x21-\x5b\x5d-\x7e]*)?",
    re.IGNORECASE | re.ASCII,
)
_LABEL = re.compile(r"[a-z0-9-]{1,63}", re.ASCII)
_OCTET = re.compile(r"0|[1-9][0-9]{0,2}", re.ASCII)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WebUrl:
    """A plain http(s) URL, split: lower-case scheme and host, port (None when the default)."""

    scheme: str
    host: str
    port: int | None
    rest: str

    @property
    def origin(self) -> str:
        """`scheme://host[:port]`, as a browser writes the URL's origin."""
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")


def _plain_host(host: str) -> bool:
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return False  # empty labels: leading, trailing ("example.com.") or doubled dots
    if any(label[2:4] == "--" for label in labels):
        return False  # punycode (xn--) and other reserved labels: browsers re-map or refuse them
    if labels[-1][0].isdigit():
        # A browser reads a host ending in a number as IPv4 (127.1, 0x7f.1, 2130706433): only
        # the dotted-quad form means the same thing to both parsers.
        return _is_dotted_quad(host)
    return True


def parse_web_url(url: str) -> WebUrl | None:
    """`url` split if it is a plain `http(s)://host[:port][/?#…]` URL, else None.

    The rule is written out in docs/frontend.md, "Return URLs".
    """
    match = _PLAIN_URL.fullmatch(url)
    if match is None:
        return None
    scheme, host = match["scheme"].lower(), match["host"].lower()
    if not _plain_host(host):
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and port > 65535:
        return None
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return WebUrl(scheme, host, port, match["rest"] or "")


def web_origin(url: str) -> str | None:
    """The origin of a plain http(s) URL (see `parse_web_url`), or None."""
    parsed = parse_web_url(url)
    return parsed.origin if parsed else None


def is_local_host(host: str) -> bool:
    """True for loopback hosts, where browsers accept plain http as a secure context.

    `localhost`, any `*.localhost` name and 127.0.0.0/8 (written as a dotted quad).
    """
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    # Only a real dotted quad: `127.attacker.example` is a DNS name anyone can point anywhere.
    return _is_dotted_quad(host) and host.split(".")[0] == "127"


def _is_dotted_quad(host: str) -> bool:
    labels = host.split(".")
    return (
        len(labels) == 4
        and all(_OCTET.fullmatch(label) for label in labels)
        and all(int(label) <= 255 for label in labels)
    )


def is_secure_web_url(url: str) -> bool:
    """A plain URL that is https, or http on a loopback host."""
    parsed = parse_web_url(url)
    return parsed is not None and (parsed.scheme == "https" or is_local_host(parsed.host))


def _secure_url(name: str, value: str) -> str:
    parsed = parse_web_url(value)
    if parsed is None:
        raise SettingsError(
            f"{name}={value!r} is not a plain absolute http(s) URL; write "
            "https://host[:port]/path with no user@, spaces or backslashes.",
            variable=name,
        )
    if parsed.scheme != "https" and not is_local_host(parsed.host):
        raise SettingsError(
            f"{name}={value!r} must use https (http is allowed for localhost).", variable=name
        )
    return value


def _origins(name: str, raw: str) -> frozenset[str]:
    origins = set()
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        parsed = parse_web_url(item)
        if parsed is None or parsed.rest:
            raise SettingsError(
                f"{name} contains {item!r}, which is not an origin; write scheme://host[:port] "
                "with no path or trailing slash, e.g. https://app.example.com.",
                variable=name,
            )
        _secure_url(name, item)
        origins.add(parsed.origin)
    return frozenset(origins)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not a number; set e.g. {default:g}.", variable=name
        ) from None
    if not low <= value <= high:
        raise SettingsError(
            f"{name}={raw!r} is out of range; set a value in [{low:g}, {high:g}].", variable=name
        )
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Validate the environment into `Settings`, or raise `SettingsError` naming the variable."""

    def get(name: str) -> str:
        return env.get(name, "").strip()

    key = get("STRIPE_SECRET_KEY")
    if not key:
        raise SettingsError(
            "STRIPE_SECRET_KEY is not set; give the function a Stripe secret or restricted key "
            "(deployed stacks mount it from Secret Manager).",
            variable="STRIPE_SECRET_KEY",
        )
    if not is_stripe_secret_key(key):
        raise SettingsError(
            "STRIPE_SECRET_KEY is not a Stripe secret key (sk_test_…, sk_live_…) or restricted key "
            "(rk_test_…, rk_live_…) with at least 8 characters after the mode; publishable keys "
            "(pk_…) cannot create portal sessions.",
            variable="STRIPE_SECRET_KEY",
        )

    api_base = get("STRIPE_API_BASE") or None
    if api_base is not None:
        _secure_url("STRIPE_API_BASE", api_base)
        api_base = api_base.rstrip("/")

    configuration_id = get("PORTAL_CONFIGURATION_ID") or None
    if configuration_id is not None and not _CONFIGURATION_PATTERN.fullmatch(configuration_id):
        raise SettingsError(
            f"PORTAL_CONFIGURATION_ID={configuration_id!r} is not a portal configuration id "
            "(bpc_…); unset it to use the account's default configuration.",
            variable="PORTAL_CONFIGURATION_ID",
        )

    pause = _flag(
        env,
        "PORTAL_SUBSCRIPTION_PAUSE",
        "whether the portal configuration enables pausing subscriptions",
    )

    default_return_url = get("DEFAULT_RETURN_URL")
    if not default_return_url:
        raise SettingsError(
            "DEFAULT_RETURN_URL is not set; set the page the portal returns to, "
            "e.g. https://app.example.com/settings/billing.",
            variable="DEFAULT_RETURN_URL",
        )
    _secure_url("DEFAULT_RETURN_URL", default_return_url)

    return_origins = _origins("ALLOWED_RETURN_ORIGINS", get("ALLOWED_RETURN_ORIGINS"))
    if not return_origins:
        return_origins = frozenset({web_origin(default_return_url) or ""})

    project = get("GOOGLE_CLOUD_PROJECT") or get("GCP_PROJECT") or None
    issuer = get("AUTH_ISSUER") or (f"https://securetoken.google.com/{project}" if project else "")
    audience = get("AUTH_AUDIENCE") or (project or "")
    jwks_url = get("AUTH_JWKS_URL") or (FIREBASE_JWKS_URL if project else "")
    for name, value in (
        ("AUTH_ISSUER", issuer),
        ("AUTH_AUDIENCE", audience),
        ("AUTH_JWKS_URL", jwks_url),
    ):
        if not value:
            raise SettingsError(
                f"{name} is not set and there is no GOOGLE_CLOUD_PROJECT to derive the Firebase "
                "Auth default from; set GOOGLE_CLOUD_PROJECT, or all of AUTH_ISSUER, "
                "AUTH_AUDIENCE and AUTH_JWKS_URL for another OIDC issuer.",
                variable=name,
            )
    _secure_url("AUTH_JWKS_URL", jwks_url)

    collection = get("CUSTOMERS_COLLECTION") or "stripe_customers"
    if not _COLLECTION_PATTERN.fullmatch(collection) or collection in (".", ".."):
        raise SettingsError(
            f"CUSTOMERS_COLLECTION={collection!r} is not a top-level collection id; "
            "use a name without '/', e.g. stripe_customers.",
            variable="CUSTOMERS_COLLECTION",
        )

    emulator_host = auth_emulator_mode(env, key=key, issuer=issuer, audience=audience)

    target = _function_target(get("FUNCTION_TARGET"))
    webhook_secret = _webhook_secret(get("STRIPE_WEBHOOK_SECRET"))
    if target == WEBHOOK_ENTRY_POINT and webhook_secret is None:
        raise SettingsError(
            "STRIPE_WEBHOOK_SECRET is not set; the stripe_webhook entry point verifies every "
            "event with it (deployed stacks mount the webhook endpoint's secret from Secret "
            "Manager).",
            variable="STRIPE_WEBHOOK_SECRET",
        )

    portal_prices = _prices("PORTAL_PRICES", get("PORTAL_PRICES"))
    checkout_prices = _prices("CHECKOUT_PRICES", get("CHECKOUT_PRICES")) or portal_prices

    return Settings(
        stripe_secret_key=key,
        stripe_api_base=api_base,
        portal_configuration_id=configuration_id,
        default_return_url=default_return_url,
        allowed_return_origins=return_origins,
        allowed_origins=_origins("ALLOWED_ORIGINS", get("ALLOWED_ORIGINS")),
        auth_issuer=issuer,
        auth_audience=audience,
        auth_jwks_url=jwks_url,
        customers_collection=collection,
        firestore_database=get("FIRESTORE_DATABASE") or "(default)",
        google_cloud_project=project,
        stripe_timeout_seconds=_number(env, "STRIPE_TIMEOUT_SECONDS", 10.0, 0.1, 60.0),
        stripe_max_retries=int(_number(env, "STRIPE_MAX_RETRIES", 2, 0, 5)),
        firestore_timeout_seconds=_number(env, "FIRESTORE_TIMEOUT_SECONDS", 5.0, 0.1, 60.0),
        https_proxy=get("HTTPS_PROXY") or get("https_proxy") or None,
        retention_coupons=_coupons(get("RETENTION_COUPONS")),
        stripe_webhook_secret=webhook_secret,
        subscription_pause=pause,
        portal_prices=portal_prices,
        function_target=target,
        auth_emulator_host=emulator_host,
        checkout_prices=checkout_prices,
        checkout=_checkout_options(env),
    )


AUTH_EMULATOR_VARIABLE = "FIREBASE_AUTH_EMULATOR_HOST"
FIREBASE_ISSUER_PREFIX = "https://securetoken.google.com/"
# Firebase's own convention: a project id starting `demo-` is no real project, so nothing it
# names can be reached or deployed; the emulators treat it as offline-only.
DEMO_PROJECT_PREFIX = "demo-"
# Cloud Run (so Cloud Functions gen2) sets all three on every deployed instance; any one refuses
# emulator mode, so a wrapper or platform that drops one still fails closed. FUNCTION_TARGET is
# not one: the functions framework sets it locally too.
CLOUD_RUN_MARKERS = ("K_SERVICE", "K_REVISION", "K_CONFIGURATION")
_EMULATOR_HOST = re.compile(
    r"[A-Za-z0-9.-]{1,253}:[1-9][0-9]{0,4}|\[[0-9A-Fa-f:.]+\]:[1-9][0-9]{0,4}"
)


def auth_emulator_mode(
    env: Mapping[str, str], *, key: str, issuer: str, audience: str
) -> str | None:
    """The Firebase Auth emulator's `host:port` when the function may trust its unsigned tokens,
    None when `FIREBASE_AUTH_EMULATOR_HOST` is unset; `SettingsError` naming it otherwise. Pure.

    Every guard is one way this instance could be somewhere real: a real Firestore (no
    `FIRESTORE_EMULATOR_HOST`), a live Stripe key, a real Firebase project (an audience that is
    not a `demo-` project, or an issuer that is not that project's Firebase Auth), Cloud Run
    (`K_SERVICE`, `K_REVISION` or `K_CONFIGURATION`, set on every deployed instance of Cloud
    Functions gen2).
    """
    host = env.get(AUTH_EMULATOR_VARIABLE, "").strip()
    if not host:
        return None
    name = AUTH_EMULATOR_VARIABLE
    if not _EMULATOR_HOST.fullmatch(host):
        raise SettingsError(
            f"{name}={host!r} is not host:port (e.g. 127.0.0.1:9099); unset it unless the "
            "function runs beside the Firebase Auth emulator.",
            variable=name,
        )
    why_not = None
    if not env.get("FIRESTORE_EMULATOR_HOST", "").strip():
        why_not = "FIRESTORE_EMULATOR_HOST is not set (this instance uses a real Firestore)"
    elif "_live_" in key[:8]:
        why_not = "STRIPE_SECRET_KEY is a live-mode key"
    elif not audience.startswith(DEMO_PROJECT_PREFIX) or len(audience) == len(DEMO_PROJECT_PREFIX):
        why_not = (
            f"AUTH_AUDIENCE {audience!r} is not a {DEMO_PROJECT_PREFIX}… project (set "
            f"GOOGLE_CLOUD_PROJECT or AUTH_AUDIENCE to the emulator's project, e.g. demo-myapp)"
        )
    elif issuer != FIREBASE_ISSUER_PREFIX + audience:
        why_not = (
            f"AUTH_ISSUER {issuer!r} is not Firebase Auth of {audience} "
            f"({FIREBASE_ISSUER_PREFIX}{audience}), the emulator's issuer"
        )
    elif cloud_run := [name for name in CLOUD_RUN_MARKERS if env.get(name, "").strip()]:
        why_not = f"{cloud_run[0]} is set (this instance runs on Cloud Run)"
    if why_not is not None:
        raise SettingsError(
            f"{name} is set, but the function accepts the Auth emulator's unsigned tokens only "
            f"on the local emulators, and {why_not}. Unset {name}: it is for the local loop "
            'only (docs/local.md, "Using your own Firebase app locally").',
            variable=name,
        )
    return host


def portal_prices_value(products: Iterable[Mapping[str, Any]]) -> str:
    """The `PORTAL_PRICES` value of a portal's plan-switching list (Stripe's
    `features.subscription_update.products` shape: product, prices, adjustable_quantity)."""
    return encode_prices(products)


_PRICES_SOURCE = {
    "PORTAL_PRICES": "the portal's plan-switching products "
    "(portal.features.subscriptionUpdate.products)",
    "CHECKOUT_PRICES": "the stack's checkout prices (by default the portal's plan-switching "
    "products)",
}


def _prices(name: str, raw: str) -> dict[str, Quantity]:
    try:
        return parse_prices(raw)
    except CatalogError as error:
        raise SettingsError(
            f"{name}: {error}. Deployed stacks build it from {_PRICES_SOURCE[name]}.",
            variable=name,
        ) from None


def _flag(env: Mapping[str, str], name: str, meaning: str) -> bool:
    """A `true`/`false` variable (any case; unset: false)."""
    raw = env.get(name, "").strip().lower() or "false"
    if raw not in ("true", "false"):
        raise SettingsError(
            f"{name}={raw!r} is not true or false; set it to {meaning}.", variable=name
        )
    return raw == "true"


def _checkout_options(env: Mapping[str, str]) -> CheckoutOptions:
    raw_days = env.get("CHECKOUT_TRIAL_DAYS", "").strip() or "0"
    if not raw_days.isdigit() or not raw_days.isascii() or int(raw_days) > MAX_TRIAL_DAYS:
        raise SettingsError(
            f"CHECKOUT_TRIAL_DAYS={raw_days!r} is not a whole number of days from 0 to "
            f"{MAX_TRIAL_DAYS} (Stripe's limit); set e.g. 14, or 0 for no trial.",
            variable="CHECKOUT_TRIAL_DAYS",
        )
    address = env.get("CHECKOUT_BILLING_ADDRESS", "").strip().lower() or "auto"
    if address not in BILLING_ADDRESS_COLLECTION:
        raise SettingsError(
            f"CHECKOUT_BILLING_ADDRESS={address!r} is not auto or required; set auto to let "
            "Checkout ask only when needed, required to always collect it.",
            variable="CHECKOUT_BILLING_ADDRESS",
        )
    return CheckoutOptions(
        trial_days=int(raw_days),
        allow_promotion_codes=_flag(
            env, "CHECKOUT_ALLOW_PROMOTION_CODES", "whether Checkout accepts promotion codes"
        ),
        automatic_tax=_flag(
            env, "CHECKOUT_AUTOMATIC_TAX", "whether Stripe Tax computes tax in Checkout"
        ),
        billing_address=address,
        terms_consent=_flag(
            env, "CHECKOUT_TERMS_CONSENT", "whether Checkout requires accepting the terms"
        ),
    )


def _function_target(raw: str) -> str:
    target = raw or SESSION_ENTRY_POINT
    if target not in (SESSION_ENTRY_POINT, WEBHOOK_ENTRY_POINT):
        raise SettingsError(
            f"FUNCTION_TARGET={target!r} is not an entry point of this source; deploy it as "
            f"{SESSION_ENTRY_POINT} or {WEBHOOK_ENTRY_POINT}.",
            variable="FUNCTION_TARGET",
        )
    return target


def _webhook_secret(raw: str) -> str | None:
    if not raw:
        return None
    if not _WEBHOOK_SECRET_PATTERN.fullmatch(raw):
        raise SettingsError(
            "STRIPE_WEBHOOK_SECRET is not a webhook signing secret (whsec_…); deployed stacks "
            "take it from the webhook endpoint Pulumi declares.",
            variable="STRIPE_WEBHOOK_SECRET",
        )
    return raw


def _coupons(raw: str) -> frozenset[str]:
    coupons = frozenset(part.strip() for part in raw.split(",") if part.strip())
    for coupon in sorted(coupons):
        if not COUPON_ID.fullmatch(coupon):
            raise SettingsError(
                f"RETENTION_COUPONS contains {coupon!r}, which is not a coupon id; list Stripe "
                "coupon ids (letters, digits, _), e.g. WINBACK20,LOYAL10.",
                variable="RETENTION_COUPONS",
            )
    return coupons
