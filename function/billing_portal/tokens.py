"""ID-token verification: RS256 signature, issuer, audience, expiry, issue time and subject.

In Firebase Auth emulator mode (`settings.auth_emulator_mode`, local only) `EmulatorTokenVerifier`
takes the emulator's unsigned tokens instead, with the same claim checks.

Signing keys come from the issuer's JWKS URL and are cached as long as its Cache-Control allows,
but never less than `MIN_KEY_LIFETIME` (an issuer answering `max-age=0` or `no-store` would
otherwise cost a key fetch per request), so a warm request makes no network call for keys. An
unknown `kid` (the issuer rotated keys) triggers one early refresh, at most once per
`min_refresh_seconds`, so a flood of forged `kid`s cannot turn into a flood of key fetches.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from jwt.types import Options

from .errors import Unauthorized, Unavailable

ALGORITHM = "RS256"
MAX_TOKEN_LENGTH = 8192
FAILED_FETCH_BACKOFF = 5.0  # seconds; also the Retry-After of the 503 meanwhile
# Keys are public and rotate rarely (a new kid is fetched early anyway), so keeping them a minute
# against the issuer's wish costs nothing and bounds fetches to one a minute per instance.
MIN_KEY_LIFETIME = 60.0
MAX_KEY_LIFETIME = 24 * 3600.0
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-store|no-cache)\b", re.IGNORECASE)
# A JWS in compact form: three base64url segments without padding (RFC 7515, section 2), the
# last empty for an Auth emulator token. Python's decoder also takes padding and `+`/`/`, so
# without this one unsigned emulator token would have many spellings.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Caller:
    """The verified user: the token's subject and, only if verified, its email."""

    uid: str
    email: str | None = None


def cache_lifetime(cache_control: str | None, age: str | None, default: float) -> float:
    """Seconds to reuse a JWKS response: its Cache-Control max-age less its Age, clamped.

    `no-store`/`no-cache`, `max-age=0` or a stale `Age` give `MIN_KEY_LIFETIME`, never 0.
    """
    if cache_control and _NO_CACHE.search(cache_control):
        return MIN_KEY_LIFETIME
    match = _MAX_AGE.search(cache_control or "")
    lifetime = float(match.group(1)) if match else default
    if age and age.isdigit():
        lifetime -= float(age)
    return max(MIN_KEY_LIFETIME, min(lifetime, MAX_KEY_LIFETIME))


