"""What to run where, and what each part is told: ports, flags and environment variables, the
Stripe key, busy-port checks; the function's environment and the example page's config."""

from __future__ import annotations

import argparse
import errno
import re
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.contract import FIREBASE_JWKS_URL, build_environment, is_secure_web_url, web_origin
from local.stripe import TEST_KEY as STANDIN_KEY

HOST = "127.0.0.1"
EXIT_USAGE = 2
EXAMPLE_PATH = "/example/"
PROJECT = "billing-portal-local"
DEV_AUDIENCE = PROJECT
SESSION_TARGET = "create_portal_session"
WEBHOOK_TARGET = "stripe_webhook"
_WEBHOOK_SECRET = re.compile(r"whsec_[0-9A-Za-z_]{8,}")
# The Auth emulator's default address, and the project the run starts it for when none is named.
DEFAULT_AUTH_EMULATOR = "127.0.0.1:9099"
DEFAULT_EMULATOR_PROJECT = "demo-billing-portal"
_EMULATOR_HOST = re.compile(r"(?P<host>[A-Za-z0-9.-]{1,253}):(?P<port>[1-9][0-9]{0,4})")
_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")  # Google Cloud's project id rule


@dataclass(frozen=True)
class PortOption:
    """One configurable port: its flag, its environment variable and its default."""

    name: str
    label: str
    default: int

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. `--function-port`."""
        return f"--{self.name}-port"

    @property
    def env_var(self) -> str:
        """The environment variable, e.g. `LOCAL_FUNCTION_PORT`."""
        return f"LOCAL_{self.name.upper()}_PORT"


PORTS = (
    PortOption("function", "the function", 8080),
    PortOption("webhook", "the webhook function", 8081),
    PortOption("web", "the example frontend", 5173),
    PortOption("stripe", "the Stripe stand-in", 12111),
    PortOption("firestore", "the Firestore emulator", 8089),
    # Not 9099: that is the Firebase Auth emulator's default, which a team may run beside this.
    PortOption("issuer", "the development issuer", 9919),
)


class RunError(RuntimeError):
    """Something stops the local run; the message says what and how to fix it."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class TokenIssuer:
    """Whose ID tokens the local function trusts instead of the development sign-in's."""

    issuer: str
    audience: str
    jwks_url: str
    label: str
    # `host:port` of the Firebase Auth emulator whose unsigned tokens the function trusts
    # (FIREBASE_AUTH_EMULATOR_HOST); None: signed tokens only
    auth_emulator: str | None = None
    start_auth_emulator: bool = False  # the local run starts that emulator itself

    @property
    def project(self) -> str:
        """The Firebase project of the tokens (their audience)."""
        return self.audience

    @classmethod
    def firebase_emulator(cls, project: str, host: str, *, start: bool) -> TokenIssuer:
        """The Firebase Auth emulator at `host`, for the `demo-` `project`: its tokens unsigned."""
        return cls(
            f"https://securetoken.google.com/{project}",
            project,
            FIREBASE_JWKS_URL,
            f"UNSIGNED ID tokens of the Firebase Auth emulator at {host}, project {project} "
            "(signatures NOT checked; local only)",
            auth_emulator=host,
            start_auth_emulator=start,
        )

    @classmethod
    def firebase(cls, project: str) -> TokenIssuer:
        """Firebase Auth of `project`, as a deployed stack verifies it by default."""
        return cls(
            f"https://securetoken.google.com/{project}",
            project,
            FIREBASE_JWKS_URL,
            f"Firebase Auth ID tokens of project {project}",
        )


