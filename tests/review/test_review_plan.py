"""`plan --stack S`: the portal a stack file declares, through the Pulumi program's own code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from infra.stack_config import StackSettingsError
from review.markdown import UNMANAGED_MARK
from review.plan import plan_of
from review.rows import flatten
from stackspec.portal_fields import PATHS
from stackspec.portal_spec import portal_spec, spec_hash
from stackspec.settings import parse_settings
from stackspec.stackfiles import load_stack_file
from tests.review.review_support import REPO, STACK_FILES, copy_stacks, edit_stack, run, table_row

STACKS = [path.name.split(".")[1] for path in STACK_FILES]


def settings_of(stack: str):
    name, config = load_stack_file(REPO / f"Pulumi.{stack}.yaml")
    return parse_settings(name, config, secrets_required=False)


@pytest.mark.parametrize("stack", STACKS)
def test_the_json_plan_is_exactly_the_spec_the_pulumi_program_declares(stack):
    result = run("-C", str(REPO), "plan", "--stack", stack, "--format", "json")
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    spec = portal_spec(settings_of(stack))
    assert plan["configuration"] == spec
    assert plan["spec_hash"] == spec_hash(spec)
    assert plan["unmanaged_fields"] == list(PATHS)
    assert plan["active"] is settings_of(stack).portal.active


@pytest.mark.parametrize("stack", STACKS)
def test_the_markdown_plan_has_a_row_for_every_declared_parameter(stack):
    result = run("-C", str(REPO), "plan", "--stack", stack)
    assert result.code == 0, result.err
    spec = portal_spec(settings_of(stack))
    body = {key: value for key, value in spec.items() if key != "metadata"}
    for setting in ("active", *flatten(body)):
        assert table_row(result.out, setting), f"{setting} is missing from the {stack} plan"


def test_the_plan_shows_each_setting_with_its_declared_value():
    result = run("-C", str(REPO), "plan", "--stack", "prod")
    assert table_row(result.out, "features.subscription_cancel.mode")[1] == "`at_period_end`"
    assert table_row(result.out, "features.customer_update.allowed_updates")[1] == (
        "`email`, `address`, `tax_id`"
    )
    assert table_row(result.out, "login_page.enabled")[1] == "`true`"


def test_the_plan_marks_the_settings_pulumi_stripe_cannot_set():
    result = run("-C", str(REPO), "plan", "--stack", "prod")
    assert table_row(result.out, "features.subscription_update.billing_cycle_anchor")[0].endswith(
        UNMANAGED_MARK
    )
    assert not table_row(result.out, "features.subscription_cancel.mode")[0].endswith(
        UNMANAGED_MARK
    )
    assert "PortalFields" in result.out
    assert "portalManualUpdate" not in result.out


def test_the_plan_lists_the_products_and_prices_the_stack_creates():
    result = run("-C", str(REPO), "plan", "--stack", "dev")
    assert table_row(result.out, "catalog.team.prices.yearly.unit_amount")[1] == "`29000`"
    assert table_row(result.out, "features.subscription_update.products[declared:team].prices")[
        1
    ] == ("`declared:team/monthly`, `declared:team/yearly`")


def test_the_plan_of_an_edited_copy_shows_the_edit(tmp_path):
    copy_stacks(tmp_path, "dev")
    edit_stack(
        tmp_path / "Pulumi.dev.yaml",
        "billing-portal:portal",
        "features",
        "subscriptionCancel",
        "mode",
        value="at_period_end",
    )
    result = run("-C", str(tmp_path), "plan", "--stack", "dev")
    assert result.code == 0, result.err
    assert table_row(result.out, "features.subscription_cancel.mode")[1] == "`at_period_end`"


def test_a_settings_mistake_gives_exactly_the_messages_of_pulumi_preview(tmp_path):
    from tests.infra.infra_harness import run_program  # the program under Pulumi's mocks

    copy_stacks(tmp_path, "dev")
    path = tmp_path / "Pulumi.dev.yaml"
    edit_stack(path, "billing-portal:region", value="Europe West")
    edit_stack(path, "billing-portal:portal", "features", "subscriptionCancel", "mod", value="x")
    result = run("-C", str(tmp_path), "plan", "--stack", "dev")

    config = yaml.safe_load(path.read_text())["config"]
    with pytest.raises(StackSettingsError) as preview:
        run_program("dev", config, tmp_path / "build")
    assert result.code == 2
    assert result.out == ""
    assert result.err == f"{preview.value}\n"
    assert "billing-portal:region: 'Europe West' is not a Google Cloud region" in result.err
    assert "billing-portal:portal.features.subscriptionCancel.mod: is not a known" in result.err


def test_an_unknown_stack_is_an_error_naming_the_stacks_there_are():
    result = run("-C", str(REPO), "plan", "--stack", "staging")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "no stack file Pulumi.staging.yaml" in result.err
    assert "dev, prod" in result.err


def test_plan_rows_come_from_the_settings_alone_with_no_network_or_engine():
    # The CI plan job installs only PyYAML: the plan must not need pulumi or stripe.
    code = (
        "import sys, review.cli;"
        "assert review.cli.main(['-C', sys.argv[1], 'plan', '--stack', 'dev']) == 0;"
        "loaded = {m.split('.')[0] for m in sys.modules};"
        "assert not loaded & {'pulumi', 'pulumi_gcp', 'pulumi_stripe', 'stripe'}, loaded"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(REPO)], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_python_dash_m_review_runs_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "review", "plan", "--stack", "dev", "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stack"] == "dev"


def test_plan_of_settings_puts_active_first_then_the_spec_then_the_catalog():
    rows = list(plan_of(settings_of("dev")).rows)
    assert rows[0] == "active"
    assert rows.index("login_page.enabled") < rows.index("catalog.business.name")
