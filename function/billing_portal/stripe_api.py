"""The few Stripe calls the function makes, and how Stripe's failures reach the caller.

One `StripeClient` per instance (connection reuse), bounded timeouts, the SDK's own network
retries with backoff. Idempotent creates make those retries safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
import stripe

from .errors import (
    BadRequest,
    CustomerMissing,
    RateLimited,
    StoredFailure,
    Unavailable,
    UpstreamError,
)
from .settings import Settings

if TYPE_CHECKING:
    # The SDK's own request TypedDicts, for the checker only: importing `stripe.params` at run
    # time would add to every cold start (`python -X importtime -c "import stripe.params"`) for
    # annotations that do nothing there.
    from stripe.params import CustomerListParams
    from stripe.params.billing_portal import SessionCreateParams, SessionCreateParamsFlowData
    from stripe.params.checkout import SessionCreateParams as CheckoutSessionCreateParams

METADATA_USER_KEY = "app_user_id"


def customer_idempotency_key(uid: str, mode: str, generation: int) -> str:
    """Same (user, mode, generation) → same key, so concurrent or retried creates get one customer.

    The user id is hashed: keys show up in Stripe's request logs and must not grow with the id.
    """
    digest = hashlib.sha256(uid.encode()).hexdigest()[:40]
    return f"billing-portal-customer-{mode}-g{generation}-{digest}"


STRIPE_API_BASE = "https://api.stripe.com"
WARM_CONNECTIONS = 2  # a new user's email update runs beside its session create: two at once


def build_session() -> requests.Session:
    """The instance's HTTP session to Stripe: one connection pool, shared by every thread."""
    session = requests.Session()
    # requests would look up ~/.netrc and the proxy variables on every call (~0.2 ms of CPU per
    # Stripe call, measured by bench/); the one that matters, HTTPS_PROXY, is passed explicitly.
    session.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def build_client(
    settings: Settings, session: requests.Session | None = None
) -> stripe.StripeClient:
    """The instance's Stripe client: pooled connections, bounded timeouts, retries."""
    timeout = (min(3.0, settings.stripe_timeout_seconds), settings.stripe_timeout_seconds)
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        max_network_retries=settings.stripe_max_retries,
        http_client=stripe.RequestsClient(
            timeout=timeout, session=session or build_session(), proxy=settings.https_proxy
        ),
    )


def preconnect(
    session: requests.Session,
    settings: Settings,
    *,
    count: int = WARM_CONNECTIONS,
    timeout: float = 3.0,
) -> int:
    """Open `count` connections (TCP and TLS, no request) to Stripe in `session`'s pool.

    The SDK's next calls take them from the pool: a new instance's first Stripe call does not pay
    the handshakes. Sends nothing, so it needs no permission and leaves no request in Stripe's
    logs. Returns how many were opened. Through an outbound proxy (`HTTPS_PROXY`) it does
    nothing: the tunnel is set up by the request path. Uses urllib3's pool directly
    (`_get_conn`/`_put_conn`, stable across urllib3 1.x and 2.x); any failure is the caller's to
    log, and the request path then connects as it always did.
    """
    if settings.https_proxy:
        return 0
    url = (settings.stripe_api_base or STRIPE_API_BASE).rstrip("/") + "/v1/"
    # The pool is keyed by the TLS settings too: verify exactly as the SDK does.
    verify: bool | str = stripe.ca_bundle_path or True
    prepared = requests.Request("GET", url).prepare()
    adapter = session.get_adapter(url)
    if not isinstance(adapter, requests.adapters.HTTPAdapter):
        return 0  # not a pool this module mounted (`build_session`): nothing to warm
    pool = adapter.get_connection_with_tls_context(prepared, verify)
    taken = []
    try:
        for _ in range(count):
            conn = pool._get_conn(timeout=timeout)
            taken.append(conn)
            if getattr(conn, "sock", None) is None:
                conn.timeout = timeout
                conn.connect()
    finally:
        for conn in taken:
            pool._put_conn(conn)
    return len(taken)


