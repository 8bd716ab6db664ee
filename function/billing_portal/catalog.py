"""What the stack sells: its prices, each with the quantities a customer may choose. Pure.

The portal's catalog is the plan-switching list of its configuration
(`features.subscription_update.products`): every price of those products, with its product's
`adjustable_quantity`. The function gets it as one environment variable (`PORTAL_PRICES`, see
`settings.CONTRACT`), written by `encode_prices` from that list (the stack's spec with Pulumi's
price ids, or the configuration the local run created) and read back by `parse_prices`:

    price_A:1-25,price_B:2-,price_C

- `price_A:1-25` — quantity adjustable from 1 to 25 (the product's minimum and maximum);
- `price_B:2-` — adjustable from 2, with no maximum declared (then `MAX_QUANTITY` applies);
- `price_C` — quantity not adjustable: exactly 1.

One entry per price: a price belongs to one product, so its bounds are its product's. The same
shape serves any other place the function sells a price (a checkout's price list).
Only the standard library, like `settings`, which imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Stripe's largest adjustable quantity (Checkout's documented `adjustable_quantity.maximum`
# limit); the ceiling where a product's quantity is adjustable and the stack sets no maximum.
MAX_QUANTITY = 999_999
# One entry, with fullmatch: a Stripe id (as the request's ids), then `:MIN-MAX` or `:MIN-`.
_ENTRY = re.compile(
    r"(?P<price>[A-Za-z0-9_]{1,255})(?::(?P<low>[0-9]{1,6})-(?P<high>[0-9]{1,6})?)?", re.ASCII
)


@dataclass(frozen=True)
class Quantity:
    """The quantities a customer may choose for a price: `minimum` to `maximum`, inclusive."""

    minimum: int = 1
    maximum: int | None = 1  # None: adjustable, no maximum declared (`MAX_QUANTITY` applies)

    @property
    def adjustable(self) -> bool:
        """True unless the quantity is fixed at 1."""
        return (self.minimum, self.maximum) != (1, 1)

    def allows(self, quantity: int) -> bool:
        """True when `quantity` is within the bounds."""
        return self.minimum <= quantity <= (MAX_QUANTITY if self.maximum is None else self.maximum)

    def describe(self) -> str:
        """The bounds in words, for an error message."""
        if not self.adjustable:
            return "its quantity is not adjustable (1)"
        if self.maximum is None:
            return f"its quantity is {self.minimum} or more (at most {MAX_QUANTITY})"
        return f"its quantity is {self.minimum} to {self.maximum}"


FIXED = Quantity()  # a price whose quantity is not adjustable
Catalog = Mapping[str, Quantity]  # price id → its quantities


class CatalogError(ValueError):
    """A malformed `PORTAL_PRICES` value; the message says which entry and why."""


def product_quantity(product: Mapping[str, Any]) -> Quantity:
    """The quantities of a plan-switching product (Stripe's `adjustable_quantity` shape)."""
    adjustable = product.get("adjustable_quantity") or {}
    if not adjustable.get("enabled"):
        return FIXED
    minimum = adjustable.get("minimum")
    maximum = adjustable.get("maximum")
    return Quantity(
        minimum=1 if minimum is None else int(minimum),
        maximum=None if maximum is None else int(maximum),
    )


def encode_prices(products: Iterable[Mapping[str, Any]]) -> str:
    """The `PORTAL_PRICES` value of a plan-switching list (`[{product, prices,
    adjustable_quantity?}]`, as Stripe's configuration and the stack's spec write it)."""
    entries: dict[str, None] = {}
    for product in products:
        quantity = product_quantity(product)
        suffix = ""
        if quantity.adjustable:
            high = "" if quantity.maximum is None else str(quantity.maximum)
            suffix = f":{quantity.minimum}-{high}"
        for price in product.get("prices") or []:
            entries[f"{price}{suffix}"] = None
    return ",".join(entries)


def parse_prices(raw: str) -> dict[str, Quantity]:
    """{price id: its quantities} from a `PORTAL_PRICES` value; `CatalogError` when malformed."""
    catalog: dict[str, Quantity] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise CatalogError(
                f"{entry!r} is not a price entry; write price_id (quantity 1), "
                "price_id:MIN-MAX or price_id:MIN- (adjustable quantity)"
            )
        quantity = FIXED
        if match["low"] is not None:
            low = int(match["low"])
            high = None if match["high"] is None else int(match["high"])
            if high is not None and (high < 1 or high < low):
                raise CatalogError(f"{entry!r}: the maximum must be at least 1 and the minimum")
            quantity = Quantity(low, high)
        price = match["price"]
        if catalog.get(price, quantity) != quantity:
            raise CatalogError(f"{price!r} is listed twice with different quantities")
        catalog[price] = quantity
    return catalog
