"""`billing-portal:branding`: every rule fails with the full key, what is wrong, and the fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stackspec.settings import SettingsError, SettingsProblem, parse_settings
from stackspec.stackfiles import load_stack_file
from tests.stackspec.stack_configs import minimal_config
from tests.support.images import gif, jpeg, png, write

ICON = "billing-portal:branding.icon"
LOGO = "billing-portal:branding.logo"


def settings_of(project: Path, **branding):
    return parse_settings("dev", minimal_config(branding=branding), project_dir=project)


def the_problem(project: Path, **branding) -> SettingsProblem:
    with pytest.raises(SettingsError) as raised:
        settings_of(project, **branding)
    problems = raised.value.problems
    assert len(problems) == 1, "expected one problem, got:\n" + "\n".join(map(str, problems))
    return problems[0]


# ---------------------------------------------------------------------------- what is read


def test_no_branding_declares_nothing(tmp_path):
    branding = settings_of(tmp_path).branding
    assert not branding.declared
    assert branding.images == ()


def test_images_are_read_relative_to_the_project_directory_with_their_exact_bytes(tmp_path):
    data = png(256, 256)
    icon = settings_of(tmp_path, icon=write(tmp_path, "brand/icon.png", data)).branding.icon
    assert (icon.path, icon.format, icon.width, icon.height) == ("brand/icon.png", "png", 256, 256)
    assert icon.data == data
    assert icon.sha256 == hashlib.sha256(data).hexdigest()
    assert icon.purpose == "business_icon"


def test_the_upload_name_carries_the_content_hash_so_new_content_is_a_new_file(tmp_path):
    first = settings_of(tmp_path, icon=write(tmp_path, "icon.png", png(128, 128))).branding.icon
    second = settings_of(tmp_path, icon=write(tmp_path, "icon.png", png(130, 130))).branding.icon
    assert first.upload_name == f"icon-{first.sha256[:12]}.png"
    assert first.upload_name != second.upload_name


def test_a_wide_jpeg_logo_is_accepted(tmp_path):
    logo = settings_of(tmp_path, logo=write(tmp_path, "logo.jpg", jpeg(600, 150))).branding.logo
    assert (logo.format, logo.purpose, logo.upload_name[-4:]) == ("jpeg", "business_logo", ".jpg")


def test_colours_are_kept_as_written_in_either_case(tmp_path):
    branding = settings_of(tmp_path, primaryColor="#0a2540", secondaryColor="#F6F9FC").branding
    assert (branding.primary_color, branding.secondary_color) == ("#0a2540", "#F6F9FC")


def test_a_connected_account_is_read_with_the_branding_it_gets(tmp_path):
    branding = settings_of(
        tmp_path, primaryColor="#0A2540", connectedAccount="acct_1Connected0001"
    ).branding
    assert branding.connected_account == "acct_1Connected0001"


def test_the_sample_stacks_declare_their_branding():
    for stack in ("dev", "prod"):
        name, config = load_stack_file(Path(__file__).parents[2] / f"Pulumi.{stack}.yaml")
        branding = parse_settings(name, config, secrets_required=False).branding
        assert branding.icon and branding.logo and branding.primary_color, stack


# ---------------------------------------------------------------------------- image rules


def test_an_image_that_does_not_exist_is_refused(tmp_path):
    problem = the_problem(tmp_path, icon="branding/missing.png")
    assert problem.key == ICON
    assert "'branding/missing.png' does not exist" in problem.problem
    assert "put the icon in the repository" in problem.fix


def test_an_absolute_image_path_is_refused(tmp_path):
    path = write(tmp_path, "icon.png", png(128, 128))
    problem = the_problem(tmp_path, icon=str(tmp_path / path))
    assert (problem.key, "is an absolute path" in problem.problem) == (ICON, True)
    assert "relative to it" in problem.fix


def test_an_image_path_leaving_the_repository_is_refused(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write(tmp_path, "outside.png", png(128, 128))
    problem = the_problem(project, logo="../outside.png")
    assert (problem.key, problem.problem) == (
        LOGO,
        "'../outside.png' points outside the repository",
    )


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    problem = the_problem(tmp_path, icon=write(tmp_path, "icon.png", b"<svg/>"))
    assert problem.key == ICON
    assert problem.problem == "'icon.png' is not a PNG, JPEG or GIF image"
    assert problem.fix == "save it as PNG or JPEG"


def test_a_gif_is_refused_because_the_dashboard_takes_only_png_or_jpeg(tmp_path):
    problem = the_problem(tmp_path, logo=write(tmp_path, "logo.gif", gif(400, 200)))
    assert problem.key == LOGO
    assert "is a GIF; Stripe's branding settings accept only PNG or JPEG" in problem.problem


def test_an_image_of_512_kb_or_more_is_refused(tmp_path):
    big = png(300, 300, noise=True)  # 360,000 random bytes of pixels: about 352 KB compressed
    big += b"\x00" * (512 * 1024 - len(big))  # padding after IEND: exactly 512 KB
    problem = the_problem(tmp_path, icon=write(tmp_path, "icon.png", big))
    assert problem.key == ICON
    assert "is 524,288 bytes; Stripe accepts branding images under 512 KB" in problem.problem
    assert problem.fix == "compress it or reduce its pixel size"


def test_an_image_just_under_512_kb_is_accepted(tmp_path):
    data = png(128, 128)
    data += b"\x00" * (512 * 1024 - 1 - len(data))
    assert settings_of(tmp_path, icon=write(tmp_path, "icon.png", data)).branding.icon


@pytest.mark.parametrize(("field", "key"), [("icon", ICON), ("logo", LOGO)])
def test_an_image_smaller_than_128_px_is_refused(tmp_path, field, key):
    problem = the_problem(tmp_path, **{field: write(tmp_path, "small.png", png(127, 127))})
    assert problem.key == key
    assert "is 127×127 px; Stripe needs at least 128×128" in problem.problem


def test_an_icon_that_is_not_square_is_refused_and_pointed_to_the_logo(tmp_path):
    problem = the_problem(tmp_path, icon=write(tmp_path, "wide.png", png(256, 128)))
    assert problem.key == ICON
    assert "is 256×128 px; Stripe's icon must be square" in problem.problem
    assert "a wide image belongs in branding.logo" in problem.fix


def test_an_image_breaking_two_limits_gets_both_problems(tmp_path):
    with pytest.raises(SettingsError) as raised:
        settings_of(tmp_path, icon=write(tmp_path, "bad.gif", gif(64, 32)))
    assert raised.value.keys == (ICON, ICON, ICON)


# ---------------------------------------------------------------------------- colours, account


@pytest.mark.parametrize("value", ["blue", "#abc", "0A2540", "#0A25404", "#GG2540"])
def test_a_colour_that_is_not_hex_rrggbb_is_refused_with_a_quoted_example(tmp_path, value):
    problem = the_problem(tmp_path, primaryColor=value)
    assert problem.key == "billing-portal:branding.primaryColor"
    assert problem.problem == f"{value!r} is not a hex colour #RRGGBB"
    assert "`pulumi config set --path branding.primaryColor '#0A2540'`" in problem.fix


def test_the_secondary_colour_is_checked_too(tmp_path):
    problem = the_problem(tmp_path, secondaryColor="white")
    assert problem.key == "billing-portal:branding.secondaryColor"


def test_a_connected_account_must_be_an_account_id(tmp_path):
    problem = the_problem(tmp_path, primaryColor="#0A2540", connectedAccount="cus_123")
    assert problem.key == "billing-portal:branding.connectedAccount"
    assert problem.problem == "'cus_123' is not a Stripe account id"
    assert "acct_" in problem.fix


def test_a_connected_account_without_branding_to_apply_is_refused(tmp_path):
    problem = the_problem(tmp_path, connectedAccount="acct_1Connected0001")
    assert problem.key == "billing-portal:branding.connectedAccount"
    assert problem.problem == "names a connected account but no branding to apply to it"


def test_a_misspelt_branding_key_suggests_the_right_one(tmp_path):
    problem = the_problem(tmp_path, primaryColour="#0A2540")
    assert problem.key == "billing-portal:branding.primaryColour"
    assert problem.fix.startswith("did you mean 'primaryColor'?")


def test_a_headline_under_branding_is_sent_to_the_portal_business_profile(tmp_path):
    problem = the_problem(tmp_path, headline="Acme")
    assert problem.key == "billing-portal:branding.headline"
    assert "business profile headline" in problem.problem
    assert "portal.businessProfile.headline" in problem.fix