def warm_sdk(client: stripe.StripeClient) -> None:
    """Import the SDK's services the request path uses (the SDK loads them on first use)."""
    _ = client.v1.customers, client.v1.billing_portal.sessions, client.v1.subscriptions
    _ = client.v1.checkout.sessions


@dataclass(frozen=True)
class CustomerState:
    """What Stripe says of a customer id: still there or not, and whose it is (metadata)."""

    exists: bool  # False: deleted, or no such customer in this mode
    user: str | None  # metadata.app_user_id, None when absent (or the customer is gone)


@dataclass(frozen=True)
class SubscriptionOwner:
    """Whose a subscription is, and which items it has: all a deep link is checked against."""

    customer_id: str
    item_prices: Mapping[str, str | None]  # item id → the id of its price now
    # item id → its quantity now (a deep link that names only a price keeps it)
    item_quantities: Mapping[str, int | None] = field(default_factory=dict)

    @property
    def item_ids(self) -> frozenset[str]:
        """The subscription's item ids."""
        return frozenset(self.item_prices)


def _price_id(price: Any) -> str | None:
    """An item's price id, whether Stripe gave the price object (it does) or only its id."""
    if isinstance(price, Mapping):
        price = price.get("id")
    return str(price) if price else None


def item_quantity(item: Mapping[str, Any]) -> int | None:
    """An item's quantity, if it is a whole number (Stripe's; a metered item has none)."""
    quantity = item.get("quantity")
    return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None


@dataclass(frozen=True)
class CheckoutSessionView:
    """What the function reads of a Checkout Session: where it is, whose, and whether done."""

    id: str
    url: str | None
    customer_id: str | None
    client_reference_id: str | None
    mode: str | None
    status: str | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _checkout_view(data: Mapping[str, Any]) -> CheckoutSessionView:
    customer = data.get("customer")
    if isinstance(customer, dict):  # expanded by a future change: still its id
        customer = customer.get("id")
    return CheckoutSessionView(
        id=str(data.get("id")),
        url=_text(data.get("url")),
        customer_id=_text(customer),
        client_reference_id=_text(data.get("client_reference_id")),
        mode=_text(data.get("mode")),
        status=_text(data.get("status")),
    )


