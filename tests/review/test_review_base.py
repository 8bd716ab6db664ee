"""`plan --stack S --base REF`: what a change does to a stack's portal, old → new."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from review.markdown import UNMANAGED_MARK
from review.plan import plan_of
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    copy_stacks,
    edit_stack,
    git,
    run,
    settings_in_table,
    table_row,
)

MODE = "features.subscription_cancel.mode"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose first commit holds the dev and prod stack files."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    copy_stacks(tmp_path)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "stacks")
    return tmp_path


def commit(repo: Path, message: str) -> None:
    git(repo, "commit", "--quiet", "-am", message)


def test_a_changed_setting_is_shown_old_to_new(repo):
    edit_stack(
        repo / "Pulumi.dev.yaml",
        "billing-portal:portal",
        "features",
        "subscriptionCancel",
        "mode",
        value="at_period_end",
    )
    commit(repo, "cancel at period end")
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD~1")
    assert result.code == 0, result.err
    assert "1 setting change" in result.out
    assert settings_in_table(result.out) == [MODE]
    assert table_row(result.out, MODE)[1:] == ["`immediately`", "`at_period_end`"]


def test_the_report_names_the_base_ref_and_its_commit(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    edit_stack(repo / "Pulumi.dev.yaml", "billing-portal:portal", "loginPage", value=True)
    commit(repo, "login page")
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "main~1")
    assert f"Compared with `main~1` (`{base[:12]}`), `Pulumi.dev.yaml`." in result.out


def test_a_stack_the_change_does_not_touch_has_no_portal_changes(repo):
    edit_stack(repo / "Pulumi.dev.yaml", "billing-portal:region", value="us-east1")
    commit(repo, "move dev")
    result = run("-C", str(repo), "plan", "--stack", "prod", "--base", "HEAD~1")
    assert result.code == 0, result.err
    assert "no portal setting changes" in result.out
    assert settings_in_table(result.out) == []


def test_settings_outside_the_portal_are_not_portal_changes(repo):
    edit_stack(repo / "Pulumi.dev.yaml", "billing-portal:region", value="us-east1")
    commit(repo, "move dev")
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD~1")
    assert "no portal setting changes" in result.out


def test_added_and_removed_settings_show_a_dash_on_the_side_without_them(repo):
    path = repo / "Pulumi.prod.yaml"
    edit_stack(path, "billing-portal:portal", "name", value=None)
    edit_stack(
        path,
        "billing-portal:portal",
        "features",
        "subscriptionUpdate",
        "trialUpdateBehavior",
        value="continue_trial",
    )
    commit(repo, "portal name to the dashboard; keep trials")
    result = run("-C", str(repo), "plan", "--stack", "prod", "--base", "HEAD~1")
    # the fields pulumi-stripe cannot set always have a value: Stripe's default when undeclared
    assert table_row(result.out, "name")[1:] == ["`Acme billing portal`", "`null`"]
    assert table_row(result.out, "features.subscription_update.trial_update_behavior")[1:] == [
        "`end_trial`",
        "`continue_trial`",
    ]


def test_a_change_pulumi_stripe_cannot_apply_is_marked(repo):
    edit_stack(repo / "Pulumi.prod.yaml", "billing-portal:portal", "name", value="Acme billing")
    commit(repo, "rename")
    result = run("-C", str(repo), "plan", "--stack", "prod", "--base", "HEAD~1")
    assert table_row(result.out, "name")[0] == f"`name` {UNMANAGED_MARK}"
    assert "PortalFields" in result.out
    assert "portalManualUpdate" not in result.out


def test_a_stack_file_new_in_the_change_shows_every_setting_as_new(repo):
    (repo / "Pulumi.staging.yaml").write_text((repo / "Pulumi.prod.yaml").read_text())
    git(repo, "add", "Pulumi.staging.yaml")
    commit(repo, "staging")
    result = run("-C", str(repo), "plan", "--stack", "staging", "--base", "HEAD~1")
    assert result.code == 0, result.err
    assert "`Pulumi.staging.yaml` does not exist at `HEAD~1`: every setting is new." in result.out
    changes = json.loads(
        run(
            "-C", str(repo), "plan", "--stack", "staging", "--base", "HEAD~1", "--format", "json"
        ).out
    )["changes"]
    assert len(changes) == len(plan_of(read_settings(repo / "Pulumi.staging.yaml")).rows)
    assert [change for change in changes if "before" in change] == []


def test_a_base_with_settings_errors_is_noted_and_every_setting_shown_as_new(repo):
    edit_stack(repo / "Pulumi.dev.yaml", "billing-portal:region", value="Europe West")
    commit(repo, "broken")
    edit_stack(repo / "Pulumi.dev.yaml", "billing-portal:region", value="europe-west1")
    commit(repo, "fixed")
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD~1")
    assert result.code == 0, result.err
    assert "has settings errors" in result.out
    assert "billing-portal:region: 'Europe West' is not a Google Cloud region" in result.out
    assert table_row(result.out, "active")[1:] == ["—", "`true`"]


def test_the_json_change_list_has_before_and_after_per_setting(repo):
    edit_stack(repo / "Pulumi.prod.yaml", "billing-portal:portal", "name", value=None)
    commit(repo, "unname")
    result = run("-C", str(repo), "plan", "--stack", "prod", "--base", "HEAD~1", "--format", "json")
    report = json.loads(result.out)
    assert report["changes"] == [
        # an undeclared name is unset by `pulumi up` (`PortalFields` sends name="")
        {"setting": "name", "before": "Acme billing portal", "after": None, "unmanaged": True}
    ]
    assert report["base"]["ref"] == "HEAD~1"
    assert report["base"]["exists"] is True


def test_an_unknown_base_ref_is_a_one_line_error(repo):
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "no-such-branch")
    assert result.code == 2
    assert result.err == f"error: 'no-such-branch' is not a commit in {repo}\n"


def test_a_base_outside_a_git_repository_is_a_one_line_error(tmp_path):
    copy_stacks(tmp_path, "dev")
    result = run("-C", str(tmp_path), "plan", "--stack", "dev", "--base", "HEAD")
    assert result.code == 2
    assert result.err.startswith("error: git rev-parse failed")
    assert result.err.count("\n") == 1


CODE = ("stackspec", "function", "review", "schema")


@pytest.fixture
def repo_with_code(repo: Path) -> Path:
    """`repo` plus this project's own code, so its commits carry a `review` tool of their own."""
    root = Path(__file__).resolve().parents[2]
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in CODE:
        shutil.copytree(root / folder, repo / folder, ignore=ignore)
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "code")
    return repo


def test_a_change_to_the_code_alone_shows_as_a_setting_change(repo_with_code):
    spec_module = repo_with_code / "stackspec" / "portal_spec.py"
    text = spec_module.read_text()
    declared = '"login_page": {"enabled": portal.login_page}'
    assert declared in text, "the test's anchor moved; update it"
    spec_module.write_text(text.replace(declared, '"login_page": {"enabled": True}'))
    commit(repo_with_code, "base: code that always enables the login page")
    # HEAD~0 has that code; the running tool (this change) keeps the stack's own value (false).
    result = run("-C", str(repo_with_code), "plan", "--stack", "dev", "--base", "HEAD")
    assert result.code == 0, result.err
    assert settings_in_table(result.out) == ["login_page.enabled"], result.out
    assert table_row(result.out, "login_page.enabled")[1:] == ["`true`", "`false`"]


def test_a_base_without_the_review_tool_is_read_with_the_current_code(repo):
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD")
    assert result.code == 0, result.err
    assert "no portal setting changes" in result.out
    assert "Read with this change's code" in result.out
