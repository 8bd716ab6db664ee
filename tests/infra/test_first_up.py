"""What the first `pulumi up` in a brand-new project needs, under Pulumi's mocks.

A new project has almost no API enabled, and IAM grants take minutes to reach every Google
service (Google: "typically 2 minutes, potentially 7 minutes or longer"). So: every API a
declared resource is served by is enabled by the stack, every resource waits for its API, and
both functions wait for a propagation delay that comes after every grant they need.
"""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from infra.service import REQUIRED_APIS
from tests.infra.infra_harness import ProgramRun, Registration, load_stack, run_program
from tests.stackspec.stack_configs import REPO

SERVICE = "gcp:projects/service:Service"
SLEEP = "time:index/sleep:Sleep"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"

# The Google APIs each resource type the program declares is served by (Google's documentation:
# the API of each resource's REST endpoint; for a gen2 function, what a deploy goes through:
# Cloud Functions hands the source to Cloud Build, which writes its logs to Cloud Logging and
# the image to Artifact Registry, and the function runs on Cloud Run with its secrets from
# Secret Manager and its data in Firestore). The enabling itself goes through Service Usage,
# which every project has enabled.
APIS_OF_TYPE: dict[str, set[str]] = {
    "gcp:artifactregistry/repository:Repository": {"artifactregistry"},
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": {"artifactregistry"},
    FUNCTION: {
        "cloudfunctions",
        "cloudbuild",
        "logging",
        "artifactregistry",
        "run",
        "storage",
        "secretmanager",
        "firestore",
    },
    INVOKER: {"run"},
    "gcp:firestore/database:Database": {"firestore"},
    "gcp:logging/metric:Metric": {"logging"},
    "gcp:monitoring/alertPolicy:AlertPolicy": {"monitoring"},
    "gcp:monitoring/notificationChannel:NotificationChannel": {"monitoring"},
    # A project IAM member reads and writes the project's IAM policy: Resource Manager.
    "gcp:projects/iAMMember:IAMMember": {"cloudresourcemanager"},
    "gcp:secretmanager/secret:Secret": {"secretmanager"},
    "gcp:secretmanager/secretVersion:SecretVersion": {"secretmanager"},
    "gcp:secretmanager/secretIamMember:SecretIamMember": {"secretmanager"},
    "gcp:serviceaccount/account:Account": {"iam"},
    "gcp:storage/bucket:Bucket": {"storage"},
    "gcp:storage/bucketObject:BucketObject": {"storage"},
}


def api_service(run: ProgramRun, api: str) -> Registration:
    found = [s for s in run.all(SERVICE) if s.inputs["service"] == f"{api}.googleapis.com"]
    assert len(found) == 1, f"the stack does not enable {api}.googleapis.com"
    return found[0]


def google_resources(run: ProgramRun) -> list[Registration]:
    return [r for r in run.registrations if r.type.startswith("gcp:") and r.type != SERVICE]


def service_account_grants(run: ProgramRun) -> list[Registration]:
    """Every grant to one of the stack's service accounts (not the public invokers)."""
    return [
        r
        for r in google_resources(run)
        if "member" in r.inputs
        and str(rpc.unwrap_rpc_secret(r.inputs["member"])).startswith("serviceAccount:")
    ]


def the_wait(run: ProgramRun) -> Registration:
    return run.one(SLEEP)


# ---------------------------------------------------------------------------- APIs


def test_every_resource_type_the_program_declares_has_its_api_listed_here(stack_run):
    unknown = {r.type for r in google_resources(stack_run)} - set(APIS_OF_TYPE)
    assert not unknown, f"add the Google APIs that serve {sorted(unknown)} to APIS_OF_TYPE"


def test_the_stack_enables_every_api_its_resources_need(stack_run):
    needed = {api for r in google_resources(stack_run) for api in APIS_OF_TYPE[r.type]}
    enabled = {s.inputs["service"] for s in stack_run.all(SERVICE)}
    missing = {f"{api}.googleapis.com" for api in needed} - enabled
    assert not missing, f"the stack does not enable {sorted(missing)}"
    assert enabled == set(REQUIRED_APIS)


def test_project_iam_members_need_the_resource_manager_api(stack_run):
    assert "cloudresourcemanager.googleapis.com" in REQUIRED_APIS
    for grant in stack_run.all("gcp:projects/iAMMember:IAMMember"):
        service = api_service(stack_run, "cloudresourcemanager")
        assert stack_run.depends_on(grant, service), f"{grant.name} may run before the API is on"


def test_the_build_accounts_logs_need_the_logging_api(stack_run):
    assert "logging.googleapis.com" in REQUIRED_APIS


def test_every_resource_depends_on_each_api_that_serves_it(stack_run):
    for resource in google_resources(stack_run):
        for api in sorted(APIS_OF_TYPE[resource.type]):
            assert stack_run.depends_on(resource, api_service(stack_run, api)), (
                f"{resource.type} {resource.name} does not wait for {api}.googleapis.com"
            )


