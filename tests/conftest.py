"""Shared fixtures: the real local servers. The logic lives in tests/support."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from local.firestore import ExternalFirestoreEmulator, FirestoreEmulator
from local.issuer import DevIssuer
from local.stripe import StandinControl
from tests.support.servers import (
    running_dev_issuer,
    running_firestore_emulator,
    running_stripe_standin,
)


@pytest.fixture(scope="session")
def stripe_standin() -> Iterator[StandinControl]:
    """The Stripe stand-in, shared by the session; state carries over between tests."""
    with running_stripe_standin() as control:
        yield control


@pytest.fixture
def fresh_stripe_standin(stripe_standin: StandinControl) -> StandinControl:
    """The Stripe stand-in, reset (objects, keys, log, faults, latency) before the test."""
    stripe_standin.reset()
    return stripe_standin


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator | ExternalFirestoreEmulator]:
    """The Firestore emulator shared by the session (external if FIRESTORE_EMULATOR_HOST is set)."""
    with running_firestore_emulator() as emulator:
        yield emulator


@pytest.fixture
def fresh_firestore(
    firestore_emulator: FirestoreEmulator | ExternalFirestoreEmulator,
) -> FirestoreEmulator | ExternalFirestoreEmulator:
    """The emulator with documents, call counts and faults reset (when it is the project's)."""
    if firestore_emulator.supports_control:
        firestore_emulator.reset()
    return firestore_emulator


@pytest.fixture
def firestore_project() -> str:
    """A project id no other test uses, so tests stay isolated even without a reset."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def dev_issuer() -> Iterator[DevIssuer]:
    """The development token issuer shared by the session."""
    with running_dev_issuer() as issuer:
        yield issuer


@pytest.fixture
def fresh_dev_issuer(dev_issuer: DevIssuer) -> DevIssuer:
    """The issuer with its counters zeroed before the test."""
    dev_issuer.reset_stats()
    return dev_issuer
