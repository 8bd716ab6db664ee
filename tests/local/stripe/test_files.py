"""File uploads through the unmodified stripe SDK (multipart, to its `files` address)."""

from __future__ import annotations

import io

import pytest
import requests
import stripe

from tests.support.images import gif, png

pytestmark = pytest.mark.integration


def named(data: bytes, name: str) -> io.BytesIO:
    content = io.BytesIO(data)
    content.name = name
    return content


def upload(sdk, data: bytes, purpose: str = "business_icon", **options):
    return sdk.v1.files.create(
        params={"purpose": purpose, "file": named(data, "icon.png")}, options=options or None
    )


def test_an_upload_returns_stripes_file_object(sdk):
    data = png(128, 128)
    file = upload(sdk, data)
    assert file.id.startswith("file_")
    assert (file.object, file.purpose, file.filename) == ("file", "business_icon", "icon.png")
    assert (file.size, file.type, file.expires_at) == (len(data), "png", None)


def test_an_uploaded_file_can_be_retrieved_and_downloaded_byte_for_byte(sdk, fresh_stripe_standin):
    data = png(200, 200)
    file = upload(sdk, data)
    assert sdk.v1.files.retrieve(file.id).size == len(data)
    contents = requests.get(
        file.url, headers={"Authorization": f"Bearer {fresh_stripe_standin.test_key}"}, timeout=10
    )
    assert (contents.status_code, contents.headers["Content-Type"]) == (200, "image/png")
    assert contents.content == data


def test_a_gif_is_a_valid_branding_upload(sdk):
    assert upload(sdk, gif(200, 200), "business_logo").type == "gif"


def test_a_file_that_is_not_an_image_is_refused_for_branding(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        upload(sdk, b"%PDF-1.7 not an image")
    assert (caught.value.http_status, caught.value.param) == (400, "file")
    assert "must be of type JPEG, PNG or GIF" in caught.value.user_message


def test_a_branding_file_over_512_kb_is_refused(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        upload(sdk, png(128, 128) + b"\x00" * (512 * 1024))
    assert "can be at most 512KB" in caught.value.user_message


def test_an_unknown_purpose_is_refused_by_the_schema(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        upload(sdk, png(128, 128), "holiday_photos")
    assert caught.value.param == "purpose"


def test_an_upload_without_a_file_is_refused(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.files.create(params={"purpose": "business_icon"})  # type: ignore[typeddict-item]
    assert caught.value.code == "parameter_missing"


def test_the_request_log_keeps_the_files_name_size_and_hash_not_its_content(
    sdk, fresh_stripe_standin
):
    upload(sdk, png(128, 128))
    (entry,) = fresh_stripe_standin.requests(path_prefix="/v1/files")
    assert set(entry["params"]["file"]) == {"filename", "size", "sha256"}


def test_a_file_uploaded_as_a_connected_account_is_that_accounts_only(sdk, fresh_stripe_standin):
    account = fresh_stripe_standin.create_connected_account()["id"]
    file = upload(sdk, png(128, 128), stripe_account=account)
    assert sdk.v1.files.retrieve(file.id, options={"stripe_account": account}).id == file.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.files.retrieve(file.id)
    assert caught.value.http_status == 404
    assert f"No such file upload: '{file.id}'" in caught.value.user_message


def test_an_unknown_file_is_404(sdk):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.files.retrieve("file_DoesNotExist01")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