def test_the_deploy_guide_lists_every_api_the_stack_enables():
    guide = (REPO / "docs" / "deploy.md").read_text()
    for api in REQUIRED_APIS:
        assert f"| `{api}` |" in guide, f"docs/deploy.md does not list {api}"


# ---------------------------------------------------------------------------- the wait


def test_there_is_one_propagation_wait_of_two_minutes(stack_run):
    wait = the_wait(stack_run)
    assert wait.inputs["createDuration"] == "120s"
    assert wait.parent_name == "service"


def test_both_functions_depend_on_the_wait(stack_run):
    wait = the_wait(stack_run)
    functions = stack_run.all(FUNCTION)
    assert len(functions) == 2
    for function in functions:
        assert stack_run.depends_on(function, wait), f"{function.name} does not wait for IAM"


def test_the_wait_comes_after_every_grant_to_a_service_account(stack_run):
    wait = the_wait(stack_run)
    grants = service_account_grants(stack_run)
    # session: key + database; webhook: two secrets + database; build: logs, source, images
    assert len(grants) == 8, [grant.name for grant in grants]
    for grant in grants:
        assert stack_run.depends_on(wait, grant), f"the wait does not come after {grant.name}"


def test_the_wait_comes_after_every_api(stack_run):
    wait = the_wait(stack_run)
    for service in stack_run.all(SERVICE):
        assert stack_run.depends_on(wait, service), f"the wait does not come after {service.name}"


def test_the_public_invokers_come_after_their_functions_not_before_the_wait(stack_run):
    wait = the_wait(stack_run)
    for invoker in stack_run.all(INVOKER):
        assert not stack_run.depends_on(wait, invoker)


def test_the_waits_triggers_name_every_grant_and_api(stack_run):
    triggers = the_wait(stack_run).plain("triggers")
    assert set(triggers) == {"apis", "grants"}
    assert triggers["apis"].split() == sorted(REQUIRED_APIS)
    fingerprints = triggers["grants"].splitlines()
    assert len(fingerprints) == len(service_account_grants(stack_run))
    for grant in service_account_grants(stack_run):
        assert any(grant.inputs["role"] in line for line in fingerprints), grant.name


def test_an_unchanged_stack_gives_the_same_triggers_so_up_does_not_wait_again(tmp_path):
    first = run_program("dev", load_stack("dev"), tmp_path / "a")
    again = run_program("dev", load_stack("dev"), tmp_path / "b")
    assert the_wait(first).plain("triggers") == the_wait(again).plain("triggers")


@pytest.mark.parametrize(
    "change",
    [
        {"billing-portal:firestore": {"database": "portal", "create": True, "location": "eur3"}},
        {"billing-portal:function": {"name": "billing-portal-other"}},
    ],
    ids=["a grant's condition changes", "the grants' members change"],
)
def test_a_changed_grant_changes_the_triggers_so_up_waits_again(tmp_path, change):
    before = run_program("dev", load_stack("dev"), tmp_path / "a")
    after = run_program("dev", {**load_stack("dev"), **change}, tmp_path / "b")
    assert (
        the_wait(before).plain("triggers")["grants"] != the_wait(after).plain("triggers")["grants"]
    )


# ---------------------------------------------------------------------------- public invokers


def public_access_warnings(run: ProgramRun) -> list[str]:
    return [w for w in run.warnings if "domainRestrictedSharing" in w]


def test_a_stack_whose_organisation_restricts_domains_is_told_the_exception_to_ask_for(tmp_path):
    config = {**load_stack("dev"), "billing-portal:domainRestrictedSharing": True}
    run = run_program("dev", config, tmp_path)
    (warning,) = public_access_warnings(run)
    project = run.config["gcp:project"]
    webhook = run.one(FUNCTION, "service-webhook-function").inputs["name"]
    session = run.one(FUNCTION, "service-function").inputs["name"]
    assert f"project {project}" in warning
    assert f"{webhook} (Stripe's webhook)" in warning
    assert f"{session} (publicInvoker: true)" in warning
    assert "constraints/iam.allowedPolicyMemberDomains" in warning
    assert "iam.managed.allowedPolicyMembers" in warning
    assert "allUsers" in warning and "roles/run.invoker" in warning
    assert "docs/deploy.md" in warning


def test_with_a_private_session_function_only_the_webhook_needs_the_exception(tmp_path):
    config = {
        **load_stack("dev"),
        "billing-portal:domainRestrictedSharing": True,
        "billing-portal:publicInvoker": False,
    }
    run = run_program("dev", config, tmp_path)
    (warning,) = public_access_warnings(run)
    session = run.one(FUNCTION, "service-function").inputs["name"]
    assert "(Stripe's webhook)" in warning
    assert session + " " not in warning and "publicInvoker" not in warning


def test_a_stack_that_does_not_say_its_organisation_restricts_domains_gets_no_warning(stack_run):
    assert public_access_warnings(stack_run) == []
