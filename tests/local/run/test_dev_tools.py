"""The local run's development-only helpers, without starting anything."""

from __future__ import annotations

import base64
import json

from local.run.dev_tools import TestSubscriptions, token_subject
from local.run.options import parse_options


def _no_customer(uid: str) -> None:
    raise AssertionError(f"no mapping should be read here (asked for {uid!r})")


def _token(claims: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"header.{payload}.signature"


def test_the_token_subject_is_read_from_the_payload() -> None:
    assert token_subject(_token({"sub": "dev-someone", "aud": "x"})) == "dev-someone"


def test_a_token_without_a_subject_names_no_user() -> None:
    assert token_subject(_token({"aud": "x"})) is None
    assert token_subject(_token(["sub"])) is None
    assert token_subject("not-a-jwt") is None


def test_a_stack_without_declared_prices_says_what_to_declare() -> None:
    give = TestSubscriptions(parse_options([], {}), None, {}, _no_customer).give  # type: ignore[arg-type]
    status, answer = give("Bearer " + _token({"sub": "dev-x"}))
    assert status == 409
    assert answer["error"]["code"] == "no_declared_prices"
    assert "billing-portal:products" in answer["error"]["message"]


def test_no_token_is_refused_before_anything_is_asked() -> None:
    give = TestSubscriptions(parse_options([], {}), None, {"price_1": {}}, _no_customer).give  # type: ignore[arg-type]
    assert give(None)[0] == 401
    assert give("Basic abc")[0] == 401
