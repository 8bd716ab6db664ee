"""The review tool run with a Python that lacks its packages (issue 23): one line naming the fix,
and exit 2 ("could not check"), never a traceback and never 1 (which means "drift found")."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.review.review_support import REPO

# A package made unimportable in this one process, as in a Python without the project's packages.
WITHOUT = (
    "import sys, runpy; sys.modules[{package!r}] = None; "
    "sys.argv = ['review', '-C', sys.argv[1], *sys.argv[2:]]; "
    "runpy.run_module('review', run_name='__main__')"
)
WITHOUT_STRIPE = WITHOUT.format(package="stripe")


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


@pytest.mark.parametrize(
    "command", [["plan", "--stack", "dev"], ["diff", "dev", "prod"], ["drift", "--stack", "dev"]]
)
def test_without_pyyaml_every_command_is_could_not_check_in_one_line(command):
    """PyYAML is imported before any command runs (the stack files are YAML): the system Python
    without it must get the same one line and exit 2, not an import traceback and exit 1."""
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT.format(package="yaml"), str(REPO), *command],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/nonexistent"},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: could not check: the Python package 'yaml'")
    assert ".venv/bin/python -m review" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
