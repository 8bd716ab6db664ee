"""`python -m review plan|diff|drift`: the command line, and the I/O around the pure steps.

Exit codes: 0 — done (plan, diff) or no drift; 1 — drift; 2 — error: the stack file's settings
errors exactly as `pulumi preview` prints them, or one line saying what went wrong.
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

from review import branding_drift, json_report, markdown, webhook_drift
from review.drift import NotFound, compare_live, expected_rows, find_configuration
from review.git_base import GitError, file_at, plan_rows_at
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
    }
    try:
        code, text = commands[args.command](args, os.environ if environ is None else environ)
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
    changes = compare(first.rows, second.rows)
    return OK, render.environment_diff(
        args.first, args.second, changes, identical(first.rows, second.rows)
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
    spec = portal_spec(settings)
    refs = declared.declared_refs(spec)
    ids = _product_ids(args.product_ids, refs)
    file_ids = _branding_file_ids(args.branding_file_ids)
    try:
        reader = StripeReader(api_key(environ), environ.get(BASE_VARIABLE) or None)
        if args.configuration_id:
            configuration = reader.configuration(args.configuration_id)
        else:
            configuration = find_configuration(reader.configurations(), spec["metadata"])
        if ids is None and refs:
            # No --product-ids: recognise the products the live configuration names by the
            # metadata Pulumi gave them.
            objects = reader.catalog(*declared.referenced_objects(configuration))
            ids = declared.ids_from_metadata(settings.stack, objects)
        branding = _branding_checks(reader, settings, file_ids)
        if args.webhook_endpoint_id:
            endpoint = reader.webhook_endpoint(args.webhook_endpoint_id)
        else:
            endpoint = webhook_drift.find_endpoint(reader.webhook_endpoints(), settings)
        webhook = webhook_drift.check_webhook(settings, endpoint)
    except LiveError as error:
        raise CommandError(str(error)) from None
    expected = expected_rows(substitute(spec, ids or {}), active=settings.portal.active)
    report = compare_live(settings.stack, expected, configuration)
    report = dataclasses.replace(report, branding=branding, webhook=webhook)
    render = json_report if args.format == "json" else markdown
    return (DRIFT if report.drifted else OK), render.drift(report)


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
