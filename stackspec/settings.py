"""Stack settings: one typed, frozen, validated object, read from a stack's config.

`parse_settings(stack, config)` is a pure function over plain config values, keyed as in a
`Pulumi.<stack>.yaml` file (`billing-portal:region`, `gcp:project`, ...). The Pulumi program feeds
it the engine's config (`infra.stack_config`); the review tools feed it a stack file read by
`stackspec.stackfiles`, with no Pulumi engine. Every mistake is reported at once, as a
`SettingsError` whose lines each name the full config key and the fix.

Config keys, their types and defaults are declared once, in Pulumi.yaml's `config:` block.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from stackspec.alert_settings import AlertSettings, read_alerts
from stackspec.branding_settings import BrandingSettings, read_branding
from stackspec.checkout_settings import CheckoutSettings, read_checkout
from stackspec.features_settings import FeatureSettings, read_features
from stackspec.function_contract import function_settings, preview_problem
from stackspec.portal_settings import (
    DeclaredProduct,
    PortalSettings,
    read_portal,
    read_products,
)
from stackspec.reader import (
    PROJECT,
    Problems,
    Section,
    SettingsError,
    SettingsProblem,
    config_set,
)
from stackspec.urls import origin_of, read_origins, read_url

__all__ = [
    "PROJECT",
    "BrandingSettings",
    "CheckoutSettings",
    "Settings",
    "SettingsError",
    "SettingsProblem",
    "declared_defaults",
    "parse_settings",
]

FIREBASE_ISSUER_PREFIX = "https://securetoken.google.com/"
FIREBASE_JWKS_URL = (
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
)
# Where Pulumi.yaml is: image paths in stack settings are relative to it.
PROJECT_DIR = Path(__file__).resolve().parent.parent


PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"
WEBHOOK_SUFFIX = "webhook"  # the webhook function and its account: `<function name>-webhook`


@functools.cache
def declared_defaults() -> Mapping[str, Any]:
    """The project's config defaults, from Pulumi.yaml's `config:` block: the one declaration of
    the project's keys, which the engine also applies before the program runs."""
    declared = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["config"]
    return MappingProxyType(
        {name: spec["default"] for name, spec in declared.items() if "default" in spec}
    )


# ---------------------------------------------------------------------------- the settings object


@dataclass(frozen=True, repr=False)
class SecretValue:
    """A secret config value. `value` is None when it is encrypted in a stack file read offline."""

    value: str | None

    def __repr__(self) -> str:
        return "SecretValue(<encrypted>)" if self.value is None else "SecretValue(<hidden>)"

    __str__ = __repr__

    @property
    def live(self) -> bool:
        return self.value is not None and self.value.startswith(("sk_live_", "rk_live_"))


@dataclass(frozen=True)
class AuthSettings:
    issuer: str
    audience: str
    jwks_url: str


@dataclass(frozen=True)
class FirestoreSettings:
    database: str = "(default)"
    create: bool = False
    location: str = ""


@dataclass(frozen=True)
class FunctionSettings:
    name: str
    service_account_id: str
    build_service_account_id: str
    webhook_name: str  # the second function, Stripe's webhook endpoint
    webhook_service_account_id: str
    min_instances: int = 0
    max_instances: int = 10
    memory: str = "256Mi"
    cpu: str | None = None
    timeout_seconds: int = 30
    concurrency: int = 1


