"""File uploads (``POST /v1/files``): the file object, and the checks Stripe makes per purpose.

Only the branding purposes are served. Their limits are the ones in Stripe's file upload guide
(https://docs.stripe.com/file-upload): JPEG, PNG or GIF, at most 512 KB. The type is read from
the content, as the SDK always declares ``application/octet-stream``.
"""

from __future__ import annotations

from typing import Any

from local.stripe.errors import StripeError
from local.stripe.multipart import UploadedFile

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
