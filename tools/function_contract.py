"""Write the function's environment contract table into docs/architecture.md, from the code.

`python -m tools.function_contract` rewrites the table between docs/architecture.md's
`<!-- function-contract:begin -->` and `<!-- function-contract:end -->` markers with
`billing_portal.settings.contract_table()`; `--check` only reports whether it is current.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO / "function"))

from billing_portal.settings import contract_table  # noqa: E402

DOC = REPO / "docs" / "architecture.md"
_BLOCK = re.compile(
    r"(<!-- function-contract:begin -->\n)(.*?)(<!-- function-contract:end -->)", re.DOTALL
)


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, verify) the documented contract table; 1 if it was stale."""
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    text = DOC.read_text(encoding="utf-8")
    match = _BLOCK.search(text)
    if match is None:
        print("docs/architecture.md has no function-contract markers", file=sys.stderr)
        return 1
    current = match.group(2) == contract_table()
    if check or current:
        state = "current" if current else "stale"
        print(f"docs/architecture.md function contract table is {state}")
        return 0 if current else 1
    DOC.write_text(
        text[: match.start(2)] + contract_table() + text[match.end(2) :], encoding="utf-8"
    )
    print("docs/architecture.md function contract table rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
