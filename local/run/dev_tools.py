"""Development-only helpers of the local run with the Stripe stand-in: the stack's plans for the
example page's plan card, and "Give me a test subscription" (`POST /_local/test-subscription` on
the local run's web server; never part of the function or a deployed stack).

The subscription is the signed-in development user's: the function itself is asked for a portal
session first (with the caller's own token, so the function verifies it and makes sure the user
has a customer), then that customer is read from the function's own user → customer mapping in
the Firestore emulator (the document the function keeps for that user, whose recorded `uid` must
be the caller's) and subscribed, by its exact id, through the stand-in's Stripe API, to the first
price of the first product in the stack's plan-switching list. No query is ever built from the
token's text: a subject that reads like a search query is just a user id that matches no other
user's mapping. The stand-in then sends `customer.subscription.created` to the local webhook
function, which writes the user's billing state, as in production.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
import stripe

import local.contract  # noqa: F401 - puts function/ on the path for `billing_portal`
from billing_portal.customers import document_id
from local.firestore.emulator import ExternalFirestoreEmulator
from local.run.options import Options

Plans = dict[str, dict[str, Any]]


def catalog_plans(client: stripe.StripeClient, price_ids: list[str]) -> Plans:
    """{price id: {product, amount, currency, interval}} of the stack's declared prices, in
    declared order (the example page names a user's plan by its price id)."""
    plans: Plans = {}
    products: dict[str, str] = {}
    for price_id in price_ids:
        price = client.v1.prices.retrieve(price_id)
        product_id = str(price.product)
        if product_id not in products:
            products[product_id] = client.v1.products.retrieve(product_id).name
        recurring = price.recurring
        plans[price_id] = {
            "product": products[product_id],
            "amount": price.unit_amount,
            "currency": price.currency,
            "interval": recurring.interval if recurring else None,
        }
    return plans


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}


def token_subject(token: str) -> str | None:
    """The `sub` of a JWT's payload, unverified (the function has just verified the token)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) and sub else None


# user id → the id of the Stripe customer the function mapped it to, or None
CustomerOf = Callable[[str], str | None]


class CustomerMappings:
    """The function's user → customer mapping, read from the run's Firestore emulator."""

    def __init__(self, firestore_host: str, project: str, collection: str) -> None:
        self._emulator = ExternalFirestoreEmulator(firestore_host)
        self._project = project
        self._collection = collection

    def customer_of(self, uid: str) -> str | None:
        """The customer id of `uid`'s mapping document, if the document is `uid`'s own."""
        client = self._emulator.client(self._project)
        try:
            snapshot = (
                client.collection(self._collection).document(document_id(uid)).get(timeout=10)
            )
        finally:
            client.close()
        data = snapshot.to_dict() or {}
        customer = data.get("stripe_customer_id")
        # the function's own rule: a document records its user, compared on every read
        if data.get("uid") != uid or not isinstance(customer, str) or not customer:
            return None
        return customer


class TestSubscriptions:
    """`give(authorization)`: a subscription of the caller's customer in the stand-in."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        options: Options,
        client: stripe.StripeClient,
        plans: Mapping[str, Any],
        customer_of: CustomerOf,
    ):
        self._options = options
        self._client = client
        self._price = next(iter(plans), None)
        self._customer_of = customer_of

    def give(self, authorization: str | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer): `{"subscription": "sub_…", "price": "price_…"}` or an error."""
        if self._price is None:
            return _error(
                409,
                "no_declared_prices",
                f"Pulumi.{self._options.stack}.yaml declares no products with prices; declare "
                "one under billing-portal:products to get a test subscription.",
            )
        if not authorization or not authorization.startswith("Bearer "):
            return _error(401, "invalid_token", "Sign in first.")
        try:
            answer = requests.post(
                self._options.url("function"),
                json={},
                headers={
                    "Authorization": authorization,
                    "Origin": self._options.web_origins()[0],
                },
                timeout=30,
            )
        except requests.RequestException as error:
            return _error(502, "network_error", f"The function did not answer: {error}")
        if answer.status_code != 200:
            try:
                return answer.status_code, answer.json()
            except ValueError:
                return _error(answer.status_code, "function_error", answer.text[:200])
        uid = token_subject(authorization.removeprefix("Bearer ").strip())
        if uid is None:
            return _error(401, "invalid_token", "The token names no user.")
        customer = self._customer_of(uid)
        if customer is None:
            return _error(404, "customer_missing", "The function has no customer for this user.")
        subscription = self._client.v1.subscriptions.create(
            params={"customer": customer, "items": [{"price": self._price}]}
        )
        return 200, {"subscription": subscription.id, "price": self._price}
