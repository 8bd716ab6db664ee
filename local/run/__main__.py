"""`python -m local.run`: parse the options, start everything, print the table, stop on Ctrl-C.

`python -m local.run --serve-function PORT` is the function's own child (see `parts.py`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from local.process import ServerProcessError
from local.run.options import RunError, check_ports, parse_options
from local.run.parts import SERVE_FUNCTION_FLAG, serve_function
from local.run.stack_portal import stack_settings
from local.run.supervisor import (
    LocalRun,
    Stop,
    Workspace,
    ignore_signals,
    install_signal_handlers,
    summary,
    supervise,
)


def _fail(message: str) -> None:
    print(f"local.run: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; return the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [SERVE_FUNCTION_FLAG] and len(args) in (2, 3):
        return serve_function(int(args[1]), *args[2:])
    try:
        options = parse_options(args, os.environ)
        stack_settings(options.stack)  # a missing or broken stack file: one line, exit 2
        check_ports(options)
    except RunError as error:
        _fail(str(error))
        return error.exit_code
    install_signal_handlers()
    workspace = Workspace.create(options.log_dir)
    run = LocalRun(options, workspace.path)
    status = 0
    try:
        print("Starting billing-portal locally…", flush=True)
        run.start()
        assert run.firestore is not None
        print(summary(options, run.firestore.host, workspace.path, run.portal), flush=True)
        supervise(run)
    except Stop:
        print("\nStopping…", flush=True)
    except (RunError, ServerProcessError, RuntimeError) as error:
        _fail(str(error))
        status = 1
    finally:
        ignore_signals()
        run.stop()
        workspace.finish(clean=status == 0)
    if status == 0:
        print("Stopped; nothing left running.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
