"""The review tool run with a Python that lacks its packages (issue 23): one line naming the fix,
and exit 2 ("could not check"), never a traceback and never 1 (which means "drift found")."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.review.review_support import REPO

# `stripe` made unimportable in this one process, as in a Python without the project's packages.
WITHOUT_STRIPE = (
    "import sys, runpy; sys.modules['stripe'] = None; "
    "sys.argv = ['review', '-C', sys.argv[1], *sys.argv[2:]]; "
    "runpy.run_module('review', run_name='__main__')"
)


@pytest.mark.parametrize("command", ["drift", "verify"])
def test_a_missing_package_is_could_not_check_in_one_line(command):
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_STRIPE, str(REPO), command, "--stack", "dev"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/nonexistent", "STRIPE_API_KEY": "rk_test_" + "0" * 24},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: could not check: the Python package 'stripe'")
    assert ".venv/bin/python -m review" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
