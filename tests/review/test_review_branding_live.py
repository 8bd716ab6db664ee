"""`drift` checks the account's branding against the stack, field by field, on the stand-in."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from stackspec.branding_spec import DASHBOARD_PAGE
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    DEV_PRODUCT_IDS,
    REPO,
    brand_as_declared,
    copy_stacks,
    create_webhook_endpoint,
    edit_stack,
    run,
    table_row,
    upload_image,
)

pytestmark = pytest.mark.integration

PRODUCT_IDS = json.dumps(DEV_PRODUCT_IDS)


def deploy_configuration(standin, project: Path = REPO, stack: str = "dev") -> None:
    """The stack's portal configuration and webhook endpoint as `pulumi up` leaves them (branding
    is separate)."""
    settings = read_settings(project / f"Pulumi.{stack}.yaml")
    spec = substitute(portal_spec(settings), DEV_PRODUCT_IDS)
    standin.client().v1.billing_portal.configurations.create(params=spec)
    create_webhook_endpoint(standin, settings)


def drift(env: dict[str, str], *options: str, project: Path = REPO, stack: str = "dev") -> Any:
    argv = ["-C", str(project), "drift", "--stack", stack, "--product-ids", PRODUCT_IDS]
    return run(*argv, *options, environ=env)


def branding_of(result) -> dict[str, dict]:
    """The JSON report's branding checks by setting."""
    return {check["setting"]: check for check in json.loads(result.out)["branding"]}


def mismatched(result) -> list[str]:
    return sorted(s for s, check in branding_of(result).items() if not check["matches"])


@pytest.fixture
def deployed(standin) -> dict:
    """dev deployed and its account branded as declared; the live branding values."""
    deploy_configuration(standin)
    return brand_as_declared(standin, read_settings(REPO / "Pulumi.dev.yaml"))


# ---------------------------------------------------------------------------- the own account


def test_branding_as_declared_is_no_drift(standin, env, deployed):
    result = drift(env, "--format", "json")
    assert result.code == 0, result.out + result.err
    checks = branding_of(result)
    assert sorted(checks) == [
        "branding.icon",
        "branding.logo",
        "branding.primary_color",
        "branding.secondary_color",
    ]
    assert checks["branding.icon"]["reason"] == "the same image (content identical)"


def test_the_markdown_report_lists_every_branding_field_as_declared(standin, env, deployed):
    result = drift(env)
    assert result.code == 0
    assert "#### Branding: all 4 declared fields match" in result.out
    assert table_row(result.out, "branding.primary_color")[1:] == [
        "`#B45309`",
        "`#B45309`",
        "✓ same colour",
    ]


# What a Dashboard edit changes, and the fix the report must give for it.
EDITS = [
    ("primary_color", "#123456", "Brand color: #B45309"),
    ("secondary_color", "#654321", "Accent color: #FFF7ED"),
    ("icon", None, "Icon: upload branding/icon-dev.png"),
    ("logo", "other-image", "Logo: upload branding/logo.png"),
]


@pytest.mark.parametrize(("field", "value", "fix"), EDITS, ids=[e[0] for e in EDITS])
def test_a_branding_field_changed_in_the_dashboard_is_drift_with_its_exact_fix(
    standin, env, deployed, field, value, fix
):
    if value == "other-image":  # another image uploaded as the logo in the Dashboard
        prod_icon = read_settings(REPO / "Pulumi.prod.yaml").branding.icon
        value = upload_image(standin, dataclasses.replace(prod_icon, purpose="business_logo"))
    standin.set_branding(**{field: value})
    result = drift(env, "--format", "json")
    assert result.code == 1, result.err
    assert mismatched(result) == [f"branding.{field}"]
    assert branding_of(result)[f"branding.{field}"]["fix"] == f"{DASHBOARD_PAGE}: {fix}"


def test_a_colour_written_in_another_case_is_no_drift(standin, env, deployed):
    standin.set_branding(primary_color="#b45309")
    assert drift(env).code == 0


