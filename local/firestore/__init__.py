"""The local Firestore emulator: ``launcher.mjs`` and its Python handle."""

from local.firestore.emulator import (
    ExternalFirestoreEmulator,
    FirestoreEmulator,
    LauncherRequired,
    emulator_from_environment,
    require_emulator_package,
)

__all__ = [
    "ExternalFirestoreEmulator",
    "FirestoreEmulator",
    "LauncherRequired",
    "emulator_from_environment",
    "require_emulator_package",
]
