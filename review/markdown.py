"""Markdown for people: the plan, a change to it, the environment diff, the drift report.

GitHub-flavoured: tables, `<details>` for what is collapsed. Pure functions from the review's
data to text; values are shown as code, lists comma-separated, `—` where a side has nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from review.branding_drift import BrandingCheck
from review.consequences import Consequence, consequences
from review.drift import Drift
from review.features_drift import FeaturesDrift
from review.git_base import BaseFile
from review.pairing import PRODUCTS, GroupedDiff
from review.plan import CATALOG, Change, Plan
from review.rows import ABSENT, canonical, is_unmanaged
from review.webhook_drift import WebhookDrift
from stackspec.branding_spec import DASHBOARD_PAGE, ROWS
from stackspec.checkout_spec import ROWS as CHECKOUT_ROWS

UNMANAGED_MARK = "✱"
UNMANAGED_NOTE = (
    f"{UNMANAGED_MARK} pulumi-stripe cannot set this field; `pulumi up` applies it through the "
    "`PortalFields` resource (Stripe's default when the stack does not declare it; docs/deploy.md)."
)
BRANDING_NOTE = (
    "`branding.*` is the account's branding, not the portal configuration: `pulumi up` uploads "
    f"the images (stack output `brandingFileIds`); set them and the colours in {DASHBOARD_PAGE} "
    "(stack output `brandingDashboardStep`; docs/deploy.md, Branding). A `connected_account` gets "
    "them from `pulumi up`."
)
CHECKOUT_NOTE = (
    "`checkout.*` is what `POST {functionUrl}/checkout` sells and the parameters of every Checkout "
    "Session it starts (Stripe's names), not the portal configuration: `pulumi up` deploys them "
    "as the function's `CHECKOUT_*` environment (docs/deploy.md, Checkout)."
)


def value(item: Any) -> str:
    """One row value in a table cell."""
    if item is ABSENT:
        return "—"
    if isinstance(item, list):
        return ", ".join(value(element) for element in item) if item else "(none)"
    if item is None or isinstance(item, (bool, dict)):
        return _code(canonical(item))
    return _code(str(item))


def _code(text: str) -> str:
    text = text.replace("|", "\\|")  # a bare pipe would split the table cell
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _setting(name: str) -> str:
    return f"`{name}`" + (f" {UNMANAGED_MARK}" if is_unmanaged(name) else "")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _is_branding(setting: str) -> bool:
    return setting.startswith(ROWS)


def _is_checkout(setting: str) -> bool:
    return setting.startswith(CHECKOUT_ROWS)


def plan(result: Plan, source: str) -> str:
    """The whole declared portal of one stack."""
    configuration = {
        k: v
        for k, v in result.rows.items()
        if not k.startswith(CATALOG) and not _is_branding(k) and not _is_checkout(k)
    }
    catalog = {k: v for k, v in result.rows.items() if k.startswith(CATALOG)}
    branding = {k: v for k, v in result.rows.items() if _is_branding(k)}
    checkout = {k: v for k, v in result.rows.items() if _is_checkout(k)}
    lines = [
        f"### Portal plan: `{result.stack}`",
        "",
        f"Declared in `{source}` · spec hash `{result.spec_hash}` · "
        f"{_plural(len(configuration), 'setting')}.",
        "",
        *_table(("setting", "value"), ((_setting(k), value(v)) for k, v in configuration.items())),
    ]
    if catalog:
        lines += ["", "Products and prices Pulumi creates in Stripe for this stack:", ""]
        lines += _table(("setting", "value"), ((f"`{k}`", value(v)) for k, v in catalog.items()))
    if branding:
        lines += ["", "Account branding:", ""]
        lines += _table(("setting", "value"), ((f"`{k}`", value(v)) for k, v in branding.items()))
    if checkout:
        lines += ["", "Checkout (what the function sells a user without a plan, and how):", ""]
        lines += _table(("setting", "value"), ((f"`{k}`", value(v)) for k, v in checkout.items()))
    if any(is_unmanaged(setting) for setting in configuration):
        lines += ["", UNMANAGED_NOTE]
    if branding:
        lines += ["", BRANDING_NOTE]
    if checkout:
        lines += ["", CHECKOUT_NOTE]
    return "\n".join(lines) + "\n"


def plan_change(stack: str, base: BaseFile, changes: list[Change], note: str = "") -> str:
    """What a change does to one stack's portal, setting by setting (old → new)."""
    short = base.commit[:12]
    if not changes:
        title = f"### Portal plan: `{stack}` — no portal setting changes"
    else:
        title = f"### Portal plan: `{stack}` — {_plural(len(changes), 'setting')} change"
    lines = [title, "", f"Compared with `{base.ref}` (`{short}`), `{base.path}`."]
    if note:
        lines += ["", note]
    if changes:
        rows = ((_setting(c.setting), value(c.old), value(c.new)) for c in changes)
        lines += ["", *_table(("setting", "before", "after"), rows)]
        lines += _consequences(consequences(changes))
        lines += _notes(changes)
    return "\n".join(lines) + "\n"


