"""`python -m bench [--smoke] [--threads N] [--latency-ms D] [--function-dir DIR] [--out DIR]`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from bench.client import BenchError
from bench.latency import MAX_DELAY_MS
from bench.run import FULL, SMOKE, run
from bench.servers import FUNCTION_DIR
from local.process import ServerProcessError

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_THREADS = 8  # functions-framework's own default on this 2-CPU machine (4 per CPU)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the function against its floors: cold start, warm latency, "
        "one instance under load, signing-key fetches. Prints a table, writes JSON.",
    )
    parser.add_argument("--smoke", action="store_true", help="a short run for CI (< 60 s)")
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        metavar="N",
        help=f"gunicorn threads of the one worker (default {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--function-dir",
        type=Path,
        default=FUNCTION_DIR,
        metavar="DIR",
        help="the function's source root (default function/; e.g. a scratch copy with a fix)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=None,
        metavar="D",
        help="the latency mode's delay, each way (default 20; --smoke: 5); its rows also run at 0",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where the JSON goes (default bench/results/)",
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    function_dir = args.function_dir.resolve()
    if not (function_dir / "main.py").is_file():
        parser.error(f"{function_dir} has no main.py")
    profile = SMOKE if args.smoke else FULL
    if args.latency_ms is not None:
        if not 0 < args.latency_ms <= MAX_DELAY_MS:
            parser.error(f"--latency-ms must be within (0, {MAX_DELAY_MS:g}]")
        profile = dataclasses.replace(profile, latency_ms=args.latency_ms)
    try:
        return run(profile, function_dir=function_dir, threads=args.threads, out_dir=args.out)
    except (BenchError, ServerProcessError) as error:
        print(f"bench: {error}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
