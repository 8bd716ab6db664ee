"""`python -m review plan|diff|drift|verify`: the command line, and the I/O around the pure steps.

Exit codes: 0 — done (plan, diff), no drift, every verify check passed; 1 — drift, a verify check
failed; 2 — could not check: the stack file's settings errors exactly as `pulumi preview` prints
them, or one line saying what went wrong (a missing package, key, or stack output included).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from review import branding_drift, features_drift, json_report, markdown, pairing, webhook_drift
from review.drift import Drift, NotFound, compare_live, expected_rows, find_configuration
from review.git_base import GitError, file_at, plan_rows_at
from review.missing import missing_package_line
from review.plan import compare, identical, plan_of
from stackspec import declared, stackfiles
from stackspec.declared import substitute
from stackspec.portal_spec import portal_spec
from stackspec.settings import Settings, SettingsError

OK, DRIFT, ERROR = 0, 1, 2


class CommandError(Exception):
    """A one-line reason to stop with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one `error:` line like every other mistake."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also what `--help` shows)."""
    parser = _Parser(
        prog="python -m review",
        description="Review the Stripe portal configuration each stack declares.",
    )
    parser.add_argument(
        "-C",
        "--cwd",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="the project directory holding the Pulumi.<stack>.yaml files (default: .)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    plan = commands.add_parser("plan", help="the portal a stack declares (offline)")
    plan.add_argument("--stack", help="the stack (default: list the stacks found)")
    plan.add_argument(
        "--base", metavar="REF", help="compare with the stack file at this git commit"
    )
    _format_option(plan)

    diff = commands.add_parser("diff", help="two stacks side by side (offline)")
    diff.add_argument("first", metavar="STACK")
    diff.add_argument("second", metavar="STACK")
    _format_option(diff)

    drift = commands.add_parser(
        "drift",
        help="the live configuration in Stripe vs the stack (key: STRIPE_API_KEY)",
    )
    drift.add_argument("--stack", help="the stack (default: list the stacks found)")
    drift.add_argument(
        "--configuration-id",
        metavar="BPC_ID",
        help="the configuration to check (default: the one tagged with the stack's metadata)",
    )
    drift.add_argument(
        "--product-ids",
        metavar="JSON|@FILE",
        help="ids of declared products and prices: the stack output stripeProductIds "
        "(default: recognised in Stripe by their metadata)",
    )
    drift.add_argument(
        "--webhook-endpoint-id",
        metavar="WE_ID",
        help="the webhook endpoint to check: the stack output webhookEndpointId (default: the "
        "one tagged with the stack's metadata, else the one at the stack's webhook URL)",
    )
    drift.add_argument(
        "--branding-file-ids",
        metavar="JSON|@FILE",
        help="ids of the branding images Pulumi uploaded: the stack output brandingFileIds "
        "(default: live images are compared by content)",
    )
    _format_option(drift)

    check = commands.add_parser(
        "verify",
        help="a deployed stack end to end: the functions' answers, the portal configuration, "
        "the webhook endpoint, the function key's permissions (no user token needed)",
    )
    check.add_argument("--stack", help="the stack (default: list the stacks found)")
    check.add_argument(
        "--function-url",
        metavar="URL",
        help="the session function (default: the stack output functionUrl)",
    )
    check.add_argument(
        "--webhook-url",
        metavar="URL",
        help="the webhook function (default: the stack output webhookUrl)",
    )
    check.add_argument(
        "--configuration-id",
        metavar="BPC_ID",
        help="the portal configuration (default: the stack output portalConfigurationId, else "
        "the one tagged with the stack's metadata)",
    )
    check.add_argument(
        "--webhook-endpoint-id",
        metavar="WE_ID",
        help="the webhook endpoint (default: the stack output webhookEndpointId, else the one "
        "tagged with the stack's metadata or at the webhook URL)",
    )
    check.add_argument(
        "--product-ids",
        metavar="JSON|@FILE",
        help="ids of declared products and prices (default: the stack output stripeProductIds, "
        "else recognised in Stripe by their metadata)",
    )
    check.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    check.add_argument(
        "--json", dest="format", action="store_const", const="json", help="--format json"
    )
    return parser


def _format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except CommandError as error:
        err.write(f"error: {error}\n")
        return ERROR
    commands: dict[str, Callable[..., tuple[int, str]]] = {
        "plan": run_plan,
        "diff": run_diff,
        "drift": run_drift,
        "verify": run_verify,
    }
    try:
        code, text = commands[args.command](args, os.environ if environ is None else environ)
    except ModuleNotFoundError as error:
        # The wrong Python (not the project's .venv): "could not check", never exit 1 (drift).
        err.write(missing_package_line(error.name))
        return ERROR
    except SettingsError as error:
        err.write(f"{error}\n")  # verbatim: the lines `pulumi preview` prints
        return ERROR
    except (
        CommandError,
        stackfiles.StackNotFound,
        stackfiles.StackFileError,
        GitError,
        NotFound,
        webhook_drift.AmbiguousEndpoint,
    ) as error:
        err.write(f"error: {error}\n")
        return ERROR
    out.write(text)
    return code


def _stack_path(args: argparse.Namespace) -> Path:
    """The stack file `--stack` names; without one, the stacks there are, as the error."""
    if args.stack is None:
        found = stackfiles.stack_names(args.cwd)
        if not found:
            raise CommandError(
                f"no stack files (Pulumi.<stack>.yaml) in {args.cwd}; run it in the project "
                "directory or name it with -C DIR"
            )
        raise CommandError(f"name a stack with --stack; stacks here: {', '.join(found)}")
    return stackfiles.stack_file(args.cwd, args.stack)


def run_plan(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[int, str]:
    """`plan --stack S [--base REF]`."""
    path = _stack_path(args)
    head = plan_of(stackfiles.read_settings(path))
    render = json_report if args.format == "json" else markdown
    if args.base is None:
        return OK, render.plan(head, path.name)
    base = file_at(args.base, path)
    old_rows: Mapping[str, Any] = {}
    note = ""
    if base.text is None:
        note = f"`{base.path}` does not exist at `{base.ref}`: every setting is new."
    elif (base_rows := plan_rows_at(base.commit, args.stack, path)) is not None:
        # Both sides as their own code computes them, compared in the same (JSON) form.
        old_rows = base_rows
        head_rows = json.loads(json_report.dumps(dict(head.rows)))
        return OK, render.plan_change(args.stack, base, compare(old_rows, head_rows), note)
    else:
        note = "Read with this change's code: the base commit's own could not compute its plan."
        try:
            old_rows = plan_of(
                stackfiles.settings_from_text(path.name, base.text, path.parent)
            ).rows
        except SettingsError as error:
            note = (
                f"`{base.path}` at `{base.ref}` has settings errors, so every setting is shown "
                f"as new (first: {error.problems[0]})."
            )
    return OK, render.plan_change(args.stack, base, compare(old_rows, head.rows), note)


def run_diff(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[int, str]:
    """`diff FIRST SECOND`."""
    first = plan_of(stackfiles.read_settings(stackfiles.stack_file(args.cwd, args.first)))
    second = plan_of(stackfiles.read_settings(stackfiles.stack_file(args.cwd, args.second)))
    render = json_report if args.format == "json" else markdown
    grouped = pairing.group(first.rows, second.rows)
    return OK, render.environment_diff(
        args.first, args.second, grouped, identical(first.rows, second.rows)
    )


def run_drift(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[int, str]:
    """`drift --stack S [--configuration-id ID] [--product-ids JSON] [--webhook-endpoint-id ID]
    [--branding-file-ids JSON]`."""
    from review.stripe_live import (  # the stripe SDK is needed by this command only
        BASE_VARIABLE,
        LiveError,
        StripeReader,
        api_key,
    )

    settings = stackfiles.read_settings(_stack_path(args))
    ids = _product_ids(args.product_ids, declared.declared_refs(portal_spec(settings)))
    file_ids = _branding_file_ids(args.branding_file_ids)
    try:
        reader = StripeReader(api_key(environ), environ.get(BASE_VARIABLE) or None)
        report = portal_drift(reader, settings, args.configuration_id, ids)
        branding = _branding_checks(reader, settings, file_ids)
        webhook = webhook_drift.check_webhook(
            settings, _webhook_endpoint(reader, settings, args.webhook_endpoint_id)
        )
        features = _features_check(reader, settings, ids)
    except LiveError as error:
        raise CommandError(str(error)) from None
    report = dataclasses.replace(report, branding=branding, webhook=webhook, features=features)
    render = json_report if args.format == "json" else markdown
    return (DRIFT if report.drifted else OK), render.drift(report)


def portal_drift(
    reader: Any, settings: Settings, configuration_id: str | None, ids: dict[str, str] | None
) -> Drift:
    """The live portal configuration (by id, else the one tagged with the stack) against the
    stack; `ids` None: the declared products are recognised by the metadata Pulumi gave them."""
    spec = portal_spec(settings)
    if configuration_id:
        configuration = reader.configuration(configuration_id)
    else:
        configuration = find_configuration(reader.configurations(), spec["metadata"])
    if ids is None and declared.declared_refs(spec):
        objects = reader.catalog(*declared.referenced_objects(configuration))
        ids = declared.ids_from_metadata(settings.stack, objects)
    expected = expected_rows(substitute(spec, ids or {}), active=settings.portal.active)
    return compare_live(settings.stack, expected, configuration)


def _features_check(
    reader: Any, settings: Settings, ids: dict[str, str] | None
) -> features_drift.FeaturesDrift | None:
    """Each product's live features against the stack (None: it declares none and grants
    none); declared products by `ids`, else recognised by the metadata Pulumi gave them."""
    if not settings.features.features and not settings.features.grants:
        return None
    if ids is None:
        ids = declared.ids_from_metadata(settings.stack, reader.products())
    return features_drift.check_features(settings, ids, reader.product_features)


def _webhook_endpoint(
    reader: Any, settings: Settings, endpoint_id: str | None, url: str | None = None
) -> Mapping[str, Any] | None:
    """The stack's endpoint: by id, else as `webhook_drift.find_endpoint` recognises it."""
    if endpoint_id:
        return reader.webhook_endpoint(endpoint_id)
    return webhook_drift.find_endpoint(reader.webhook_endpoints(), settings, url)


def _branding_checks(
    reader: Any, settings: Settings, file_ids: Mapping[str, str]
) -> tuple[branding_drift.BrandingCheck, ...]:
    """The declared branding against the key's own account and the connected one, if any."""
    branding = settings.branding
    if not branding.declared:
        return ()
    checks: list[branding_drift.BrandingCheck] = []
    for account in (None, branding.connected_account) if branding.connected_account else (None,):
        live = branding_drift.live_branding(reader.account(account))
        # Pulumi's uploads are the platform's; a connected account holds its own copies.
        known = {} if account else file_ids
        hashes = {
            file_id: reader.file_sha256(file_id, account)
            for file_id in branding_drift.files_to_inspect(branding, live, known)
        }
        checks += branding_drift.check_branding(
            branding, live, account=account, file_ids=known, live_hashes=hashes
        )
    return tuple(checks)


def _json_option(name: str, option: str) -> str:
    """The JSON text of a `JSON|@FILE` option."""
    if not option.startswith("@"):
        return option
    try:
        return Path(option[1:]).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{name}: cannot read {option[1:]}: {error.strerror}") from None


def _branding_file_ids(option: str | None) -> dict[str, str]:
    if option is None:
        return {}
    try:
        return branding_drift.parse_file_ids(_json_option("--branding-file-ids", option))
    except ValueError as error:
        raise CommandError(str(error)) from None


def _product_ids(option: str | None, refs: list[str]) -> dict[str, str] | None:
    if option is None:
        return None
    try:
        ids = declared.parse_product_ids(_json_option("--product-ids", option))
    except ValueError as error:
        raise CommandError(str(error)) from None
    missing = declared.missing_ids(refs, ids)
    if missing:
        raise CommandError(f"--product-ids has no id for {', '.join(missing)}")
    return ids


def run_verify(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[int, str]:
    """`verify --stack S [--function-url URL] [--webhook-url URL] [--configuration-id ID]
    [--webhook-endpoint-id ID] [--product-ids JSON] [--format text|json]`."""
    from review import verify, verify_live  # requests and stripe: this command's only
    from review.stripe_live import BASE_VARIABLE

    settings = stackfiles.read_settings(_stack_path(args))
    ids = _product_ids(args.product_ids, declared.declared_refs(portal_spec(settings)))
    pulumi = verify_live.Pulumi(args.cwd, settings.stack, environ)
    # Stack outputs only for what no flag gives, and only when a URL is missing: with both URLs
    # given (a local run, another deployment) pulumi is not needed.
    deployed = not (args.function_url and args.webhook_url)

    def output(flag: str | None, name: str) -> tuple[str | None, str]:
        if flag or not deployed:
            return flag, ""
        try:
            return str(pulumi.output(name)), ""
        except verify_live.PulumiError as error:
            return None, str(error)

    checks: list[verify.Check] = []
    function_url, reason = output(args.function_url, "functionUrl")
    if function_url:
        checks += verify_live.function_checks(function_url, settings.allowed_origins)
    else:
        checks.append(
            verify.not_checked(
                "function",
                "the function answers CORS preflights and requests without a token",
                reason,
                "pass --function-url, or run where `pulumi stack output functionUrl` works "
                "(`pulumi login`, the stack's passphrase)",
            )
        )
    webhook_url, reason = output(args.webhook_url, "webhookUrl")
    if webhook_url:
        checks.append(verify_live.webhook_check(webhook_url))
    else:
        checks.append(
            verify.not_checked(
                "webhook_function",
                "the webhook answers an unsigned POST with 400 invalid_signature",
                reason,
                "pass --webhook-url, or run where `pulumi stack output webhookUrl` works",
            )
        )
    if deployed and ids is None:
        ids = _output_product_ids(pulumi)
    configuration_id = args.configuration_id or output(None, "portalConfigurationId")[0]
    endpoint_id = args.webhook_endpoint_id or output(None, "webhookEndpointId")[0]

    function_key, key_reason = _key(environ, "STRIPE_SECRET_KEY", pulumi, "stripeSecretKey")
    read_key, read_reason = _key(environ, "STRIPE_API_KEY", pulumi, "stripeAdminKey")
    read_key = read_key or function_key
    api_base = environ.get(BASE_VARIABLE) or None
    if read_key:
        checks += _stripe_checks(
            read_key, api_base, settings, configuration_id, ids, endpoint_id, webhook_url
        )
    else:
        for name, title in (
            ("portal.configuration", "the live portal configuration is the stack's"),
            ("webhook_endpoint", "the webhook endpoint is enabled, at the webhook, its events"),
        ):
            checks.append(
                verify.not_checked(
                    name,
                    title,
                    f"no Stripe key to read it with ({read_reason or key_reason})",
                    "set STRIPE_API_KEY (the drift check's read-only key)",
                )
            )
    if function_key:
        checks += verify_live.key_checks(
            function_key, api_base, settings.default_return_url, configuration_id
        )
    else:
        checks.append(
            verify.not_checked(
                "function_key",
                "the function's Stripe key can make the function's calls, and no others",
                key_reason,
                "set STRIPE_SECRET_KEY to the function's key, or run where `pulumi config get "
                "stripeSecretKey` works (PULUMI_CONFIG_PASSPHRASE for a passphrase stack)",
            )
        )
    render = verify.json_report if args.format == "json" else verify.text_report
    return verify.exit_code(checks), render(settings.stack, checks)


def _key(
    environ: Mapping[str, str], variable: str, pulumi: Any, config_key: str
) -> tuple[str | None, str]:
    """A key from the environment, else from the stack's secret config; or why there is none."""
    if environ.get(variable):
        return environ[variable], ""
    from review.verify_live import PulumiError

    try:
        value = pulumi.config(config_key)
    except PulumiError as error:
        return None, f"{variable} is not set and {error}"
    return value, "" if value else f"{variable} is not set and the stack has no {config_key}"


def _output_product_ids(pulumi: Any) -> dict[str, str] | None:
    """The stack output stripeProductIds, if the outputs can be read and have it."""
    from review.verify_live import PulumiError

    try:
        ids = pulumi.outputs().get("stripeProductIds")
    except PulumiError:
        return None
    return {str(ref): str(value) for ref, value in ids.items()} if isinstance(ids, dict) else None


def _stripe_checks(
    key: str,
    api_base: str | None,
    settings: Settings,
    configuration_id: str | None,
    ids: dict[str, str] | None,
    endpoint_id: str | None,
    webhook_url: str | None,
) -> list[Any]:
    """The portal configuration (the drift check) and the webhook endpoint (webhook drift)."""
    from review import verify
    from review.stripe_live import LiveError, StripeReader

    reader = StripeReader(key, api_base)
    checks: list[Any] = []
    title = "the live portal configuration is the stack's"
    try:
        checks.append(
            verify.portal(settings.stack, portal_drift(reader, settings, configuration_id, ids))
        )
    except LiveError as error:
        checks.append(
            verify.not_checked(
                "portal.configuration",
                title,
                str(error),
                "set STRIPE_API_KEY to a key that can read Customer portal (the drift key)",
            )
        )
    except NotFound as error:
        checks.append(
            verify.Check(
                "portal.configuration",
                title,
                verify.FAIL,
                str(error),
                "`pulumi up` creates it (check the stack and the key's account and mode)",
            )
        )
    title = "the webhook endpoint is enabled, points at the webhook, has exactly its events"
    try:
        endpoint = _webhook_endpoint(reader, settings, endpoint_id, webhook_url)
        checks += verify.webhook_endpoint(
            webhook_drift.check_webhook(settings, endpoint, webhook_url)
        )
    except LiveError as error:
        checks.append(
            verify.not_checked(
                "webhook_endpoint",
                title,
                str(error),
                "set STRIPE_API_KEY to a key that can read Webhook Endpoints (the drift key)",
            )
        )
    except webhook_drift.AmbiguousEndpoint as error:
        checks.append(
            verify.Check(
                "webhook_endpoint",
                title,
                verify.FAIL,
                str(error),
                "delete the stale endpoint, or pass --webhook-endpoint-id",
            )
        )
    return checks
