"""The Google Cloud side of a stack: the session function and everything it needs, least-privilege.

`PortalService` enables the APIs, creates (or uses) the Firestore database, keeps the Stripe key in
Secret Manager, creates the function's own service account with exactly two grants (read that one
secret, use the stack's Firestore database), a build service account with exactly what a Cloud
Functions build needs (write build logs, read the staged source, push to the stack's own image
repository), uploads the deterministic source archive and deploys the gen2 function with the
function's env-var contract. `function_environment` is that contract, as a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.archive import FunctionSource
from stackspec.function_contract import function_environment as contract_environment
from stackspec.settings import Settings

RUNTIME = "python312"
ENTRY_POINT = "create_portal_session"
SECRET_ENV_VAR = "STRIPE_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
REQUIRED_APIS = (
    "artifactregistry.googleapis.com",  # where Cloud Build stores the function image
    "cloudbuild.googleapis.com",  # builds the function from the uploaded source
    "cloudfunctions.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",  # the function's service account
    "run.googleapis.com",  # gen2 functions run on Cloud Run
    "secretmanager.googleapis.com",
    "storage.googleapis.com",  # the source bucket
)
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"  # noqa: S105 - a role name
FIRESTORE_USER = "roles/datastore.user"
RUN_INVOKER = "roles/run.invoker"
LOG_WRITER = "roles/logging.logWriter"
OBJECT_VIEWER = "roles/storage.objectViewer"
IMAGE_WRITER = "roles/artifactregistry.writer"
# Cloud Functions copies the uploaded source into this per-project, per-region bucket of its own
# and the build fetches it from there; the bucket is created on the first deploy, so the grant is
# a condition on its name rather than a binding on a bucket that may not exist yet.
STAGING_BUCKET_PREFIX = "projects/_/buckets/gcf-v2-sources-"


def firestore_condition(project: str, database: str) -> str:
    """IAM condition limiting a Firestore role to one database of the project."""
    return f'resource.name == "projects/{project}/databases/{database}"'


def build_source_condition(source_bucket: str) -> str:
    """IAM condition limiting object reads to Cloud Functions' staging buckets and our own."""
    bucket = f"projects/_/buckets/{source_bucket}"
    return (
        f'resource.name.startsWith("{STAGING_BUCKET_PREFIX}") || '
        f'resource.name == "{bucket}" || resource.name.startsWith("{bucket}/")'
    )


def function_environment(settings: Settings, configuration_id: Any) -> dict[str, Any]:
    """The function's plain env vars, built by the function's own contract (no Stripe key)."""
    return contract_environment(settings, configuration_id)


@dataclass(frozen=True)
class ServiceArgs:
    settings: Settings
    source: FunctionSource
    portal_configuration_id: pulumi.Input[str]
    stripe_secret_key: pulumi.Input[str]  # a secret; stored only in Secret Manager


