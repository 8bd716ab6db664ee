"""`GET /plans`' pieces: one plan from a Stripe price (pure), and the per-instance cache."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from billing_portal.catalog import parse_prices
from billing_portal.errors import Unavailable
from billing_portal.plans import CACHE_SECONDS, PlanCatalog, plan_of

CATALOG = parse_prices("price_team:1-25,price_solo,price_seats:2-")


def price(price_id: str, **changes: Any) -> dict[str, Any]:
    """A price with its product expanded, in Stripe's shape (the fields plan_of reads)."""
    value = {
        "id": price_id,
        "object": "price",
        "active": True,
        "currency": "eur",
        "unit_amount": 900,
        "recurring": {"interval": "month", "interval_count": 1},
        "product": {"id": "prod_Team", "object": "product", "active": True, "name": "Team"},
    }
    return {**value, **changes}


def test_a_plan_has_what_a_pricing_table_shows():
    assert plan_of(price("price_team"), CATALOG["price_team"]) == {
        "price": "price_team",
        "product": "prod_Team",
        "name": "Team",
        "unit_amount": 900,
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
        "quantity": {"adjustable": True, "minimum": 1, "maximum": 25},
    }
    assert plan_of(price("price_solo"), CATALOG["price_solo"])["quantity"] == {
        "adjustable": False,
        "minimum": 1,
        "maximum": 1,
    }
    assert plan_of(price("price_seats"), CATALOG["price_seats"])["quantity"] == {
        "adjustable": True,
        "minimum": 2,
        "maximum": None,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"active": False},
        {"recurring": None},
        {"product": "prod_Team"},  # not expanded: nothing to show
        {"product": {"id": "prod_Team", "object": "product", "active": False, "name": "Old"}},
        {"product": {"id": "prod_Team", "object": "product", "deleted": True}},
    ],
)
def test_a_price_checkout_could_not_sell_is_no_plan(changes):
    assert plan_of(price("price_team", **changes), CATALOG["price_team"]) is None


class Prices:
    """Stripe's price reads, counted; `gate` holds every read until it is set."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def price_with_product(self, price_id: str) -> dict[str, Any] | None:
        self.gate.wait(5)
        self.reads.append(price_id)
        if self.fail:
            raise Unavailable("Stripe could not be reached in time.")
        return None if price_id == "price_seats" else price(price_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plans_are_read_once_per_interval_in_the_catalogs_order_without_missing_prices():
    prices, clock = Prices(), Clock()
    catalog = PlanCatalog(CATALOG, prices, clock=clock)  # type: ignore[arg-type]
    assert [plan["price"] for plan in catalog.plans()] == ["price_team", "price_solo"]
    assert catalog.plans() == catalog.plans()
    assert sorted(prices.reads) == ["price_seats", "price_solo", "price_team"]
    clock.now += CACHE_SECONDS
    catalog.plans()
    assert len(prices.reads) == 6


def test_concurrent_first_requests_read_stripe_once():
    prices = Prices()
    prices.gate.clear()
    catalog = PlanCatalog(CATALOG, prices)  # type: ignore[arg-type]
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(catalog.plans())) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    prices.gate.set()
    for thread in threads:
        thread.join(5)
    assert len(answers) == 8 and len(prices.reads) == 3


def test_a_stripe_failure_is_the_callers_error_and_is_not_cached():
    prices = Prices()
    prices.fail = True
    catalog = PlanCatalog(CATALOG, prices)  # type: ignore[arg-type]
    with pytest.raises(Unavailable):
        catalog.plans()
    prices.fail = False
    assert len(catalog.plans()) == 2
