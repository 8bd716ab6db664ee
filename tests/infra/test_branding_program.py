"""The branding part of the Pulumi program under mocks: uploads, outputs, the connected account."""

from __future__ import annotations

import base64
import json

import pytest
from pulumi.runtime import rpc

from stackspec.branding_spec import DASHBOARD_PAGE
from stackspec.settings import BrandingSettings, parse_settings
from stackspec.stackfiles import load_stack_file
from tests.infra.infra_harness import ADMIN_KEY, REPO, ProgramRun, load_stack, run_program

FILE = "stripe:index/file:File"
STRIPE_PROVIDER = "pulumi:providers:stripe"
CONNECTED = "pulumi-python:dynamic/stripe:AccountBranding"
ACCOUNT = "acct_1Connected0001"


def branding_of(run: ProgramRun) -> BrandingSettings:
    """The branding the run's stack file declares."""
    stack, config = load_stack_file(REPO / f"Pulumi.{run.stack}.yaml")
    return parse_settings(stack, config, secrets_required=False).branding


def uploads(run: ProgramRun) -> dict[str, dict]:
    """The File resources by purpose, inputs as registered."""
    return {file.inputs["purpose"]: file for file in run.all(FILE)}


@pytest.fixture(scope="module")
def connected(tmp_path_factory) -> ProgramRun:
    """dev with `branding.connectedAccount` and a separate admin key."""
    config = load_stack("dev")
    config["billing-portal:branding"] = {
        **config["billing-portal:branding"],
        "connectedAccount": ACCOUNT,
    }
    secrets = {
        "billing-portal:stripeSecretKey": "rk_test_FunctionKey0000000000000000001",
        "billing-portal:stripeAdminKey": ADMIN_KEY,
    }
    return run_program("dev", config, tmp_path_factory.mktemp("connected"), secrets)


def test_the_icon_and_logo_are_uploaded_with_stripes_branding_purposes(stack_run):
    assert sorted(uploads(stack_run)) == ["business_icon", "business_logo"]


def test_each_upload_is_the_declared_image_byte_for_byte_under_its_hashed_name(stack_run):
    branding = branding_of(stack_run)
    for image in (branding.icon, branding.logo):
        file = uploads(stack_run)[image.purpose]
        assert base64.b64decode(file.inputs["base64content"]) == image.data, image.path
        assert file.inputs["filename"] == image.upload_name
        assert file.inputs["filename"].endswith(f"-{image.sha256[:12]}.png")


def test_dev_uploads_its_own_icon_and_prod_the_production_one(dev, prod):
    assert uploads(dev)["business_icon"].inputs["filename"].startswith("icon-dev-")
    assert uploads(prod)["business_icon"].inputs["filename"].startswith("icon-")
    assert not uploads(prod)["business_icon"].inputs["filename"].startswith("icon-dev-")


def test_the_uploads_go_through_the_stacks_stripe_provider_as_portal_children(stack_run):
    provider = stack_run.one(STRIPE_PROVIDER)
    for file in stack_run.all(FILE):
        assert f"::{provider.name}::" in file.provider
        assert file.parent_name == "portal"


def test_the_stack_outputs_the_uploaded_file_ids(stack_run):
    assert stack_run.outputs["brandingFileIds"] == {
        "icon": "file_mock_icon",
        "logo": "file_mock_logo",
    }


def test_the_dashboard_step_output_names_the_page_the_files_and_the_colours(prod):
    step = prod.outputs["brandingDashboardStep"]
    assert step.splitlines() == [
        f"{DASHBOARD_PAGE} (the same account and mode as this stack's Stripe key):",
        "  Icon: upload branding/icon.png (Pulumi uploaded it as file_mock_icon)",
        "  Logo: upload branding/logo.png (Pulumi uploaded it as file_mock_logo)",
        "  Brand color: #0A2540",
        "  Accent color: #F6F9FC",
    ]


def test_a_stack_without_branding_uploads_nothing_and_outputs_empty_values(tmp_path):
    config = load_stack("dev")
    del config["billing-portal:branding"]
    run = run_program("dev", config, tmp_path)
    assert run.all(FILE) == []
    assert run.all(CONNECTED) == []
    assert run.outputs["brandingFileIds"] == {}
    assert run.outputs["brandingDashboardStep"] == ""
    assert run.outputs["connectedAccountBranding"] == {}


def test_colours_alone_upload_nothing_but_still_give_the_dashboard_step(tmp_path):
    config = {**load_stack("dev"), "billing-portal:branding": {"primaryColor": "#0A2540"}}
    run = run_program("dev", config, tmp_path)
    assert run.all(FILE) == []
    assert run.outputs["brandingDashboardStep"].endswith("\n  Brand color: #0A2540")


# ---------------------------------------------------------------------------- connected account


def test_no_sample_stack_brands_a_connected_account(stack_run):
    assert stack_run.all(CONNECTED) == []


def test_a_connected_account_gets_one_branding_resource_with_the_declared_values(connected):
    resource = connected.one(CONNECTED)
    branding = branding_of(connected)
    assert resource.parent_name == "portal"
    assert resource.plain("account") == ACCOUNT
    assert resource.plain("primary_color") == "#B45309"
    assert resource.plain("secondary_color") == "#FFF7ED"
    for field, image in (("icon", branding.icon), ("logo", branding.logo)):
        assert resource.plain(f"{field}_sha256") == image.sha256
        assert resource.plain(f"{field}_filename") == image.upload_name
        assert base64.b64decode(resource.plain(f"{field}_content")) == image.data


def test_the_connected_account_resource_holds_the_admin_key_only_as_a_secret(connected):
    resource = connected.one(CONNECTED)
    assert rpc.is_rpc_secret(resource.inputs["api_key"]), "the key is plain text"
    assert resource.plain("api_key") == ADMIN_KEY
    assert ADMIN_KEY not in str(rpc.unwrap_rpc_secret(resource.inputs["__provider"]))


def test_the_connected_account_output_carries_the_applied_values_and_no_key(connected):
    output = connected.outputs["connectedAccountBranding"]
    assert output["account"] == ACCOUNT
    assert (output["primary_color"], output["secondary_color"]) == ("#B45309", "#FFF7ED")
    assert ADMIN_KEY not in json.dumps(output, default=str)
