"""Start the project's local servers for tests and hand out their handles.

- Stripe stand-in: in this process (a thread); the handle is a ``StandinControl``.
- Firestore emulator: the node launcher as a child process, or the emulator named by
  ``FIRESTORE_EMULATOR_HOST`` when that is set (the gcloud emulator works too).
- Development token issuer: in this process (a thread).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from local.firestore import ExternalFirestoreEmulator, FirestoreEmulator, emulator_from_environment
from local.issuer import DevIssuer
from local.stripe import StandinControl, StripeStandin
from tests.support.processes import log_path


@contextmanager
def running_stripe_standin() -> Iterator[StandinControl]:
    """A stand-in for the duration of the block."""
    with StripeStandin() as standin:
        control = standin.control()
        try:
            yield control
        finally:
            control.close()


@contextmanager
def running_firestore_emulator() -> Iterator[FirestoreEmulator | ExternalFirestoreEmulator]:
    """The project's emulator (or the external one) for the duration of the block."""
    external = emulator_from_environment()
    if external is not None:
        yield external
        return
    emulator = FirestoreEmulator.start(log_path=log_path("firestore-emulator"))
    try:
        yield emulator
    finally:
        emulator.stop()


@contextmanager
def running_dev_issuer(**options: object) -> Iterator[DevIssuer]:
    """A token issuer for the duration of the block (``options`` go to ``DevIssuer``)."""
    with DevIssuer(**options) as issuer:  # type: ignore[arg-type]
        yield issuer
