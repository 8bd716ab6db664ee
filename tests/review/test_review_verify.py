"""`verify`'s decisions on answers the local parts do not give: Cloud Run's own refusals, a
function that allows any origin, Stripe outages, and how the checks make the exit code."""

from __future__ import annotations

import json

import pytest

from review import verify
from review.verify import FAIL, PASS, UNKNOWN, Answer, Check

ORIGIN = "https://app.example.com"
CLOUD_RUN_403 = Answer(
    status=403,
    headers={"content-type": "text/html; charset=UTF-8"},
    body=b"<html><head><title>403 Forbidden</title></head><body>Error: Forbidden</body></html>",
)


def json_answer(status: int, document: object, **headers: str) -> Answer:
    return Answer(
        status, {"content-type": "application/json", **headers}, json.dumps(document).encode()
    )


def probe(name: str) -> verify.Probe:
    return next(p for p in verify.probes("https://app.example.com/billing") if p.name == name)


def test_cloud_runs_own_403_says_the_function_is_not_public():
    for check in (
        verify.unauthenticated("POST", CLOUD_RUN_403),
        verify.unsigned_webhook(CLOUD_RUN_403),
        verify.preflight(ORIGIN, CLOUD_RUN_403),
    ):
        assert check.status == FAIL, check
        assert "allUsers" in check.fix and "domain-restricted sharing" in check.fix, check


def test_a_function_that_allows_any_origin_fails_the_foreign_origin_check():
    answer = Answer(204, {"access-control-allow-origin": "*"})
    check = verify.foreign_preflight(answer)
    assert (check.status, check.seen) == (FAIL, "Access-Control-Allow-Origin: *")


def test_a_preflight_without_the_authorization_header_allowed_fails():
    answer = Answer(
        204,
        {
            "access-control-allow-origin": ORIGIN,
            "access-control-allow-methods": "GET, POST, OPTIONS",
            "access-control-allow-headers": "Content-Type",
        },
    )
    check = verify.preflight(ORIGIN, answer)
    assert check.status == FAIL and "headers without authorization" in check.seen


def test_a_401_that_is_not_the_documented_body_fails():
    answer = json_answer(401, {"message": "unauthorized"})
    assert verify.unauthenticated("GET", answer).status == FAIL


def test_no_answer_fails_with_where_to_find_the_url():
    check = verify.unsigned_webhook(Answer(error="ConnectionError: refused"))
    assert check.status == FAIL and "pulumi stack output webhookUrl" in check.fix


@pytest.mark.parametrize("status", [500, 503, 429])
def test_stripe_failing_to_answer_a_probe_is_could_not_check(status):
    check = verify.probe_result(probe("list_subscriptions"), json_answer(status, {"error": {}}))
    assert check.status == UNKNOWN, check


def test_a_refused_function_key_fails_the_calls_it_needs():
    answer = json_answer(401, {"error": {"message": "Invalid API Key provided: rk_test_****abcd"}})
    check = verify.probe_result(probe("write_customer"), answer)
    assert check.status == FAIL and "not valid" in check.fix


def test_an_answer_verify_does_not_know_is_could_not_check_not_a_pass():
    answer = json_answer(400, {"error": {"code": "parameter_unknown", "message": "…"}})
    assert verify.probe_result(probe("create_portal_session"), answer).status == UNKNOWN


def test_a_refusal_probe_that_stripe_accepts_fails_naming_the_permission():
    answer = json_answer(400, {"error": {"code": "resource_missing", "message": "No such charge"}})
    check = verify.probe_result(probe("create_refund"), answer)
    assert check.status == FAIL and "set Refunds to None" in check.fix


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ((PASS, PASS), 0),
        ((PASS, UNKNOWN), 2),
        ((FAIL, UNKNOWN), 1),  # a definite failure outranks what could not be checked
        ((PASS, FAIL), 1),
    ],
)
def test_the_exit_code(statuses, code):
    assert verify.exit_code([Check("c", "t", status) for status in statuses]) == code


def session_probe(configuration_id: str | None) -> verify.Probe:
    probes = verify.probes("https://app.example.com/billing", configuration_id)
    return next(p for p in probes if p.name == "create_portal_session")


def test_the_portal_session_probe_names_the_stacks_configuration_as_the_function_does():
    # The function always sends PORTAL_CONFIGURATION_ID. Without `configuration`, Stripe uses the
    # account's Dashboard default, which a new account has not saved yet ("No configuration
    # provided and your test mode default configuration has not been created"): the probe would
    # test a call the function never makes.
    assert session_probe("bpc_1StackConfiguration").params == {
        "customer": verify.NO_CUSTOMER,
        "return_url": "https://app.example.com/billing",
        "configuration": "bpc_1StackConfiguration",
    }


def test_without_a_known_configuration_the_portal_session_probe_names_none():
    assert "configuration" not in session_probe(None).params
