"""The Google Cloud side of a stack: the two functions and everything they need, least-privilege.

`PortalService` enables the APIs, creates (or uses) the Firestore database, keeps the Stripe key
and the webhook's signing secret in Secret Manager, uploads the deterministic source archive once
and deploys two gen2 functions from it: the session function (`create_portal_session`) and the
webhook (`stripe_webhook`). Each runs as its own service account with exactly the grants it needs:

- session: read the Stripe key secret; use the stack's Firestore database (an IAM condition);
- webhook: read the Stripe key secret and the webhook secret; use the stack's database.

A build service account with exactly what a Cloud Functions build needs (write build logs, read
the staged source, push to the stack's own image repository) builds both. Every resource waits
for the APIs it needs, and both functions wait for every grant to propagate through IAM
(`infra/propagation.py`), so the first `pulumi up` of a new project succeeds in one run.
`function_environment` is the env-var contract, as a pure function.

The functions are one table, `function_specs`: a `FunctionSpec` row per function (entry point,
names, account, environment from the contract, secrets, public or not). One builder makes every
row into resources, in two steps because of the wait: `_runtime_identity` (the account and its
grants) for every row, then the propagation wait, then `_function` (the function and, if public,
its invoker binding) for every row. Another function is another row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.archive import FunctionSource
from infra.propagation import Grant, propagation_wait
from stackspec.function_contract import function_environment as contract_environment
from stackspec.function_contract import function_settings, webhook_environment
from stackspec.settings import Settings
from stackspec.webhook_spec import webhook_url

RUNTIME = "python312"
SECRET_ENV_VAR = "STRIPE_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
WEBHOOK_SECRET_ENV_VAR = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 - the variable's name
# Every API a declared resource is served by (tests/infra/test_first_up.py maps each resource
# type to its APIs). Enabling them goes through Service Usage, which every project has enabled.
REQUIRED_APIS = (
    "artifactregistry.googleapis.com",  # the image repository; Cloud Build pushes the image
    "cloudbuild.googleapis.com",  # builds the function from the uploaded source
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",  # project IAM members read/write the project policy
    "firestore.googleapis.com",
    "iam.googleapis.com",  # the service accounts
    "logging.googleapis.com",  # a user-specified build account must log; the log-based metrics
    "monitoring.googleapis.com",  # the alert policies and notification channels (infra/health.py)
    "run.googleapis.com",  # gen2 functions run on Cloud Run; the public invoker bindings
    "secretmanager.googleapis.com",
    "storage.googleapis.com",  # the source bucket and archive; Cloud Functions' staging bucket
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


def public_services(settings: Settings) -> list[str]:
    """The Cloud Run services the stack makes invocable by `allUsers`, each with the reason."""
    services = [f"{settings.function.webhook_name} (Stripe's webhook)"]
    if settings.public_invoker:
        services.append(f"{settings.function.name} (publicInvoker: true)")
    return services


def public_access_warning(settings: Settings) -> str:
    """What preview says when the stack states that its organisation restricts IAM members to
    its own domains: the `allUsers` bindings would be refused without this project exception."""
    project = settings.gcp_project
    return (
        "billing-portal:domainRestrictedSharing is true: the organisation refuses allUsers in IAM "
        f"policies, and this stack grants allUsers {RUN_INVOKER} on the Cloud Run services "
        f"{' and '.join(public_services(settings))}. Before `pulumi up`, ask an organisation "
        f"policy administrator for an exception on project {project}: a project-level policy "
        "for constraints/iam.allowedPolicyMemberDomains that allows all values or, where the "
        "organisation uses the managed constraint iam.managed.allowedPolicyMembers, a "
        "project-level policy for it that adds allUsers to allowedMemberSubjects. Without it "
        '`pulumi up` stops at these bindings (docs/deploy.md, "What to ask an organisation '
        'admin for").'
    )


def function_environment(
    settings: Settings, configuration_id: Any, portal_prices: Any, checkout_prices: Any = None
) -> dict[str, Any]:
    """The function's plain env vars, built by the function's own contract (no Stripe key)."""
    return contract_environment(settings, configuration_id, portal_prices, checkout_prices)


@dataclass(frozen=True)
class ServiceArgs:
    settings: Settings
    source: FunctionSource
    portal_configuration_id: pulumi.Input[str]
    portal_prices: pulumi.Input[str]  # PORTAL_PRICES: the portal's prices, by their real ids
    stripe_secret_key: pulumi.Input[str]  # a secret; stored only in Secret Manager
    webhook_secret: pulumi.Input[str]  # the endpoint's signing secret; only in Secret Manager
    # CHECKOUT_PRICES: what Checkout sells, by real ids; None: what the portal sells
    checkout_prices: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class _Secret:
    """A Secret Manager secret, the version of it a function mounts, and its label in names."""

    label: str  # `<account>-reads-<label>` is the grant to read it
    secret: gcp.secretmanager.Secret
    version: gcp.secretmanager.SecretVersion


@dataclass(frozen=True)
class FunctionSpec:
    """One function deployed from the source archive: everything that differs between them.

    `account`, `resource` and `invoker` are the Pulumi names (after the component's) of its
    service account, the function and its public invoker binding. They are part of live
    resources' URNs (tests/infra/resource_urns.txt), so they are stated as deployed.
    """

    entry_point: str  # the archive's function it serves (Cloud Functions' FUNCTION_TARGET)
    name: str  # the function's name, and its Cloud Run service's
    description: str
    account: str
    account_id: str
    account_display_name: str
    account_description: str
    environment: Mapping[str, Any]  # plain variables, built by the function's contract
    secrets: Mapping[str, _Secret]  # variable → the secret mounted as it; the account reads each
    min_instances: int
    public: bool  # `allUsers` may invoke it
    resource: str
    invoker: str


@dataclass(frozen=True)
class _Identity:
    """The service account a function runs as, and its grants."""

    account: gcp.serviceaccount.Account
    grants: list[Grant]


@dataclass(frozen=True)
class _Build:
    """What every function is built from and by: the uploaded archive and the build account."""

    bucket: gcp.storage.Bucket
    source: gcp.storage.BucketObject
    account: gcp.serviceaccount.Account
    grants: list[Grant]
    images: gcp.artifactregistry.Repository


def function_specs(
    settings: Settings,
    configuration_id: pulumi.Input[str],
    portal_prices: pulumi.Input[str],
    stripe_key: _Secret,
    webhook_secret: _Secret,
    checkout_prices: pulumi.Input[str] | None = None,
) -> tuple[FunctionSpec, FunctionSpec]:
    """The stack's two functions (session, webhook), as one table: one row each."""
    sizing = settings.function
    session = FunctionSpec(
        entry_point=function_settings.SESSION_ENTRY_POINT,
        name=sizing.name,
        description=f"Stripe Customer Portal sessions for stack {settings.stack}",
        account="runtime",
        account_id=sizing.service_account_id,
        account_display_name=f"billing-portal function ({settings.stack})",
        account_description="Runs the portal session function: reads one secret, uses Firestore.",
        environment=function_environment(
            settings, configuration_id, portal_prices, checkout_prices
        ),
        secrets={SECRET_ENV_VAR: stripe_key},
        min_instances=sizing.min_instances,
        public=settings.public_invoker,
        resource="function",
        invoker="public-invoker",
    )
    webhook = FunctionSpec(
        entry_point=function_settings.WEBHOOK_ENTRY_POINT,
        name=sizing.webhook_name,
        description=f"Stripe webhook: subscription state to Firestore, stack {settings.stack}",
        account="webhook",
        account_id=sizing.webhook_service_account_id,
        account_display_name=f"billing-portal webhook ({settings.stack})",
        account_description="Runs the Stripe webhook function: reads two secrets, uses Firestore.",
        environment=webhook_environment(settings, configuration_id, portal_prices, checkout_prices),
        secrets={SECRET_ENV_VAR: stripe_key, WEBHOOK_SECRET_ENV_VAR: webhook_secret},
        min_instances=0,  # no person waits on a delivery, and Stripe retries: no warm instance
        public=True,  # Stripe calls it without Google credentials; the signature authenticates it
        resource="webhook-function",
        invoker="webhook-public-invoker",
    )
    return session, webhook


class PortalService(pulumi.ComponentResource):
    """One stack's two deployed functions (session, webhook) and their least-privilege needs."""

    url: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    build_service_account_email: pulumi.Output[str]
    function_name: pulumi.Output[str]
    source_object: pulumi.Output[str]
    webhook_function_url: pulumi.Output[str]
    webhook_service_account_email: pulumi.Output[str]

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("billing-portal:gcp:Service", name, None, opts)
        settings = args.settings
        # Every resource waits for the APIs: in a new project none of them is enabled yet.
        self._apis = self._enable_apis(name, settings)
        database = self._database(name, settings, self._after_apis())
        stripe_key = self._secret(name, "stripe-key", args.stripe_secret_key, settings)
        webhook_secret = self._secret(name, "webhook-secret", args.webhook_secret, settings)

        specs = function_specs(
            settings,
            args.portal_configuration_id,
            args.portal_prices,
            stripe_key,
            webhook_secret,
            args.checkout_prices,
        )
        identities = [self._runtime_identity(name, settings, spec) for spec in specs]
        build = self._build(name, settings, args.source)
        # The functions deploy only once IAM has propagated every grant they need: their own
        # accounts', and the build account's (infra/propagation.py).
        grants = [grant for identity in identities for grant in identity.grants]
        iam_propagated = propagation_wait(
            f"{name}-iam-propagation",
            grants=[*grants, *build.grants],
            apis=self._apis,
            api_names=REQUIRED_APIS,
            parent=self,
        )
        ready = [*self._apis, *build.grants, iam_propagated, *([database] if database else [])]
        session, webhook = (
            self._function(name, settings, spec, identity, build, ready)
            for spec, identity in zip(specs, identities, strict=True)
        )
        session_identity, webhook_identity = identities

        if settings.domain_restricted_sharing:
            pulumi.log.warn(public_access_warning(settings), resource=self)
        webhook.url.apply(lambda url: _check_webhook_url(settings, url))

        self.url = session.url
        self.service_account_email = session_identity.account.email
        self.build_service_account_email = build.account.email
        self.function_name = session.name
        self.source_object = build.source.name
        self.webhook_function_url = webhook.url
        self.webhook_service_account_email = webhook_identity.account.email
        self.apis: list[pulumi.Resource] = list(self._apis)  # for resources declared beside it
        self.register_outputs(
            {
                "url": self.url,
                "serviceAccountEmail": self.service_account_email,
                "buildServiceAccountEmail": self.build_service_account_email,
                "functionName": self.function_name,
                "sourceObject": self.source_object,
                "webhookFunctionUrl": self.webhook_function_url,
                "webhookServiceAccountEmail": self.webhook_service_account_email,
            }
        )

    def _after_apis(self) -> pulumi.ResourceOptions:
        """A child of this component that is created only once every required API is enabled."""
        return pulumi.ResourceOptions(parent=self, depends_on=self._apis)

    def _enable_apis(self, name: str, settings: Settings) -> list[pulumi.Resource]:
        """Each of `REQUIRED_APIS`, enabled in the project and left enabled on destroy."""
        return [
            gcp.projects.Service(
                f"{name}-api-{api.split('.')[0]}",
                project=settings.gcp_project,
                service=api,
                disable_on_destroy=False,  # other workloads in the project may use them
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in REQUIRED_APIS
        ]

    def _secret(
        self, name: str, label: str, data: pulumi.Input[str], settings: Settings
    ) -> _Secret:
        """A Secret Manager secret `<function name>-<label>` holding `data` (kept secret)."""
        secret = gcp.secretmanager.Secret(
            f"{name}-{label}",
            project=settings.gcp_project,
            secret_id=f"{settings.function.name}-{label}",
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=dict(settings.labels),
            opts=self._after_apis(),
        )
        version = gcp.secretmanager.SecretVersion(
            f"{name}-{label}-version",
            secret=secret.id,
            secret_data=pulumi.Output.secret(data),
            opts=self._after_apis(),
        )
        return _Secret(label, secret, version)

    def _runtime_identity(self, name: str, settings: Settings, spec: FunctionSpec) -> _Identity:
        """A function's own service account: it reads the function's secrets and uses the
        stack's Firestore database, nothing else."""
        project = settings.gcp_project
        account_name = f"{name}-{spec.account}"
        account = gcp.serviceaccount.Account(
            account_name,
            project=project,
            account_id=spec.account_id,
            display_name=spec.account_display_name,
            description=spec.account_description,
            opts=self._after_apis(),
        )
        member = account.email.apply(lambda email: f"serviceAccount:{email}")
        grants: list[Grant] = [
            gcp.secretmanager.SecretIamMember(
                f"{account_name}-reads-{held.label}",
                project=project,
                secret_id=held.secret.secret_id,
                role=SECRET_ACCESSOR,
                member=member,
                opts=self._after_apis(),
            )
            for held in spec.secrets.values()
        ]
        grants.append(
            gcp.projects.IAMMember(
                f"{account_name}-uses-firestore",
                project=project,
                role=FIRESTORE_USER,
                member=member,
                condition=gcp.projects.IAMMemberConditionArgs(
                    title="stack database only",
                    description=f"Only the Firestore database of billing-portal {settings.stack}",
                    expression=firestore_condition(project, settings.firestore.database),
                ),
                opts=self._after_apis(),
            )
        )
        return _Identity(account, grants)

    def _function(
        self,
        name: str,
        settings: Settings,
        spec: FunctionSpec,
        identity: _Identity,
        build: _Build,
        ready: list[pulumi.Resource],
    ) -> gcp.cloudfunctionsv2.Function:
        """The function of `spec`: built from the archive, run as its account, created once
        everything in `ready` and its own grants are; invocable by anyone if `spec.public`."""
        function = gcp.cloudfunctionsv2.Function(
            f"{name}-{spec.resource}",
            project=settings.gcp_project,
            location=settings.region,
            name=spec.name,
            description=spec.description,
            labels=dict(settings.labels),
            build_config=gcp.cloudfunctionsv2.FunctionBuildConfigArgs(
                runtime=RUNTIME,
                entry_point=spec.entry_point,
                service_account=build.account.name,  # projects/<p>/serviceAccounts/<email>
                docker_repository=build.images.id,
                source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceArgs(
                    storage_source=gcp.cloudfunctionsv2.FunctionBuildConfigSourceStorageSourceArgs(
                        bucket=build.bucket.name, object=build.source.name
                    )
                ),
            ),
            service_config=self._service_config(settings, spec, identity.account.email),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*ready, *identity.grants]),
        )
        if spec.public:
            # A gen2 function is invoked through its Cloud Run service, which has its name.
            gcp.cloudrunv2.ServiceIamMember(
                f"{name}-{spec.invoker}",
                project=settings.gcp_project,
                location=settings.region,
                name=function.name,
                role=RUN_INVOKER,
                member="allUsers",
                opts=self._after_apis(),
            )
        return function

    def _build(self, name: str, settings: Settings, archive: FunctionSource) -> _Build:
        """The source bucket, the uploaded archive, and the account that builds every function.

        The account: without it, builds run as the project's default Compute Engine account:
        often Editor, and in projects created since 2024 missing the roles a build needs.

        Google documents, for a custom build account of a gen2 function, Logs Writer, Artifact
        Registry Writer and Storage Object Viewer, all on the project ("Custom Service Account for
        Cloud Build"); `roles/cloudbuild.builds.builder`, the other documented choice, adds
        storage, Pub/Sub and more on the whole project. Google's own role for exactly this job,
        Cloud Run Builder (`roles/run.builder`: "can build Cloud Run functions"), shows what a build
        uses: `logging.logEntries.create`, artifact upload/download and `storage.objects.get`. So:
        the documented three roles, each as narrow as its resource allows: logs on the project
        (they cannot be granted narrower), images on the stack's own repository only, and object
        reads only in Cloud Functions' staging buckets and the stack's source bucket (an IAM
        condition). docs/deploy.md, "Who builds the function", says the same and what to widen if a
        real build is ever refused.
        """
        project, region = settings.gcp_project, settings.region
        child = self._after_apis()
        bucket = gcp.storage.Bucket(
            f"{name}-source",
            project=project,
            location=region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,  # holds only build inputs, re-uploaded by every `pulumi up`
            labels=dict(settings.labels),
            opts=child,
        )
        builder = gcp.serviceaccount.Account(
            f"{name}-build",
            project=project,
            account_id=settings.function.build_service_account_id,
            display_name=f"billing-portal build ({settings.stack})",
            description="Builds the portal session function: logs, staged source, its images.",
            opts=child,
        )
        images = gcp.artifactregistry.Repository(
            f"{name}-images",
            project=project,
            location=region,
            repository_id=f"{settings.function.name}-images",
            format="DOCKER",
            description=f"Images of the billing-portal function of stack {settings.stack}",
            labels=dict(settings.labels),
            opts=child,
        )
        member = builder.email.apply(lambda email: f"serviceAccount:{email}")
        grants: list[Grant] = [
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
        source = gcp.storage.BucketObject(
            f"{name}-source-archive",
            bucket=bucket.name,
            name=f"{settings.function.name}/{archive.object_name}",
            source=pulumi.FileAsset(str(archive.path)),
            content_type="application/zip",
            opts=child,
        )
        return _Build(bucket, source, builder, grants, images)

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
        settings: Settings, spec: FunctionSpec, account_email: pulumi.Output[str]
    ) -> gcp.cloudfunctionsv2.FunctionServiceConfigArgs:
        sizing = settings.function
        return gcp.cloudfunctionsv2.FunctionServiceConfigArgs(
            service_account_email=account_email,
            environment_variables=dict(spec.environment),
            secret_environment_variables=[
                gcp.cloudfunctionsv2.FunctionServiceConfigSecretEnvironmentVariableArgs(
                    key=variable,
                    project_id=settings.gcp_project,
                    secret=held.secret.secret_id,
                    version=held.version.version,  # pinned: a new secret redeploys the function
                )
                for variable, held in spec.secrets.items()
            ],
            min_instance_count=spec.min_instances,
            max_instance_count=sizing.max_instances,
            available_memory=sizing.memory,
            available_cpu=sizing.cpu,
            timeout_seconds=sizing.timeout_seconds,
            max_instance_request_concurrency=sizing.concurrency,
            ingress_settings="ALLOW_ALL",
            all_traffic_on_latest_revision=True,
        )


def _check_webhook_url(settings: Settings, url: str | None) -> None:
    """Warn when Google reports another URL for the webhook than the one Stripe was given.

    Stripe delivers to the documented deterministic URL (`stackspec.webhook_spec`), which Google
    serves beside the function's run.app URL; a different reported URL is worth a look.
    """
    expected = webhook_url(settings)
    if url and url != expected:
        pulumi.log.warn(
            f"the webhook function reports the URL {url}; Stripe's endpoint delivers to "
            f"{expected} (the function's documented cloudfunctions.net address). Check with "
            f"`curl -i -X POST {expected}` that it answers 400 invalid_signature."
        )
