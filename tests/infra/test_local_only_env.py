"""No deployed function gets a local-only variable: the real `Function` inputs, every stack.

`FIREBASE_AUTH_EMULATOR_HOST` turns on Firebase Auth emulator mode (unsigned tokens) and
`FIRESTORE_EMULATOR_HOST` points Firestore at an emulator; the Pulumi program must never send
either, in plain or secret variables, to either entry point.
"""

from __future__ import annotations

import pytest

from stackspec.function_contract import LOCAL_ONLY_VARIABLES

FUNCTION = "gcp:cloudfunctionsv2/function:Function"


@pytest.mark.parametrize("function", ["service-function", "service-webhook-function"])
def test_no_deployed_function_gets_an_emulator_variable(stack_run, function):
    service = stack_run.one(FUNCTION, function).plain("serviceConfig")
    plain = set(service.get("environmentVariables") or {})
    secret = {entry["key"] for entry in service.get("secretEnvironmentVariables") or []}
    assert plain, "the function has no environment at all: the test reads the wrong input"
    assert not (plain | secret) & set(LOCAL_ONLY_VARIABLES)
    assert "FIREBASE_AUTH_EMULATOR_HOST" in LOCAL_ONLY_VARIABLES