class StripeGateway:
    """Customer and portal-session calls, with Stripe errors translated to `ApiError`s."""

    def __init__(self, client: stripe.StripeClient, settings: Settings) -> None:
        self._client = client
        self._mode = settings.mode
        self._configuration = settings.portal_configuration_id

    def create_customer(self, uid: str, generation: int) -> tuple[str, bool]:
        """Create (or, on a repeated key, get back) the user's customer: `(id, livemode)`.

        Only parameters that never change for this key go here (Stripe rejects a reused key
        with other parameters); mutable details are set by `update_email`.
        """
        with _translated():
            customer = self._client.v1.customers.create(
                params={"metadata": {METADATA_USER_KEY: uid}},
                options={"idempotency_key": customer_idempotency_key(uid, self._mode, generation)},
            )
        return customer.id, bool(customer.livemode)

    def customer_state(self, customer_id: str) -> CustomerState:
        """Retrieve a customer to learn whether it still exists and which user it was made for."""
        with _translated():
            try:
                customer = self._client.v1.customers.retrieve(customer_id)
            except stripe.InvalidRequestError as error:
                if error.code == "resource_missing":
                    return CustomerState(exists=False, user=None)
                raise
        data = customer.to_dict()
        if data.get("deleted"):
            return CustomerState(exists=False, user=None)
        user = (data.get("metadata") or {}).get(METADATA_USER_KEY)
        return CustomerState(exists=True, user=user if isinstance(user, str) else None)

    def subscription_owner(self, subscription_id: str) -> SubscriptionOwner | None:
        """Retrieve a subscription's customer and item ids; None if Stripe has no such one."""
        with _translated():
            try:
                subscription = self._client.v1.subscriptions.retrieve(subscription_id)
            except stripe.InvalidRequestError as error:
                if error.code == "resource_missing":
                    return None
                raise
        data = subscription.to_dict()
        customer = data.get("customer")
        if isinstance(customer, dict):  # expanded by a future change: still its id
            customer = customer.get("id")
        items = (data.get("items") or {}).get("data") or []
        return SubscriptionOwner(
            customer_id=str(customer or ""),
            item_prices={str(item.get("id")): _price_id(item.get("price")) for item in items},
            item_quantities={str(item.get("id")): item_quantity(item) for item in items},
        )

    def customer_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        """Every subscription of the customer as Stripe has it now, ended ones included.

        All pages (100 per call); a Stripe refusal or outage raises the usual `ApiError`.
        """
        with _translated():
            page = self._client.v1.subscriptions.list(
                params={"customer": customer_id, "status": "all", "limit": 100}
            )
            return [subscription.to_dict() for subscription in page.auto_paging_iter()]

    def create_checkout_session(
        self, params: CheckoutSessionCreateParams, *, idempotency_key: str
    ) -> tuple[CheckoutSessionView, bool]:
        """A Checkout Session for `params["customer"]`, and whether Stripe replayed it (the
        key was used before); `CustomerMissing` if Stripe says the customer was deleted.

        The key makes a repeat of the same request (a double click) the same session. A replay
        is Stripe's first answer again, byte for byte — an open session, even if it has been
        paid or has expired since — so the caller retrieves a replayed session to know it now.
        A 5xx that Stripe stored for the key and replays raises `StoredFailure`: the key will
        never make a session.
        """
        with _translated(params.get("customer")):
            try:
                session = self._client.v1.checkout.sessions.create(
                    params=params, options={"idempotency_key": idempotency_key}
                )
            except stripe.StripeError as error:
                headers = {k.lower(): v for k, v in (error.headers or {}).items()}
                if (error.http_status or 0) >= 500 and headers.get("idempotent-replayed") == "true":
                    raise StoredFailure(headers.get("original-request") or "unknown") from None
                raise
        response = session.last_response
        headers = {k.lower(): v for k, v in (response.headers if response else {}).items()}
        return _checkout_view(session.to_dict()), headers.get("idempotent-replayed") == "true"

    def checkout_session(self, session_id: str) -> CheckoutSessionView | None:
        """Retrieve a Checkout Session; None if Stripe has no such one (in this mode)."""
        with _translated():
            try:
                session = self._client.v1.checkout.sessions.retrieve(session_id)
            except stripe.InvalidRequestError as error:
                if error.code == "resource_missing":
                    return None
                raise
        return _checkout_view(session.to_dict())

    def expire_checkout_session(self, session_id: str) -> None:
        """Expire an open Checkout Session (Stripe's `POST /v1/checkout/sessions/{id}/expire`):
        nobody can pay it any more. Stripe refuses a session that is not open (`ApiError`)."""
        with _translated():
            self._client.v1.checkout.sessions.expire(session_id)

    def price_with_product(self, price_id: str) -> dict[str, Any] | None:
        """A price with its product expanded, as Stripe has it now; None if there is none."""
        with _translated():
            try:
                price = self._client.v1.prices.retrieve(price_id, params={"expand": ["product"]})
            except stripe.InvalidRequestError as error:
                if error.code == "resource_missing":
                    return None
                raise
        return price.to_dict()

    def customer_entitlements(self, customer_id: str) -> list[dict[str, Any]]:
        """Every active entitlement of the customer as Stripe has it now (all pages, 100 per
        call; the restricted key needs Entitlements: Read)."""
        with _translated():
            page = self._client.v1.entitlements.active_entitlements.list(
                params={"customer": customer_id, "limit": 100}
            )
            return [entitlement.to_dict() for entitlement in page.auto_paging_iter()]

    def update_email(self, customer_id: str, email: str) -> None:
        """Set the customer's email (from a verified token claim)."""
        with _translated():
            self._client.v1.customers.update(customer_id, params={"email": email})

    def customers_page(self, starting_after: str | None) -> tuple[list[dict[str, Any]], bool]:
        """One page (100, newest first) of the account's customers of the key's mode, after the
        customer `starting_after`: (customers, whether more follow). For `tools.adopt`."""
        params: CustomerListParams = {"limit": 100}
        if starting_after:
            params["starting_after"] = starting_after
        with _translated():
            page = self._client.v1.customers.list(params=params)
        return [customer.to_dict() for customer in page.data], bool(page.has_more)

    def set_customer_user(self, customer_id: str, uid: str) -> None:
        """Record `uid` in the customer's `metadata.app_user_id` (other metadata kept): how the
        webhook learns whose an event is, for a customer made before this deployment."""
        with _translated():
            self._client.v1.customers.update(
                customer_id, params={"metadata": {METADATA_USER_KEY: uid}}
            )

    def create_session(
        self,
        customer_id: str,
        *,
        return_url: str,
        locale: str | None = None,
        flow: SessionCreateParamsFlowData | None = None,
    ) -> str:
        """A one-time portal session URL for the customer; `CustomerMissing` if it was deleted."""
        params: SessionCreateParams = {"customer": customer_id, "return_url": return_url}
        if self._configuration:
            params["configuration"] = self._configuration
        if locale:
            params["locale"] = locale
        if flow:
            params["flow_data"] = flow.copy()  # a copy, as before: the caller's stays as it was
        with _translated(customer_id):
            session = self._client.v1.billing_portal.sessions.create(params=params)
        return str(session.url)


