"""`GET /plans`: the stack's checkout catalog as a page renders it, read from Stripe, cached.

Price ids differ per environment, so a pricing page asks the function instead of hard-coding
them. The list is `CHECKOUT_PRICES`, in its order, each price read from Stripe with its product
(`expand[]=product`): name, amount, currency, interval, and the quantity bounds the stack sets.
A price Stripe no longer has, an inactive price or product, or a price that is not recurring is
left out (and logged): Checkout would refuse it.

Public (no token): the answer is the deployment's catalog — what Stripe's own pricing table and
Checkout page show any visitor — and nothing about a caller. Stripe is read at most once per
`CACHE_SECONDS` per instance (one reader at a time; the others wait for its answer), so traffic
to this route never reaches Stripe in proportion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import logs
from .catalog import Catalog, Quantity
from .stripe_api import StripeGateway

CACHE_SECONDS = 300.0

Plan = dict[str, Any]


def _id_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def plan_of(price: Mapping[str, Any], bounds: Quantity) -> Plan | None:
    """One plan of `GET /plans` from a price with its product expanded; None if Checkout could
    not sell it (inactive price or product, deleted product, not recurring). Pure."""
    product = price.get("product")
    recurring = price.get("recurring")
    if (
        not price.get("active")
        or not isinstance(product, Mapping)
        or product.get("deleted")
        or not product.get("active")
        or not isinstance(recurring, Mapping)
    ):
        return None
    return {
        "price": str(price.get("id")),
        "product": _id_of(product),
        "name": product.get("name"),
        "unit_amount": price.get("unit_amount"),
        "currency": price.get("currency"),
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "quantity": {
            "adjustable": bounds.adjustable,
            "minimum": bounds.minimum,
            "maximum": bounds.maximum if bounds.adjustable else 1,
        },
    }


class PlanCatalog:
    """The plans of one instance: read from Stripe on first use, then every `CACHE_SECONDS`."""

    def __init__(
        self,
        catalog: Catalog,
        stripe: StripeGateway,
        *,
        pool: ThreadPoolExecutor | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = dict(catalog)
        self._stripe = stripe
        self._pool = pool or ThreadPoolExecutor(max_workers=4, thread_name_prefix="plans")
        self._clock = clock
        self._lock = threading.Lock()  # one reader at a time; the others then take its answer
        self._cached: tuple[float, list[Plan]] | None = None

    def plans(self) -> list[Plan]:
        """The plans, from the cache when it is fresh; a Stripe failure is the caller's error
        (nothing cached)."""
        cached = self._cached
        if cached is not None and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached[0] < CACHE_SECONDS:
                return cached[1]
            plans = self._read()
            self._cached = (self._clock(), plans)
            return plans

    def _read(self) -> list[Plan]:
        ids = list(self._catalog)
        # The prices are read side by side: one round trip's time, whatever the catalog's size.
        prices = list(self._pool.map(self._stripe.price_with_product, ids))
        plans = []
        for price_id, price in zip(ids, prices, strict=True):
            plan = None if price is None else plan_of(price, self._catalog[price_id])
            if plan is None:
                logs.emit(
                    {
                        "severity": "WARNING",
                        "message": "A checkout price is not on sale in Stripe; left out of /plans",
                        "price": price_id,
                    }
                )
                continue
            plans.append(plan)
        return plans
