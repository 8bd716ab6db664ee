"""Running the whole: starting and stopping the parts (`LocalRun`), signals, the log folder and
the function's log on this terminal, the table printed once everything runs, and restarting a
crashed function after a save."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import stripe

from local.firebase import FirebaseAuthEmulator
from local.firestore import FirestoreEmulator
from local.process import ServerProcess, ServerProcessError
from local.run.dev_tools import Plans, catalog_plans
from local.run.options import (
    DEV_AUDIENCE,
    EXAMPLE_PATH,
    HOST,
    PROJECT,
    SESSION_TARGET,
    WEBHOOK_TARGET,
    Options,
    RunError,
    function_env,
)
from local.run.parts import (
    START_TIMEOUT,
    function_argv,
    python_module,
    source_fingerprint,
    start_web,
    wait_for_http,
)
from local.run.stack_portal import (
    account_portal_prices,
    branding_colours,
    create_stack_portal,
    portal_environment,
    stack_settings,
)
from local.servers import HTTPServerThread
from local.stripe import TEST_KEY as STANDIN_KEY
from local.stripe.control import StandinControl

# firebase-tools loads its whole CLI before the emulator listens: seconds, more on a busy machine.
AUTH_EMULATOR_START_TIMEOUT = 90.0
# The two functions of the one source: part name → entry point (`FUNCTION_TARGET`).
FUNCTIONS = {"function": SESSION_TARGET, "webhook": WEBHOOK_TARGET}


class Stop(Exception):
    """Raised in the main thread by SIGINT or SIGTERM: stop everything and exit."""


@dataclass
class LocalRun:
    """Everything started by one `python -m local.run`, stopped in reverse order."""

    options: Options
    log_dir: Path
    firestore: FirestoreEmulator | None = None
    auth_emulator: FirebaseAuthEmulator | None = None  # --start-firebase-auth-emulator
    processes: dict[str, ServerProcess] = field(default_factory=dict)
    web: HTTPServerThread | None = None
    followers: dict[str, LogFollower] = field(default_factory=dict)
    portal: dict[str, str] = field(default_factory=dict)  # the stack's portal variables
    plans: Plans = field(default_factory=dict)  # the stack's declared prices, by id

    def start(self) -> None:
        """Start every part and wait until each answers; raise `RunError` otherwise."""
        settings = stack_settings(self.options.stack)  # a bad stack file stops before anything
        self.firestore = FirestoreEmulator.start(
            self.options.ports["firestore"],
            log_path=self.log_dir / "firestore.log",
            timeout=START_TIMEOUT,
        )
        trusted = self.options.token_issuer
        if trusted is not None and trusted.start_auth_emulator and trusted.auth_emulator:
            self.auth_emulator = FirebaseAuthEmulator.start(
                int(trusted.auth_emulator.rsplit(":", 1)[1]),
                project=trusted.project,
                log_path=self.log_dir / "firebase-auth.log",
                timeout=AUTH_EMULATOR_START_TIMEOUT,
            )
        if not self.options.real_stripe:
            self._start_process(
                "stripe",
                python_module("local.stripe", "--port", str(self.options.ports["stripe"])),
            )
            standin = stripe.StripeClient(
                STANDIN_KEY, base_addresses={"api": self.options.url("stripe", "").rstrip("/")}
            )
            created = create_stack_portal(standin, settings)
            self.portal = portal_environment(
                settings, created.configuration_id, created.portal_prices, created.checkout_prices
            )
            self.plans = catalog_plans(standin, created.prices)
        else:
            # Real Stripe test mode: the account's own configuration (PORTAL_CONFIGURATION_ID,
            # if set) and what it sells, with the stack's other portal settings. Checkout sells
            # what that configuration sells (the stack's declared prices have no ids there).
            configuration = os.environ.get("PORTAL_CONFIGURATION_ID")
            self.portal = portal_environment(
                settings, configuration, self._account_prices(configuration)
            )
        if self.options.token_issuer is None:  # otherwise the function trusts another issuer
            self._start_process(
                "issuer",
                python_module(
                    "local.issuer",
                    "--port",
                    str(self.options.ports["issuer"]),
                    "--audience",
                    DEV_AUDIENCE,
                ),
            )
        self.web = start_web(self.options, self.plans)
        for name in FUNCTIONS:
            self.start_function(name)
        if not self.options.real_stripe:
            # `stripe listen --forward-to`: every event of the stand-in to the webhook function.
            control = StandinControl(self.options.url("stripe", "").rstrip("/"))
            try:
                control.forward_webhooks(
                    self.options.url("webhook"), secret=self.options.webhook_secret
                )
                # The Dashboard step of a deployed stack (docs/deploy.md, Branding), done for it.
                if colours := branding_colours(settings):
                    control.set_branding(**colours)
            finally:
                control.close()

    def _account_prices(self, configuration: str | None) -> str:
        """What the real account's configuration sells (`PORTAL_PRICES`), read from Stripe.

        Best effort: without an answer (no network, a wrong key) the run still starts, and the
        function sells nothing through deep links (it refuses every price) until the next start.
        """
        assert self.options.stripe_key is not None
        client = stripe.StripeClient(
            self.options.stripe_key,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=10),  # a start waits 10 s at most
        )
        try:
            return account_portal_prices(client, configuration)
        except stripe.StripeError as error:
            print(
                f"Could not read the portal configuration {configuration or '(default)'} from "
                f"Stripe ({type(error).__name__}); deep links may name no price this run.",
                flush=True,
            )
            return ""

    def _start_process(
        self, name: str, argv: list[str], env: Mapping[str, str] | None = None
    ) -> ServerProcess:
        process = ServerProcess(
            argv,
            name=name,
            log_path=self.log_dir / f"{name}.log",
            env=env,
            wait_port=(HOST, self.options.ports[name]),
            timeout=START_TIMEOUT,
        )
        self.processes[name] = process
        try:
            process.start()
        except ServerProcessError as error:
            raise RunError(str(error)) from None
        return process

    def start_function(self, name: str = "function") -> None:
        """(Re)start one of the two functions (`FUNCTIONS`) and wait until it answers HTTP."""
        assert self.firestore is not None
        target = FUNCTIONS[name]
        env = function_env(self.options, os.environ, self.firestore.host, self.portal, target)
        process = self._start_process(name, function_argv(self.options.ports[name], target), env)
        try:
            if name == "function":  # the webhook only answers signed POSTs: its port suffices
                wait_for_http(self.options.url(name), self.options.web_origins()[0], process.alive)
        except RunError:
            raise RunError(
                f"the {target} function did not start; log {process.log_path}:\n"
                f"{process.log_tail()}"
            ) from None
        follower = self.followers.get(name)
        if follower is None:
            follower = LogFollower(process.log_path, prefix=f"{name:<8} | ")
            self.followers[name] = follower
            follower.start()
        else:
            follower.follow(process.log_path)

    def stop(self) -> None:
        """Stop everything started so far, newest first; safe to call twice."""
        for follower in self.followers.values():
            follower.stop()
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.processes.clear()
        if self.web is not None:
            self.web.stop()
            self.web = None
        if self.firestore is not None:
            self.firestore.stop()
            self.firestore = None
        if self.auth_emulator is not None:
            self.auth_emulator.stop()
            self.auth_emulator = None

    def dead_part(self) -> str | None:
        """The name of a part that stopped on its own, if any."""
        for name, process in self.processes.items():
            if not process.alive():
                return name
        if self.firestore is not None and not self.firestore.process.alive():
            return "firestore"
        if self.auth_emulator is not None and not self.auth_emulator.process.alive():
            return "firebase-auth"
        return None


# ---- signals ------------------------------------------------------------------------------


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """SIGINT (Ctrl-C) and SIGTERM both mean: stop everything and exit."""
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)


def ignore_signals() -> None:
    """While stopping, a second Ctrl-C must not interrupt the cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


