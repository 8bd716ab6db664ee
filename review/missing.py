"""The one line the review tool prints when run by a Python without its packages.

Imports nothing outside the standard library, so `review/__main__.py` can use it even when the
import of the tool itself fails (PyYAML is needed before any command runs).
"""

from __future__ import annotations

import sys


def missing_package_line(name: str | None) -> str:
    """`error: could not check: …` naming the package and the command to use instead."""
    return (
        f"error: could not check: the Python package {name!r} is not installed in "
        f"this Python ({sys.executable}); run `.venv/bin/python -m review …` (the project's "
        "virtualenv), or `pip install -c constraints.txt pyyaml stripe requests`\n"
    )
