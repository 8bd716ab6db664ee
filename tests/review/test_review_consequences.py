"""`plan --base`: a change whose effect reaches past the portal says so, under its table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.consequences import Consequence, consequences
from review.plan import Change
from review.rows import ABSENT
from tests.review.review_support import copy_stacks, edit_stack, git, run

MONTHLY = "catalog.team.prices.monthly"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    copy_stacks(tmp_path)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "stacks")
    return tmp_path


def change_dev(repo: Path, *path: str, value) -> None:
    edit_stack(repo / "Pulumi.dev.yaml", *path, value=value)
    git(repo, "commit", "--quiet", "-am", "change")


def plan(repo: Path, *extra: str):
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD~1", *extra)
    assert result.code == 0, result.err
    return result


def beyond(markdown: str) -> str:
    """The consequences section of a plan change ('' when there is none)."""
    marker = "#### Beyond the portal: existing customers"
    return markdown.split(marker, 1)[1] if marker in markdown else ""


PRICE = ("billing-portal:products", "team", "prices", "monthly")


def test_a_price_amount_change_says_new_price_old_archived_subscribers_stay(repo):
    change_dev(repo, *PRICE, "unitAmount", value=3900)
    result = plan(repo)
    table, section = result.out.split("#### Beyond the portal", 1)
    assert f"| `{MONTHLY}.unit_amount` | `2900` | `3900` |" in table
    (item,) = [line for line in section.splitlines() if line.startswith("- ")]
    assert "**`team/monthly`: a new price; existing subscribers stay on the old one**" in item
    assert "creates a new price" in item and "archives the old one" in item
    assert "unit_amount 2900 → 3900" in item
    assert "billing-portal does not move them" in item
    assert "`POST /v1/subscriptions/{id}`" in item and "`items[0][price]=<new price>`" in item


def test_several_fields_of_one_price_are_one_consequence(repo):
    edit_stack(repo / "Pulumi.dev.yaml", *PRICE, "unitAmount", value=3900)
    change_dev(repo, *PRICE, "currency", value="usd")
    report = json.loads(plan(repo, "--format", "json").out)
    (found,) = report["consequences"]
    assert found["kind"] == "new_price"
    assert sorted(found["settings"]) == [f"{MONTHLY}.currency", f"{MONTHLY}.unit_amount"]


def test_a_price_interval_change_is_a_new_price_too(repo):
    change_dev(repo, *PRICE, "interval", value="week")
    report = json.loads(plan(repo, "--format", "json").out)
    assert [c["kind"] for c in report["consequences"]] == ["new_price"]


def test_a_new_price_is_not_a_changed_one(repo):
    change_dev(
        repo,
        "billing-portal:products",
        "business",
        "prices",
        "yearly",
        value={"currency": "eur", "unitAmount": 99000, "interval": "year"},
    )
    result = plan(repo)
    assert "catalog.business.prices.yearly.unit_amount" in result.out
    assert beyond(result.out) == ""


def test_cancel_mode_to_period_end_applies_to_cancellations_after_up_only(repo):
    change_dev(
        repo,
        "billing-portal:portal",
        "features",
        "subscriptionCancel",
        "mode",
        value="at_period_end",
    )
    section = beyond(plan(repo).out)
    assert "**Cancellation: immediately → at_period_end**" in section
    assert "keeps the subscription until the period ends" in section
    assert "Cancellations already made are not changed" in section


def test_cancel_mode_to_immediately_says_customers_lose_it_at_once():
    found = consequences(
        [Change("features.subscription_cancel.mode", "at_period_end", "immediately")]
    )
    (item,) = found
    assert item.kind == "cancel_mode"
    assert "loses the subscription at once" in item.text


def test_switching_cancellation_off_says_customers_cannot_cancel_in_the_portal(repo):
    change_dev(
        repo,
        "billing-portal:portal",
        "features",
        "subscriptionCancel",
        "enabled",
        value=False,
    )
    section = beyond(plan(repo).out)
    assert "**Customers can no longer cancel in the portal**" in section


def test_a_change_without_effects_beyond_the_portal_has_no_section(repo):
    change_dev(repo, "billing-portal:portal", "loginPage", value=True)
    result = plan(repo)
    assert "login_page.enabled" in result.out
    assert beyond(result.out) == ""
    assert json.loads(plan(repo, "--format", "json").out)["consequences"] == []


def test_a_removed_price_row_is_not_a_changed_price():
    assert consequences([Change(f"{MONTHLY}.unit_amount", 2900, ABSENT)]) == []


def test_a_kind_of_effect_is_one_rule():
    """The hook for later kinds (a plan's feature switched off): a rule is a function."""

    def feature_off(changes):
        for change in changes:
            if change.setting.endswith(".features") and change.new is ABSENT:
                yield Consequence("feature_off", (change.setting,), "feature off", "…")

    changes = [Change("catalog.team.features", ["sso"], ABSENT)]
    assert [c.kind for c in consequences(changes, rules=(feature_off,))] == ["feature_off"]