@dataclass(frozen=True)
class Settings:
    """Everything one stack (environment) declares, validated."""

    stack: str
    gcp_project: str
    region: str
    production: bool
    stripe_secret_key: SecretValue | None
    stripe_admin_key: SecretValue | None
    default_return_url: str
    allowed_return_origins: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    auth: AuthSettings
    firestore: FirestoreSettings
    customers_collection: str
    function: FunctionSettings
    public_invoker: bool
    labels: Mapping[str, str]
    portal: PortalSettings
    products: tuple[DeclaredProduct, ...]
    branding: BrandingSettings = field(default_factory=BrandingSettings)
    checkout: CheckoutSettings = field(default_factory=CheckoutSettings)
    retention_coupons: tuple[str, ...] = ()
    features: FeatureSettings = field(default_factory=FeatureSettings)  # entitlements
    # The organisation refuses `allUsers` bindings unless the project has an exception.
    domain_restricted_sharing: bool = False
    alerts: AlertSettings = field(default_factory=AlertSettings)  # stackspec/alert_settings.py

    @property
    def stripe_management_key(self) -> SecretValue | None:
        """The key Pulumi manages Stripe objects with: stripeAdminKey, else stripeSecretKey."""
        return self.stripe_admin_key or self.stripe_secret_key


# ---------------------------------------------------------------------------- reading


def parse_settings(
    stack: str,
    config: Mapping[str, Any],
    *,
    secrets_required: bool = True,
    project_dir: Path = PROJECT_DIR,
) -> Settings:
    """Read and validate a stack's config (keys as in its stack file) into `Settings`.

    Secret values are `SecretValue`s (the Pulumi adapter), `{"secure": ...}` mappings (a stack
    file read offline: encrypted, value unknown) or absent; a plain string for a secret key is
    refused. `secrets_required=False` lets offline tools read a stack whose secrets are not set.
    Branding image paths are read relative to `project_dir` (this repository by default): the
    only input besides `config`. Raises `SettingsError` listing every problem.
    """
    problems = Problems()
    own, gcp_project_value = _split_namespaces(config)
    top = Section(problems, f"{PROJECT}:", own, label=PROJECT, top=True)

    production = top.boolean("production", declared_defaults()["production"])
    gcp_project = _gcp_project(problems, gcp_project_value)
    region = _region(top)
    secret_key = _secret(top, "stripeSecretKey", production, required=secrets_required)
    admin_key = _secret(top, "stripeAdminKey", production, required=False)
    default_return_url = read_url(top, "defaultReturnUrl", production, required=True) or ""
    fallback_origin = (origin_of(default_return_url),) if default_return_url else ()
    return_origins = read_origins(top, "allowedReturnOrigins", production) or fallback_origin
    allowed_origins = read_origins(top, "allowedOrigins", production) or fallback_origin
    auth = _auth(top.section("auth"), gcp_project)
    firestore = _firestore(top.section("firestore"), region)
    collection = _collection(top)
    function = _function(top.section("function"), stack)
    public_invoker = top.boolean("publicInvoker", declared_defaults()["publicInvoker"])
    restricted_sharing = top.boolean(
        "domainRestrictedSharing", declared_defaults()["domainRestrictedSharing"]
    )
    retention_coupons = top.strings("retentionCoupons")
    labels = _labels(top.section("labels"), stack)
    products = read_products(top.section("products"))
    portal = read_portal(top.section("portal"), production, {p.key: p for p in products})
    branding = read_branding(top.section("branding"), project_dir)
    alerts = read_alerts(top.section("alerts"))
    checkout = read_checkout(top.section("checkout"), portal, {p.key: p for p in products})
    features = read_features(top.section("features"), top.section("productFeatures"), products)
    top.finish()
    problems.raise_if_any(stack)

    settings = Settings(
        stack=stack,
        gcp_project=gcp_project,
        region=region,
        production=production,
        stripe_secret_key=secret_key,
        stripe_admin_key=admin_key,
        default_return_url=default_return_url,
        allowed_return_origins=return_origins,
        allowed_origins=allowed_origins,
        auth=auth,
        firestore=firestore,
        customers_collection=collection,
        function=function,
        public_invoker=public_invoker,
        domain_restricted_sharing=restricted_sharing,
        retention_coupons=retention_coupons,
        labels=labels,
        portal=portal,
        products=products,
        branding=branding,
        alerts=alerts,
        checkout=checkout,
        features=features,
    )
    _check_function_environment(settings)
    return settings


