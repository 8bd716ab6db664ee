"""The interpreter running these tests holds exactly what function/requirements.txt pins.

These run wherever the function's tests run: in the development environment (Python 3.11, built
from constraints.txt) and in the python312 one `make test-py312` builds from the lock alone. So
both test the versions Cloud Functions installs, and the lock leaves out nothing the function
needs on the python312 runtime.
"""

from __future__ import annotations

import sys

from tests.support.function_pins import (
    LOCK,
    direct_requirements,
    distribution_of,
    installed_versions,
    pins,
    runtime_closure,
    source_imports,
)

HERE = f"Python {sys.version.split()[0]} at {sys.prefix}"


def test_every_package_the_lock_pins_is_installed_at_its_pinned_version():
    pinned = pins(LOCK)
    installed = installed_versions(pinned)
    wrong = {
        name: f"installed {installed[name] or 'nothing'}, {LOCK.name} pins {version}"
        for name, version in pinned.items()
        if installed[name] != version
    }
    assert not wrong, f"{HERE} does not run what the function deploys with: {wrong}"


def test_the_function_packages_pull_in_exactly_the_packages_the_lock_pins():
    closure = runtime_closure(direct_requirements())
    pinned = pins(LOCK)
    unpinned = {
        name: f"required by {by or 'requirements.in'}"
        for name, by in closure.pulled_by.items()
        if name not in pinned
    }
    assert not closure.not_installed, f"{HERE} lacks {closure.not_installed}"
    assert not unpinned, (
        f"the function needs these on python312 but {LOCK.name} does not pin them (`make lock`): "
        f"{unpinned}"
    )
    assert not set(pinned) - set(closure.pulled_by), (
        f"{LOCK.name} pins packages nothing in requirements.in needs (`make lock`): "
        f"{sorted(set(pinned) - set(closure.pulled_by))}"
    )


def test_every_package_the_function_source_imports_comes_from_a_pinned_distribution():
    pinned = pins(LOCK)
    owners = {
        module: (distribution_of(module), where) for module, where in source_imports().items()
    }
    unpinned = {
        module: f"{owner or 'no installed distribution'} (imported in {where})"
        for module, (owner, where) in owners.items()
        if owner not in pinned
    }
    assert owners, "found no import of an installed package in function/: the scan is broken"
    assert not unpinned, f"the function imports what {LOCK.name} does not pin: {unpinned}"
