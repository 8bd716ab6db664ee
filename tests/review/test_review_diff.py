"""`diff A B`: environment parity, setting by setting, identical settings collapsed."""

from __future__ import annotations

import json
import shutil

from review.plan import plan_of
from stackspec.stackfiles import read_settings
from tests.review.review_support import (
    REPO,
    copy_stacks,
    edit_stack,
    run,
    settings_in_table,
    table_row,
)


def test_every_raw_difference_is_either_a_real_difference_or_only_paired_ids():
    dev = plan_of(read_settings(REPO / "Pulumi.dev.yaml")).rows
    prod = plan_of(read_settings(REPO / "Pulumi.prod.yaml")).rows
    result = run("-C", str(REPO), "diff", "dev", "prod", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    raw = {s for s in {*dev, *prod} if dev.get(s, "?") != prod.get(s, "?")}
    ids_only = {item["setting"] for item in report["same_plan_different_ids"]}
    assert ids_only < raw
    # the rest, once ids are replaced by their pair's label, is what `differences` lists
    labels = {
        **{pair["dev"]: pair["label"] for pair in report["pairs"]},
        **{pair["prod"]: pair["label"] for pair in report["pairs"]},
    }
    rest = set()
    for setting in raw - ids_only:
        for ref, label in labels.items():
            setting = setting.replace(f"[{ref}]", f"[{label}]")
        rest.add(setting)
    assert rest == {item["setting"] for item in report["differences"]}
    assert set(report["identical"]) == {s for s in dev if s in prod and dev[s] == prod[s]}


def test_dev_and_prod_pair_their_plans_by_position_with_the_declared_names():
    result = run("-C", str(REPO), "diff", "dev", "prod", "--format", "json")
    pairs = json.loads(result.out)["pairs"]
    assert pairs[0] == {"dev": "declared:team", "prod": "prod_AcmeTeamLive01", "label": "team"}
    assert {"dev": "declared:team/yearly", "prod": "price_AcmeTeamYearlyLive01"}.items() <= (
        pairs[2].items()
    )
    assert [p["label"] for p in pairs] == [
        "team",
        "team/monthly",
        "team/yearly",
        "business",
        "business/monthly",
    ]


def test_the_diff_leads_with_real_differences_and_collapses_the_catalog_against_ids():
    """Issue 23: 46 rows, 30 of them dev's declared catalog against prod's ids, buried the one
    real parity difference (Team seats adjustable only in prod)."""
    result = run("-C", str(REPO), "diff", "dev", "prod")
    assert result.code == 0, result.err
    visible, ids_part, _ = result.out.split("<details>")
    assert visible.index("#### Settings that differ") < result.out.index(
        "Same plans, different ids"
    )
    seats = "features.subscription_update.products[team].adjustable_quantity"
    assert table_row(visible, f"{seats}.enabled")[1:] == ["`false`", "`true`"]
    assert table_row(visible, f"{seats}.maximum")[1:] == ["`null`", "`25`"]
    assert f"{seats}.minimum" not in visible  # 1 in both: not a difference
    assert "catalog." not in visible
    assert "prod_AcmeTeamLive01`, `prod_AcmeBusinessLive01" not in visible
    assert table_row(ids_part, "catalog.team.name")[1:] == ["`Acme Team`", "—"]
    assert table_row(ids_part, "features.subscription_update.products")[1:] == [
        "`declared:team`, `declared:business`",
        "`prod_AcmeTeamLive01`, `prod_AcmeBusinessLive01`",
    ]
    assert "`team` = `declared:team` ↔ `prod_AcmeTeamLive01`" in visible


def test_a_price_both_stacks_declare_differently_is_a_real_difference(tmp_path):
    copy_stacks(tmp_path, "dev")
    shutil.copy(tmp_path / "Pulumi.dev.yaml", tmp_path / "Pulumi.staging.yaml")
    edit_stack(
        tmp_path / "Pulumi.staging.yaml",
        "billing-portal:products",
        "team",
        "prices",
        "monthly",
        "unitAmount",
        value=3900,
    )
    result = run("-C", str(tmp_path), "diff", "dev", "staging")
    visible = result.out.split("<details>")[0]
    assert settings_in_table(visible) == ["catalog.team.prices.monthly.unit_amount"]
    assert "only by product and price ids" in visible and "0 only by" in visible


def test_a_plan_only_one_stack_sells_is_a_real_difference(tmp_path):
    copy_stacks(tmp_path, "prod")
    shutil.copy(tmp_path / "Pulumi.prod.yaml", tmp_path / "Pulumi.staging.yaml")
    products = [
        {"product": "prod_AcmeTeamLive01", "prices": ["price_AcmeTeamMonthlyLive01"]},
    ]
    edit_stack(
        tmp_path / "Pulumi.staging.yaml",
        "billing-portal:portal",
        "features",
        "subscriptionUpdate",
        "products",
        value=products,
    )
    # Checkout may sell only what the stack sells (preview refuses the rest).
    edit_stack(
        tmp_path / "Pulumi.staging.yaml",
        "billing-portal:checkout",
        "prices",
        value=["price_AcmeTeamMonthlyLive01"],
    )
    result = run("-C", str(tmp_path), "diff", "prod", "staging", "--format", "json")
    differing = {item["setting"] for item in json.loads(result.out)["differences"]}
    assert "features.subscription_update.products" in differing
    assert "features.subscription_update.products[prod_AcmeBusinessLive01].prices" in differing
    assert json.loads(result.out)["pairs"] == []  # the same ids on both sides: nothing to pair


def test_the_markdown_diff_shows_both_values_side_by_side():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    assert result.code == 0, result.err
    assert table_row(result.out, "features.subscription_cancel.mode") == [
        "`features.subscription_cancel.mode`",
        "`immediately`",
        "`at_period_end`",
    ]
    assert table_row(result.out, "login_page.enabled")[1:] == ["`false`", "`true`"]


def test_identical_settings_are_collapsed_under_a_details_element():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    visible, _, collapsed = result.out.split("<details>")
    assert "`features.invoice_history.enabled`" not in visible
    assert "`features.invoice_history.enabled`" in collapsed


def test_a_setting_only_one_stack_declares_shows_a_dash_for_the_other():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    assert table_row(result.out, "catalog.team.name")[1:] == ["`Acme Team`", "—"]


def test_a_field_one_stack_leaves_undeclared_shows_stripes_default_which_up_applies():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    row = "features.subscription_update.schedule_at_period_end.conditions[].type"
    assert table_row(result.out, row)[1:] == [
        "(none)",
        "`decreasing_item_amount`, `shortening_interval`",
    ]


def test_a_stack_and_its_copy_are_identical(tmp_path):
    copy_stacks(tmp_path, "prod")
    shutil.copy(tmp_path / "Pulumi.prod.yaml", tmp_path / "Pulumi.staging.yaml")
    result = run("-C", str(tmp_path), "diff", "prod", "staging")
    assert result.code == 0, result.err
    assert "— identical" in result.out
    assert "0 differ" in result.out


def test_an_edit_in_one_copy_is_the_only_difference(tmp_path):
    copy_stacks(tmp_path, "prod")
    shutil.copy(tmp_path / "Pulumi.prod.yaml", tmp_path / "Pulumi.staging.yaml")
    edit_stack(
        tmp_path / "Pulumi.staging.yaml",
        "billing-portal:portal",
        "features",
        "subscriptionUpdate",
        "prorationBehavior",
        value="none",
    )
    result = run("-C", str(tmp_path), "diff", "prod", "staging")
    visible = result.out.split("<details>")[0]
    assert settings_in_table(visible) == ["features.subscription_update.proration_behavior"]
    assert table_row(visible, "features.subscription_update.proration_behavior")[1:] == [
        "`always_invoice`",
        "`none`",
    ]


def test_diff_with_an_invalid_stack_file_is_a_settings_error(tmp_path):
    copy_stacks(tmp_path)
    edit_stack(tmp_path / "Pulumi.prod.yaml", "billing-portal:production", value="maybe")
    result = run("-C", str(tmp_path), "diff", "dev", "prod")
    assert result.code == 2
    assert result.err.startswith("stack 'prod' has 1 configuration problem:")
    assert "billing-portal:production: must be true or false" in result.err