def test_the_markdown_report_marks_the_drifted_field_and_says_what_to_set(standin, env, deployed):
    standin.set_branding(secondary_color="#000000")
    result = drift(env)
    assert result.code == 1
    assert "### Drift: `dev` — 1 setting differ from the stack" in result.out
    assert "#### Branding: 1 field of 4 differ" in result.out
    assert table_row(result.out, "branding.secondary_color")[2:] == [
        "`#000000`",
        "✗ a different colour",
    ]
    assert f"- `branding.secondary_color`: {DASHBOARD_PAGE}: Accent color: #FFF7ED" in result.out


def test_pulumis_own_uploads_match_by_id_without_downloading_them(standin, env, deployed):
    ids = json.dumps({"icon": deployed["icon"], "logo": deployed["logo"]})
    result = drift(env, "--branding-file-ids", ids, "--format", "json")
    assert result.code == 0, result.err
    assert branding_of(result)["branding.logo"]["reason"] == "the file Pulumi uploaded"
    downloads = [e for e in standin.requests(method="GET") if e["path"].endswith("/contents")]
    assert downloads == []


def test_branding_file_ids_may_be_read_from_a_file(standin, env, deployed, tmp_path):
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps({"icon": deployed["icon"]}))
    result = drift(env, "--branding-file-ids", f"@{ids}", "--format", "json")
    assert result.code == 0, result.err
    assert branding_of(result)["branding.icon"]["reason"] == "the file Pulumi uploaded"


def test_malformed_branding_file_ids_exit_2_with_one_line(standin, env, deployed):
    result = drift(env, "--branding-file-ids", '{"banner": "file_1"}')
    assert result.code == 2
    assert result.err.startswith("error: --branding-file-ids must be a JSON object")
    assert result.err.count("\n") == 1


def test_a_stack_without_branding_never_reads_the_account(standin, env, tmp_path):
    copy_stacks(tmp_path, "dev")
    edit_stack(tmp_path / "Pulumi.dev.yaml", "billing-portal:branding", value={})
    deploy_configuration(standin, tmp_path)
    result = drift(env, "--format", "json", project=tmp_path)
    assert result.code == 0, result.err
    assert json.loads(result.out)["branding"] == []
    assert standin.requests(path_prefix="/v1/account") == []


# ---------------------------------------------------------------------------- connected account


@pytest.fixture
def connected(standin, tmp_path) -> tuple[Path, str]:
    """A copy of dev that brands a connected account; both accounts branded as declared."""
    account = standin.create_connected_account()["id"]
    copy_stacks(tmp_path, "dev")
    edit_stack(
        tmp_path / "Pulumi.dev.yaml", "billing-portal:branding", "connectedAccount", value=account
    )
    settings = read_settings(tmp_path / "Pulumi.dev.yaml")
    deploy_configuration(standin, tmp_path)
    brand_as_declared(standin, settings)
    brand_as_declared(standin, settings, account)
    return tmp_path, account


def test_a_connected_accounts_branding_is_checked_beside_the_own_accounts(standin, env, connected):
    project, account = connected
    result = drift(env, "--format", "json", project=project)
    assert result.code == 0, result.out + result.err
    assert f"branding[{account}].icon" in branding_of(result)
    assert len(branding_of(result)) == 8


def test_a_connected_account_changed_elsewhere_is_drift_fixed_by_pulumi(standin, env, connected):
    project, account = connected
    standin.client().v1.accounts.update(
        account, params={"settings": {"branding": {"primary_color": "#000000"}}}
    )
    result = drift(env, "--format", "json", project=project)
    assert result.code == 1
    assert mismatched(result) == [f"branding[{account}].primary_color"]
    check = branding_of(result)[f"branding[{account}].primary_color"]
    assert check["fix"].startswith(
        f"`pulumi up --refresh` applies the declared branding to {account}"
    )


def test_an_unknown_connected_account_exits_2_with_one_line(standin, env, tmp_path):
    copy_stacks(tmp_path, "dev")
    edit_stack(
        tmp_path / "Pulumi.dev.yaml",
        "billing-portal:branding",
        "connectedAccount",
        value="acct_DoesNotExist01",
    )
    deploy_configuration(standin, tmp_path)
    brand_as_declared(standin, read_settings(tmp_path / "Pulumi.dev.yaml"))
    result = drift(env, project=tmp_path)
    assert result.code == 2
    assert result.err.startswith("error: Stripe has no account acct_DoesNotExist01")
