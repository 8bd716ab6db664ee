"""The checkout in `plan`, `plan --base` and `diff`: rows named by Stripe's Checkout Session
parameters, in their own table, from the same stack model that builds the function's env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.drift import expected_rows
from review.markdown import CHECKOUT_NOTE
from review.plan import plan_of
from stackspec import schema as stripe_schema
from stackspec.checkout_spec import PARAMETERS, PRICES, ROWS
from stackspec.portal_spec import portal_spec
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    REPO,
    copy_stacks,
    edit_stack,
    git,
    run,
    settings_in_table,
    table_row,
)

CHECKOUT_SESSIONS = "POST /v1/checkout/sessions"


def rows_of(stack: str) -> dict:
    return {
        k: v
        for k, v in plan_of(read_settings(REPO / f"Pulumi.{stack}.yaml")).rows.items()
        if k.startswith(ROWS)
    }


def test_each_stacks_plan_has_its_checkout_rows():
    assert rows_of("dev") == {
        # dev lists no prices: every plan-switching price, in the portal's order
        PRICES: ["declared:team/monthly", "declared:team/yearly", "declared:business/monthly"],
        "checkout.subscription_data.trial_period_days": 0,
        "checkout.allow_promotion_codes": True,
        "checkout.automatic_tax.enabled": False,
        "checkout.billing_address_collection": "auto",
        "checkout.consent_collection.terms_of_service": "none",
    }
    assert rows_of("prod") == {
        PRICES: ["price_AcmeTeamMonthlyLive01", "price_AcmeBusinessMonthlyLive01"],
        "checkout.subscription_data.trial_period_days": 14,
        "checkout.allow_promotion_codes": True,
        "checkout.automatic_tax.enabled": True,
        "checkout.billing_address_collection": "required",
        "checkout.consent_collection.terms_of_service": "required",
    }


def test_every_checkout_row_is_a_parameter_of_stripes_checkout_session_create():
    accepted = stripe_schema.request_paths(CHECKOUT_SESSIONS)
    assert [name for name in PARAMETERS if name not in accepted] == []
    for name in ("billing_address_collection", "consent_collection.terms_of_service"):
        value = rows_of("prod")[ROWS + name]
        assert value in stripe_schema.enum_values(name, CHECKOUT_SESSIONS), name


def test_the_markdown_plan_shows_the_checkout_in_its_own_table_with_a_note():
    result = run("-C", str(REPO), "plan", "--stack", "prod")
    assert result.code == 0, result.err
    portal_part, checkout_part = result.out.split("Checkout (what the function sells")
    assert "`checkout." not in portal_part
    assert table_row(checkout_part, PRICES)[1] == (
        "`price_AcmeTeamMonthlyLive01`, `price_AcmeBusinessMonthlyLive01`"
    )
    assert table_row(checkout_part, "checkout.billing_address_collection")[1] == "`required`"
    assert CHECKOUT_NOTE in result.out


def test_the_json_plan_carries_the_checkout_rows():
    result = run("-C", str(REPO), "plan", "--stack", "dev", "--format", "json")
    settings = json.loads(result.out)["settings"]
    assert {k: v for k, v in settings.items() if k.startswith(ROWS)} == rows_of("dev")


def test_the_environment_diff_shows_where_the_checkouts_differ():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    assert table_row(result.out, "checkout.automatic_tax.enabled")[1:] == ["`false`", "`true`"]
    visible, _, collapsed = result.out.partition("<details>")
    assert "`checkout.allow_promotion_codes`" in collapsed  # true in both
    assert "`checkout.allow_promotion_codes`" not in visible
    assert CHECKOUT_NOTE in collapsed.rsplit("</details>", 1)[1]  # the notes follow the tables


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    copy_stacks(tmp_path)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "--quiet", "-m", "stacks")
    return tmp_path


def test_a_checkout_change_is_shown_old_to_new(repo):
    path = repo / "Pulumi.dev.yaml"
    edit_stack(path, "billing-portal:checkout", "trialDays", value=30)
    edit_stack(path, "billing-portal:checkout", "prices", value=["business/monthly"])
    git(repo, "commit", "--quiet", "-am", "a longer trial; checkout sells business only")
    result = run("-C", str(repo), "plan", "--stack", "dev", "--base", "HEAD~1")
    assert result.code == 0, result.err
    assert settings_in_table(result.out) == [
        PRICES,
        "checkout.subscription_data.trial_period_days",
    ]
    assert table_row(result.out, PRICES)[1:] == [
        "`declared:team/monthly`, `declared:team/yearly`, `declared:business/monthly`",
        "`declared:business/monthly`",
    ]
    assert table_row(result.out, "checkout.subscription_data.trial_period_days")[1:] == [
        "`0`",
        "`30`",
    ]
    assert CHECKOUT_NOTE in result.out


def test_the_drift_check_compares_no_checkout_row_with_the_portal_configuration():
    settings = read_settings(REPO / "Pulumi.prod.yaml")
    expected = expected_rows(portal_spec(settings), active=settings.portal.active)
    assert not [row for row in expected.rows if row.startswith(ROWS)]
