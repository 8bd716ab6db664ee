"""``python -m local.issuer --port 9919``: run the development token issuer until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from local.issuer import server
from local.issuer.server import DEFAULT_AUDIENCE, DevIssuer
from local.servers import serve_in_foreground


def main(argv: list[str] | None = None) -> int:
    """Run the issuer in the foreground; print its URL on one line once it listens."""
    parser = argparse.ArgumentParser(prog="python -m local.issuer", description=server.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9919, help="0 picks a free port")
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    parser.add_argument("--jwks-max-age", type=int, default=300)
    parser.add_argument(
        "--jwks-cache-control", default=None, help="the whole Cache-Control header of /jwks"
    )
    args = parser.parse_args(argv)
    issuer = DevIssuer(
        args.host,
        args.port,
        audience=args.audience,
        jwks_max_age=args.jwks_max_age,
        jwks_cache_control=args.jwks_cache_control,
    )
    return serve_in_foreground(
        issuer,
        lambda: (
            f"Development token issuer listening on {issuer.url} "
            f"(issuer {issuer.issuer}, audience {issuer.audience}, jwks {issuer.jwks_url})"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
