"""The adoption benchmark cannot rot: a small run (the full one is 2,000 users) starts the local
parts, adopts and backfills within the budget, and prints its table with every state equal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from local.process import REPO_ROOT

pytestmark = pytest.mark.integration


def test_a_small_adoption_run_prints_both_rows_and_every_state_equal():
    result = subprocess.run(
        [sys.executable, "-m", "bench.adoption", "--users", "20", "--latency-ms", "20"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: a missed target, reported in the table
    lines = result.stdout.splitlines()
    for step in ("adopt --apply", "backfill"):
        (row,) = [line for line in lines if line.startswith(step)]
        assert row.rstrip().endswith(("pass", "MISS")), row
        assert row.split()[-3] == "0", f"errors in {row}"
    assert "states equal to the stand-in's: 20/20" in result.stdout
