"""Fixtures: the whole program run once per stack file, under Pulumi's mocks."""

from __future__ import annotations

import pytest

from tests.infra.infra_harness import ADMIN_KEY, FUNCTION_KEY, ProgramRun, load_stack, run_program


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> ProgramRun:
    """The program run on Pulumi.dev.yaml (plus its secret)."""
    return run_program("dev", load_stack("dev"), tmp_path_factory.mktemp("dev-build"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory) -> ProgramRun:
    """The program run on Pulumi.prod.yaml, with a live function key and a separate admin key."""
    secrets = {
        "billing-portal:stripeSecretKey": FUNCTION_KEY.replace("rk_test_", "rk_live_"),
        "billing-portal:stripeAdminKey": ADMIN_KEY.replace("sk_test_", "sk_live_"),
    }
    return run_program("prod", load_stack("prod"), tmp_path_factory.mktemp("prod-build"), secrets)


@pytest.fixture(params=["dev", "prod"])
def stack_run(request) -> ProgramRun:
    """Each stack file's program run, in turn."""
    return request.getfixturevalue(request.param)
