"""File uploads: ``POST /v1/files`` (multipart, to the SDK's ``files`` address), retrieving one,
and downloading its bytes; the file object, and the checks Stripe makes per purpose.

A file belongs to the account that uploaded it (the platform, or a connected account through
the ``Stripe-Account`` header), and only that account sees it.

Only the branding purposes are served. Their limits are the ones in Stripe's file upload guide
(https://docs.stripe.com/file-upload): JPEG, PNG or GIF, at most 512 KB. The type is read from
the content, as the SDK always declares ``application/octet-stream``.
"""

from __future__ import annotations

import time
from typing import Any

from local.stripe.accounts import connected
from local.stripe.core.errors import StripeError, resource_missing
from local.stripe.core.multipart import UploadedFile
from local.stripe.core.objects import new_id
from local.stripe.core.routing import Payload, RawContent, StripeApi, route
from local.stripe.core.store import ModeState, StoredFile

BRANDING_PURPOSES = ("business_icon", "business_logo")
BRANDING_TYPES = ("jpg", "png", "gif")
MAX_BRANDING_BYTES = 512 * 1024
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
)
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "pdf": "application/pdf",
}


def sniff_type(data: bytes) -> str | None:
    """Stripe's `type` for a file's content (`png`, `jpg`, `gif`, `pdf`), None if unknown."""
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


def check_upload(purpose: str, upload: UploadedFile) -> str:
    """The file's type, or the 400 Stripe answers for a file its purpose does not take."""
    if purpose not in BRANDING_PURPOSES:
        raise StripeError(
            400,
            "The Stripe stand-in serves file uploads for business_icon and business_logo only; "
            f"got purpose {purpose}.",
            param="purpose",
        )
    kind = sniff_type(upload.data)
    if kind not in BRANDING_TYPES:
        raise StripeError(
            400,
            f"Files with purpose {purpose} must be of type JPEG, PNG or GIF; the file uploaded "
            f"is {kind or 'of an unknown type'}.",
            param="file",
        )
    if len(upload.data) > MAX_BRANDING_BYTES:
        raise StripeError(
            400,
            f"Files with purpose {purpose} can be at most 512KB; the file uploaded is "
            f"{len(upload.data)} bytes.",
            param="file",
        )
    return kind


def new_file(
    file_id: str, *, purpose: str, upload: UploadedFile, kind: str, created: int, url: str
) -> dict[str, Any]:
    """The file object Stripe returns for an upload."""
    return {
        "id": file_id,
        "object": "file",
        "created": created,
        "expires_at": None,  # the branding purposes never expire
        "filename": upload.filename,
        "links": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/file_links?file={file_id}",
        },
        "purpose": purpose,
        "size": len(upload.data),
        "title": None,
        "type": kind,
        "url": url,
    }


def _file(state: ModeState, file_id: str, stripe_account: str | None) -> StoredFile:
    stored = state.files.get(file_id)
    if stored is None or stored.owner != stripe_account:
        raise resource_missing("file upload", file_id, param="id", status=404)
    return stored


def create_file(
    api: StripeApi, state: ModeState, params: Payload, stripe_account: str | None = None
) -> tuple[int, Payload]:
    """``POST /v1/files`` (multipart; the SDK sends it to its ``files`` base address)."""
    if "file" not in params:
        raise StripeError(
            400, "Missing required param: file.", code="parameter_missing", param="file"
        )
    if stripe_account:
        connected(state, stripe_account)
    kind = check_upload(params["purpose"], params["file"])
    file_id = new_id("file")
    created = new_file(
        file_id,
        purpose=params["purpose"],
        upload=params["file"],
        kind=kind,
        created=int(time.time()),
        url=f"{api.base_url()}/v1/files/{file_id}/contents",
    )
    state.files[file_id] = StoredFile(created, params["file"].data, stripe_account)
    return 200, created


def retrieve_file(
    api: StripeApi, state: ModeState, params: Payload, id: str, stripe_account: str | None = None
) -> tuple[int, Payload]:
    """``GET /v1/files/{id}``."""
    return 200, _file(state, id, stripe_account).object


def file_contents(
    api: StripeApi, state: ModeState, params: Payload, id: str, stripe_account: str | None = None
) -> tuple[int, RawContent]:
    """``GET /v1/files/{id}/contents`` (on the files address): the bytes uploaded."""
    stored = _file(state, id, stripe_account)
    content_type = CONTENT_TYPES.get(stored.object["type"], "application/octet-stream")
    return 200, RawContent(stored.data, content_type)


ROUTES = (
    route("POST", "/v1/files", create_file, schema="POST /v1/files", connect=True),
    route("GET", "/v1/files/{id}", retrieve_file, connect=True),
    route("GET", "/v1/files/{id}/contents", file_contents, connect=True),
)
