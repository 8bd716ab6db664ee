"""``python -m local.stripe --host 127.0.0.1 --port 12111``: run until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from local.servers import serve_in_foreground
from local.stripe.standin import StripeStandin


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in in the foreground; print its URL on one line once it listens."""
    parser = argparse.ArgumentParser(prog="python -m local.stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="accept only this key (repeatable); default: any sk_/rk_ test or live key",
    )
    args = parser.parse_args(argv)
    standin = StripeStandin(args.host, args.port, api_keys=args.api_keys)
    return serve_in_foreground(standin, lambda: f"Stripe stand-in listening on {standin.url}")


if __name__ == "__main__":
    sys.exit(main())
