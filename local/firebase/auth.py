"""The Firebase Auth emulator, from the pinned npm `firebase-tools` (package.json), offline.

`firebase emulators:start --only auth` with a configuration written for this start: the Auth
emulator on 127.0.0.1, its hub and logging ports chosen free (they default to 4400 and 4500,
which two runs would share), the Emulator UI off (the UI is the one part firebase-tools would
download). The Auth emulator is pure Node: no Java. It is started for a `demo-` project, which
firebase-tools treats as offline-only (it never looks the project up); `CI` and
`NO_UPDATE_NOTIFIER` stop the CLI's two other network calls (its message of the day and its
update check), and its settings file goes to the start's own folder, not the user's home.

Its ID tokens are unsigned (`alg` `none`): only a function in emulator mode takes them
(`FIREBASE_AUTH_EMULATOR_HOST`, see function/billing_portal/settings.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import requests

from local.net import free_port
from local.process import REPO_ROOT, ServerProcess

FIREBASE_TOOLS = Path("node_modules", "firebase-tools")
CLI = FIREBASE_TOOLS / "lib" / "bin" / "firebase.js"
READY_PATTERN = r"All emulators ready"
HOST = "127.0.0.1"
# Firebase's convention: a `demo-` project id names no real project; the emulators use it offline.
DEMO_PREFIX = "demo-"
# The emulator accepts any API key; the Firebase JS SDK needs one to be set.
API_KEY = "demo-api-key"


def require_firebase_tools(root: Path = REPO_ROOT) -> Path:
    """The firebase-tools CLI script, or an error saying how to install it."""
    cli = root / CLI
    if not cli.is_file():
        raise RuntimeError(
            f"firebase-tools is not installed ({root / FIREBASE_TOOLS} is missing). "
            "Run `make setup` (or `npm ci` in the repository root) first."
        )
    return cli


def emulator_config(port: int, hub_port: int, logging_port: int) -> dict[str, Any]:
    """firebase.json for the Auth emulator alone, on 127.0.0.1, with no UI."""
    return {
        "emulators": {
            "auth": {"host": HOST, "port": port},
            "hub": {"host": HOST, "port": hub_port},
            "logging": {"host": HOST, "port": logging_port},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }


def offline_env(base: dict[str, str], config_home: Path) -> dict[str, str]:
    """The CLI's environment: no message-of-the-day fetch, no update check, its own settings."""
    env = dict(base)
    # The CLI skips its message-of-the-day fetch and update-notifier its check under CI.
    env.update({"CI": "true", "NO_UPDATE_NOTIFIER": "1", "XDG_CONFIG_HOME": str(config_home)})
    # An emulator of another process would otherwise be found and reused by the CLI.
    for name in ("FIREBASE_AUTH_EMULATOR_HOST", "FIREBASE_EMULATOR_HUB", "GCLOUD_PROJECT"):
        env.pop(name, None)
    return env


def _project(project: str, config: Path) -> list[str]:
    return ["--project", project, "--config", str(config)]


class FirebaseAuthEmulator:
    """A running Auth emulator (a node child process, its whole group stopped by `stop`)."""

    def __init__(self, process: ServerProcess, port: int, project: str, workdir: Path) -> None:
        self.process = process
        self.port = port
        self.project = project
        self._workdir = workdir
        self._http = requests.Session()

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`, what FIREBASE_AUTH_EMULATOR_HOST says."""
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`, what the JS SDK's `connectAuthEmulator` takes."""
        return f"http://{self.host}"

    @classmethod
    def start(
        cls,
        port: int = 0,
        *,
        project: str,
        log_path: Path,
        node: str | None = None,
        timeout: float = 60.0,
    ) -> FirebaseAuthEmulator:
        """Start the Auth emulator on `port` (0: a free one) for the `demo-` `project`."""
        if not project.startswith(DEMO_PREFIX) or project == DEMO_PREFIX:
            raise ValueError(
                f"the Auth emulator is started offline for a {DEMO_PREFIX}… project only, not "
                f"{project!r}"
            )
        cli = require_firebase_tools()
        node = node or shutil.which("node")
        if node is None:
            raise RuntimeError("`node` is not on PATH; firebase-tools needs Node.js 20+.")
        port = port or free_port(HOST)
        workdir = Path(tempfile.mkdtemp(prefix="firebase-auth-emulator-"))
        config = workdir / "firebase.json"
        config.write_text(json.dumps(emulator_config(port, free_port(HOST), free_port(HOST))))
        process = ServerProcess(
            [node, str(cli), "emulators:start", "--only", "auth", *_project(project, config)],
            name="firebase-auth-emulator",
            log_path=log_path,
            env=offline_env(dict(os.environ), workdir / "config"),
            cwd=workdir,  # the CLI writes firebase-debug.log where it runs
            ready_pattern=READY_PATTERN,
            wait_port=(HOST, port),
            timeout=timeout,
        )
        try:
            process.start()
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return cls(process, port, project, workdir)

    def sign_up(self, email: str, password: str) -> dict[str, Any]:
        """Create a user through the emulator's REST API: `{localId, idToken, …}`."""
        response = self._http.post(
            f"{self.url}/identitytoolkit.googleapis.com/v1/accounts:signUp",
            params={"key": API_KEY},
            json={"email": email, "password": password, "returnSecureToken": True},
            timeout=10,
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def clear_users(self) -> None:
        """Delete every user of the project (the emulator's own REST endpoint)."""
        self._http.delete(
            f"{self.url}/emulator/v1/projects/{self.project}/accounts", timeout=10
        ).raise_for_status()

    def stop(self) -> None:
        """Stop the emulator (its whole process group) and remove its folder."""
        self._http.close()
        self.process.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)
