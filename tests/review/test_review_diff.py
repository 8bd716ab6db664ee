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


def test_dev_and_prod_differ_in_exactly_the_settings_whose_values_differ():
    dev = plan_of(read_settings(REPO / "Pulumi.dev.yaml")).rows
    prod = plan_of(read_settings(REPO / "Pulumi.prod.yaml")).rows
    result = run("-C", str(REPO), "diff", "dev", "prod", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    differing = {item["setting"] for item in report["differences"]}
    assert differing == {s for s in {*dev, *prod} if dev.get(s, "?") != prod.get(s, "?")}
    assert set(report["identical"]) == {s for s in dev if s in prod and dev[s] == prod[s]}


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
    visible, collapsed = result.out.split("<details>")
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
