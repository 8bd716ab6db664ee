"""``multipart/form-data`` bodies, as the stripe SDK sends file uploads (``POST /v1/files``).

The SDK writes one part per flattened parameter (``file_link_data[create]``), the file as a part
with a ``filename`` and ``Content-Type: application/octet-stream``. Parts are decoded into the
same nested parameters as form bodies (``forms.decode_pairs``), a file part as ``UploadedFile``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from local.stripe.core.forms import FormError, Params, decode_pairs

_BOUNDARY = re.compile(r'boundary="?(?P<boundary>[^";]+)"?')
_DISPOSITION = re.compile(r'(?P<key>name|filename)="(?P<value>[^"]*)"')


@dataclass(frozen=True)
class UploadedFile:
    """A file part: its file name, declared content type and bytes."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """What logs and idempotency fingerprints keep of it (never the content)."""
        digest = hashlib.sha256(self.data).hexdigest()
        return {"filename": self.filename, "size": len(self.data), "sha256": digest}


def is_multipart(content_type: str | None) -> bool:
    """Whether a request's Content-Type is multipart/form-data."""
    return (content_type or "").lower().startswith("multipart/form-data")


def decode_multipart(body: bytes, content_type: str) -> Params:
    """Nested params of a multipart body; raises ``FormError`` when it is not well formed."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise FormError("Invalid multipart/form-data request: no boundary", "file")
    delimiter = b"--" + match["boundary"].encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise FormError("Invalid multipart/form-data request: no closing boundary", "file")
    pairs: list[tuple[str, Any]] = []
    for section in sections[1:-1]:
        pairs.append(_part(section.removeprefix(b"\r\n").removesuffix(b"\r\n")))
    files = [(name, value) for name, value in pairs if isinstance(value, UploadedFile)]
    params = decode_pairs([(name, value) for name, value in pairs if isinstance(value, str)])
    for name, value in files:
        if "[" in name:
            raise FormError(f"Invalid parameter name for a file: {name}", name)
        params[name] = value
    return params


def _part(section: bytes) -> tuple[str, str | UploadedFile]:
    head, separator, content = section.partition(b"\r\n\r\n")
    if not separator:
        raise FormError("Invalid multipart/form-data request: a part has no headers", "file")
    headers = {}
    for line in head.decode("utf-8").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    disposition = dict(
        (m["key"], m["value"])
        for m in _DISPOSITION.finditer(headers.get("content-disposition", ""))
    )
    if "name" not in disposition:
        raise FormError("Invalid multipart/form-data request: a part has no name", "file")
    if "filename" in disposition:
        content_type = headers.get("content-type", "application/octet-stream")
        return disposition["name"], UploadedFile(disposition["filename"], content_type, content)
    return disposition["name"], content.decode("utf-8")