@dataclass(frozen=True)
class Options:
    """What to run where, decided from the command line and the environment."""

    ports: dict[str, int]
    stripe_key: str | None
    log_dir: Path | None
    # The webhook function's signing secret: STRIPE_WEBHOOK_SECRET (e.g. `stripe listen`'s), or
    # one generated for this run, which the stand-in signs its forwarded events with.
    webhook_secret: str = ""
    webhook_secret_given: bool = False
    token_issuer: TokenIssuer | None = None  # None: the development sign-in
    app_origins: tuple[str, ...] = ()
    stack: str = "dev"  # whose portal the stand-in gets (Pulumi.<stack>.yaml)

    @property
    def real_stripe(self) -> bool:
        """True when a Stripe test key was given: real Stripe test mode, no stand-in."""
        return self.stripe_key is not None

    def url(self, name: str, path: str = "/") -> str:
        """`http://127.0.0.1:<port><path>` of the part called `name`."""
        return f"http://{HOST}:{self.ports[name]}{path}"

    def web_origins(self) -> list[str]:
        """The example frontend's origins (127.0.0.1 and localhost name the same server)."""
        port = self.ports["web"]
        return [f"http://{HOST}:{port}", f"http://localhost:{port}"]

    def allowed_origins(self) -> list[str]:
        """The example frontend's origins and the developer's own app's (`--app-origin`)."""
        return list(dict.fromkeys([*self.web_origins(), *self.app_origins]))


# ---- options ------------------------------------------------------------------------------


def parse_options(argv: Sequence[str] | None, env: Mapping[str, str]) -> Options:
    """Read flags and environment; raise `RunError` for an unusable Stripe key."""
    parser = argparse.ArgumentParser(
        prog="python -m local.run",
        description="Run billing-portal locally: emulators, Stripe stand-in, function, frontend.",
    )
    for port in PORTS:
        parser.add_argument(
            port.flag,
            type=_port_number,
            default=_env_port(env, port),
            metavar="N",
            help=f"port of {port.label} (env {port.env_var}, default {port.default})",
        )
    parser.add_argument(
        "--stack",
        default=env.get("LOCAL_STACK") or "dev",
        help="the stack whose portal configuration (features, headline, plan-switching catalog) "
        "the Stripe stand-in is given, from Pulumi.<stack>.yaml (env LOCAL_STACK; default dev)",
    )
    auth = parser.add_argument_group(
        "sign-in",
        "By default the function trusts only the development sign-in of the example page. To "
        "call it from your own app with real ID tokens, name their issuer:",
    )
    auth.add_argument(
        "--firebase-project",
        default=env.get("LOCAL_FIREBASE_PROJECT") or None,
        metavar="ID",
        help="verify Firebase Auth ID tokens of this project (env LOCAL_FIREBASE_PROJECT)",
    )
    auth.add_argument(
        "--firebase-auth-emulator",
        default=env.get("FIREBASE_AUTH_EMULATOR_HOST") or None,
        metavar="HOST:PORT",
        help="trust the UNSIGNED ID tokens of the Firebase Auth emulator at HOST:PORT (e.g. "
        "127.0.0.1:9099), for the demo-… project of --firebase-project (env "
        "FIREBASE_AUTH_EMULATOR_HOST, as Firebase's tools set it); local only",
    )
    auth.add_argument(
        "--start-firebase-auth-emulator",
        action="store_true",
        default=bool(env.get("LOCAL_START_FIREBASE_AUTH_EMULATOR")),
        help="start that Auth emulator too, from the pinned npm firebase-tools, offline, UI "
        f"off (on {DEFAULT_AUTH_EMULATOR} unless --firebase-auth-emulator says; project "
        f"{DEFAULT_EMULATOR_PROJECT} unless --firebase-project says; env "
        "LOCAL_START_FIREBASE_AUTH_EMULATOR=1)",
    )
    for name, what in (
        ("issuer", "the tokens' iss"),
        ("audience", "the tokens' aud"),
        ("jwks-url", "the issuer's signing keys"),
    ):
        auth.add_argument(
            f"--auth-{name}",
            default=env.get(f"LOCAL_AUTH_{name.upper().replace('-', '_')}") or None,
            metavar="URL" if name != "audience" else "AUD",
            help=f"another OIDC issuer: {what} (env LOCAL_AUTH_{name.upper().replace('-', '_')};"
            " give all three)",
        )
    auth.add_argument(
        "--app-origin",
        action="append",
        default=[o for o in (env.get("LOCAL_APP_ORIGINS") or "").split(",") if o.strip()],
        metavar="ORIGIN",
        help="your app's origin (e.g. http://localhost:3000), allowed by CORS and as a return "
        "origin; repeat for several (env LOCAL_APP_ORIGINS, comma-separated)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help="where the parts' logs go (default: a new temporary folder, removed on a clean stop)",
    )
    # `firebase emulators:exec` names its emulators' project in GCLOUD_PROJECT, beside
    # FIREBASE_AUTH_EMULATOR_HOST: taken as the emulator's project only in that case.
    parser.set_defaults(
        exec_project=(env.get("GCLOUD_PROJECT") or None)
        if env.get("FIREBASE_AUTH_EMULATOR_HOST")
        else None
    )
    args = parser.parse_args(argv)
    ports = {port.name: getattr(args, f"{port.name}_port") for port in PORTS}
    stripe_key = stripe_test_key(env)
    given_secret = webhook_secret(env)
    return Options(
        ports,
        stripe_key,
        args.log_dir,
        webhook_secret=given_secret or f"whsec_local{secrets.token_hex(16)}",
        webhook_secret_given=given_secret is not None,
        token_issuer=_token_issuer(args),
        app_origins=tuple(_app_origin(origin.strip()) for origin in args.app_origin),
        stack=args.stack,
    )


