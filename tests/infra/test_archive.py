"""The function archive: reproducible to the byte, named by content, free of caches and tests."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from infra.archive import FIXED_TIMESTAMP, archive_bytes, build_archive
from tests.infra.infra_harness import REPO


@pytest.fixture
def source(tmp_path):
    root = tmp_path / "function"
    files = {
        "main.py": "def create_portal_session(request):\n    return 'ok'\n",
        "requirements.txt": "stripe==16.1.0\n",
        "billing_portal/__init__.py": "",
        "billing_portal/sessions.py": "X = 1\n",
        # everything below stays out of the archive
        "__pycache__/main.cpython-312.pyc": "compiled",
        "billing_portal/__pycache__/sessions.cpython-312.pyc": "compiled",
        "billing_portal/stale.pyc": "compiled",
        "tests/test_main.py": "def test(): pass\n",
        "billing_portal/tests/test_sessions.py": "def test(): pass\n",
        "test_local.py": "def test(): pass\n",
        "conftest.py": "",
        ".pytest_cache/v/cache/lastfailed": "{}",
        ".env": "STRIPE_SECRET_KEY=sk_test_x\n",
        ".gitignore": "*.pyc\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(data)).infolist()


def test_the_archive_holds_only_the_deployable_source(source):
    _, files = archive_bytes(source)
    assert files == (
        "billing_portal/__init__.py",
        "billing_portal/sessions.py",
        "main.py",
        "requirements.txt",
    )


def test_two_builds_of_the_same_source_are_identical(source, tmp_path):
    first = build_archive(source, tmp_path / "a")
    second = build_archive(source, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert (first.sha256, first.object_name) == (second.sha256, second.object_name)


def test_the_object_name_contains_the_content_hash(source, tmp_path):
    built = build_archive(source, tmp_path / "out")
    assert built.object_name == f"source-{built.sha256[:20]}.zip"
    assert built.path.name == built.object_name


def test_a_one_byte_change_gives_a_new_hash_and_object_name(source, tmp_path):
    before = build_archive(source, tmp_path / "a")
    (source / "billing_portal" / "sessions.py").write_text("X = 2\n")
    after = build_archive(source, tmp_path / "b")
    assert after.sha256 != before.sha256
    assert after.object_name != before.object_name


def test_a_change_to_an_excluded_file_changes_nothing(source, tmp_path):
    before = build_archive(source, tmp_path / "a")
    (source / "tests" / "test_main.py").write_text("def test(): assert False\n")
    (source / "__pycache__" / "main.cpython-312.pyc").write_text("recompiled")
    assert build_archive(source, tmp_path / "b").sha256 == before.sha256


def test_timestamps_and_permissions_do_not_change_the_archive(source, tmp_path):
    before = build_archive(source, tmp_path / "a")
    main = source / "main.py"
    os.utime(main, (1_700_000_000, 1_700_000_000))
    main.chmod(0o755)
    assert build_archive(source, tmp_path / "b").sha256 == before.sha256


def test_entries_are_sorted_with_fixed_timestamps_and_modes(source):
    data, _ = archive_bytes(source)
    infos = entries(data)
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {FIXED_TIMESTAMP}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_a_directory_without_main_py_is_not_taken_for_the_function(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"has no main\.py"):
        build_archive(tmp_path / "empty", tmp_path / "out")


def test_the_real_function_folder_archives_with_main_py_at_its_root(tmp_path):
    built = build_archive(REPO / "function", tmp_path)
    assert "main.py" in built.files
    assert "requirements.txt" in built.files
    assert not [f for f in built.files if "__pycache__" in f or f.endswith(".pyc")]
