"""Signing keys and token signing, including the forgeries a verifier must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

# Well-formed-looking and plainly broken strings a verifier must reject without crashing.
GARBAGE_TOKENS = (
    "",
    "not-a-jwt",
    "a.b.c",
    "eyJhbGciOiJSUzI1NiJ9.e30",
    "eyJhbGciOiJSUzI1NiJ9.%%%.sig",
    "Bearer",
    "x" * 10_000,
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(value: dict[str, Any]) -> str:
    return _b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


@dataclass(frozen=True)
class SigningKey:
    """One RSA key pair and its key id."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh RSA-2048 key; the kid is derived from the public key, like a thumbprint."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(kid=hashlib.sha256(public_der).hexdigest()[:16], private_key=private_key)

    def public_pem(self) -> bytes:
        """The public key as PEM (what an HS256 key-confusion forgery uses as its secret)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict[str, Any]:
        """The public JWK as published in the JWKS."""
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}


def sign(header: dict[str, Any], payload: dict[str, Any], key: SigningKey) -> str:
    """The token for ``header`` and ``payload``: unsigned for ``alg: none``, HMAC keyed with the
    public key PEM for ``HS256`` (the key-confusion forgery), else signed with ``key``."""
    alg = header["alg"]
    if alg == "none":
        return f"{_b64json(header)}.{_b64json(payload)}."
    if alg == "HS256":
        # PyJWT refuses an asymmetric key as an HMAC secret, so the forgery is built by hand.
        signing_input = f"{_b64json(header)}.{_b64json(payload)}"
        signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256)
        return f"{signing_input}.{_b64url(signature.digest())}"
    extra_header = {k: v for k, v in header.items() if k != "alg"}
    return jwt.encode(payload, key.private_key, algorithm=alg, headers=extra_header)