class PortalService(pulumi.ComponentResource):
    """The deployed session function of one stack and its least-privilege surroundings."""

    url: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    build_service_account_email: pulumi.Output[str]
    function_name: pulumi.Output[str]
    source_object: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("billing-portal:gcp:Service", name, None, opts)
        settings = args.settings
        project, region = settings.gcp_project, settings.region
        labels = dict(settings.labels)
        child = pulumi.ResourceOptions(parent=self)

        apis = [
            gcp.projects.Service(
                f"{name}-api-{api.split('.')[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,  # other workloads in the project may use them
                opts=child,
            )
            for api in REQUIRED_APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=apis)

        database = self._database(name, settings, after_apis)

        secret = gcp.secretmanager.Secret(
            f"{name}-stripe-key",
            project=project,
            secret_id=f"{settings.function.name}-stripe-key",
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=labels,
            opts=after_apis,
        )
        secret_version = gcp.secretmanager.SecretVersion(
            f"{name}-stripe-key-version",
            secret=secret.id,
            secret_data=pulumi.Output.secret(args.stripe_secret_key),
            opts=child,
        )

        account = gcp.serviceaccount.Account(
            f"{name}-runtime",
            project=project,
            account_id=settings.function.service_account_id,
            display_name=f"billing-portal function ({settings.stack})",
            description="Runs the portal session function: reads one secret, uses Firestore.",
            opts=after_apis,
        )
        member = account.email.apply(lambda email: f"serviceAccount:{email}")
        grants = [
            gcp.secretmanager.SecretIamMember(
                f"{name}-runtime-reads-stripe-key",
                project=project,
                secret_id=secret.secret_id,
                role=SECRET_ACCESSOR,
                member=member,
                opts=child,
            ),
            gcp.projects.IAMMember(
                f"{name}-runtime-uses-firestore",
                project=project,
                role=FIRESTORE_USER,
                member=member,
                condition=gcp.projects.IAMMemberConditionArgs(
                    title="stack database only",
                    description=f"Only the Firestore database of billing-portal {settings.stack}",
                    expression=firestore_condition(project, settings.firestore.database),
                ),
                opts=child,
            ),
        ]

        bucket = gcp.storage.Bucket(
            f"{name}-source",
            project=project,
            location=region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,  # holds only build inputs, re-uploaded by every `pulumi up`
            labels=labels,
            opts=after_apis,
        )
        builder, build_grants, images = self._build_identity(name, settings, bucket, after_apis)

        source = gcp.storage.BucketObject(
            f"{name}-source-archive",
            bucket=bucket.name,
            name=f"{settings.function.name}/{args.source.object_name}",
            source=pulumi.FileAsset(str(args.source.path)),
            content_type="application/zip",
            opts=child,
        )

        function = gcp.cloudfunctionsv2.Function(
            f"{name}-function",
            project=project,
            location=region,
            name=settings.function.name,
            description=f"Stripe Customer Portal sessions for stack {settings.stack}",
            labels=labels,
            build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
                runtime=RUNTIME,
                entry_point=ENTRY_POINT,
                service_account=builder.name,  # projects/<p>/serviceAccounts/<email>
                docker_repository=images.id,
                source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
                    storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                        bucket=bucket.name, object=source.name
                    )
                ),
            ),
            service_config=self._service_config(args, account.email, secret, secret_version),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*apis, *grants, *build_grants, *([database] if database else [])],
            ),
        )

        if settings.public_invoker:
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-public-invoker",
                project=project,
                location=region,
                name=function.name,  # a gen2 function's Cloud Run service has its name
                role=RUN_INVOKER,
                member="allUsers",
                opts=child,
            )

        self.url = function.url
        self.service_account_email = account.email
        self.build_service_account_email = builder.email
        self.function_name = function.name
        self.source_object = source.name
        self.register_outputs(
            {
                "url": self.url,
                "serviceAccountEmail": self.service_account_email,
                "buildServiceAccountEmail": self.build_service_account_email,
                "functionName": self.function_name,
                "sourceObject": self.source_object,
            }
        )

    def _build_identity(
        self,
        name: str,
        settings: Settings,
        bucket: gcp.storage.Bucket,
        opts: pulumi.ResourceOptions,
    ) -> tuple[gcp.serviceaccount.Account, list[pulumi.Resource], gcp.artifactregistry.Repository]:
        """The account Cloud Build runs the function's build as, and the only grants it needs.

        Without it, builds run as the project's default Compute Engine account: often Editor, and
        in projects created since 2024 missing the roles a build needs.
        """
        project, region = settings.gcp_project, settings.region
        child = pulumi.ResourceOptions(parent=self)
        builder = gcp.serviceaccount.Account(
            f"{name}-build",
            project=project,
            account_id=settings.function.build_service_account_id,
            display_name=f"billing-portal build ({settings.stack})",
            description="Builds the portal session function: logs, staged source, its images.",
            opts=opts,
        )
        images = gcp.artifactregistry.Repository(
            f"{name}-images",
            project=project,
            location=region,
            repository_id=f"{settings.function.name}-images",
            format="DOCKER",
            description=f"Images of the billing-portal function of stack {settings.stack}",
            labels=dict(settings.labels),
            opts=opts,
        )
        member = builder.email.apply(lambda email: f"serviceAccount:{email}")
        grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{name}-build-writes-logs",
                project=project,
                role=LOG_WRITER,
                member=member,
                opts=child,
            ),
            gcp.projects.IAMMember(
                f"{name}-build-reads-source",
                project=project,
                role=OBJECT_VIEWER,
                member=member,
                condition=gcp.projects.IAMMemberConditionArgs(
                    title="function source only",
                    description="Cloud Functions' staging buckets and the stack's source bucket",
                    expression=bucket.name.apply(build_source_condition),
                ),
                opts=child,
            ),
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-build-pushes-images",
                project=project,
                location=region,
                repository=images.repository_id,
                role=IMAGE_WRITER,
                member=member,
                opts=child,
            ),
        ]
        return builder, grants, images

    @staticmethod
    def _database(
        name: str, settings: Settings, opts: pulumi.ResourceOptions
    ) -> gcp.firestore.Database | None:
        if not settings.firestore.create:
            return None  # an existing database, used by id
        return gcp.firestore.Database(
            f"{name}-firestore",
            project=settings.gcp_project,
            name=settings.firestore.database,
            location_id=settings.firestore.location,
            type="FIRESTORE_NATIVE",
            delete_protection_state=(
                "DELETE_PROTECTION_ENABLED" if settings.production else "DELETE_PROTECTION_DISABLED"
            ),
            deletion_policy="ABANDON",  # `pulumi destroy` never deletes customer mappings
            opts=opts,
        )

    @staticmethod
    def _service_config(
        args: ServiceArgs,
        account_email: pulumi.Output[str],
        secret: gcp.secretmanager.Secret,
        secret_version: gcp.secretmanager.SecretVersion,
    ) -> gcp.cloudfunctionsv2.FunctionServiceConfigArgs:
        settings = args.settings
        sizing = settings.function
        environment: Mapping[str, Any] = function_environment(
            settings, args.portal_configuration_id
        )
        return gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
            service_account_email=account_email,
            environment_variables=dict(environment),
            secret_environment_variables=[
                gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                    key=SECRET_ENV_VAR,
                    project_id=settings.gcp_project,
                    secret=secret.secret_id,
                    version=secret_version.version,  # pinned: a new key redeploys the function
                )
            ],
            min_instance_count=sizing.min_instances,
            max_instance_count=sizing.max_instances,
            available_memory=sizing.memory,
            available_cpu=sizing.cpu,
            timeout_seconds=sizing.timeout_seconds,
            max_instance_request_concurrency=sizing.concurrency,
            ingress_settings="ALLOW_ALL",
            all_traffic_on_latest_revision=True,
        )
