"""Image files for tests, made on the spot: PNGs of any size, and minimal JPEG and GIF headers."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from tools.brand_images import png_bytes


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    """A valid RGBA PNG; `noise` makes it incompressible (for size limits)."""
    if noise:
        random = os.urandom(width * height * 4)

        def pixel(x: int, y: int) -> tuple[int, int, int, int]:
            at = (y * width + x) * 4
            return tuple(random[at : at + 4])  # type: ignore[return-value]

        return png_bytes(width, height, pixel)
    return png_bytes(width, height, lambda x, y: (10, 37, 64, 255))


def jpeg(width: int, height: int) -> bytes:
    """The header of a baseline JPEG: SOI, an APP0 (JFIF) segment, then SOF0 with the size."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xc0"
        + struct.pack(">H", len(sof0) + 2)
        + sof0
        + b"\xff\xd9"
    )


def gif(width: int, height: int) -> bytes:
    """The header of a GIF89a image (logical screen descriptor) and its trailer."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + b"\x3b"


def write(directory: Path, name: str, data: bytes) -> str:
    """Write `data` to `directory/name` (parents made); returns `name` (the config path)."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return name
