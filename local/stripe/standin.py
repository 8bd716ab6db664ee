"""The Stripe stand-in: the HTTP core serving every Stripe topic's routes and pages."""

from __future__ import annotations

from collections.abc import Iterable

from local.stripe import (
    accounts,
    catalog,
    checkout,
    checkout_page,
    customers,
    entitlements,
    events,
    files,
    portal,
    portal_page,
    subscriptions,
    webhook_endpoints,
)
from local.stripe.control import StandinControl
from local.stripe.core.server import StripeServer
from local.stripe.core.store import Store

ROUTES = (
    *accounts.ROUTES,
    *files.ROUTES,
    *catalog.ROUTES,
    *customers.ROUTES,
    *subscriptions.ROUTES,
    *entitlements.ROUTES,
    *portal.ROUTES,
    *checkout.ROUTES,
    *events.ROUTES,
    *webhook_endpoints.ROUTES,
)
CONTROL_ROUTES = (
    *accounts.CONTROL_ROUTES,
    *customers.CONTROL_ROUTES,
    *webhook_endpoints.CONTROL_ROUTES,
)


def _seed(store: Store) -> None:
    accounts.seed(store)
    portal.seed(store)


class StripeStandin(StripeServer):
    """A local, stateful Stripe API for the endpoints billing-portal uses.

    >>> standin = StripeStandin().start()
    >>> client = stripe.StripeClient(
    ...     "sk_test_…", base_addresses={"api": standin.url, "files": standin.url}
    ... )

    ``url`` serves the API and file uploads at one address, hence both base addresses.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, api_keys: Iterable[str] | None = None
    ) -> None:
        super().__init__(
            host,
            port,
            api_keys=api_keys,
            routes=ROUTES,
            control=CONTROL_ROUTES,
            pages={**portal_page.PAGES, **checkout_page.PAGES},
            seed=_seed,
        )
        # Sends every recorded event to the webhook endpoints and the forward target.
        self.webhooks = webhook_endpoints.Deliverer(self.store)

    def _launch(self) -> None:
        self.webhooks.start()
        super()._launch()

    def stop(self) -> None:
        """Stop serving and sending webhooks."""
        super().stop()
        self.webhooks.stop()

    def reset(self) -> None:
        """Forget all objects (events included), and the webhook forward target and queue."""
        super().reset()
        self.webhooks.reset()

    def control(self) -> StandinControl:
        """An HTTP control handle on this stand-in (what the test fixtures hand out)."""
        return StandinControl(self.url)
