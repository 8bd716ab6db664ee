"""function/requirements.txt, what Cloud Functions installs: generated, hashed, the dev versions.

The lock is `make lock`'s output (tools/lock_function.py, uv) for the python312 runtime; the
development environment (constraints.txt) runs the same versions; the archive Pulumi uploads
carries it. tests/function/test_installed_packages.py checks it against the running interpreter.
"""

from __future__ import annotations

import difflib
import io
import zipfile

from infra.archive import build_archive
from tests.support.function_pins import (
    CONSTRAINTS,
    FUNCTION,
    INPUT,
    LOCK,
    hashed_pins,
    pins,
)
from tools.lock_function import LockError, generate


def test_the_lock_is_what_make_lock_generates():
    try:
        wanted = generate(offline=True)  # uv's cache, when it already holds every package
    except LockError:
        wanted = generate()  # a cold cache: uv reads the package index, as `make lock` does
    committed = LOCK.read_text(encoding="utf-8")
    diff = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            "committed",
            "make lock",
            n=0,
        )
    )
    shown = "".join(diff[:30]) + (
        f"... and {len(diff) - 30} more lines\n" if len(diff) > 30 else ""
    )
    assert committed == wanted, f"{LOCK.name} is not what `make lock` generates now:\n{shown}"


def test_the_lock_pins_every_package_at_the_version_the_dev_environment_runs():
    dev = pins(CONSTRAINTS)
    differ = {
        name: f"{LOCK.name} {version}, {CONSTRAINTS.name} {dev.get(name, 'not pinned')}"
        for name, version in pins(LOCK).items()
        if dev.get(name) != version
    }
    assert not differ, f"the deployed function and the dev environment differ: {differ}"


def test_the_lock_keeps_the_versions_requirements_in_names():
    locked = pins(LOCK)
    differ = {
        name: f"{INPUT.name} {version}, {LOCK.name} {locked.get(name, 'not pinned')}"
        for name, version in pins(INPUT).items()
        if locked.get(name) != version
    }
    assert not differ, f"run `make lock`: {differ}"


def test_every_locked_package_carries_the_hashes_pip_checks():
    hashes = hashed_pins(LOCK)
    unhashed = sorted(name for name in pins(LOCK) if not hashes.get(name))
    assert not unhashed, (
        f"pip's hash-checking mode refuses the whole file: no --hash for {unhashed}"
    )


def test_the_lock_names_functions_framework_so_the_runtime_adds_no_other_version():
    # Google's Python buildpack installs its own functions-framework unless requirements.txt
    # has a line starting with that name.
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("functions-framework==") for line in lines)


def test_the_archive_pulumi_uploads_carries_the_lock(tmp_path):
    built = build_archive(FUNCTION, tmp_path)
    with zipfile.ZipFile(io.BytesIO(built.path.read_bytes())) as archive:
        deployed = archive.read("requirements.txt")
    assert deployed == LOCK.read_bytes(), "the uploaded requirements.txt is not the lock"