# What the caller reads when Stripe refuses a parameter the caller chose. Fixed texts: Stripe's
# own message can name other objects (acct_…, cus_…) or echo input, and is never passed on.
_REFUSALS = (
    (
        "flow_data",
        "The portal refused this deep link; check flow (type, subscription, items, coupon) "
        "against the subscription and the portal configuration.",
    ),
    ("locale", "The portal refused this locale; use one of Stripe's portal locales."),
    ("return_url", "The portal refused this return_url; send an absolute https URL."),
)


def refusal_message(param: str | None) -> str | None:
    """The fixed 400 message for a refused caller-chosen parameter; None if not the caller's."""
    for prefix, message in _REFUSALS:
        if (param or "").startswith(prefix):
            return message
    return None


def _retry_after(error: stripe.StripeError, default: str) -> str:
    value = (error.headers or {}).get("Retry-After") or (error.headers or {}).get("retry-after")
    return value if value and value.isdigit() else default


@contextmanager
def _translated(customer_id: str | None = None) -> Iterator[None]:
    """Turn Stripe SDK exceptions into the caller-facing errors of the contract."""
    try:
        yield
    except stripe.RateLimitError as error:
        raise RateLimited(
            "Stripe is rate-limiting requests; try again shortly.",
            headers={"Retry-After": _retry_after(error, "2")},
        ) from None
    except stripe.APIConnectionError:
        raise Unavailable(
            "Stripe could not be reached in time; try again shortly.",
            code="stripe_unavailable",
            headers={"Retry-After": "5"},
        ) from None
    except (stripe.AuthenticationError, stripe.PermissionError):
        raise Unavailable(
            "The billing service is misconfigured (its Stripe key was refused).",
            code="stripe_misconfigured",
        ) from None
    except stripe.InvalidRequestError as error:
        # Only Stripe's own word on the `customer` parameter means the customer is gone; a
        # missing subscription, price or coupon in a deep link is the caller's 4xx.
        if (
            customer_id is not None
            and error.code == "resource_missing"
            and error.param == "customer"
        ):
            raise CustomerMissing(customer_id) from None
        caller_message = refusal_message(error.param)
        if caller_message is not None:
            raise BadRequest(caller_message, code="stripe_invalid_request") from None
        raise UpstreamError("Stripe refused the request.", code="stripe_invalid_request") from error
    except stripe.StripeError as error:
        if error.http_status == 429:
            raise RateLimited(
                "Stripe is rate-limiting requests; try again shortly.",
                headers={"Retry-After": _retry_after(error, "2")},
            ) from None
        raise UpstreamError("Stripe returned an error.", code="stripe_error") from error
