"""The image header reader: format and pixel size of PNG, JPEG and GIF files, nothing else."""

from __future__ import annotations

import pytest

from stackspec.images import ImageError, ImageInfo, image_info
from stackspec.settings import PROJECT_DIR
from tests.support.images import gif, jpeg, png


def test_a_png_gives_its_size():
    assert image_info(png(300, 128)) == ImageInfo("png", 300, 128)


def test_a_jpeg_gives_the_size_in_its_frame_header_after_other_segments():
    assert image_info(jpeg(640, 480)) == ImageInfo("jpeg", 640, 480)


def test_a_gif_gives_its_screen_size():
    assert image_info(gif(200, 100)) == ImageInfo("gif", 200, 100)


def test_the_repository_sample_images_are_read():
    sizes = {p.name: image_info(p.read_bytes()) for p in (PROJECT_DIR / "branding").glob("*.png")}
    assert sizes == {
        "icon.png": ImageInfo("png", 256, 256),
        "icon-dev.png": ImageInfo("png", 256, 256),
        "logo.png": ImageInfo("png", 640, 160),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a PNG, JPEG or GIF image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG without its IHDR header"),
        (b"\xff\xd8\xff\xd9", "a JPEG without a frame header"),
        (b"\xff\xd8\x00\x00\x00\x00", "a JPEG whose segments do not line up"),
        (b"GIF89a\x01", "a GIF cut short before its screen size"),
    ],
    ids=["svg", "png-cut", "jpeg-no-frame", "jpeg-garbage", "gif-cut"],
)
def test_anything_else_is_an_image_error_saying_what_it_is(data, message):
    with pytest.raises(ImageError, match=message):
        image_info(data)
