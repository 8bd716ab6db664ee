"""Image format and pixel size from a file's first bytes: PNG, JPEG and GIF, in pure Python.

Stripe's branding images must be PNG or JPEG (the Dashboard's branding page) of at least
128×128 pixels, and the icon square. Checking that needs only the header, so a few lines of
struct unpacking replace an imaging library.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
JPEG_START = b"\xff\xd8"
# JPEG start-of-frame markers (SOF0–SOF15) carry the size; C4, C8 and CC share the range but
# are Huffman tables, a reserved extension and arithmetic-coding conditioning.
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM, RST0–RST7, SOI, EOI.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})


class ImageError(ValueError):
    """The bytes are not a PNG, JPEG or GIF image this reader understands."""


@dataclass(frozen=True)
class ImageInfo:
    """What the header says: `format` is `png`, `jpeg` or `gif`."""

    format: str
    width: int
    height: int


def image_info(data: bytes) -> ImageInfo:
    """The format and pixel size of a PNG, JPEG or GIF image; raises `ImageError`."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(JPEG_START):
        return _jpeg(data)
    if data[:6] in GIF_SIGNATURES:
        return _gif(data)
    raise ImageError("not a PNG, JPEG or GIF image")


def _png(data: bytes) -> ImageInfo:
    # The first chunk must be IHDR: length (4), type (4), width (4), height (4), big-endian.
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("a PNG without its IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("png", width, height)


def _gif(data: bytes) -> ImageInfo:
    if len(data) < 10:
        raise ImageError("a GIF cut short before its screen size")
    width, height = struct.unpack("<HH", data[6:10])
    return ImageInfo("gif", width, height)


def _jpeg(data: bytes) -> ImageInfo:
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise ImageError("a JPEG whose segments do not line up")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in _JPEG_FRAME_MARKERS:
            if offset + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return ImageInfo("jpeg", width, height)
        if marker == 0xDA:  # start of scan: image data follows, no frame header came first
            break
        offset += 2 + length
    raise ImageError("a JPEG without a frame header")
