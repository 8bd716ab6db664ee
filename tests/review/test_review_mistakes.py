"""Each user mistake with the review tools is one `error:` line naming the file and fix, exit 2.

A stack file is something people edit by hand: a bad indent, a missing `config:` or a typo in a
stack name must never show a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review.review_support import copy_stacks, run


def one_line_error(result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == "", result.out
    assert result.err.startswith("error: "), result.err
    assert result.err.count("\n") == 1, f"more than one line:\n{result.err}"
    return result.err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_stacks(tmp_path, "dev", "prod")


def test_a_yaml_syntax_error_names_the_file_line_and_fix(project):
    (project / "Pulumi.bad.yaml").write_text("config:\n  gcp:project: x\n   bad: indent\n")
    line = one_line_error(run("-C", str(project), "plan", "--stack", "bad"))
    assert "Pulumi.bad.yaml" in line and "line 3" in line, line
    assert "Fix:" in line and "indent" in line.lower(), line


def test_a_yaml_syntax_error_in_either_stack_of_a_diff_is_one_line(project):
    (project / "Pulumi.bad.yaml").write_text("config: [\n")
    line = one_line_error(run("-C", str(project), "diff", "dev", "bad"))
    assert "Pulumi.bad.yaml" in line, line


def test_a_stack_file_without_config_says_what_to_add(project):
    (project / "Pulumi.empty.yaml").write_text("encryptionsalt: v1:abc\n")
    line = one_line_error(run("-C", str(project), "plan", "--stack", "empty"))
    assert "Pulumi.empty.yaml" in line and "config:" in line, line
    assert "pulumi config set" in line, line


def test_a_config_that_is_not_a_mapping_is_one_line(project):
    (project / "Pulumi.list.yaml").write_text("config:\n  - gcp:project\n")
    line = one_line_error(run("-C", str(project), "plan", "--stack", "list"))
    assert "Pulumi.list.yaml" in line and "config:" in line, line


def test_an_unknown_stack_lists_the_stacks_found(project):
    line = one_line_error(run("-C", str(project), "plan", "--stack", "staging"))
    assert "Pulumi.staging.yaml" in line and "dev, prod" in line, line


def test_plan_without_a_stack_lists_the_stacks_found(project):
    line = one_line_error(run("-C", str(project), "plan"))
    assert "--stack" in line and "dev, prod" in line, line


def test_a_directory_without_stack_files_says_so(tmp_path):
    line = one_line_error(run("-C", str(tmp_path), "plan"))
    assert "no stack files" in line and "Pulumi.<stack>.yaml" in line, line


def test_an_unknown_option_is_one_line_pointing_at_help(project):
    line = one_line_error(run("-C", str(project), "plan", "--stak", "dev"))
    assert "--help" in line, line


def test_a_stack_file_that_is_not_utf8_is_one_line(project):
    (project / "Pulumi.latin.yaml").write_bytes(
        "# café\nconfig:\n  gcp:project: x\n".encode("latin-1")
    )
    line = one_line_error(run("-C", str(project), "plan", "--stack", "latin"))
    assert "Pulumi.latin.yaml" in line and "UTF-8" in line, line


def test_a_key_given_twice_names_the_line_and_the_key(project):
    text = (project / "Pulumi.dev.yaml").read_text()
    (project / "Pulumi.twice.yaml").write_text(
        text + "  billing-portal:defaultReturnUrl: https://other.example.com/\n"
    )
    line = one_line_error(run("-C", str(project), "plan", "--stack", "twice"))
    assert "Pulumi.twice.yaml line" in line and "billing-portal:defaultReturnUrl" in line, line
    assert "given twice" in line, line


def test_an_unquoted_colour_is_reported_not_silently_dropped(project):
    text = (project / "Pulumi.dev.yaml").read_text()
    (project / "Pulumi.dev.yaml").write_text(
        text.replace('primaryColor: "#B45309"', "primaryColor: #B45309")
    )
    result = run("-C", str(project), "plan", "--stack", "dev")
    assert result.code == 2, result.out
    assert "billing-portal:branding.primaryColor: has no value" in result.err, result.err
    assert '"#0A2540"' in result.err


def test_a_project_directory_that_does_not_exist_says_so(tmp_path):
    line = one_line_error(run("-C", str(tmp_path / "nope"), "plan", "--stack", "dev"))
    assert "is not a directory" in line, line


def test_a_directory_named_like_a_stack_file_is_not_a_stack(project):
    (project / "Pulumi.d.yaml").mkdir()
    line = one_line_error(run("-C", str(project), "plan"))
    assert "stacks here: dev, prod" in line, line