def _token_issuer(args: argparse.Namespace) -> TokenIssuer | None:
    explicit = (args.auth_issuer, args.auth_audience, args.auth_jwks_url)
    if args.firebase_auth_emulator or args.start_firebase_auth_emulator:
        if any(explicit):
            raise RunError(
                "--firebase-auth-emulator trusts the Auth emulator's tokens; it cannot be "
                "combined with --auth-issuer/--auth-audience/--auth-jwks-url.",
                EXIT_USAGE,
            )
        return _auth_emulator(args)
    if args.firebase_project and any(explicit):
        raise RunError(
            "--firebase-project and --auth-issuer/--auth-audience/--auth-jwks-url name two "
            "issuers; give one of them.",
            EXIT_USAGE,
        )
    if args.firebase_project:
        return TokenIssuer.firebase(args.firebase_project)
    if not any(explicit):
        return None
    missing = [
        flag
        for flag, value in zip(
            ("--auth-issuer", "--auth-audience", "--auth-jwks-url"), explicit, strict=True
        )
        if not value
    ]
    if missing:
        raise RunError(
            f"another OIDC issuer needs all three settings; add {', '.join(missing)}.", EXIT_USAGE
        )
    if not is_secure_web_url(args.auth_jwks_url):
        raise RunError(
            f"--auth-jwks-url {args.auth_jwks_url!r} is not an https URL (http only for "
            "localhost).",
            EXIT_USAGE,
        )
    return TokenIssuer(
        args.auth_issuer, args.auth_audience, args.auth_jwks_url, f"tokens of {args.auth_issuer}"
    )


def _auth_emulator(args: argparse.Namespace) -> TokenIssuer:
    """The Firebase Auth emulator named (or to be started), for a `demo-` project only."""
    start = bool(args.start_firebase_auth_emulator)
    host = (args.firebase_auth_emulator or (DEFAULT_AUTH_EMULATOR if start else "")).strip()
    match = _EMULATOR_HOST.fullmatch(host)
    if match is None:
        raise RunError(
            f"--firebase-auth-emulator {host!r} (or FIREBASE_AUTH_EMULATOR_HOST) is not "
            f"host:port; write e.g. {DEFAULT_AUTH_EMULATOR}.",
            EXIT_USAGE,
        )
    if start and match["host"] != HOST:
        raise RunError(
            f"--start-firebase-auth-emulator starts it on {HOST}; give "
            f"--firebase-auth-emulator {HOST}:PORT (not {host}).",
            EXIT_USAGE,
        )
    from_exec = args.exec_project if args.firebase_auth_emulator else None
    project = args.firebase_project or from_exec or (DEFAULT_EMULATOR_PROJECT if start else None)
    if project is None:
        raise RunError(
            "--firebase-auth-emulator needs the emulator's project: add --firebase-project "
            "demo-… (the projectId your app gives initializeApp; `firebase emulators:exec` "
            "passes it as GCLOUD_PROJECT).",
            EXIT_USAGE,
        )
    if not project.startswith("demo-") or project == "demo-" or not _PROJECT_ID.fullmatch(project):
        raise RunError(
            f"--firebase-project {project!r}: the function trusts the Auth emulator's unsigned "
            "tokens only for a demo-… project (Firebase's offline-only projects, which no real "
            "app uses); start your emulators with --project demo-… and give the same id here.",
            EXIT_USAGE,
        )
    return TokenIssuer.firebase_emulator(project, host, start=start)


