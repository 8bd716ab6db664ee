"""A deterministic zip of the function source, named by its content hash.

Same source → byte-identical zip → same object name, so `pulumi up` changes nothing; any changed
byte → a new object name → the function redeploys. Entries are sorted, timestamps and permissions
fixed, and entries are stored uncompressed so the bytes do not depend on the machine's zlib.
Caches, tests, compiled files and dotfiles are left out.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", "node_modules", "build", "dist"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")


@dataclass(frozen=True)
class FunctionSource:
    """A built archive: where it was written, its sha256, and the object name to upload as."""

    path: Path
    sha256: str
    object_name: str
    files: tuple[str, ...]


def is_excluded(relative: PurePosixPath) -> bool:
    """Whether a file (path relative to the source root) stays out of the archive."""
    parts = relative.parts
    if any(part.startswith(".") for part in parts):
        return True  # dotfiles and dot-directories: .pytest_cache, .env, .venv, ...
    if any(part in EXCLUDED_DIRS or part.endswith(EXCLUDED_SUFFIXES) for part in parts[:-1]):
        return True
    name = relative.name
    return (
        name.endswith(EXCLUDED_SUFFIXES)
        or name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def included_files(source_dir: Path) -> tuple[str, ...]:
    """The archive's entries: regular files under `source_dir`, sorted, as POSIX paths."""
    files = []
    for path in source_dir.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        relative = PurePosixPath(path.relative_to(source_dir).as_posix())
        if not is_excluded(relative):
            files.append(str(relative))
    return tuple(sorted(files))


def archive_bytes(source_dir: Path) -> tuple[bytes, tuple[str, ...]]:
    """The zip of `source_dir` as bytes (identical for identical sources) and its entries."""
    files = included_files(source_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.create_system = 3  # unix, so the permission bits below are read
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, (source_dir / name).read_bytes())
    return buffer.getvalue(), files


def build_archive(source_dir: Path, out_dir: Path, *, prefix: str = "source") -> FunctionSource:
    """Zip `source_dir` into `out_dir` (written only if new) and name it by content hash."""
    if not (source_dir / "main.py").is_file():
        raise FileNotFoundError(f"{source_dir} has no main.py: it is not the function source root")
    data, files = archive_bytes(source_dir)
    digest = hashlib.sha256(data).hexdigest()
    object_name = f"{prefix}-{digest[:20]}.zip"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / object_name
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)
    return FunctionSource(path=path, sha256=digest, object_name=object_name, files=files)
