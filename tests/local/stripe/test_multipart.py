"""The multipart/form-data decoder (pure): the body the stripe SDK builds for a file upload."""

from __future__ import annotations

import io

import pytest
from stripe._multipart_data_generator import MultipartDataGenerator

from local.stripe.core.forms import FormError
from local.stripe.core.multipart import UploadedFile, decode_multipart, is_multipart


def sdk_body(params: dict) -> tuple[bytes, str]:
    """A body and Content-Type exactly as the SDK sends them."""
    generator = MultipartDataGenerator()
    generator.add_params(params)
    return generator.get_post_data(), f"multipart/form-data; boundary={generator.boundary}"


def test_the_sdks_upload_decodes_into_params_and_the_file():
    content = io.BytesIO(b"\x89PNG\r\n\x1a\nbytes with \r\n-- inside")
    content.name = "icon.png"
    body, content_type = sdk_body(
        {"purpose": "business_icon", "file": content, "file_link_data": {"create": True}}
    )
    params = decode_multipart(body, content_type)
    assert params["purpose"] == "business_icon"
    assert params["file_link_data"] == {"create": "true"}
    assert params["file"] == UploadedFile(
        "icon.png", "application/octet-stream", b"\x89PNG\r\n\x1a\nbytes with \r\n-- inside"
    )


def test_multipart_content_types_are_recognised():
    assert is_multipart("multipart/form-data; boundary=abc")
    assert not is_multipart("application/x-www-form-urlencoded")
    assert not is_multipart(None)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--abc\r\n\r\nx\r\n--abc--\r\n", "multipart/form-data"),
        (b"--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--\r\n", "x; boundary=abc"),
        (b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nx', "x; boundary=abc"),
    ],
    ids=["no-boundary", "part-without-name", "no-closing-boundary"],
)
def test_a_malformed_body_is_a_form_error(body, content_type):
    with pytest.raises(FormError):
        decode_multipart(body, content_type)
