"""`python -m local.run` as a developer uses it: what it prints, Ctrl-C, busy ports, real Stripe."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from local.run.options import PORTS
from tests.browser.browser_support import (
    READY_LINE,
    LocalRun,
    local_run_argv,
    local_run_env,
)
from tests.support.net import free_ports, listening_addresses
from tests.support.processes import log_path, pid_alive

pytestmark = pytest.mark.integration


def descendants(root: int) -> set[int]:
    """Every process below `root` in the process tree (children, grandchildren, …)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def wait_for_text(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    """The log once it contains `text`; fail with the log if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = path.read_text(errors="replace") if path.exists() else ""
        if text in log:
            return log
        if process.poll() is not None:
            pytest.fail(f"local.run exited ({process.returncode}) before printing {text!r}:\n{log}")
        time.sleep(0.1)
    pytest.fail(f"local.run did not print {text!r} within {timeout:.0f}s:\n{path.read_text()}")


@contextmanager
def started_run(
    ports: dict[str, int], env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`python -m local.run` in its own process group, as a terminal would run it; always ended."""
    log = log_path("local-run-lifecycle")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            local_run_argv(ports),
            env={**local_run_env(), **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_text(log, READY_LINE, process, timeout=90)
        yield process, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def run_ports() -> dict[str, int]:
    return dict(zip((port.name for port in PORTS), free_ports(len(PORTS)), strict=True))


def test_the_startup_table_says_where_each_part_runs(local_run: LocalRun) -> None:
    table = local_run.process.log_text()
    for name in ("function", "web", "stripe", "issuer"):
        assert local_run.url(name) in table, f"the table does not show where {name} runs"
    assert f"127.0.0.1:{local_run.ports['firestore']}" in table, "no Firestore emulator address"
    assert local_run.settings_page in table, "the table does not show the page to open"


def test_the_served_config_points_the_page_at_this_runs_ports(local_run: LocalRun) -> None:
    config_js = requests.get(local_run.url("web", "/example/config.js"), timeout=5).text
    assert local_run.url("function") in config_js
    assert local_run.url("issuer", "/_issuer/token") in config_js


def test_ctrl_c_stops_every_process_the_local_run_started() -> None:
    ports = run_ports()
    with started_run(ports) as (process, log):
        children = descendants(process.pid)
        assert len(children) >= 4, f"expected the run's servers as child processes: {children}"
        os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        status = process.wait(timeout=30)
    survivors = sorted(pid for pid in children if pid_alive(pid))
    assert survivors == [], f"still running after Ctrl-C: {survivors}\n{log.read_text()}"
    assert status == 0, f"local.run exited {status} after Ctrl-C:\n{log.read_text()}"


def test_ctrl_c_frees_every_port() -> None:
    ports = run_ports()
    with started_run(ports) as (process, _log):
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    still_listening = {name: port for name, port in ports.items() if listening_addresses(port)}
    assert still_listening == {}, f"ports still listening after Ctrl-C: {still_listening}"


@pytest.mark.parametrize("busy", [port.name for port in PORTS])
def test_a_busy_port_stops_the_run_with_one_line_naming_the_flag(busy: str) -> None:
    ports = run_ports()
    flag = next(port.flag for port in PORTS if port.name == busy)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports[busy]))
        squatter.listen()
        result = subprocess.run(
            local_run_argv(ports), env=local_run_env(), capture_output=True, text=True, timeout=60
        )
    message = result.stderr.strip().splitlines()
    assert result.returncode == 2, f"exit {result.returncode}; stderr: {result.stderr}"
    assert len(message) == 1, f"expected one line, got: {result.stderr}"
    assert flag in message[0] and str(ports[busy]) in message[0], message[0]
    others = [name for name, port in ports.items() if name != busy and listening_addresses(port)]
    assert others == [], f"parts were started despite the busy port: {others}"


def test_a_stripe_test_key_runs_without_the_stand_in() -> None:
    ports = run_ports()
    key = {"STRIPE_SECRET_KEY": "sk_test_" + "d4" * 12}
    with started_run(ports, env=key) as (_process, log):
        table = log.read_text()
        assert "real Stripe TEST mode" in table, table
        assert not listening_addresses(ports["stripe"]), "a stand-in runs despite the test key"
