"""The function's entry points and the functions the stack deploys are one list.

`billing_portal.entry_points.ENTRY_POINTS` is what an instance can serve (target → the builder
of its app); the program deploys one function per entry point of the source archive. A target
deployed without a row would stop at start-up; a row without a function would never be served.
"""

from __future__ import annotations

from pulumi.runtime import rpc

from billing_portal import settings as function_settings
from billing_portal.entry_points import ENTRY_POINTS
from stackspec.function_contract import PLACEHOLDER_WEBHOOK_SECRET, placeholder_key
from tests.infra.infra_harness import ProgramRun
from tests.infra.test_program import FUNCTION

# Valid stand-ins for the secrets a deployed function mounts from Secret Manager.
SECRET_PLACEHOLDERS = {
    "STRIPE_SECRET_KEY": placeholder_key(live=False),
    "STRIPE_WEBHOOK_SECRET": PLACEHOLDER_WEBHOOK_SECRET,
}


def deployed_entry_points(run: ProgramRun) -> list[str]:
    return [function.plain("buildConfig")["entryPoint"] for function in run.all(FUNCTION)]


def test_the_stack_deploys_one_function_per_entry_point_and_no_other(stack_run):
    deployed = deployed_entry_points(stack_run)
    assert sorted(deployed) == sorted(ENTRY_POINTS), (
        f"{stack_run.stack} deploys functions for {sorted(deployed)}; "
        f"billing_portal.entry_points.ENTRY_POINTS builds {sorted(ENTRY_POINTS)}"
    )


def test_each_deployed_function_starts_as_the_entry_point_it_is_deployed_as(dev):
    for function in dev.all(FUNCTION):
        service = function.plain("serviceConfig")
        mounted = [rpc.unwrap_rpc_secret(v)["key"] for v in service["secretEnvironmentVariables"]]
        target = function.plain("buildConfig")["entryPoint"]
        env = {
            **service["environmentVariables"],
            **{name: SECRET_PLACEHOLDERS[name] for name in mounted},
            "FUNCTION_TARGET": target,
        }
        loaded = function_settings.load_settings(env)
        assert loaded.function_target == target, f"{function.name} starts as another target"
