"""Deep links only within the catalog: what a deep link may ask the portal to sell. Pure.

A `subscription_update_confirm` deep link opens the portal on a confirmation page for a change
the caller's page chose: a price and a quantity. Stripe would check them against the
configuration, but the function does not rely on it: it refuses, before any Stripe call, a link
that names something the stack's portal does not sell (`Settings.portal_prices`, from
`PORTAL_PRICES`), with a code the frontend can show:

- `too_many_items` — more than one item (Stripe's portal confirms one item per link);
- `price_not_allowed` — a price that is not one of the portal's plan-switching prices;
- `invalid_quantity` — a quantity outside its price's bounds (exactly 1 where the product's
  quantity is not adjustable). Stripe changes only what the link names: without a price the
  item keeps its own, so its bounds are those of the item's current price; without a quantity
  it keeps its quantity, which must then be within the new price's bounds. Both are known only
  once the subscription is (`check_item_quantities`);
- `coupon_not_allowed` — a `subscription_cancel` retention coupon the stack does not offer.

The other flow types name nothing that is sold: the subscription (checked to be the caller's,
`sessions.check_deep_link`) and, for pausing, a feature (`sessions.check_flow_enabled`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .catalog import FIXED, Catalog, Quantity
from .errors import CouponNotAllowed, InvalidQuantity, PriceNotAllowed, TooManyItems
from .stripe_api import SubscriptionOwner

if TYPE_CHECKING:  # for the checker only (stripe_api.py says why)
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowData as FlowData,
    )
    from stripe.params.billing_portal import (
        SessionCreateParamsFlowDataSubscriptionUpdateConfirmItem as ConfirmItem,
    )

CONFIRM: Final = "subscription_update_confirm"
MAX_CONFIRM_ITEMS = 1  # Stripe: "currently, only up to one may be specified"


def _confirm_items(flow: FlowData | None) -> list[ConfirmItem]:
    if not flow or flow.get("type") != CONFIRM:
        return []
    return list(flow[CONFIRM].get("items") or [])


def check_catalog(flow: FlowData | None, catalog: Catalog) -> None:
    """Refuse a confirm deep link beyond the catalog, as far as the link alone tells. Pure.

    Its item count, its prices, and the quantity of every item that names its price. An item
    that changes only its quantity is checked by `check_item_quantities` once its subscription
    (and so its current price) is known.
    """
    items = _confirm_items(flow)
    if len(items) > MAX_CONFIRM_ITEMS:
        raise TooManyItems(
            f"flow.items names {len(items)} items; a deep link confirms the change of one item."
        )
    for index, item in enumerate(items):
        price = item.get("price")
        if price is None:
            continue
        if price not in catalog:
            raise PriceNotAllowed(
                f"flow.items[{index}].price is not a plan this portal offers (PORTAL_PRICES)."
            )
        _check_quantity(index, item, catalog[price])


def check_item_quantities(
    flow: FlowData | None, catalog: Catalog, owner: SubscriptionOwner
) -> None:
    """Refuse what an item keeps beyond the bounds of what it will be: a quantity change without
    a price, beyond its current price's bounds; a price change without a quantity, whose current
    quantity is beyond the new price's bounds.

    A price the portal does not offer (an older plan) has no adjustable quantity here: 1 only.
    Call it once `owner` is known to be the caller's (and `check_catalog` passed). Pure.
    """
    for index, item in enumerate(_confirm_items(flow)):
        item_id = str(item.get("id"))
        price = item.get("price")
        if price is None:
            current = owner.item_prices.get(item_id)
            _check_quantity(index, item, catalog.get(current or "", FIXED))
            continue
        kept = owner.item_quantities.get(item_id)
        bounds = catalog.get(price, FIXED)
        if item.get("quantity") is None and kept is not None and not bounds.allows(kept):
            raise InvalidQuantity(
                f"flow.items[{index}] keeps its quantity ({kept}), which is not one this portal "
                f"sells for that price: {bounds.describe()}. Name the quantity in the link."
            )


def _check_quantity(index: int, item: ConfirmItem, bounds: Quantity) -> None:
    quantity = item.get("quantity")
    if quantity is not None and not bounds.allows(quantity):
        raise InvalidQuantity(
            f"flow.items[{index}].quantity is not one this portal sells for that price: "
            f"{bounds.describe()}."
        )


def check_retention_coupon(flow: FlowData | None, allowed: frozenset[str]) -> None:
    """Refuse a cancel deep link's retention coupon unless the deployment offers it. Pure.

    Stripe applies the coupon to the subscription when the customer accepts the offer, and does
    not tie it to the portal configuration: a coupon id chosen by the caller would let any user
    discount their own plan with any coupon of the account.
    """
    if not flow or flow.get("type") != "subscription_cancel":
        return
    retention = flow["subscription_cancel"].get("retention")
    offer = retention.get("coupon_offer") if retention else None
    coupon = offer.get("coupon") if offer else None
    if coupon is not None and coupon not in allowed:
        raise CouponNotAllowed(
            "flow.coupon is not a retention offer of this deployment (RETENTION_COUPONS)."
        )
