"""Test harness: the Pulumi program under mocks, and small configs for the settings tests.

`run_program` feeds a stack's config to the program exactly as the engine does (Pulumi.yaml
defaults applied, every value as text, secret keys flagged), runs it against Pulumi's mock
monitor and records every resource registration: type, name, parent, provider and real inputs
(secrets still wrapped, so tests can tell they are secret).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings

from infra.program import build
from infra.stack_config import load_settings
from tests.infra.mocks import RecordingMocks
from tests.stackspec.stack_configs import (
    FUNCTION_KEY,
    REPO,
    engine_config,
)

ADMIN_KEY = "sk_test_AdminKey00000000000000000000002"


@dataclass
class Registration:
    type: str
    name: str
    parent: str
    provider: str
    inputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)  # URNs it depends on (any input)
    outputs: dict[str, Any] = field(default_factory=dict)  # what the mocks returned
    urn: str = ""  # as the mock monitor makes it (its type chain starts at the root stack)

    @property
    def parent_name(self) -> str:
        return self.parent.rsplit("::", 1)[-1] if self.parent else ""

    def plain(self, *path: str) -> Any:
        """An input by path, secrets unwrapped."""
        value: Any = self.inputs
        for key in path:
            value = rpc.unwrap_rpc_secret(value)[key]
        return rpc.unwrap_rpc_secret(value)


@dataclass
class ProgramRun:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    build_dir: Path
    config: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what `pulumi.log.warn` reported

    def depends_on(self, dependent: Registration, dependency: Registration) -> bool:
        """Whether `dependent` names `dependency` among its dependencies (inputs or dependsOn)."""
        return any(
            urn_names(urn) == (dependency.type, dependency.name) for urn in dependent.dependencies
        )

    def all(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        """The one registration of `type_` (named `name`, when several share the type)."""
        found = [r for r in self.all(type_) if name is None or r.name == name]
        names = [r.name for r in found]
        assert len(found) == 1, f"expected one {type_} {name or ''}, found {names}"
        return found[0]


def urn_names(urn: str) -> tuple[str, str]:
    """(type, name) of a URN `urn:pulumi:<stack>::<project>::<parent types$>type::name`."""
    *_, qualified_type, name = urn.split("::")
    return qualified_type.rsplit("$", 1)[-1], name


class _Recorder(logging.Handler):
    """Keeps the messages the program logs at warning level (the mock engine's `Log`)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    provider=request.provider,
                    inputs=rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                    outputs=rpc.deserialize_properties(response.object),
                    urn=response.urn,
                )
            )
        return response


def load_stack(stack: str) -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"])


def default_secrets() -> dict[str, str]:
    return {"billing-portal:stripeSecretKey": FUNCTION_KEY}


def run_program(
    stack: str,
    stack_config: Mapping[str, Any],
    build_dir: Path,
    secrets: Mapping[str, str] | None = None,
) -> ProgramRun:
    """Run the whole program (engine config → load_settings → build) under mocks."""
    config, secret_keys = engine_config(
        stack_config, default_secrets() if secrets is None else secrets
    )
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    recorder = _Recorder()
    logger = logging.getLogger(f"{__name__}.{stack}.{id(recorder)}")
    logger.propagate = False
    logger.addHandler(recorder)
    pulumi_settings.set_root_resource(None)  # a fresh root stack resource for this run
    pulumi.runtime.set_mocks(
        mocks,
        project="billing-portal",
        stack=stack,
        preview=False,
        logger=logger,
        monitor=monitor,
    )
    pulumi.runtime.set_all_config(config, secret_keys)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        stack_outputs = build(load_settings(), build_dir=build_dir)
        return pulumi.Output.from_input(stack_outputs).apply(outputs.update)

    with warnings.catch_warnings():
        # pulumi_gcp's lazy loader deprecates one of its own misspelled module names
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi_gcp\.")
        program()
    logger.removeHandler(recorder)
    return ProgramRun(
        stack, monitor.registrations, outputs, build_dir, config, warnings=recorder.messages
    )


def walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from walk_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from walk_strings(item)
    elif value is not None:
        yield str(value)