# ---- while running ------------------------------------------------------------------------


def supervise(run: LocalRun) -> None:
    """Wait for a signal; restart a crashed function after its next save; fail on other deaths."""
    waiting_since: tuple[tuple[str, int], ...] | None = None
    while True:
        time.sleep(0.25)
        dead = run.dead_part()
        if dead in FUNCTIONS and waiting_since is None:
            process = run.processes[dead]
            print(
                f"\nThe {FUNCTIONS[dead]} function stopped (exit {process.stop()}); see above or "
                f"{process.log_path}. It restarts when you save a file under function/.",
                flush=True,
            )
            waiting_since = source_fingerprint()
        elif dead is not None and dead not in FUNCTIONS:
            raise RunError(
                f"{dead} stopped unexpectedly; stopping everything (logs: {run.log_dir})"
            )
        if waiting_since is not None and source_fingerprint() != waiting_since:
            waiting_since = _restart_functions(run)


def _restart_functions(run: LocalRun) -> tuple[tuple[str, int], ...] | None:
    print("function/ changed; starting the functions again…", flush=True)
    for name in FUNCTIONS:
        process = run.processes.get(name)
        if process is not None and process.alive():
            continue
        try:
            run.start_function(name)
        except RunError as error:
            print(f"{error}\nStill waiting for a fix under function/.", flush=True)
            return source_fingerprint()
        print(f"The {FUNCTIONS[name]} function is back at {run.options.url(name)}", flush=True)
    return None


# ---- logs ---------------------------------------------------------------------------------


class LogFollower:
    """Copies new lines of a log file to this terminal, prefixed, from a daemon thread."""

    def __init__(self, path: Path, prefix: str) -> None:
        self._path = path
        self._generation = 0
        self._prefix = prefix
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="log-follower", daemon=True)

    def start(self) -> None:
        """Start following."""
        self._thread.start()

    def follow(self, path: Path) -> None:
        """Follow `path` from its start (the log of a restarted process, maybe the same file)."""
        with self._lock:
            self._path = path
            self._generation += 1

    def stop(self) -> None:
        """Stop following."""
        self._stopped.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        generation = -1
        position = 0
        while not self._stopped.wait(0.2):
            with self._lock:
                path, current = self._path, self._generation
            if current != generation:
                generation, position = current, 0
            position = self._copy_new_lines(path, position)

    def _copy_new_lines(self, path: Path, position: int) -> int:
        try:
            with path.open("rb") as log:
                log.seek(position)
                chunk = log.read()
        except FileNotFoundError:
            return position
        complete = chunk.rfind(b"\n") + 1
        for line in chunk[:complete].decode("utf-8", "replace").splitlines():
            print(f"{self._prefix}{line}", flush=True)
        return position + complete


