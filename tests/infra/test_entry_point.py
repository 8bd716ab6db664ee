"""`infra/__main__.py` runs the way the Pulumi engine runs it: from infra/, as `__main__`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from infra.stack_config import engine_config as adapter_config
from stackspec.settings import SecretValue
from tests.infra.infra_harness import REPO, default_secrets, engine_config, load_stack
from tests.infra.mocks import PORTAL_CONFIGURATION_ID
from tests.stackspec.stack_configs import FUNCTION_KEY

# What pulumi-language-python-exec does, with Pulumi's mocks instead of an engine. The repo root is
# deliberately not importable here: the program has to find its own package.
BOOTSTRAP = textwrap.dedent(
    """
    import json, os, runpy, sys
    import pulumi
    from pulumi.runtime.settings import get_root_resource

    import importlib.util
    spec = importlib.util.spec_from_file_location("mocks", os.environ["TEST_MOCKS"])
    mocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mocks)

    pulumi.runtime.set_mocks(
        mocks.RecordingMocks(), project="billing-portal", stack="dev", preview=False
    )
    pulumi.runtime.set_all_config(
        json.loads(os.environ["TEST_CONFIG"]), json.loads(os.environ["TEST_SECRET_KEYS"])
    )
    assert not any(os.path.abspath(p or ".") == os.environ["TEST_REPO"] for p in sys.path)

    @pulumi.runtime.test
    def program():
        runpy.run_path(os.getcwd(), run_name="__main__")
        outputs = get_root_resource().outputs
        return pulumi.Output.from_input(outputs).apply(lambda o: print(json.dumps(o)))

    program()
    """
)


def test_the_entry_point_exports_the_stack_outputs_when_run_from_infra(tmp_path):
    config, secret_keys = engine_config(load_stack("dev"), default_secrets())
    script = tmp_path / "bootstrap.py"
    script.write_text(BOOTSTRAP)
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTHONPATH" and not key.startswith("PULUMI_")
    }
    env |= {
        "TEST_CONFIG": json.dumps(config),
        "TEST_SECRET_KEYS": json.dumps(secret_keys),
        "TEST_REPO": str(REPO),
        "TEST_MOCKS": str(REPO / "tests" / "infra" / "mocks.py"),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO / "infra",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    base = "https://europe-west1-acme-billing-dev.cloudfunctions.net"
    assert outputs["functionUrl"] == f"{base}/billing-portal-dev"
    assert outputs["webhookUrl"] == f"{base}/billing-portal-dev-webhook"
    assert outputs["portalConfigurationId"] == PORTAL_CONFIGURATION_ID
    assert outputs["serviceAccountEmail"].startswith("billing-portal-dev@")
    assert outputs["customersCollection"] == "stripe_customers"


def test_the_adapter_wraps_the_engine_secret_keys_and_only_those(monkeypatch):
    import pulumi

    monkeypatch.setenv("PULUMI_CONFIG", "{}")
    pulumi.runtime.set_all_config(
        {"billing-portal:stripeSecretKey": FUNCTION_KEY, "billing-portal:region": "us-east1"},
        ["billing-portal:stripeSecretKey"],
    )
    assert adapter_config() == {
        "billing-portal:stripeSecretKey": SecretValue(FUNCTION_KEY),
        "billing-portal:region": "us-east1",
    }
