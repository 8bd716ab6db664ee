"""The development token issuer: an OIDC-ish stand-in for Firebase Auth (``server``), its
signing keys and forgeries (``keys``), and its command line (``python -m local.issuer``)."""

from local.issuer.keys import GARBAGE_TOKENS, SigningKey
from local.issuer.server import DEFAULT_AUDIENCE, DevIssuer

__all__ = ["DEFAULT_AUDIENCE", "GARBAGE_TOKENS", "DevIssuer", "SigningKey"]
