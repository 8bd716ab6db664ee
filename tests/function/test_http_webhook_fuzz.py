"""A property over real HTTP: a validly signed event of any JSON shape never gets a 5xx from the
webhook, and one whose shape is not Stripe's changes nothing.

Only Stripe (or a holder of the endpoint's secret) can sign, but Stripe redelivers a 5xx for days:
an event the webhook cannot read must be a 4xx (or a 200 where the documented rule ignores it),
never a crash. The events are arbitrary JSON, Stripe-like envelopes with arbitrary parts, and real
events of a mapped user with one part replaced or removed. Each is signed as Stripe signs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_portal.settings import WEBHOOK_EVENTS
from local.stripe.webhook_endpoints import signature_header
from tests.function.conftest import WEBHOOK_SECRET
from tests.function.test_http_webhook import (
    customer_of_user,
    held_ids,
    new_price,
    post_event,
    raw_event,
    stored_state,
    subscribe,
)

pytestmark = pytest.mark.integration

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
event_types = st.sampled_from([*WEBHOOK_EVENTS, "invoice.paid", ""]) | st.text(max_size=30)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a part of `value` (keys and list indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _mutated(event: dict[str, Any], path: tuple[Any, ...], new: Any, remove: bool) -> Any:
    copied = copy.deepcopy(event)
    parent = copied
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return copied


def events_like(real: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON; envelopes of a handled type and this mode with arbitrary data (what gets
    furthest into the handler); envelopes with arbitrary parts; and `real` with one part
    replaced or removed."""
    subscription = real["data"]["object"]
    objects = st.fixed_dictionaries(
        {"object": st.sampled_from(["subscription", "customer"]) | json_values},
        optional={
            "id": st.sampled_from([subscription["id"], subscription["customer"]]) | json_values,
            "customer": st.just(subscription["customer"]) | json_values,
            "metadata": json_values,
        },
    )
    datas = st.fixed_dictionaries({"object": objects | json_values}) | json_values
    handled = st.fixed_dictionaries(
        {
            "id": st.just("evt_fuzz"),
            "object": st.just("event"),
            "type": st.sampled_from(WEBHOOK_EVENTS),
            "livemode": st.just(False),
            "data": datas,
        }
    )
    envelopes = st.fixed_dictionaries(
        {},
        optional={
            "id": st.just("evt_fuzz") | json_values,
            "type": event_types | json_values,
            "livemode": st.just(False) | json_values,
            "data": datas,
        },
    )
    mutations = st.builds(
        _mutated,
        st.just(real),
        st.sampled_from(_paths(real)),
        json_values,
        st.booleans(),
    )
    return st.one_of(json_values, handled, envelopes, mutations)


def _state_without_time(firestore_db, pair, uid: str) -> dict[str, Any] | None:
    state = stored_state(firestore_db, pair, uid)
    return None if state is None else {k: v for k, v in state.items() if k != "updated_at"}


def test_signed_events_of_any_shape_never_get_a_5xx_and_a_shape_not_stripes_changes_nothing(
    billing_pair, standin, dev_issuer, new_uid, firestore_db, firestore_emulator
):
    # A mapped user with a subscription and the state its real event wrote: what a wrongly
    # accepted event would change.
    customer = customer_of_user(billing_pair, dev_issuer, standin, new_uid)
    subscribe(standin.client(), customer, new_price(standin.client()))
    real = raw_event(standin, held_ids(standin)[-1])
    assert real["type"].startswith("customer.subscription.")
    first = post_event(
        billing_pair, body := json.dumps(real).encode(), signature_header(body, WEBHOOK_SECRET)
    )
    assert first.status_code == 200, first.text
    state = _state_without_time(firestore_db, billing_pair, new_uid)
    assert state is not None and state["customer"] == customer

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(event=events_like(real))
    def signed_event_of_any_shape(event: Any) -> None:
        sent = json.dumps(event).encode()
        before_stripe, before_firestore = len(standin.requests()), firestore_emulator.stats()
        response = post_event(billing_pair, sent, signature_header(sent, WEBHOOK_SECRET))
        assert response.status_code < 500, (response.status_code, sent[:300], response.text)
        answer = response.json()
        if response.status_code == 400:
            assert answer["error"]["code"] in {"invalid_event", "mode_mismatch"}, answer
            assert len(standin.requests()) == before_stripe, ("Stripe was called", sent[:300])
            assert firestore_emulator.stats() == before_firestore, ("Firestore used", sent[:300])
        else:
            assert response.status_code == 200 and answer["received"] is True, answer
        # Whatever was sent, the user's state is still Stripe's (an accepted event rebuilds it
        # from Stripe, which the events do not change).
        assert _state_without_time(firestore_db, billing_pair, new_uid) == state, sent[:300]

    signed_event_of_any_shape()
