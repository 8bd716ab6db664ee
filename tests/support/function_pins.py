"""The function's pinned packages (function/requirements.txt) against an installed environment.

Used in every interpreter that runs the function's tests (the development environment on 3.11
and the python312 one `make test-py312` builds from the lock alone), so it needs only the
standard library and `packaging`, which is one of the function's own packages.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
FUNCTION = REPO / "function"
LOCK = FUNCTION / "requirements.txt"
INPUT = FUNCTION / "requirements.in"
CONSTRAINTS = REPO / "constraints.txt"

# Cloud Functions' python312 runtime on Linux: the environment the lock is generated for
# (tools/lock_function.py), so markers are read the same way under any test interpreter.
RUNTIME_MARKERS: Mapping[str, str] = {
    **default_environment(),
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def canonical(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503): `PyJWT` → `pyjwt`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a requirements file: no comments, options or hash lines."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")) and not raw[:1].isspace():
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, str]:
    """Canonical name → exact version of every `name==version` line; any other line is an error."""
    pinned: dict[str, str] = {}
    for line in requirement_lines(path):
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"{path.name}: {line!r} is not pinned to one version (name==version)")
        pinned[canonical(match["name"])] = match["version"]
    return pinned


def hashed_pins(path: Path) -> dict[str, int]:
    """Canonical name → how many `--hash=` options follow its line in a generated lock."""
    counts: dict[str, int] = {}
    current: str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(raw)
        if match is not None:
            current = canonical(match["name"])
            counts[current] = 0
        elif current is not None and raw.strip().startswith("--hash=sha256:"):
            counts[current] += 1
        elif not raw.strip().startswith("#"):
            current = None
    return counts


def installed_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Canonical name → the version installed in this interpreter, or None when absent."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


@dataclass(frozen=True)
class Closure:
    """What the function's direct packages pull in, as installed here."""

    pulled_by: dict[str, str]  # canonical name → the distribution that requires it ("" = input)
    not_installed: tuple[str, ...]


def runtime_closure(direct: Iterable[Requirement]) -> Closure:
    """Every distribution `direct` needs on the python312 runtime, read from installed metadata.

    Extras are followed (`google-api-core[grpc]` brings grpcio); markers are evaluated for
    Cloud Functions' Linux python312, not for the interpreter running the test.
    """
    pulled_by: dict[str, str] = {}
    missing: list[str] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    queue: list[tuple[Requirement, str]] = [(requirement, "") for requirement in direct]
    while queue:
        requirement, parent = queue.pop()
        name = canonical(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        pulled_by.setdefault(name, parent)
        try:
            needs = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        extras = {"", *requirement.extras}
        for text in needs:
            need = Requirement(text)
            if need.marker is None or any(
                need.marker.evaluate({**RUNTIME_MARKERS, "extra": extra}) for extra in extras
            ):
                queue.append((need, name))
    return Closure(pulled_by=pulled_by, not_installed=tuple(sorted(missing)))


def direct_requirements() -> list[Requirement]:
    """The function's direct packages, as function/requirements.in names them."""
    return [Requirement(line) for line in requirement_lines(INPUT)]


def source_imports() -> dict[str, str]:
    """Every module the function's source imports from outside itself → the first file doing so.

    `from a.b import c` is recorded as `a.b.c` when that is a module, else `a.b`; the standard
    library and the function's own modules are left out.
    """
    local = {path.stem for path in FUNCTION.glob("*.py")} | {
        path.name for path in FUNCTION.iterdir() if (path / "__init__.py").is_file()
    }
    found: dict[str, str] = {}
    for path in sorted(FUNCTION.rglob("*.py")):
        where = str(path.relative_to(REPO))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [_submodule_or_module(node.module, alias.name) for alias in node.names]
            else:
                continue
            for module in modules:
                top = module.split(".", 1)[0]
                if top in sys.stdlib_module_names or top in local or top == "__future__":
                    continue
                found.setdefault(module, where)
    return found


def _submodule_or_module(module: str, name: str) -> str:
    candidate = f"{module}.{name}"
    try:
        importlib.import_module(candidate)
    except ImportError:
        return module
    return candidate


def distribution_of(module: str) -> str | None:
    """The canonical name of the installed distribution whose files hold `module`, or None."""
    origin = getattr(importlib.import_module(module), "__file__", None)
    return None if origin is None else _file_owners().get(os.path.realpath(origin))


@functools.cache
def _file_owners() -> dict[str, str]:
    """Real path of every installed .py file → the canonical name of its distribution."""
    owners: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        root = os.path.realpath(distribution.locate_file(""))
        for file in distribution.files or ():
            if file.suffix == ".py":
                path = os.path.normpath(os.path.join(root, str(file)))
                owners.setdefault(path, canonical(distribution.metadata["Name"]))
    return owners