@dataclass
class Workspace:
    """The log folder: kept when given or when the run failed, removed after a clean stop."""

    path: Path
    temporary: bool

    @classmethod
    def create(cls, wanted: Path | None) -> Workspace:
        """Use `wanted` (created if needed) or a new temporary folder."""
        if wanted is not None:
            wanted.mkdir(parents=True, exist_ok=True)
            return cls(wanted.resolve(), temporary=False)
        return cls(Path(tempfile.mkdtemp(prefix="billing-portal-run-")), temporary=True)

    def finish(self, clean: bool) -> None:
        """Remove a temporary folder after a clean stop."""
        if self.temporary and clean:
            shutil.rmtree(self.path, ignore_errors=True)


# ---- the table ----------------------------------------------------------------------------


def summary(
    options: Options, firestore_host: str, log_dir: Path, portal: Mapping[str, str] | None = None
) -> str:
    """The table printed once everything runs."""
    stripe = (
        ("stripe", "api.stripe.com", "real Stripe TEST mode (STRIPE_SECRET_KEY is set)")
        if options.real_stripe
        else (
            "stripe",
            options.url("stripe"),
            "Stripe stand-in (no network; its portal page changes subscriptions)",
        )
    )
    rows = [
        ("open", options.url("web", EXAMPLE_PATH), "example settings page — start here"),
        ("function", options.url("function"), "functions-framework (reloads on save)"),
        _webhook_row(options),
        ("web", options.url("web"), "web/: the example page and billing-portal.js"),
        stripe,
        ("firestore", firestore_host, f"Firestore emulator, project {PROJECT}"),
        *_sign_in_rows(options),
        *(
            [("app", ", ".join(options.app_origins), "your app's origins (CORS, return URLs)")]
            if options.app_origins
            else []
        ),
        (
            "portal",
            (portal or {}).get("PORTAL_CONFIGURATION_ID") or "the account's default",
            f"Pulumi.{options.stack}.yaml's portal configuration"
            if not options.real_stripe
            else f"configuration (PORTAL_CONFIGURATION_ID); Pulumi.{options.stack}.yaml's other "
            "portal settings",
        ),
        ("logs", str(log_dir), "one file per part"),
    ]
    width = max(len(row[1]) for row in rows)
    lines = ["", "billing-portal is running locally. Ctrl-C stops everything.", ""]
    lines += [f"  {name:<10} {where:<{width}}  {what}" for name, where, what in rows]
    if options.real_stripe and not options.webhook_secret_given:
        lines += [
            "",
            "  Stripe's events reach the webhook only through the Stripe CLI. Run",
            f"    stripe listen --forward-to {options.url('webhook')}",
            "  and start again with the whsec_… it prints: STRIPE_WEBHOOK_SECRET=whsec_… make run",
        ]
    return "\n".join([*lines, ""])


def _sign_in_rows(options: Options) -> list[tuple[str, str, str]]:
    """Whose tokens the function trusts; with the Auth emulator, where it is and the page that
    signs in with it."""
    trusted = options.token_issuer
    if trusted is None:
        return [
            ("issuer", options.url("issuer"), "development sign-in (local only, never deployed)")
        ]
    rows = [
        (
            "tokens",
            trusted.issuer,
            f"the function trusts {trusted.label}, not the development sign-in",
        )
    ]
    if trusted.auth_emulator is not None:
        started = (
            "Firebase Auth emulator, started by this run (firebase-tools from node_modules, UI off)"
            if trusted.start_auth_emulator
            else "Firebase Auth emulator (yours: firebase emulators:start --only auth)"
        )
        rows += [
            ("auth", f"http://{trusted.auth_emulator}", started),
            (
                "firebase",
                options.url("web", f"{EXAMPLE_PATH}firebase.html"),
                "the example page as a Firebase app (Firebase JS SDK, the Auth emulator)",
            ),
        ]
    return rows


def _webhook_row(options: Options) -> tuple[str, str, str]:
    where = options.url("webhook")
    if not options.real_stripe:
        return (
            "webhook",
            where,
            "stripe_webhook (reloads on save); the stand-in forwards every event to it",
        )
    if options.webhook_secret_given:
        return (
            "webhook",
            where,
            "stripe_webhook, verifying STRIPE_WEBHOOK_SECRET (keep `stripe listen` running)",
        )
    return (
        "webhook",
        where,
        f"stripe_webhook: no events until `stripe listen --forward-to {where}` (below)",
    )
