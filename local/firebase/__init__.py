"""The Firebase Auth emulator of the pinned npm `firebase-tools`, started offline (see `auth`)."""

from local.firebase.auth import DEMO_PREFIX, FirebaseAuthEmulator, require_firebase_tools

__all__ = ["DEMO_PREFIX", "FirebaseAuthEmulator", "require_firebase_tools"]
