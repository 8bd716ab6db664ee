"""Canonical JSON for programs: the same data as the Markdown reports, keys sorted.

A side that has no value for a setting (`ABSENT`) is left out of its object, so `null` always
means the setting is declared (or live) as null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from review.consequences import consequences
from review.drift import Drift
from review.git_base import BaseFile
from review.pairing import GroupedDiff
from review.plan import Change, Plan
from review.rows import ABSENT, is_unmanaged


def dumps(document: Any) -> str:
    """Canonical, readable JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def plan(result: Plan, source: str) -> str:
    """A stack's plan: the exact API parameters, `active`, and the setting rows (the portal,
    the catalog `catalog.…` and the account branding `branding.…`)."""
    return dumps(
        {
            "stack": result.stack,
            "source": source,
            "spec_hash": result.spec_hash,
            "active": result.active,
            "configuration": result.spec,
            "unmanaged_fields": list(result.unmanaged),
            "settings": dict(result.rows),
        }
    )


def _sides(first: str, first_value: Any, second: str, second_value: Any) -> dict[str, Any]:
    return {
        name: item
        for name, item in ((first, first_value), (second, second_value))
        if item is not ABSENT
    }


def _change(change: Change, old: str, new: str) -> dict[str, Any]:
    return {
        "setting": change.setting,
        **_sides(old, change.old, new, change.new),
        "unmanaged": change.unmanaged,
    }


def plan_change(stack: str, base: BaseFile, changes: list[Change], note: str = "") -> str:
    """`plan --base`: the changes, each with `before` and/or `after`."""
    return dumps(
        {
            "stack": stack,
            "base": {
                "ref": base.ref,
                "commit": base.commit,
                "path": base.path,
                "exists": base.text is not None,
            },
            "note": note,
            "changes": [_change(change, "before", "after") for change in changes],
            "consequences": [
                {"kind": c.kind, "settings": list(c.settings), "title": c.title, "text": c.text}
                for c in consequences(changes)
            ],
        }
    )


def environment_diff(first: str, second: str, grouped: GroupedDiff, same: Mapping[str, Any]) -> str:
    """`diff`: the settings that differ once products and prices are paired (labels in names
    and values), the rows that differ only by those ids, the pairing, and the identical ones."""
    return dumps(
        {
            "stacks": [first, second],
            "differences": [_change(change, first, second) for change in grouped.differ],
            "same_plan_different_ids": [
                _change(change, first, second) for change in grouped.ids_only
            ],
            "pairs": [
                {first: pair.first, second: pair.second, "label": pair.label}
                for pair in grouped.pairs
            ],
            "identical": dict(same),
        }
    )


def drift(report: Drift) -> str:
    """`drift`: the findings and what the stack leaves to Stripe."""
    return dumps(
        {
            "stack": report.stack,
            "configuration_id": report.configuration_id,
            "livemode": report.livemode,
            "drifted": report.drifted,
            "compared": report.compared,
            "spec_hash": {"declared": report.declared_hash, "live": report.live_hash},
            "findings": [
                {
                    "setting": finding.setting,
                    **_sides("declared", finding.declared, "live", finding.live),
                    "unmanaged": is_unmanaged(finding.setting),
                }
                for finding in report.findings
            ],
            "undeclared": dict(report.undeclared),
            "branding": [
                {
                    "setting": check.setting,
                    "account": check.account,
                    "field": check.field,
                    "declared": check.declared,
                    "live": check.live,
                    "matches": check.matches,
                    "reason": check.reason,
                    "fix": check.fix,
                }
                for check in report.branding
            ],
            "webhook": _webhook(report),
            "features": _features(report),
        }
    )


def _features(report: Drift) -> dict[str, Any] | None:
    """Each product's features check (None when the report has none)."""
    if report.features is None:
        return None
    return {
        "drifted": report.features.drifted,
        "checks": [
            {
                "setting": check.setting,
                **_sides("declared", check.declared, "live", check.live),
                "matches": check.matches,
                "fix": check.fix,
            }
            for check in report.features.checks
        ],
    }


def _webhook(report: Drift) -> dict[str, Any] | None:
    """The webhook endpoint's checks (None when the report has none)."""
    if report.webhook is None:
        return None
    return {
        "endpoint_id": report.webhook.endpoint_id,
        "drifted": report.webhook.drifted,
        "checks": [
            {
                "setting": check.setting,
                **_sides("declared", check.declared, "live", check.live),
                "matches": check.matches,
                "fix": check.fix,
            }
            for check in report.webhook.checks
        ],
    }
