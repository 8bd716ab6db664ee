"""The generic child-process helper the fixtures use: readiness, logs, and complete stops."""

from __future__ import annotations

import sys

import pytest

from tests.support.net import free_port, wait_for_port
from tests.support.processes import (
    TEST_OUTPUT,
    ServerProcessError,
    group_is_empty,
    pid_alive,
    start_process,
)

# A server that also starts a grandchild, to show that stop() takes the whole group.
SERVER = """
import http.server, subprocess, sys
port = int(sys.argv[1])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print("GRANDCHILD", child.pid, flush=True)
print("serving on", port, flush=True)
handler = http.server.SimpleHTTPRequestHandler
http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
"""


def test_waits_for_the_port_captures_output_and_stops_the_whole_group():
    port = free_port()
    process = start_process(
        [sys.executable, "-c", SERVER, str(port)],
        name="process-helper",
        wait_port=("127.0.0.1", port),
        ready_pattern=r"GRANDCHILD (\d+)",
    )
    assert process.ready_match is not None
    grandchild = int(process.ready_match[1])
    wait_for_port("127.0.0.1", port, timeout=1)
    assert process.log_path.parent == TEST_OUTPUT
    assert f"serving on {port}" in process.log_text()
    process.stop()
    assert not pid_alive(process.pid)
    assert not pid_alive(grandchild), "a grandchild outlived stop()"
    assert group_is_empty(process.pid)


def test_a_child_that_exits_early_is_reported_with_its_log():
    with pytest.raises(ServerProcessError, match="boom"):
        start_process(
            [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
            name="process-early-exit",
            ready_pattern="never",
        )


def test_a_child_that_never_gets_ready_is_stopped_after_the_timeout():
    with pytest.raises(ServerProcessError, match="not ready") as caught:
        start_process(
            [sys.executable, "-c", "import time; print('pid-line', flush=True); time.sleep(60)"],
            name="process-timeout",
            ready_pattern="READY",
            timeout=0.5,
        )
    assert "pid-line" in str(caught.value)


def test_wait_for_port_times_out_on_a_closed_port():
    with pytest.raises(TimeoutError):
        wait_for_port("127.0.0.1", free_port(), timeout=0.2)
