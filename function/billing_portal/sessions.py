"""Opening the portal: the caller's customer → a one-time portal session URL.

The one place where the flow is decided: validate the return URL, refuse a deep link to anything
the stack does not sell (`deep_links`), find (or create) the customer, confirm a subscription deep
link is into the caller's own subscription (from the synced billing state, else one Stripe read),
create the session, and heal once if Stripe says the customer was deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from . import logs
from .billing_state import BillingState
from .customers import CustomerDirectory
from .deep_links import check_catalog, check_item_quantities, check_retention_coupon
from .errors import BadRequest, CustomerMissing, NotFound, UpstreamError
from .inputs import PortalRequest, check_return_url
from .settings import Settings
from .stripe_api import StripeGateway, SubscriptionOwner
from .tokens import Caller

if TYPE_CHECKING:  # for the checker only (stripe_api.py says why)
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowData as FlowData,
    )

EMAIL_UPDATE_WAIT_SECONDS = 5.0
SUBSCRIPTION_FLOWS = (
    "subscription_cancel",
    "subscription_pause",
    "subscription_update",
    "subscription_update_confirm",
)


def _flow_parameters(flow: FlowData) -> Mapping[str, Any]:
    """`flow_data[type]`: the flow's own parameters (subscription, items, …); {} if it has none."""
    parameters = flow.get(flow["type"])  # keyed by a value: the checker knows it as an object
    return parameters if isinstance(parameters, Mapping) else {}


def flow_subscription(flow: FlowData | None) -> str | None:
    """The subscription a deep link points into (Stripe's `flow_data`), or None. Pure."""
    if not flow or flow.get("type") not in SUBSCRIPTION_FLOWS:
        return None
    return str(_flow_parameters(flow)["subscription"])


def check_flow_enabled(flow: FlowData | None, settings: Settings) -> None:
    """Refuse a deep link into a feature the stack's portal configuration does not enable. Pure.

    Only pausing is optional here: the stack enables it by config (`PORTAL_SUBSCRIPTION_PAUSE`),
    and Stripe refuses the flow for a configuration without it.
    """
    if flow and flow.get("type") == "subscription_pause" and not settings.subscription_pause:
        raise BadRequest(
            "Pausing subscriptions is not enabled in this portal "
            "(portal.features.subscriptionPause), so flow.type subscription_pause is refused.",
            code="flow_not_enabled",
        )


def flow_items(flow: FlowData) -> frozenset[str]:
    """The subscription item ids a deep link names (`subscription_update_confirm`). Pure."""
    items = _flow_parameters(flow).get("items") or []
    return frozenset(str(item.get("id")) for item in items)


def check_deep_link(
    flow: FlowData, owner: SubscriptionOwner | None, customer_id: str | None
) -> SubscriptionOwner:
    """Refuse a deep link unless its subscription (and items) are the caller's; the owner. Pure.

    Another user's subscription and a missing one get the same 404, so the answer tells nothing
    about subscriptions that are not the caller's. An item not on the caller's own subscription
    is a 400: the subscription was found and is theirs, the link itself is wrong.
    """
    if owner is None or customer_id is None or owner.customer_id != customer_id:
        raise NotFound(
            "No such subscription among yours; check flow.subscription.",
            code="subscription_not_found",
        )
    items = _flow_parameters(flow).get("items") or []
    for index, item in enumerate(items):
        if item.get("id") not in owner.item_ids:
            raise BadRequest(
                f"flow.items[{index}].id is not an item of that subscription.",
                code="invalid_flow",
            )
    return owner


def open_portal(
    caller: Caller,
    request: PortalRequest,
    *,
    settings: Settings,
    directory: CustomerDirectory,
    stripe: StripeGateway,
    billing: BillingState,
) -> str:
    """The portal session URL for `caller`, as `request` asks."""
    return_url = (
        check_return_url(request.return_url, settings.allowed_return_origins)
        if request.return_url
        else settings.default_return_url
    )
    # What the link names must be on sale before anything is read: no Stripe call for it.
    check_retention_coupon(request.flow, settings.retention_coupons)
    check_catalog(request.flow, settings.portal_prices)
    check_flow_enabled(request.flow, settings)
    subscription_id = flow_subscription(request.flow)
    email_update: Future[None] | None = None
    if subscription_id is not None and request.flow is not None:
        # A user without a customer owns no subscription: 404 without creating one.
        existing = directory.existing_customer(caller)
        owner = None
        if existing is not None:
            # The synced state answers for the subscriptions it knows (with every item the link
            # names); one Stripe read answers for the rest (not synced yet, or items changed).
            owner = billing.subscription_owner(caller.uid, existing, subscription_id)
            if owner is None or not flow_items(request.flow) <= owner.item_ids:
                owner = stripe.subscription_owner(subscription_id)
        owner = check_deep_link(request.flow, owner, existing)
        check_item_quantities(request.flow, settings.portal_prices, owner)
        customer_id = str(existing)
    else:
        customer_id, email_update = directory.customer_for(caller)
    try:
        url = stripe.create_session(
            customer_id, return_url=return_url, locale=request.locale, flow=request.flow
        )
    except CustomerMissing:
        settle_email_update(email_update)
        customer_id, email_update = directory.replace_missing(caller, customer_id)
        if subscription_id is not None:
            # The subscription was the deleted customer's; the new customer has none.
            settle_email_update(email_update)
            raise NotFound(
                "No such subscription among yours; check flow.subscription.",
                code="subscription_not_found",
            ) from None
        try:
            url = stripe.create_session(
                customer_id, return_url=return_url, locale=request.locale, flow=request.flow
            )
        except CustomerMissing:
            raise UpstreamError(
                "The Stripe customer disappeared again right after being re-created.",
                code="customer_missing",
            ) from None
    settle_email_update(email_update)
    return url


def settle_email_update(email_update: Future[None] | None) -> None:
    """Wait for a new customer's email update (None: there is none); a failure costs the
    email, not the session."""
    if email_update is None:
        return
    try:
        email_update.result(timeout=EMAIL_UPDATE_WAIT_SECONDS)
    except Exception as error:  # the session is what the caller needs; report, don't fail
        logs.emit(
            {
                "severity": "WARNING",
                "message": "Could not set the new customer's email",
                "error": type(error).__name__,
            }
        )
