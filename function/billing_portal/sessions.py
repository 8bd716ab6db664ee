"""Opening the portal: the caller's customer → a one-time portal session URL.

The one place where the flow is decided: validate the return URL, find (or create) the customer,
create the session, and heal once if Stripe says the customer was deleted.
"""

from __future__ import annotations

from concurrent.futures import Future

from . import logs
from .customers import CustomerDirectory
from .errors import CustomerMissing, UpstreamError
from .inputs import PortalRequest, check_return_url
from .settings import Settings
from .stripe_api import StripeGateway
from .tokens import Caller

EMAIL_UPDATE_WAIT_SECONDS = 5.0


def open_portal(
    caller: Caller,
    request: PortalRequest,
    *,
    settings: Settings,
    directory: CustomerDirectory,
    stripe: StripeGateway,
) -> str:
    """The portal session URL for `caller`, as `request` asks."""
    return_url = (
        check_return_url(request.return_url, settings.allowed_return_origins)
        if request.return_url
        else settings.default_return_url
    )
    customer_id, email_update = directory.customer_for(caller)
    try:
        url = stripe.create_session(
            customer_id, return_url=return_url, locale=request.locale, flow=request.flow
        )
    except CustomerMissing:
        _settle(email_update)
        customer_id, email_update = directory.replace_missing(caller, customer_id)
        try:
            url = stripe.create_session(
                customer_id, return_url=return_url, locale=request.locale, flow=request.flow
            )
        except CustomerMissing:
            raise UpstreamError(
                "The Stripe customer disappeared again right after being re-created.",
                code="customer_missing",
            ) from None
    _settle(email_update)
    return url


def _settle(email_update: Future[None] | None) -> None:
    """Wait for a new customer's email update; a failure costs the email, not the session."""
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