def _consequences(found: list[Consequence]) -> list[str]:
    """What the changes do beyond the portal, right under the table that shows them."""
    if not found:
        return []
    lines = ["", "#### Beyond the portal: existing customers", ""]
    for item in found:
        names = ", ".join(f"`{setting}`" for setting in item.settings)
        lines += [f"- ⚠ **{item.title}** ({names}). {item.text}"]
    return lines


def _notes(changes: list[Change]) -> list[str]:
    lines = []
    if any(change.unmanaged for change in changes):
        lines += ["", UNMANAGED_NOTE]
    if any(_is_branding(change.setting) for change in changes):
        lines += ["", BRANDING_NOTE]
    if any(_is_checkout(change.setting) for change in changes):
        lines += ["", CHECKOUT_NOTE]
    return lines


def environment_diff(first: str, second: str, grouped: GroupedDiff, same: Mapping[str, Any]) -> str:
    """Two stacks side by side: first the settings that differ once products and prices are
    paired (review.pairing), then, collapsed, the rows that differ only by those ids, then the
    identical settings."""
    changes, ids_only = grouped.differ, grouped.ids_only
    title = f"### Environment diff: `{first}` ↔ `{second}` — "
    title += f"{_plural(len(changes), 'setting')} differ" if changes else "same settings"
    if not changes and not ids_only:
        title = f"### Environment diff: `{first}` ↔ `{second}` — identical"
    lines = [
        title,
        "",
        f"{len(changes)} differ · {len(ids_only)} only by product and price ids · "
        f"{len(same)} identical (both collapsed below).",
    ]
    if grouped.pairs:
        legend = ", ".join(
            f"`{p.label}` = {_code(p.first)} ↔ {_code(p.second)}" for p in grouped.pairs
        )
        lines += [
            "",
            f"Products and prices are paired by their position in `{PRODUCTS}` and in each "
            f"product's `prices`: {legend}.",
        ]
    if changes:
        rows = ((_setting(c.setting), value(c.old), value(c.new)) for c in changes)
        lines += ["", "#### Settings that differ", "", *_table(("setting", first, second), rows)]
    if ids_only:
        lines += [
            "",
            f"<details><summary>Same plans, different ids: {_plural(len(ids_only), 'row')} "
            f"(the catalog one stack creates, the ids the other names)</summary>",
            "",
        ]
        rows = ((_setting(c.setting), value(c.old), value(c.new)) for c in ids_only)
        lines += _table(("setting", first, second), rows)
        lines += ["", "</details>"]
    if same:
        lines += ["", f"<details><summary>{_plural(len(same), 'identical setting')}</summary>", ""]
        lines += _table(("setting", "value"), ((_setting(k), value(v)) for k, v in same.items()))
        lines += ["", "</details>"]
    lines += _notes([*changes, *ids_only])
    return "\n".join(lines) + "\n"


