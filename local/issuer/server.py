"""Development token issuer: an OIDC-ish stand-in for Firebase Auth, for tests and the local run.

Never deployed. It holds RSA-2048 signing keys (rotatable), serves them as JWKS with a
configurable ``Cache-Control``, counts JWKS fetches, and mints ID tokens, including the
malformed and forged ones a verifier must refuse (``alg: none``, HS256 keyed with the public
key, wrong issuer or audience, expired, issued in the future, unknown ``kid``, bad signature).

HTTP: ``GET /jwks``, ``GET /.well-known/openid-configuration``, ``GET /_issuer/stats``,
``POST /_issuer/stats/reset``, ``POST /_issuer/rotate``, and ``POST /_issuer/token``
(``{"sub", "email"}`` → ``{"id_token"}``, CORS-enabled for localhost origins) used by the
example frontend to sign in a development user.

CLI: ``python -m local.issuer --port 9919``. Signing keys and token signing: ``keys``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from local.issuer.keys import SigningKey, sign
from local.servers import HTTPServerThread, KeepAliveHandler

DEFAULT_AUDIENCE = "billing-portal-local"
LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$")


class DevIssuer(HTTPServerThread):
    """Signing keys, token minting, and the HTTP endpoints that publish the keys."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        audience: str = DEFAULT_AUDIENCE,
        issuer: str | None = None,
        jwks_max_age: int = 300,
        jwks_cache_control: str | None = None,
    ) -> None:
        self.audience = audience
        self.jwks_max_age = jwks_max_age
        # The whole Cache-Control header of /jwks when set (e.g. "no-store"), to play an issuer
        # that asks verifiers not to cache; otherwise `public, max-age=<jwks_max_age>`.
        self.jwks_cache_control = jwks_cache_control
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = [SigningKey.generate()]
        self._foreign_key: SigningKey | None = None
        self._minted: list[str] = []
        self._stats = {"jwks_fetches": 0, "discovery_fetches": 0, "tokens_issued": 0}
        super().__init__((host, port), _Handler, name="dev-issuer")
        self.issuer = issuer or self.url

    @property
    def jwks_url(self) -> str:
        """Where verifiers fetch the public keys."""
        return f"{self.url}/jwks"

    # --- keys ------------------------------------------------------------------------------

    @property
    def current_kid(self) -> str:
        """The kid new tokens are signed with."""
        with self._lock:
            return self._keys[-1].kid

    def kids(self) -> list[str]:
        """Key ids currently published, oldest first."""
        with self._lock:
            return [key.kid for key in self._keys]

    def rotate(self, *, retire_old: bool = False) -> str:
        """Add a new signing key and sign with it from now on; return its kid.

        The old keys stay published (tokens they signed remain valid) unless ``retire_old``.
        """
        key = SigningKey.generate()
        with self._lock:
            self._keys = [key] if retire_old else [*self._keys, key]
        return key.kid

    def retire(self, kid: str) -> None:
        """Stop publishing a key (tokens it signed no longer verify)."""
        with self._lock:
            remaining = [key for key in self._keys if key.kid != kid]
            if not remaining:
                raise ValueError("cannot retire the only signing key")
            self._keys = remaining

    def jwks(self) -> dict[str, Any]:
        """The JWKS document."""
        with self._lock:
            return {"keys": [key.jwk() for key in self._keys]}

    def public_pem(self, kid: str | None = None) -> bytes:
        """PEM of a published public key (the current one by default)."""
        return self._key(kid or self.current_kid).public_pem()

    def _key(self, kid: str) -> SigningKey:
        with self._lock:
            for key in self._keys:
                if key.kid == kid:
                    return key
            return self._keys[-1]

    def _foreign(self) -> SigningKey:
        with self._lock:
            if self._foreign_key is None:
                self._foreign_key = SigningKey.generate()
            return self._foreign_key

    # --- tokens ----------------------------------------------------------------------------

    def claims(
        self,
        sub: str | None = "dev-user",
        *,
        email: str | None = None,
        email_verified: bool | None = None,
        aud: str | list[str] | None = None,
        iss: str | None = None,
        exp_in: int = 3600,
        iat: int | None = None,
        omit: Iterable[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """The payload ``mint`` signs: Firebase-like claims, with overrides and omissions."""
        issued = int(time.time()) if iat is None else int(iat)
        payload: dict[str, Any] = {
            "iss": self.issuer if iss is None else iss,
            "aud": self.audience if aud is None else aud,
            "auth_time": issued,
            "iat": issued,
            "exp": int(time.time()) + exp_in,
        }
        if sub is not None:
            payload["sub"] = sub
            payload["user_id"] = sub
        if email is not None:
            payload["email"] = email
        if email_verified is not None:
            payload["email_verified"] = email_verified
        payload.update(extra)
        for name in omit:
            payload.pop(name, None)
        return payload

    def mint(
        self,
        sub: str | None = "dev-user",
        *,
        kid: str | None = None,
        alg: str = "RS256",
        foreign_key: bool = False,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """Mint an ID token; every argument exists so tests can forge a bad one.

        - ``claims``: what ``claims()`` takes (``email``, ``email_verified``, ``aud``, ``iss``,
          ``exp_in``, ``iat``, ``omit`` and any extra claim).
        - ``sub=None`` or ``omit=("sub",)``: no subject; ``omit`` drops any claim.
        - ``exp_in=-60``: expired; ``iat=time.time() + 3600``: issued in the future.
        - ``kid="nope"``: a kid the JWKS does not have (signed with the current key);
          a published kid signs with that key.
        - ``alg="none"``: unsigned; ``alg="HS256"``: HMAC keyed with the public key PEM
          (the key-confusion attack); ``RS384``/``RS512``/``PS256``: other RSA algorithms.
        - ``foreign_key=True``: a valid-looking kid but signed by a key the JWKS lacks.
        - ``headers``: extra or overriding JOSE header fields.
        """
        payload = self.claims(sub, **claims)
        key = self._key(kid) if kid else self._key(self.current_kid)
        header = {"alg": alg, "typ": "JWT", "kid": kid or key.kid, **(headers or {})}
        if foreign_key:
            key = self._foreign()
        token = sign(header, payload, key)
        with self._lock:
            self._stats["tokens_issued"] += 1
            self._minted.append(token)
        return token

    def minted_tokens(self) -> list[str]:
        """Every token minted so far (tests scan logs for them: tokens must never be logged)."""
        with self._lock:
            return list(self._minted)

    # --- stats -----------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """``jwks_fetches``, ``discovery_fetches`` and ``tokens_issued`` since the last reset."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        """Zero the counters."""
        with self._lock:
            self._stats = dict.fromkeys(self._stats, 0)

    def count(self, name: str) -> None:
        """Increment one counter (used by the HTTP handler)."""
        with self._lock:
            self._stats[name] += 1

    def discovery(self) -> dict[str, Any]:
        """The ``/.well-known/openid-configuration`` document."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "token_endpoint": f"{self.url}/_issuer/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "email", "email_verified", "iss", "aud", "iat", "exp"],
        }


class _Handler(KeepAliveHandler):
    @property
    def issuer(self) -> DevIssuer:
        return self.server.owner  # type: ignore[attr-defined]

    def _cors(self) -> dict[str, str]:
        origin = self.headers.get("Origin", "")
        if not LOCAL_ORIGIN.match(origin):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }

    def do_OPTIONS(self) -> None:
        """CORS preflight for the token endpoint."""
        self.read_body()
        self.send_bytes(204, b"", "text/plain", self._cors())

    def do_GET(self) -> None:
        """JWKS, discovery, stats."""
        self.read_body()
        path = self.path.split("?", 1)[0]
        issuer = self.issuer
        if path == "/jwks":
            issuer.count("jwks_fetches")
            header = issuer.jwks_cache_control or f"public, max-age={issuer.jwks_max_age}"
            cache = {"Cache-Control": header}
            self.send_json(200, issuer.jwks(), cache)
        elif path == "/.well-known/openid-configuration":
            issuer.count("discovery_fetches")
            self.send_json(200, issuer.discovery())
        elif path == "/_issuer/stats":
            self.send_json(200, issuer.stats())
        elif path == "/":
            # The address the local run's summary lists: say what lives here.
            self.send_json(
                200,
                {
                    "what": "billing-portal development sign-in (local only, never deployed)",
                    "issuer": issuer.issuer,
                    "audience": issuer.audience,
                    "jwks": issuer.jwks_url,
                    "token": f"{issuer.url}/_issuer/token",
                },
            )
        else:
            self.send_json(404, {"error": f"no such path: {path}"})

    def do_POST(self) -> None:
        """Token minting for the local frontend, key rotation, stats reset."""
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        issuer = self.issuer
        if path == "/_issuer/token":
            self._token(body)
        elif path == "/_issuer/rotate":
            self.send_json(200, {"kid": issuer.rotate()})
        elif path == "/_issuer/stats/reset":
            issuer.reset_stats()
            self.send_json(200, issuer.stats())
        else:
            self.send_json(404, {"error": f"no such path: {path}"})

    def _token(self, body: bytes) -> None:
        try:
            request = json.loads(body or b"{}")
            sub = request["sub"]
            if not isinstance(sub, str) or not sub:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            self.send_json(
                400, {"error": 'expected JSON {"sub": "...", "email": "..."}'}, self._cors()
            )
            return
        email = request.get("email")
        verified = request.get("email_verified", email is not None)
        token = self.issuer.mint(sub, email=email, email_verified=verified if email else None)
        self.send_json(200, {"id_token": token, "expires_in": 3600}, self._cors())