def _app_origin(text: str) -> str:
    origin = web_origin(text) if is_secure_web_url(text) else None
    if origin is None or origin != text.rstrip("/").lower():
        raise RunError(
            f"--app-origin {text!r} is not an origin; write scheme://host[:port] with no path, "
            "e.g. http://localhost:3000 (https, or http on localhost).",
            EXIT_USAGE,
        )
    return origin


def _port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def _env_port(env: Mapping[str, str], port: PortOption) -> int:
    raw = env.get(port.env_var, "").strip()
    if not raw:
        return port.default
    try:
        return _port_number(raw)
    except argparse.ArgumentTypeError as error:
        raise RunError(f"{port.env_var}: {error}", EXIT_USAGE) from None


def stripe_test_key(env: Mapping[str, str]) -> str | None:
    """The Stripe test key from `STRIPE_SECRET_KEY`, None for the stand-in; refuse live keys."""
    key = env.get("STRIPE_SECRET_KEY", "").strip()
    if not key:
        return None
    if key.startswith(("sk_live_", "rk_live_")):
        raise RunError(
            "STRIPE_SECRET_KEY is a live-mode key; the local run uses Stripe test mode only. "
            "Set a test key (sk_test_…/rk_test_…), or unset it to use the Stripe stand-in.",
            EXIT_USAGE,
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        raise RunError(
            "STRIPE_SECRET_KEY is not a Stripe test secret key (sk_test_…/rk_test_…); "
            "unset it to use the Stripe stand-in.",
            EXIT_USAGE,
        )
    return key


def webhook_secret(env: Mapping[str, str]) -> str | None:
    """`STRIPE_WEBHOOK_SECRET` (the Stripe CLI's `whsec_…`), None when unset."""
    secret = env.get("STRIPE_WEBHOOK_SECRET", "").strip()
    if not secret:
        return None
    if not _WEBHOOK_SECRET.fullmatch(secret):
        raise RunError(
            "STRIPE_WEBHOOK_SECRET is not a webhook signing secret (whsec_…); pass the one "
            "`stripe listen` prints, or unset it to let the local run make one.",
            EXIT_USAGE,
        )
    return secret


# ---- ports --------------------------------------------------------------------------------


def check_ports(options: Options) -> None:
    """Raise `RunError` naming the flag to change if two parts share a port or one is busy."""
    seen: dict[int, PortOption] = {}
    for port in PORTS:
        if (options.real_stripe and port.name == "stripe") or (
            options.token_issuer is not None and port.name == "issuer"
        ):
            continue  # not started
        number = options.ports[port.name]
        if number in seen:
            other = seen[number]
            raise RunError(
                f"{port.flag} and {other.flag} are both {number}; give each part its own port.",
                EXIT_USAGE,
            )
        seen[number] = port
        if not port_is_free(number):
            raise RunError(
                f"Port {number} ({port.label}) is already in use on {HOST}; "
                f"choose another with {port.flag} N (or {port.env_var}=N).",
                EXIT_USAGE,
            )
    _check_auth_emulator_port(options)


def _check_auth_emulator_port(options: Options) -> None:
    """The Auth emulator the run starts: its port differs from the others' and is free."""
    trusted = options.token_issuer
    if trusted is None or not trusted.start_auth_emulator or trusted.auth_emulator is None:
        return
    port = int(trusted.auth_emulator.rsplit(":", 1)[1])
    others = {options.ports[p.name]: p for p in PORTS}
    if port in others:
        raise RunError(
            f"--firebase-auth-emulator's port {port} is also {others[port].flag}'s; give each "
            "part its own port.",
            EXIT_USAGE,
        )
    if not port_is_free(port):
        raise RunError(
            f"Port {port} (the Firebase Auth emulator) is already in use on {HOST}; is an "
            "emulator running already? Then leave out --start-firebase-auth-emulator, or "
            "choose another port with --firebase-auth-emulator 127.0.0.1:N.",
            EXIT_USAGE,
        )


def port_is_free(port: int) -> bool:
    """Tell whether a server could listen on `127.0.0.1:port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The same option the servers set: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


# ---- what the parts are told ------------------------------------------------------------


def function_env(
    options: Options,
    base: Mapping[str, str],
    firestore_host: str,
    portal: Mapping[str, str] | None = None,
    target: str = SESSION_TARGET,
) -> dict[str, str]:
    """The environment of the function serving the entry point `target`: its contract
    variables (built by the function's own contract), pointing at the local parts, with the
    stack's `portal` variables (configuration id, pause, coupons) and, for the webhook, this
    run's signing secret; the rest of `base` (PATH, a PORTAL_CONFIGURATION_ID for real Stripe)
    kept."""
    dropped = (
        "STRIPE_API_BASE",
        "FIRESTORE_EMULATOR_HOST",
        "PORT",
        "DEBUG",
        "FUNCTION_TARGET",
        "STRIPE_WEBHOOK_SECRET",
        # emulator mode only as `--firebase-auth-emulator` (or this same variable) decided it
        "FIREBASE_AUTH_EMULATOR_HOST",
    )
    env = {name: value for name, value in base.items() if name not in dropped}
    env["PYTHONUNBUFFERED"] = "1"
    env["FUNCTION_TARGET"] = target
    if target == WEBHOOK_TARGET:
        env["STRIPE_WEBHOOK_SECRET"] = options.webhook_secret
    if options.real_stripe:
        assert options.stripe_key is not None
        stripe = {"stripe_secret_key": options.stripe_key}
    else:
        env.pop(
            "PORTAL_CONFIGURATION_ID", None
        )  # a real account's id means nothing to the stand-in
        stripe = {
            "stripe_secret_key": STANDIN_KEY,
            "stripe_api_base": options.url("stripe", "").rstrip("/"),
        }
    env.update(
        build_environment(
            google_cloud_project=PROJECT,
            firestore_emulator_host=firestore_host,
            **_auth(options),
            allowed_origins=options.allowed_origins(),
            allowed_return_origins=options.allowed_origins(),
            default_return_url=options.url("web", EXAMPLE_PATH),
            **stripe,
        )
    )
    env.update(portal or {})
    return env


def _auth(options: Options) -> dict[str, str]:
    trusted = options.token_issuer
    if trusted is None:
        return {
            "auth_issuer": issuer_url(options),
            "auth_audience": DEV_AUDIENCE,
            "auth_jwks_url": options.url("issuer", "/jwks"),
        }
    return {
        "auth_issuer": trusted.issuer,
        "auth_audience": trusted.audience,
        "auth_jwks_url": trusted.jwks_url,
        "firebase_auth_emulator_host": trusted.auth_emulator,
    }


def issuer_url(options: Options) -> str:
    """The development issuer's `iss`: its own base URL."""
    return options.url("issuer", "").rstrip("/")


def frontend_config(
    options: Options, plans: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """What `web/example/config.js` says when the local run serves it: the ports and the stack's
    `plans` by price id (names for the plan card)."""
    stripe = "real Stripe test mode" if options.real_stripe else "Stripe stand-in"
    return {
        "functionUrl": options.url("function"),
        # The development sign-in only where the function trusts it (not with --firebase-project
        # or --auth-issuer: the page would sign in with tokens the function refuses).
        "issuerTokenUrl": None if options.token_issuer else options.url("issuer", "/_issuer/token"),
        "returnUrl": None,
        "plans": dict(plans or {}),
        # The Firebase variant of the page (firebase.html): its app, against the Auth emulator.
        "firebase": _firebase_config(options.token_issuer),
        "environment": f"local run · {stripe} · Firestore emulator"
        + (f" · sign-in: {options.token_issuer.label}" if options.token_issuer else ""),
    }


def _firebase_config(trusted: TokenIssuer | None) -> dict[str, str] | None:
    """What example/firebase.html gives `initializeApp` and `connectAuthEmulator`; None unless
    the function trusts an Auth emulator."""
    if trusted is None or trusted.auth_emulator is None:
        return None
    return {
        "projectId": trusted.project,
        "apiKey": "demo-api-key",  # the emulator takes any key; the SDK wants one
        "authDomain": f"{trusted.project}.firebaseapp.com",
        "authEmulatorUrl": f"http://{trusted.auth_emulator}",
    }
