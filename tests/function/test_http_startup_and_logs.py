"""Start-up validation and the per-request structured log line."""

from __future__ import annotations

import pytest

from local.process import ServerProcessError
from tests.function.conftest import function_env, start_function

pytestmark = pytest.mark.integration


def test_missing_stripe_key_stops_start_up_naming_it(
    stripe_standin, firestore_emulator, dev_issuer
):
    env = function_env(stripe_standin, firestore_emulator, dev_issuer, STRIPE_SECRET_KEY=None)
    with pytest.raises(ServerProcessError) as caught:
        start_function(env, "nokey")
    assert "STRIPE_SECRET_KEY is not set" in str(caught.value)


def test_malformed_return_origin_stops_start_up_naming_it(
    stripe_standin, firestore_emulator, dev_issuer
):
    env = function_env(
        stripe_standin, firestore_emulator, dev_issuer, ALLOWED_RETURN_ORIGINS="app.example.test"
    )
    with pytest.raises(ServerProcessError) as caught:
        start_function(env, "badorigin")
    assert "ALLOWED_RETURN_ORIGINS" in str(caught.value)


def test_each_request_logs_one_cloud_logging_line(function_factory, dev_issuer, new_uid):
    server = function_factory("logs")
    trace = "0123456789abcdef0123456789abcdef"
    server.post(dev_issuer.mint(new_uid), headers={"X-Cloud-Trace-Context": f"{trace}/7;o=1"})
    server.post("not-a-token")
    lines = [line for line in server.log_lines() if "httpRequest" in line]
    assert [line["httpRequest"]["status"] for line in lines] == [200, 401]
    ok, refused = lines
    assert ok["severity"] == "INFO" and refused["severity"] == "WARNING"
    assert ok["httpRequest"]["latency"].endswith("s")
    assert ok["logging.googleapis.com/trace"] == f"projects/billing-portal-tests/traces/{trace}"
    assert refused["code"] == "invalid_token"


def test_log_lines_carry_no_user_id_or_email(function_factory, dev_issuer, new_uid):
    server = function_factory("privacy")
    server.post(dev_issuer.mint(new_uid, email="ann@example.test", email_verified=True))
    text = server.process.log_text()
    assert new_uid not in text and "ann@example.test" not in text
