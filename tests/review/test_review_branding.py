"""Branding in the review: plan and diff rows, and the per-field comparison (pure)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from review.branding_drift import check_branding, files_to_inspect, parse_file_ids
from stackspec.branding_spec import DASHBOARD_PAGE
from stackspec.stackfiles import read_settings
from tests.review.review_support import REPO, copy_stacks, edit_stack, run, table_row

DEV = read_settings(REPO / "Pulumi.dev.yaml").branding
PROD = read_settings(REPO / "Pulumi.prod.yaml").branding


def as_declared(**changes) -> dict:
    """A live `settings.branding` holding dev's declared values (files by made-up ids)."""
    live = {
        "icon": "file_Icon",
        "logo": "file_Logo",
        "primary_color": DEV.primary_color,
        "secondary_color": DEV.secondary_color,
    }
    return {**live, **changes}


def hashes(**overrides) -> dict:
    return {"file_Icon": DEV.icon.sha256, "file_Logo": DEV.logo.sha256, **overrides}


def outcome(live: dict, **options) -> dict:
    """{field: (matches, reason)} of dev's branding against `live`."""
    options.setdefault("live_hashes", hashes())
    return {c.field: (c.matches, c.reason) for c in check_branding(DEV, live, **options)}


# ---------------------------------------------------------------------------- comparison


def test_live_branding_as_declared_matches_in_every_field():
    assert all(matches for matches, _ in outcome(as_declared()).values())


def test_colours_are_compared_ignoring_case():
    live = as_declared(primary_color=DEV.primary_color.lower())
    assert outcome(live)["primary_color"] == (True, "same colour")


def test_a_different_colour_is_drift():
    assert outcome(as_declared(secondary_color="#000000"))["secondary_color"] == (
        False,
        "a different colour",
    )


@pytest.mark.parametrize("field", ["icon", "logo", "primary_color", "secondary_color"])
def test_a_declared_field_the_account_lacks_is_drift(field):
    assert outcome(as_declared(**{field: None}))[field] == (False, "not set")


def test_the_file_pulumi_uploaded_matches_by_id_without_its_content():
    live = as_declared(icon="file_FromPulumi")
    result = outcome(live, file_ids={"icon": "file_FromPulumi"}, live_hashes=hashes())
    assert result["icon"] == (True, "the file Pulumi uploaded")


def test_another_file_with_the_declared_images_content_matches():
    assert outcome(as_declared())["icon"] == (True, "the same image (content identical)")


def test_another_file_with_other_content_is_drift_naming_its_hash():
    result = outcome(as_declared(), live_hashes=hashes(file_Icon="ab" * 32))
    assert result["icon"] == (False, "a different image (sha256 abababababab)")


def test_only_files_that_are_not_pulumis_are_downloaded():
    live = as_declared(icon="file_FromPulumi")
    assert files_to_inspect(DEV, live, {"icon": "file_FromPulumi"}) == ["file_Logo"]
    assert files_to_inspect(DEV, as_declared(logo=None), {}) == ["file_Icon"]


def test_the_fix_for_the_own_account_is_the_dashboard_value():
    (check,) = [c for c in check_branding(DEV, as_declared(icon=None)) if c.field == "icon"]
    assert check.fix == f"{DASHBOARD_PAGE}: Icon: upload branding/icon-dev.png"
    assert check.setting == "branding.icon"


def test_the_fix_for_a_connected_account_is_pulumi_up_refresh():
    branding = dataclasses.replace(DEV, connected_account="acct_1")
    live = as_declared(primary_color="#000000")
    checks = check_branding(branding, live, account="acct_1", live_hashes=hashes())
    (check,) = [c for c in checks if not c.matches]
    assert check.setting == "branding[acct_1].primary_color"
    assert check.fix.startswith("`pulumi up --refresh` applies the declared branding to acct_1")


def test_undeclared_fields_are_not_compared():
    only_colour = dataclasses.replace(DEV, icon=None, logo=None, secondary_color=None)
    assert [c.field for c in check_branding(only_colour, {})] == ["primary_color"]


@pytest.mark.parametrize(
    "text",
    ["not json", '["file_1"]', '{"banner": "file_1"}', '{"icon": 3}', '{"icon": "prod_1"}'],
)
def test_branding_file_ids_must_be_the_stack_outputs_object(text):
    with pytest.raises(ValueError, match="--branding-file-ids"):
        parse_file_ids(text)


def test_branding_file_ids_read_the_stack_output():
    assert parse_file_ids('{"icon": "file_1", "logo": "file_2"}') == {
        "icon": "file_1",
        "logo": "file_2",
    }


# ---------------------------------------------------------------------------- plan and diff


def test_the_plan_lists_the_branding_with_each_images_hash():
    result = run("-C", str(REPO), "plan", "--stack", "prod")
    assert result.code == 0, result.err
    icon = f"`branding/icon.png (sha256 {PROD.icon.sha256[:12]})`"
    assert table_row(result.out, "branding.icon")[1] == icon
    assert table_row(result.out, "branding.primary_color")[1] == "`#0A2540`"
    assert "set them and the colours in Stripe Dashboard → Settings → Business → Branding" in (
        result.out
    )


def test_the_json_plan_carries_the_branding_rows():
    result = run("-C", str(REPO), "plan", "--stack", "dev", "--format", "json")
    settings = json.loads(result.out)["settings"]
    assert settings["branding.secondary_color"] == "#FFF7ED"
    assert settings["branding.icon"].startswith("branding/icon-dev.png (sha256 ")


def test_the_environment_diff_shows_the_branding_differences():
    result = run("-C", str(REPO), "diff", "dev", "prod")
    assert table_row(result.out, "branding.primary_color")[1:] == ["`#B45309`", "`#0A2540`"]
    assert table_row(result.out, "branding.icon")[1].startswith("`branding/icon-dev.png")
    assert "`branding.*` is the account's branding" in result.out


def test_the_diff_of_two_stacks_with_the_same_logo_collapses_it(tmp_path):
    copy_stacks(tmp_path)
    result = run("-C", str(tmp_path), "diff", "dev", "prod", "--format", "json")
    assert "branding.logo" in json.loads(result.out)["identical"]


def test_a_changed_image_content_is_a_change_in_the_diff(tmp_path):
    copy_stacks(tmp_path, "dev")
    (tmp_path / "Pulumi.staging.yaml").write_bytes((tmp_path / "Pulumi.dev.yaml").read_bytes())
    (tmp_path / "branding" / "logo-2.png").write_bytes(
        (tmp_path / "branding" / "icon.png").read_bytes()
    )
    edit_stack(
        tmp_path / "Pulumi.staging.yaml",
        "billing-portal:branding",
        "logo",
        value="branding/logo-2.png",
    )
    result = run("-C", str(tmp_path), "diff", "dev", "staging", "--format", "json")
    (difference,) = json.loads(result.out)["differences"]
    assert difference["setting"] == "branding.logo"


def test_a_branding_mistake_in_a_stack_file_is_the_settings_error_of_pulumi_preview(tmp_path):
    copy_stacks(tmp_path, "dev")
    edit_stack(tmp_path / "Pulumi.dev.yaml", "billing-portal:branding", "icon", value="nope.png")
    result = run("-C", str(tmp_path), "plan", "--stack", "dev")
    assert result.code == 2
    assert "billing-portal:branding.icon: 'nope.png' does not exist" in result.err
