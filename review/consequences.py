"""What a setting change does beyond the portal configuration, said where the change is shown.

`plan --base` lists setting changes; some of them reach further than the portal page: a price's
amount, currency or interval cannot change in Stripe (prices are immutable), so `pulumi up`
creates a new price and archives the old one, and every existing subscriber stays on the old
price; a cancellation mode applies to the cancellations made after `up`, not to those already
made. `consequences(changes)` finds them, one `Consequence` per affected object (all the changed
fields of one price make one), each naming its settings and saying what happens to existing
customers and how to move them (or that they are not moved).

Pure: changes in, consequences out. One rule per kind, in `RULES`; a kind of change with effects
beyond the portal is one more rule (the hook for entitlements: a plan's feature switched off is
one rule on its `features.…` rows, once the stack model has them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from review.plan import CATALOG, Change
from review.rows import ABSENT

# The fields of a price Stripe cannot update (POST /v1/prices/{id} takes none of them).
IMMUTABLE_PRICE_FIELDS = ("unit_amount", "currency", "interval", "interval_count")
_PRICE_ROW = re.compile(
    re.escape(CATALOG) + r"(?P<product>[^.]+)\.prices\.(?P<price>[^.]+)\.(?P<field>[a-z_]+)"
)
CANCEL_MODE = "features.subscription_cancel.mode"
CANCEL_ENABLED = "features.subscription_cancel.enabled"
MIGRATE = (
    "billing-portal does not move them. To move them, update each subscription's item to the "
    "new price (`POST /v1/subscriptions/{id}` with `items[0][id]=si_…`, "
    "`items[0][price]=<new price>` and the `proration_behavior` you want, or a subscription "
    "schedule to switch at the period end); the new price's id is in the stack output "
    "`stripeProductIds` after `pulumi up`. Customers may also switch themselves in the portal, "
    "which now offers the new price"
)


@dataclass(frozen=True)
class Consequence:
    """One effect beyond the portal: which settings cause it, a short title, what happens."""

    kind: str  # new_price | cancel_mode | cancel_disabled | …
    settings: tuple[str, ...]
    title: str
    text: str


Rule = Callable[[list[Change]], Iterable[Consequence]]


def _new_price(changes: list[Change]) -> Iterable[Consequence]:
    """A declared price whose amount, currency or interval changes is a new Stripe price."""
    by_price: dict[tuple[str, str], list[tuple[str, Change]]] = {}
    for change in changes:
        match = _PRICE_ROW.fullmatch(change.setting)
        if not match or match["field"] not in IMMUTABLE_PRICE_FIELDS:
            continue
        if change.old is ABSENT or change.new is ABSENT:
            continue  # a price added or removed, not changed
        by_price.setdefault((match["product"], match["price"]), []).append((match["field"], change))
    for (product, price), found in by_price.items():
        rows = [change for _, change in found]
        fields = ", ".join(f"{name} {c.old} → {c.new}" for name, c in found)
        yield Consequence(
            kind="new_price",
            settings=tuple(c.setting for c in rows),
            title=f"`{product}/{price}`: a new price; existing subscribers stay on the old one",
            text=(
                f"Stripe cannot change a price's amount, currency or interval ({fields}): "
                "`pulumi up` creates a new price, points the portal's plan switching at it and "
                "archives the old one (no new subscription can start on it). Every existing "
                "subscription on the old price keeps it, and keeps being billed the old amount. "
                + MIGRATE
                + "."
            ),
        )


def _cancel_mode(changes: list[Change]) -> Iterable[Consequence]:
    for change in changes:
        if change.setting != CANCEL_MODE or ABSENT in (change.old, change.new):
            continue
        if change.new == "immediately":
            effect = (
                "from `pulumi up` on, a customer who cancels in the portal loses the "
                "subscription at once (prorated as `proration_behavior` says) instead of at the "
                "period end"
            )
        else:
            effect = (
                "from `pulumi up` on, a customer who cancels in the portal keeps the "
                "subscription until the period ends (`cancel_at_period_end`) instead of losing "
                "it at once"
            )
        yield Consequence(
            kind="cancel_mode",
            settings=(change.setting,),
            title=f"Cancellation: {change.old} → {change.new}",
            text=(
                f"{effect[0].upper()}{effect[1:]}. Cancellations already made are not changed: "
                "subscriptions already set to end at the period end still end then, ended ones "
                "stay ended. Tell support, and check the app's wording for a cancelled plan."
            ),
        )


def _cancel_disabled(changes: list[Change]) -> Iterable[Consequence]:
    for change in changes:
        if change.setting == CANCEL_ENABLED and change.old is True and change.new is False:
            yield Consequence(
                kind="cancel_disabled",
                settings=(change.setting,),
                title="Customers can no longer cancel in the portal",
                text=(
                    "After `pulumi up` the portal has no cancel button and a cancel deep link "
                    "is refused; cancellations already scheduled still happen. Customers must "
                    "then cancel through support (or the app), which some jurisdictions "
                    "require to be as easy as signing up."
                ),
            )


# One rule per kind of effect. Entitlements: add a rule for a plan's feature switched off
# (rows `catalog.<product>.features…` once the stack model has them): live customers of that
# plan lose the feature when Stripe recomputes their active entitlements.
RULES: tuple[Rule, ...] = (_new_price, _cancel_mode, _cancel_disabled)


def consequences(changes: list[Change], rules: Iterable[Rule] = RULES) -> list[Consequence]:
    """Every effect beyond the portal of `changes`, in rule order."""
    return [found for rule in rules for found in rule(changes)]