def _check_function_environment(settings: Settings) -> None:
    """Refuse a stack whose function would not start: run the function's own settings check on
    the environment this stack deploys, and name the stack key that produced the bad variable."""
    found = preview_problem(settings)
    if found is None:
        return
    key, message = found
    full_key = key if ":" in key else f"{PROJECT}:{key}"
    problems = Problems()
    problems.add(
        full_key,
        f"gives the function an environment it refuses: {message}",
        f"change {full_key} to a value the function accepts "
        "(docs/architecture.md, the function's environment contract)",
    )
    problems.raise_if_any(settings.stack)


def _split_namespaces(config: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    own: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = key.rpartition(":")
        if namespace in ("", PROJECT):
            own[name] = value
    return own, config.get("gcp:project")


def _gcp_project(problems: Problems, value: Any) -> str:
    if not value:
        problems.add("gcp:project", "is not set", config_set("gcp:project", "<your-project-id>"))
        return ""
    if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", value):
        problems.add(
            "gcp:project",
            f"{value!r} is not a Google Cloud project id",
            "use the project id (6-30 lowercase letters, digits, hyphens), not its name or number",
        )
        return ""
    return value


def _region(top: Section) -> str:
    region = top.string("region", declared_defaults()["region"]) or ""
    if not re.fullmatch(r"[a-z]+-[a-z]+[0-9]+", region):
        top.add(
            "region",
            f"{region!r} is not a Google Cloud region",
            config_set("region", "us-central1"),
        )
    return region


def _secret(top: Section, name: str, production: bool, *, required: bool) -> SecretValue | None:
    value = top.raw(name)
    fix = config_set(name, "rk_test_…", secret=True)
    if value is None or value == "":
        if required:
            top.add(name, "is not set", fix + " (a restricted key is recommended)")
        return None
    if isinstance(value, Mapping) and "secure" in value:
        return SecretValue(None)  # encrypted in a stack file read offline
    if not isinstance(value, SecretValue):
        top.add(
            name,
            "is stored in plain text, so it would be readable in the stack file and state",
            f"`pulumi config rm {name}`, then {fix}",
        )
        return None
    if not function_settings.is_stripe_secret_key(value.value or ""):
        hint = " (that is a publishable key)" if (value.value or "").startswith("pk_") else ""
        top.add(
            name,
            f"is not a Stripe secret or restricted key{hint}",
            f"{fix} with a key starting sk_test_/rk_test_ (or sk_live_/rk_live_ in production) "
            "and at least 8 characters after it",
        )
        return None
    if value.live and not production:
        top.add(
            name,
            "is a live-mode key, but this stack is not marked production",
            f"use a test-mode key ({fix}), or mark the stack production with "
            + config_set("production", "true"),
        )
        return None
    return value


def _auth(section: Section, gcp_project: str) -> AuthSettings:
    issuer = read_url(section, "issuer", production=True, local_ok=False)
    audience = section.string("audience")
    jwks_url = read_url(section, "jwksUrl", production=True, local_ok=False)
    section.finish()
    return AuthSettings(
        issuer=issuer or f"{FIREBASE_ISSUER_PREFIX}{gcp_project}",
        audience=audience or gcp_project,
        jwks_url=jwks_url or FIREBASE_JWKS_URL,
    )


def _firestore(section: Section, region: str) -> FirestoreSettings:
    database = section.string("database", "(default)") or "(default)"
    if database != "(default)" and not re.fullmatch(r"[a-z][a-z0-9-]{2,61}[a-z0-9]", database):
        section.add(
            "database",
            f"{database!r} is not a Firestore database id",
            "use (default) or 4-63 lowercase letters, digits and hyphens, starting with a letter",
        )
    create = section.boolean("create", False)
    location = section.string("location", region) or region
    section.finish()
    return FirestoreSettings(database=database, create=create, location=location)


def _collection(top: Section) -> str:
    name = top.string("customersCollection", declared_defaults()["customersCollection"]) or ""
    if not name or "/" in name or name in (".", "..") or re.fullmatch(r"__.*__", name):
        top.add(
            "customersCollection",
            f"{name!r} is not a Firestore collection id",
            "use a plain name such as stripe_customers (no '/', not __x__)",
        )
    return name


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def _function(section: Section, stack: str) -> FunctionSettings:
    name = section.string("name") or _slug(f"billing-portal-{stack}")[:63].rstrip("-")
    if not re.fullmatch(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?", name):
        section.add(
            "name",
            f"{name!r} is not a valid function name",
            "use up to 63 lowercase letters, digits and hyphens, starting with a letter",
        )
    account = name[:30].rstrip("-")
    if len(account) < 6:
        account = f"{account}-runtime"[:30]
    # Account ids are 6–30 characters; "-build" keeps the two accounts apart whatever the name.
    build_account = f"{name[:24].rstrip('-')}-build"
    # The webhook function: a function name is at most 63 characters, an account id 30.
    webhook_name = f"{name[:55].rstrip('-')}-{WEBHOOK_SUFFIX}"
    webhook_account = f"{name[:22].rstrip('-')}-{WEBHOOK_SUFFIX}"
    if name == webhook_name or len({account, build_account, webhook_account}) < 3:
        section.add(
            "name",
            f"{name!r} gives two of the stack's functions or service accounts the same name "
            f"(runtime {account!r}, build {build_account!r}, webhook {webhook_account!r})",
            f"choose a name that does not end in -{WEBHOOK_SUFFIX} or -build",
        )
    minimum = section.integer("minInstances", 0, minimum=0, maximum=1000)
    maximum = section.integer("maxInstances", 10, minimum=1, maximum=1000)
    if minimum > maximum:
        section.add(
            "maxInstances", f"{maximum} is below minInstances ({minimum})", "raise maxInstances"
        )
    memory = section.string("memory", "256Mi") or "256Mi"
    if not re.fullmatch(r"[1-9][0-9]*(Mi|Gi|M|G)", memory):
        section.add("memory", f"{memory!r} is not a memory size", "write it like 256Mi or 1Gi")
    cpu = section.string("cpu")
    if cpu is not None and not re.fullmatch(r"[0-9]+(\.[0-9]+)?", cpu):
        section.add("cpu", f"{cpu!r} is not a number of CPUs", "write it like 1 or 0.583")
        cpu = None
    timeout = section.integer("timeoutSeconds", 30, minimum=1, maximum=3600)
    concurrency = section.integer("concurrency", 1, minimum=1, maximum=1000)
    if concurrency > 1 and (cpu is None or float(cpu) < 1):
        section.add(
            "concurrency",
            f"is {concurrency}, but Cloud Functions serves concurrent requests only with 1 CPU "
            "or more",
            config_set("function.cpu", "1", path=True) + " or set concurrency to 1",
        )
    section.finish()
    return FunctionSettings(
        name=name,
        service_account_id=account,
        build_service_account_id=build_account,
        webhook_name=webhook_name,
        webhook_service_account_id=webhook_account,
        min_instances=minimum,
        max_instances=maximum,
        memory=memory,
        cpu=cpu,
        timeout_seconds=timeout,
        concurrency=concurrency,
    )


def _labels(section: Section, stack: str) -> Mapping[str, str]:
    labels = {"app": PROJECT, "stack": _slug(stack)[:63], "managed-by": "pulumi"}
    for name in sorted(section.data):
        value = section.string(name, "") or ""
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", name):
            section.add(name, "is not a valid label key", "use lowercase letters, digits, _ and -")
        elif not re.fullmatch(r"[a-z0-9_-]{0,63}", value):
            section.add(
                name,
                f"{value!r} is not a valid label value",
                "use up to 63 lowercase letters, digits, _ and -",
            )
        else:
            labels[name] = value
    section.finish()
    return MappingProxyType(labels)
