"""web/billing-portal.js meets its specification (web/test/*.test.mjs, Node's built-in runner)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from local.process import REPO_ROOT

SPEC = REPO_ROOT / "web" / "test"


def test_billing_portal_module_meets_its_specification_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH; the project needs Node.js 18+ (see README).")
    result = subprocess.run(
        [node, "--test", str(SPEC)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    failures = [line for line in result.stdout.splitlines() if line.lstrip().startswith("not ok")]
    assert result.returncode == 0, (
        f"{len(failures)} case(s) of {SPEC.relative_to(REPO_ROOT)} failed:\n"
        + "\n".join(failures)
        + f"\n\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    )