def drift(report: Drift) -> str:
    """The drift check's report: what differs, why it may, and what the stack leaves to Stripe;
    then the account's branding, field by field, with what to set where."""
    mode = "live mode" if report.livemode else "test mode"
    count = (
        len(report.findings)
        + len(report.branding_drift)
        + len(report.webhook_drift)
        + len(report.features_drift)
    )
    if count:
        title = f"### Drift: `{report.stack}` — {_plural(count, 'setting')} differ from the stack"
    else:
        title = f"### Drift: `{report.stack}` — none, the live configuration is as declared"
    lines = [
        title,
        "",
        f"Live configuration `{report.configuration_id}` ({mode}): "
        f"{_plural(report.compared, 'setting')} compared, "
        f"{len(report.undeclared)} not declared by the stack (listed below, not compared); "
        "fields only Stripe sets (`id`, `created`, `updated`, …) are not compared.",
    ]
    if report.findings:
        rows = ((_setting(f.setting), value(f.declared), value(f.live)) for f in report.findings)
        lines += ["", *_table(("setting", "declared", "live"), rows), "", _why(report)]
        if any(is_unmanaged(finding.setting) for finding in report.findings):
            lines += ["", UNMANAGED_NOTE]
    if report.branding:
        lines += ["", *_branding(report.branding)]
    if report.webhook is not None:
        lines += ["", *_webhook(report.webhook)]
    if report.features is not None:
        lines += ["", *_features(report.features)]
    if report.undeclared:
        lines += [
            "",
            "<details><summary>"
            f"{_plural(len(report.undeclared), 'setting')} the stack leaves to Stripe"
            "</summary>",
            "",
            *_table(("setting", "live"), ((f"`{k}`", value(v)) for k, v in report.undeclared)),
            "",
            "Declare a setting in the stack file to have it checked.",
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def _branding(checks: tuple[BrandingCheck, ...]) -> list[str]:
    """The branding section of the drift report: every declared field, then the fixes."""
    drifted = [check for check in checks if not check.matches]
    summary = (
        f"{_plural(len(drifted), 'field')} of {len(checks)} differ"
        if drifted
        else f"all {len(checks)} declared fields match"
    )
    rows = (
        (
            f"`{check.setting}`",
            value(check.declared),
            value(check.live) if check.live else "(not set)",
            ("✓ " if check.matches else "✗ ") + check.reason,
        )
        for check in checks
    )
    lines = [
        f"#### Branding: {summary}",
        "",
        *_table(("setting", "declared", "live", "result"), rows),
    ]
    if drifted:
        lines += ["", "To restore the declared branding:", ""]
        lines += [f"- `{check.setting}`: {check.fix}" for check in drifted]
    return lines


def _webhook(webhook: WebhookDrift) -> list[str]:
    """The webhook section of the drift report: each declared field, then the fixes."""
    drifted = webhook.drift
    if webhook.endpoint_id is None:
        summary = "none of the stack's in this account"
    elif drifted:
        summary = f"{_plural(len(drifted), 'field')} of {len(webhook.checks)} differ"
    else:
        summary = f"all {len(webhook.checks)} declared fields match"
    rows = (
        (
            f"`{check.setting}`",
            value(check.declared),
            value(check.live),
            "✓" if check.matches else "✗",
        )
        for check in webhook.checks
    )
    lines = [f"#### Webhook endpoint: {summary}", ""]
    if webhook.endpoint_id:
        lines += [f"Live endpoint `{webhook.endpoint_id}`.", ""]
    lines += _table(("setting", "declared", "live", "result"), rows)
    if drifted:
        lines += ["", "To restore the declared endpoint:", ""]
        lines += [f"- `{check.setting}`: {check.fix}" for check in drifted]
    return lines


def _features(features: FeaturesDrift) -> list[str]:
    """The features section of the drift report: each product's features, then the fixes."""
    drifted = features.drift
    summary = (
        f"{_plural(len(drifted), 'product')} of {len(features.checks)} differ"
        if drifted
        else f"all {len(features.checks)} products grant the declared features"
    )
    rows = (
        (
            _setting(check.setting),
            value(check.declared),
            value(check.live),
            "✓" if check.matches else "✗",
        )
        for check in features.checks
    )
    lines = [f"#### Features: {summary}", ""]
    lines += _table(("setting", "declared", "live", "result"), rows)
    if drifted:
        lines += ["", "To restore the declared features:", ""]
        lines += [f"- `{check.setting}`: {check.fix}" for check in drifted]
    return lines


def _why(report: Drift) -> str:
    if report.live_hash and report.live_hash == report.declared_hash:
        return (
            "The live configuration was deployed from this very spec (`spec-hash` matches), so "
            "these settings were changed outside Pulumi (Dashboard or API). "
            "`pulumi up --refresh` restores the declared values; to keep the live ones, declare "
            "them in the stack file instead."
        )
    return (
        f"The live configuration was deployed from another spec (`spec-hash` "
        f"`{report.live_hash or 'none'}`, the stack's is `{report.declared_hash}`): the stack's "
        "latest changes are not deployed yet (`pulumi up`), or it was changed outside Pulumi."
    )
