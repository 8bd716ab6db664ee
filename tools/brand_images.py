"""Write PNG images without an imaging library, and (as a script) the sample brand images.

`png_bytes(width, height, pixel)` encodes an RGBA image whose pixels come from a function;
tests use it for images of any size. Run as a script, it (re)writes `branding/*.png`, the
made-up Acme brand the sample stacks declare:

    .venv/bin/python -m tools.brand_images
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

Pixel = tuple[int, int, int, int]
BRANDING_DIR = Path(__file__).resolve().parent.parent / "branding"


def png_bytes(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An 8-bit RGBA PNG; `pixel(x, y)` gives each pixel's (red, green, blue, alpha)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type 0 (none) for every scanline
        for x in range(width):
            rows.extend(pixel(x, y))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    checksum = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def icon(size: int, background: str, mark: str) -> Callable[[int, int], Pixel]:
    """A rounded square in `background` with a ring in `mark`: the Acme icon."""
    back, front = _rgb(background), _rgb(mark)
    radius, centre = size * 0.18, (size - 1) / 2

    def pixel(x: int, y: int) -> Pixel:
        # Outside the rounded corners: transparent.
        dx = max(abs(x - centre) - (centre - radius), 0)
        dy = max(abs(y - centre) - (centre - radius), 0)
        if dx * dx + dy * dy > radius * radius:
            return (0, 0, 0, 0)
        distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
        return (*front, 255) if size * 0.2 <= distance <= size * 0.32 else (*back, 255)

    return pixel


def logo(width: int, height: int, color: str) -> Callable[[int, int], Pixel]:
    """The icon's ring followed by four bars standing for the word mark, on transparency."""
    ink = (*_rgb(color), 255)
    centre = (height / 2, height / 2)
    bars = [(height * 1.2 + i * height * 0.75, height * 0.55) for i in range(4)]

    def pixel(x: int, y: int) -> Pixel:
        distance = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) ** 0.5
        if height * 0.25 <= distance <= height * 0.42:
            return ink
        for left, bar_width in bars:
            if left <= x < left + bar_width and height * 0.3 <= y < height * 0.7:
                return ink
        return (0, 0, 0, 0)

    return pixel


def main() -> None:
    """Write the sample brand images the stack files declare."""
    BRANDING_DIR.mkdir(exist_ok=True)
    images = {
        "icon.png": png_bytes(256, 256, icon(256, "#0a2540", "#f6f9fc")),
        "icon-dev.png": png_bytes(256, 256, icon(256, "#b45309", "#fff7ed")),
        "logo.png": png_bytes(640, 160, logo(640, 160, "#0a2540")),
    }
    for name, data in images.items():
        (BRANDING_DIR / name).write_bytes(data)
        print(f"branding/{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
