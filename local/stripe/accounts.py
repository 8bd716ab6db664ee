"""The account and its connected accounts: ``GET /v1/account`` (this account, or the connected
one named by ``Stripe-Account``), ``GET``/``POST /v1/accounts/{id}`` (a connected account; the
schema lets through ``settings[branding]`` only), and the control API's account routes.

Setting a connected account's branding accepts any branding file of the mode: whether Stripe
insists that the account own the file is not something this stand-in claims to know.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from local.stripe.core.control_routes import mode_state
from local.stripe.core.errors import StripeError, resource_missing
from local.stripe.core.objects import merge, new_id
from local.stripe.core.routing import Payload, StripeApi, route
from local.stripe.core.server import StripeServer
from local.stripe.core.store import ModeState, Store

_HEX_COLOR = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
BRANDING_FILES = {"icon": "business_icon", "logo": "business_logo"}


def apply_branding(
    account: dict[str, Any],
    branding: dict[str, str],
    file_purpose: Callable[[str], str | None],
) -> None:
    """Set ``settings.branding`` fields; files must exist with the right purpose, colours be
    CSS hex. ``file_purpose(id)`` is the purpose of an uploaded file, None if there is none."""
    for field, value in branding.items():
        param = f"settings[branding][{field}]"
        if field in BRANDING_FILES:
            purpose = file_purpose(value)
            if purpose is None:
                raise resource_missing("file upload", value, param=param, status=400)
            if purpose != BRANDING_FILES[field]:
                raise StripeError(
                    400,
                    f"The file {value} has purpose {purpose}; {param} needs a file uploaded "
                    f"with purpose {BRANDING_FILES[field]}.",
                    param=param,
                )
        elif not _HEX_COLOR.fullmatch(value):
            raise StripeError(400, f"Invalid hex color: {value}", param=param)
    account["settings"]["branding"].update(branding)


# A fixed creation time: the stand-in's account exists before any request.
ACCOUNT_CREATED = 1700000000


def _requirements() -> dict[str, Any]:
    """Nothing due: an account that has finished onboarding."""
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


def new_account(account_id: str = "acct_1StandinLocal00") -> dict[str, Any]:
    """The account ``GET /v1/account`` returns, with every field of Stripe's published example
    (an onboarded standard account); the control API can change its branding."""
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "minority_owned_business_designation": None,
            "name": "Stand-in Local",
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": ACCOUNT_CREATED,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@example.com",
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": _requirements(),
        "metadata": {},
        "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": "Stand-in Local", "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
            "payments": {
                "statement_descriptor": None,
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


def seed(store: Store) -> None:
    """The platform account, before anyone changes its branding."""
    store.account = new_account()


def connected(state: ModeState, account_id: str) -> Payload:
    """A connected account of the mode, or the 404 Stripe answers."""
    account = state.connected_accounts.get(account_id)
    if account is None:
        raise resource_missing("account", account_id, param="id", status=404)
    return account


def retrieve_account(
    api: StripeApi, state: ModeState, params: Payload, stripe_account: str | None = None
) -> tuple[int, Payload]:
    """``GET /v1/account``: this account, or the connected one named by Stripe-Account."""
    if stripe_account:
        return 200, connected(state, stripe_account)
    return 200, api.store.account


def retrieve_connected_account(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``GET /v1/accounts/{id}``."""
    return 200, connected(state, id)


def update_connected_account(
    api: StripeApi, state: ModeState, params: Payload, id: str
) -> tuple[int, Payload]:
    """``POST /v1/accounts/{id}``: the schema lets through ``settings[branding]`` only."""
    account = connected(state, id)
    branding = (params.get("settings") or {}).get("branding") or {}

    def purpose(file_id: str) -> str | None:
        stored = state.files.get(file_id)
        return stored.object["purpose"] if stored else None

    apply_branding(account, branding, purpose)
    return 200, account


ROUTES = (
    route("GET", "/v1/account", retrieve_account, connect=True),
    route("GET", "/v1/accounts/{id}", retrieve_connected_account),
    route(
        "POST",
        "/v1/accounts/{id}",
        update_connected_account,
        schema="POST /v1/accounts/{account}",
    ),
)


# --- the control API -----------------------------------------------------------------------


def _control_account(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any]
) -> tuple[int, Any]:
    """The account, after deep-merging ``payload`` into it (``GET``: nothing to merge)."""
    store = standin.store
    with store.lock:
        merge(store.account, payload)
        return 200, store.account


def _control_connected_account(
    standin: StripeServer, query: dict[str, str], payload: dict[str, Any]
) -> tuple[int, Any]:
    """A connected account of the platform, as Connect onboarding would leave it."""
    store = standin.store
    with store.lock:
        state = mode_state(store, payload.get("mode", "test"))
        account_id = payload.get("id") or new_id("acct")
        if not isinstance(account_id, str) or not account_id.startswith("acct_"):
            raise ValueError("'id' must be an account id starting with acct_")
        account = new_account(account_id)
        account["type"] = "custom"
        state.connected_accounts[account_id] = account
        return 200, json.loads(json.dumps(account))


CONTROL_ROUTES = (
    route("GET", "/_standin/account", _control_account),
    route("POST", "/_standin/account", _control_account),
    route("POST", "/_standin/connected_accounts", _control_connected_account),
)
