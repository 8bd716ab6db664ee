"""The function's environment contract, for the local parts that start the function.

`function/billing_portal/settings.py` owns it; this loads that module (standard library only)
from the repository's `function/` directory, which the local run and the benchmark do not have
on their import path otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parent.parent / "function"
if str(FUNCTION_DIR) not in sys.path:
    sys.path.append(str(FUNCTION_DIR))

from billing_portal.settings import (  # noqa: E402
    CONTRACT,
    FIREBASE_JWKS_URL,
    build_environment,
    is_secure_web_url,
    load_settings,
    web_origin,
)

__all__ = [
    "CONTRACT",
    "FIREBASE_JWKS_URL",
    "build_environment",
    "is_secure_web_url",
    "load_settings",
    "web_origin",
]