class SigningKeys:
    """The issuer's public keys by `kid`, fetched from its JWKS URL and cached."""

    def __init__(
        self,
        jwks_url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 5.0,
        default_lifetime: float = 300.0,
        min_refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = jwks_url
        self._session = session or requests.Session()
        self._timeout = timeout
        self._default_lifetime = default_lifetime
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._expires_at = float("-inf")
        self._fetched_at = float("-inf")
        # After a failed fetch with no keys cached: no new fetch before this time, so a key
        # server that is down costs one fetch per FAILED_FETCH_BACKOFF, not one per request.
        self._retry_at = float("-inf")

    def prefetch(self) -> None:
        """Fetch the keys now (at cold start, beside the framework's boot) if none are cached.

        A failure is left for the first request to retry and report.
        """
        with self._lock:
            if self._keys:
                return
            with contextlib.suppress(Unavailable):  # keys stay expired: the caller retries
                self._refresh(self._clock())
            self._retry_at = float("-inf")  # the first request retries at once; then back off

    def key_for(self, kid: str) -> Any:
        """The public key for `kid`; raise `Unauthorized` if the issuer does not know it."""
        now = self._clock()
        keys = self._keys
        if now < self._expires_at and kid in keys:
            return keys[kid]  # the warm path: no lock, no I/O
        with self._lock:
            now = self._clock()
            if not self._keys and now < self._retry_at:
                raise _keys_unavailable(self._retry_at - now)
            expired = now >= self._expires_at
            rotated = kid not in self._keys and now - self._fetched_at >= self._min_refresh
            if expired or rotated:
                self._refresh(now)
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token was signed with an unknown key.")
        return key

    def _refresh(self, now: float) -> None:
        self._fetched_at = now
        try:
            response = self._session.get(self._url, timeout=self._timeout)
            response.raise_for_status()
            keys = {
                jwk["kid"]: jwt.PyJWK(jwk).key
                for jwk in response.json()["keys"]
                if jwk.get("kid")
                and jwk.get("kty") == "RSA"
                and jwk.get("alg", ALGORITHM) == ALGORITHM
            }
        except (requests.RequestException, ValueError, KeyError, TypeError, jwt.PyJWKError):
            if self._keys:
                # Keep trusting the keys we have for a short while rather than failing everyone.
                self._expires_at = now + self._min_refresh
                return
            self._retry_at = now + FAILED_FETCH_BACKOFF
            raise _keys_unavailable(FAILED_FETCH_BACKOFF) from None
        self._keys = keys
        self._expires_at = now + cache_lifetime(
            response.headers.get("Cache-Control"),
            response.headers.get("Age"),
            self._default_lifetime,
        )


def _keys_unavailable(retry_in: float) -> Unavailable:
    return Unavailable(
        "The identity provider's signing keys could not be fetched; try again shortly.",
        code="auth_keys_unavailable",
        headers={"Retry-After": str(max(1, math.ceil(retry_in)))},
    )


_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class TokenVerifier:
    """Verifies `Authorization: Bearer <ID token>` headers for one issuer and audience."""

    def __init__(
        self, keys: SigningKeys, *, issuer: str, audience: str, leeway_seconds: float = 30.0
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def verify(self, authorization: str | None) -> Caller:
        """The verified caller, or `Unauthorized` saying what is wrong (never echoing the token)."""
        token = bearer_token(authorization)
        if not _COMPACT_JWS.fullmatch(token):
            raise Unauthorized("The bearer token is not a JWT.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("The bearer token is not a JWT.") from None
        unambiguous(token)
        return _caller(_typed_claims(self._claims(token, header)))

    def _claims(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        """The token's claims once its signature and every claim are checked."""
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"The token must be signed with {ALGORITHM}.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The token has no key id (kid).")
        key = self._keys.key_for(kid)
        return self._decode(token, key, algorithms=[ALGORITHM], options={})

    def _decode(
        self, token: str, key: Any, *, algorithms: list[str] | None, options: Options
    ) -> dict[str, Any]:
        """`jwt.decode` with this verifier's issuer, audience, leeway and required claims; its
        errors as `Unauthorized`. One place, so both verifiers check the claims alike."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={**options, "require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.", code="token_expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("The token is not valid yet (issued in the future).") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The token was issued for another audience.") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("The token was issued by an untrusted issuer.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The token could not be verified.") from None
        return claims


# The only header the Firebase Auth emulator writes; an emulator token carries no other field.
EMULATOR_HEADER = {"alg": "none", "typ": "JWT"}


class EmulatorTokenVerifier(TokenVerifier):
    """The Firebase Auth emulator's unsigned ID tokens, and nothing else (emulator mode only).

    What the Firebase Admin SDK does while `FIREBASE_AUTH_EMULATOR_HOST` is set: the signature
    is not checked, because the emulator makes none. The token must say so exactly (header
    `{"alg": "none", "typ": "JWT"}`, no `kid` or other field, an empty signature); a signed
    token is refused, since no real Firebase project issues tokens for the `demo-` project the
    settings require. Issuer, audience, expiry, issue time and subject are checked as for a
    signed token, by the same code.
    """

    def __init__(self, *, issuer: str, audience: str, leeway_seconds: float = 30.0) -> None:
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    def _claims(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("alg") != "none" or not set(header) <= set(EMULATOR_HEADER):
            raise Unauthorized(
                "This function runs in Firebase Auth emulator mode: it accepts only the "
                'emulator\'s unsigned ID tokens (header {"alg": "none", "typ": "JWT"}).'
            )
        if header.get("typ", "JWT") != "JWT" or not token.endswith(".") or token.count(".") != 2:
            raise Unauthorized("An Auth emulator token has typ JWT and an empty signature.")
        return self._decode(
            token,
            None,
            algorithms=None,
            options={
                "verify_signature": False,  # the emulator signs nothing: see the class docstring
                "verify_exp": True,
                "verify_iat": True,
                "verify_nbf": True,
                "verify_iss": True,
                "verify_aud": True,
            },
        )


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate key")
    return dict(pairs)


def unambiguous(token: str) -> None:
    """`Unauthorized` when the token's header or claims repeat a key. Pure.

    Python's `json` keeps the last of two equal keys, other parsers the first: a header
    `{"alg": "RS256", "alg": "none"}` or claims with two `sub` mean different things to different
    readers, so neither is read at all.
    """
    try:
        for segment in token.split(".")[:2]:
            json.loads(jwt.utils.base64url_decode(segment), object_pairs_hook=_refuse_duplicates)
    except (ValueError, TypeError, binascii.Error):
        raise Unauthorized("The token's header or claims are not one plain JSON object.") from None


def _typed_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The claims when they have the types Firebase issues (and its Admin SDK requires); pure.

    PyJWT takes `int(exp)`, so `"1796483141"` passes, and accepts an `aud` list that contains the
    audience; Firebase's verifier refuses both, so this function does too.
    """
    for name in ("exp", "iat"):
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unauthorized(f"The token's {name} is not a whole number of seconds.")
    if not isinstance(claims.get("aud"), str):
        raise Unauthorized("The token's audience (aud) is not one project id.")
    return claims


def _caller(claims: dict[str, Any]) -> Caller:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 128:
        raise Unauthorized("The token has no usable subject (sub).")
    email = claims.get("email") if claims.get("email_verified") is True else None
    return Caller(uid=subject, email=email if isinstance(email, str) and email else None)


def bearer_token(authorization: str | None) -> str:
    """The token of a `Bearer` Authorization header, or `Unauthorized`."""
    if not authorization:
        raise Unauthorized("Send the user's ID token as 'Authorization: Bearer <token>'.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("The bearer token is too long.")
    return token
