"""Endpoints for branding: file uploads and their contents, and connected accounts.

Requests may act as a connected account through the ``Stripe-Account`` header
(``stripe_account``): a file belongs to the account that uploaded it, and only that account sees
it. Setting a connected account's branding accepts any branding file of the mode: whether Stripe
insists that the account own the file is not something this stand-in claims to know.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.stripe import accounts, files, resources
from local.stripe.errors import StripeError, resource_missing
from local.stripe.store import ModeState, Store, StoredFile

Payload = dict[str, Any]


@dataclass(frozen=True)
class RawContent:
    """A response that is a file's bytes, not JSON."""

    data: bytes
    content_type: str


class BrandingEndpoints:
    """Mixed into ``StripeApi``: ``store`` and ``base_url`` come from it."""

    store: Store
    base_url: Callable[[], str]

    def _file(self, state: ModeState, file_id: str, stripe_account: str | None) -> StoredFile:
        stored = state.files.get(file_id)
        if stored is None or stored.owner != stripe_account:
            raise resource_missing("file upload", file_id, param="id", status=404)
        return stored

    def _connected(self, state: ModeState, account_id: str) -> Payload:
        account = state.connected_accounts.get(account_id)
        if account is None:
            raise resource_missing("account", account_id, param="id", status=404)
        return account

    def retrieve_account(
        self, state: ModeState, params: Payload, stripe_account: str | None = None
    ) -> tuple[int, Payload]:
        """``GET /v1/account``: this account, or the connected one named by Stripe-Account."""
        if stripe_account:
            return 200, self._connected(state, stripe_account)
        return 200, self.store.account

    def create_file(
        self, state: ModeState, params: Payload, stripe_account: str | None = None
    ) -> tuple[int, Payload]:
        """``POST /v1/files`` (multipart; the SDK sends it to its ``files`` base address)."""
        if "file" not in params:
            raise StripeError(
                400, "Missing required param: file.", code="parameter_missing", param="file"
            )
        if stripe_account:
            self._connected(state, stripe_account)
        kind = files.check_upload(params["purpose"], params["file"])
        file_id = resources.new_id("file")
        created = files.new_file(
            file_id,
            purpose=params["purpose"],
            upload=params["file"],
            kind=kind,
            created=int(time.time()),
            url=f"{self.base_url()}/v1/files/{file_id}/contents",
        )
        state.files[file_id] = StoredFile(created, params["file"].data, stripe_account)
        return 200, created

    def retrieve_file(
        self, state: ModeState, params: Payload, id: str, stripe_account: str | None = None
    ) -> tuple[int, Payload]:
        """``GET /v1/files/{id}``."""
        return 200, self._file(state, id, stripe_account).object

    def file_contents(
        self, state: ModeState, params: Payload, id: str, stripe_account: str | None = None
    ) -> tuple[int, RawContent]:
        """``GET /v1/files/{id}/contents`` (on the files address): the bytes uploaded."""
        stored = self._file(state, id, stripe_account)
        content_type = files.CONTENT_TYPES.get(stored.object["type"], "application/octet-stream")
        return 200, RawContent(stored.data, content_type)

    def retrieve_connected_account(
        self, state: ModeState, params: Payload, id: str
    ) -> tuple[int, Payload]:
        """``GET /v1/accounts/{id}``."""
        return 200, self._connected(state, id)

    def update_connected_account(
        self, state: ModeState, params: Payload, id: str
    ) -> tuple[int, Payload]:
        """``POST /v1/accounts/{id}``: the schema lets through ``settings[branding]`` only."""
        account = self._connected(state, id)
        branding = (params.get("settings") or {}).get("branding") or {}

        def purpose(file_id: str) -> str | None:
            stored = state.files.get(file_id)
            return stored.object["purpose"] if stored else None

        accounts.apply_branding(account, branding, purpose)
        return 200, account
