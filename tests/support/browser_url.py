"""How a browser reads URLs (WHATWG, via Node's `URL`), to compare with the function's reading."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HELPER = Path(__file__).with_name("browser_url.mjs")


def browser_origins(urls: list[str]) -> list[str | None]:
    """`new URL(url).origin` for each URL in one Node process; None where the parser throws.

    An opaque origin (e.g. `javascript:`) comes back as the string "null".
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH; the URL agreement tests need it")
    stdin = "".join(json.dumps(url) + "\n" for url in urls)
    result = subprocess.run(
        [node, str(HELPER)], input=stdin, capture_output=True, text=True, timeout=60, check=True
    )
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(urls), result.stderr
    return answers
