"""Checkout: a Stripe Checkout Session for a price the stack sells, and the return from it.

`POST /checkout` (`Checkout.start`), in this order, so that nothing is read or written for a
request that cannot succeed:

1. the body (`inputs.parse_checkout_body`), the price and quantity against the stack's catalog
   (`check_item`) and the return URL against the allowlist — a refusal here costs no Stripe call;
2. the caller's customer, by the portal's own code (`CustomerDirectory.customer_for`): the same
   customer, created once whatever races (a portal request, 50 checkouts at once);
3. no second subscription: a synced state that shows one answers `409` alone; a state that shows
   none is not trusted (it lags Stripe by the webhook window) — so it may as well be the one this
   instance read a moment ago for the page (`STATE_MEMORY_SECONDS`) — and
4. the session, with an idempotency key made of the request itself (`checkout_idempotency_key`),
   is created while Stripe's list of the customer's subscriptions is read beside it; if that
   list shows one that has not ended, the session is expired before its URL is answered, the
   state is synced (the webhook's `BillingState.sync`) and the answer is `409`.

`GET ?checkout_session=cs_…` (`Checkout.returned`): the session must be the caller's (their
customer, their user id, subscription mode), else `404 checkout_session_not_found`; when it is
complete, the caller's state is synced from Stripe before the answer (the webhook's sync, so the
same order safety), at most one sync per user at a time and per `RETURN_SYNC_INTERVAL` per
instance (`SyncGate`).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote_plus

from . import logs
from .billing_state import (
    BillingState,
    Sources,
    StoredState,
    Subscription,
    caller_state,
    user_sources,
)
from .catalog import Catalog
from .customers import CustomerDirectory
from .errors import (
    ApiError,
    Conflict,
    CustomerMissing,
    InvalidQuantity,
    NotFound,
    PriceNotAllowed,
    RateLimited,
    StoredFailure,
    UpstreamError,
)
from .inputs import CheckoutRequest, check_return_url, checkout_session_id
from .lru import LruCache
from .sessions import settle_email_update
from .settings import CheckoutOptions, Settings
from .stripe_api import METADATA_USER_KEY, CheckoutSessionView, StripeGateway
from .tokens import Caller

if TYPE_CHECKING:  # for the checker only (stripe_api.py says why)
    from stripe.params.checkout import SessionCreateParams as CheckoutSessionCreateParams

# Statuses of a subscription that has ended: any other one is a subscription the caller has.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
# The query parameter Stripe's success URL carries back, and the literal Stripe replaces in it.
RETURN_PARAMETER = "checkout_session"
SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}"
# The idempotency key's time window. Within it, the same request (same user, customer, price,
# quantity, return URL, locale and stack settings) is the same session while it is open: a
# double click, a retry, or a visitor who cancelled and clicks again gets the session already
# open. The window is far shorter than a session's life (24 h) and than Stripe's key retention
# (24 h or more), so a replay never hands back a session that expired on its own; after the
# window a click makes a new session (the old one expires unused). A double click that straddles
# a window's edge makes two sessions: one is paid, the other expires (docs/how-it-works.md).
CHECKOUT_KEY_WINDOW_SECONDS = 600
# How many keys of the same request a checkout steps past in one key window (their session paid
# for a plan since ended, or expired; or a 5xx Stripe stored for them) before it answers `429`
# until the next: each step costs up to three Stripe calls, and a real buyer buys, ends and buys
# again the same plan a few times at most.
REPLAYS_PER_WINDOW = 5
# At most one return sync per user per this many seconds per instance: a reloaded return page
# answers the state the first sync wrote.
RETURN_SYNC_INTERVAL_SECONDS = 5.0
# Threads for the Stripe reads that run beside a request's own call (the checkout's
# subscriptions list, the return's first sync read): one per request in flight, so requests of
# an instance serving many at once (the stack's `concurrency`) do not queue for them. Created on
# demand, so an instance serving one at a time runs one.
POOL_WORKERS = 32
# How old a state this instance read (the page's `GET`, an earlier checkout) may be and still
# stand in for a fresh read in the checkout's first check, when it showed no plan: a page's load
# to its click. Stripe's list, read beside the create, is what decides then, so an older state
# costs nothing but Stripe calls (a create, then its expiry, for a plan started elsewhere since).
STATE_MEMORY_SECONDS = 120.0
# How long a return waits for a sync another request of the same user is running.
RETURN_SYNC_WAIT_SECONDS = 10.0
# At most this many Checkout Session retrieves per user per `RETURN_SYNC_INTERVAL_SECONDS` per
# instance: each return of a session not seen before costs one (and a sync's read beside it);
# a script sending a new made-up id each time gets `429 rate_limited` past it, and a session
# already checked is answered from `ReturnVerdicts` without asking Stripe again.
RETURN_CHECKS_PER_INTERVAL = 3
# What a return learnt about a session: the caller's and complete (final), not the caller's
# (final: a session's customer and client_reference_id never change), or the caller's but not
# complete (`OPEN`: may complete, so asked again once the interval has passed).
COMPLETE, FOREIGN, OPEN = "complete", "foreign", "open"


def check_item(catalog: Catalog, price: str, quantity: int | None) -> int:
    """The quantity to buy if `price` is on sale at it; else `price_not_allowed` or
    `invalid_quantity`. No quantity: the smallest the price allows (1 unless the stack's
    minimum is higher). Pure."""
    bounds = catalog.get(price)
    if bounds is None:
        raise PriceNotAllowed("price is not one of the prices this deployment sells.")
    chosen = bounds.minimum if quantity is None else quantity
    if not bounds.allows(chosen):
        raise InvalidQuantity(
            f"quantity {chosen} is not allowed for this price: {bounds.describe()}."
        )
    return chosen


def success_url(return_url: str) -> str:
    """`return_url` with `checkout_session={CHECKOUT_SESSION_ID}` added to its query: the rest
    of the query and the fragment kept, a `checkout_session` already there replaced (a caller
    cannot make Stripe return with another session's id). A name is compared decoded, as a browser's
    `URLSearchParams` and Python's `parse_qs` read it: `checkout%5Fsession=cs_…` is the same
    parameter, and would otherwise come first. Braces literal, as Stripe expects. Pure.
    """
    base, hash_mark, fragment = return_url.partition("#")
    path, _, query = base.partition("?")
    kept = [
        part
        for part in query.split("&")
        if part and unquote_plus(part.split("=", 1)[0]) != RETURN_PARAMETER
    ]
    kept.append(f"{RETURN_PARAMETER}={SESSION_ID_TEMPLATE}")
    return f"{path}?{'&'.join(kept)}{hash_mark}{fragment}"


def subscriptions_of(state: StoredState | None, customer_id: str) -> list[Subscription]:
    """The subscriptions a state shows for `customer_id`: `[]` when there is no state, or it is
    of another customer or of a deleted one. Pure."""
    if state is not None and state.customer_id == customer_id and not state.customer_deleted:
        return list(state.subscriptions)
    return []


def has_subscription(subscriptions: Iterable[Subscription]) -> bool:
    """True if a subscription has not ended (any status but canceled, incomplete_expired). Pure."""
    return any(s.get("status") not in ENDED_STATUSES for s in subscriptions)


def checkout_params(
    *,
    uid: str,
    customer_id: str,
    price: str,
    quantity: int,
    return_url: str,
    locale: str | None,
    options: CheckoutOptions,
) -> CheckoutSessionCreateParams:
    """The Checkout Session's parameters: subscription mode, the caller's customer, one line
    item, the return URLs, the user id twice (the session's and the subscription's), the stack's
    Checkout settings. Pure."""
    params: CheckoutSessionCreateParams = {
        "mode": "subscription",
        "customer": customer_id,
        "line_items": [{"price": price, "quantity": quantity}],
        "success_url": success_url(return_url),
        "cancel_url": return_url,
        "client_reference_id": uid,
        "subscription_data": {"metadata": {METADATA_USER_KEY: uid}},
        "billing_address_collection": "required"
        if options.billing_address == "required"
        else "auto",
    }
    if options.trial_days:
        params["subscription_data"]["trial_period_days"] = options.trial_days
    if options.allow_promotion_codes:
        params["allow_promotion_codes"] = True
    if options.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
        # Stripe computes tax from the customer's address: an existing customer without one
        # must let Checkout save the address it collects, or Stripe refuses the session.
        params["customer_update"] = {"address": "auto"}
    if options.terms_consent:
        params["consent_collection"] = {"terms_of_service": "required"}
    if locale:
        params["locale"] = locale
    return params


def checkout_idempotency_key(
    params: CheckoutSessionCreateParams, used_sessions: Iterable[str], now: float, mode: str
) -> str:
    """The key of a session create: the same for the same request in the same window. Pure.

    Made of everything the request sends (so a reused key always comes with the same
    parameters, which Stripe requires), the sessions the same request already made in this
    window and that were paid or expired since (each is a finished purchase or a refusal, so the
    next session is a new one, never their replay), and the time window
    (`CHECKOUT_KEY_WINDOW_SECONDS` says why). Nothing read from the synced state: two clicks
    must get the same key whatever was synced between them. Hashed: the user id and URLs stay
    out of Stripe's request logs.
    """
    material = json.dumps(
        {
            "params": params,
            "used": sorted(used_sessions),
            "window": int(now // CHECKOUT_KEY_WINDOW_SECONDS),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:48]
    return f"billing-portal-checkout-{mode}-{digest}"


def check_session_is_callers(
    session: CheckoutSessionView | None, customer_id: str, uid: str
) -> CheckoutSessionView:
    """The session, if it is one this function opened for the caller: their customer, their
    user id, subscription mode. Anything else — missing, another customer's, another user's —
    is the same 404, so the answer says nothing about sessions that are not the caller's. Pure."""
    if (
        session is None
        or session.customer_id != customer_id
        or session.client_reference_id != uid
        or session.mode != "subscription"
    ):
        raise _session_not_found()
    return session


def fresh_status(verdict: tuple[str, float] | None, now: float, interval: float) -> str | None:
    """The status a remembered `(status, when)` of a session answers a return with, without
    asking Stripe: a final one always, an `OPEN` one for `interval` seconds; else None. Pure."""
    if verdict is None:
        return None
    status, when = verdict
    return status if status != OPEN or now - when < interval else None


def _result(
    subscriptions: Future[list[dict[str, Any]]] | list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The list itself, or the list read beside the create once it has arrived."""
    return subscriptions.result() if isinstance(subscriptions, Future) else subscriptions


def _session_not_found() -> NotFound:
    return NotFound(
        "No such Checkout Session among yours; check checkout_session.",
        code="checkout_session_not_found",
    )


def _already_subscribed() -> Conflict:
    return Conflict(
        "You already have a subscription; manage it in the billing portal (POST) instead of "
        "starting another.",
        code="already_subscribed",
    )


class SyncGate:
    """Per user, per instance: one return sync at a time, and none within `interval` seconds of
    the last one. A request that finds a sync running waits for it (bounded) instead."""

    def __init__(
        self, interval: float, *, clock: Callable[[], float] = time.monotonic, size: int = 10_000
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}
        self._last: LruCache[str, float] = LruCache(size)

    def lead(self, uid: str) -> threading.Event | bool:
        """`True`: the caller may sync now and must call `done`. `False`: a sync finished less
        than `interval` ago. An `Event`: another request is syncing; wait on it."""
        with self._lock:
            running = self._running.get(uid)
            if running is not None:
                return running
            last = self._last.get(uid)
            if last is not None and self._clock() - last < self._interval:
                return False
            self._running[uid] = threading.Event()
            return True

    def done(self, uid: str, *, synced: bool) -> None:
        """End the caller's turn; `synced` starts the interval (an attempt that did not sync —
        a session not complete, not the caller's — does not hold the next one back)."""
        with self._lock:
            running = self._running.pop(uid, None)
            if synced:
                self._last.put(uid, self._clock())
        if running is not None:
            running.set()


class ReturnBudget:
    """Per user, per instance: at most `limit` Stripe-asking returns per `interval` seconds (a
    fixed window), so returns cannot make the function call Stripe once per request."""

    def __init__(
        self,
        limit: int,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ) -> None:
        self._limit = limit
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: LruCache[str, tuple[float, int]] = LruCache(size)

    def take(self, uid: str) -> float:
        """0 if the caller may ask Stripe now (counted); else the seconds until they may."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(uid) or (now, 0)
            if now - start >= self._interval:
                start, used = now, 0
            if used >= self._limit:
                return start + self._interval - now
            self._windows.put(uid, (start, used + 1))
            return 0.0


class Checkout:
    """The checkout routes of one instance: its stores, Stripe, and the return-sync gate."""

    def __init__(
        self,
        settings: Settings,
        *,
        directory: CustomerDirectory,
        stripe: StripeGateway,
        billing: BillingState,
        pool: ThreadPoolExecutor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._directory = directory
        self._stripe = stripe
        self._billing = billing
        self._pool = pool or ThreadPoolExecutor(
            max_workers=POOL_WORKERS, thread_name_prefix="checkout"
        )
        self._clock = clock
        self.gate = SyncGate(RETURN_SYNC_INTERVAL_SECONDS)
        self.budget = ReturnBudget(RETURN_CHECKS_PER_INTERVAL, RETURN_SYNC_INTERVAL_SECONDS)
        # (user, customer, session id) → (COMPLETE | FOREIGN | OPEN, when it was learnt)
        self._verdicts: LruCache[tuple[str, str, str], tuple[str, float]] = LruCache(10_000)

    def start(self, caller: Caller, request: CheckoutRequest) -> dict[str, str]:
        """`POST /checkout`: `{"url", "id"}` of a Checkout Session for the caller."""
        settings = self._settings
        quantity = check_item(settings.checkout_prices, request.price, request.quantity)
        return_url = (
            check_return_url(request.return_url, settings.allowed_return_origins)
            if request.return_url
            else settings.default_return_url
        )
        customer_id, email_update = self._directory.customer_for(caller)
        try:
            return self._open(caller, customer_id, request, quantity, return_url)
        except CustomerMissing:
            # Deleted in Stripe: the portal path's healing (the next generation), then once more.
            settle_email_update(email_update)
            email_update = None
            customer_id, email_update = self._directory.replace_missing(caller, customer_id)
            try:
                return self._open(caller, customer_id, request, quantity, return_url)
            except CustomerMissing:
                raise UpstreamError(
                    "The Stripe customer disappeared again right after being re-created.",
                    code="customer_missing",
                ) from None
        finally:
            settle_email_update(email_update)

    def _open(
        self,
        caller: Caller,
        customer_id: str,
        request: CheckoutRequest,
        quantity: int,
        return_url: str,
    ) -> dict[str, str]:
        # The synced state is trusted when it says "subscribed": a 409 with no Stripe call. It is
        # NOT trusted when it says "none": it lags Stripe by the webhook window (a Checkout paid
        # in another tab is in Stripe at once, in the state only when its event is delivered or
        # the user comes back through ?checkout_session=) — issue 21's finding 21b. So Stripe's
        # list of the customer's subscriptions decides, read BESIDE the session create, not
        # before it: the request costs one Stripe round trip, as before (bench.checkout). The
        # price of running them side by side: when Stripe says "subscribed", a session exists
        # that must not be paid — it is expired before its URL leaves the function. A state
        # synced by an earlier checkout (written, empty) would say "none" just the same, so a
        # checkout no longer syncs the state first: that sync cost two Stripe reads before the
        # create and answered nothing this read does not. The read is the sync's own
        # (`status=all`, 100 a page: one page for any real customer), judged by the same rule
        # (`has_subscription`: `trialing`, `past_due`, `incomplete`… count), so the 409 and the
        # state never disagree on what "subscribed" means.
        state = self._state_subscriptions(caller.uid, customer_id)
        if has_subscription(state):
            raise _already_subscribed()
        params = checkout_params(
            uid=caller.uid,
            customer_id=customer_id,
            price=request.price,
            quantity=quantity,
            return_url=return_url,
            locale=request.locale,
            options=self._settings.checkout,
        )
        listed = self._pool.submit(self._stripe.customer_subscriptions, customer_id)
        session, subscriptions = self._session(caller.uid, customer_id, params, listed)
        # A failed read fails the request (fail closed, as the sync before the create did): the
        # session made beside it was never answered, and a replay of it meets this check again.
        if has_subscription(subscriptions):
            self._refuse_session(caller.uid, session)
        if session.url is None:
            raise UpstreamError("Stripe returned a Checkout Session without a URL.")
        return {"url": session.url, "id": session.id}

    def _session(
        self,
        uid: str,
        customer_id: str,
        params: CheckoutSessionCreateParams,
        listed: Future[list[dict[str, Any]]],
    ) -> tuple[CheckoutSessionView, list[dict[str, Any]]]:
        """The session of this request, and Stripe's list of the customer's subscriptions to
        judge it by: a session created, or the one the same request made before in this window
        if it is still open; a paid or expired one is never handed out again.

        A key whose session is no longer open (paid, expired, not found) or whose first result
        Stripe stored as a 5xx leads to the key with that session (or failed request) added:
        its session, if the same request made one too, is judged the same way. Before each step
        Stripe's list decides: a live subscription is `409` with nothing more made (a session
        paid since the list was read is judged by a list read after it). `REPLAYS_PER_WINDOW`
        steps at most; past them `429` until the next window."""
        now = self._clock()
        used: list[str] = []
        judged_by: Future[list[dict[str, Any]]] | list[dict[str, Any]] = listed
        for _ in range(REPLAYS_PER_WINDOW + 1):
            key = checkout_idempotency_key(params, used, now, self._settings.mode)
            try:
                session, replayed = self._stripe.create_checkout_session(
                    params, idempotency_key=key
                )
            except StoredFailure as failure:
                used.append(f"failed:{failure.original_request}")
                continue
            if not replayed:
                return session, _result(judged_by)
            # The same request was made before in this window: that session, as it is now. A
            # replay is never handed out as it is: it says "open" whatever happened since.
            current = self._stripe.checkout_session(session.id)
            if current is not None and current.status == "open":
                return current, _result(judged_by)
            if current is not None and current.status == "complete":
                # Paid, maybe after the list beside the first create was read: a list read now
                # tells a plan that ended from one just started.
                judged_by = self._stripe.customer_subscriptions(customer_id)
            if has_subscription(_result(judged_by)):
                # Expired by an earlier 409, or paid, and a plan is live: nothing more to make.
                self._refuse_session(uid, None)
            used.append(session.id)  # expired, or paid for a plan since ended
        if has_subscription(_result(judged_by)):
            self._refuse_session(uid, None)
        window_end = (now // CHECKOUT_KEY_WINDOW_SECONDS + 1) * CHECKOUT_KEY_WINDOW_SECONDS
        raise RateLimited(
            "This checkout was started, then paid or expired, too many times in a few minutes; "
            "try again later.",
            headers={"Retry-After": str(max(1, math.ceil(window_end - now)))},
        )

    def _refuse_session(self, uid: str, session: CheckoutSessionView | None) -> NoReturn:
        """409 `already_subscribed`: Stripe has a live subscription the state did not show.

        The session made for this request (if any) is expired first, so nobody can pay it even
        with its URL (which was never answered). Then the state is synced (the webhook's sync) so
        that the next request is answered by the state alone. Both are best effort: the 409 is
        Stripe's word either way; an unexpired session expires on its own (24 h) and a replay of
        it meets this same check; an unsynced state is synced by the next checkout like this one.
        """
        if session is not None and session.status in (None, "open"):
            try:
                self._stripe.expire_checkout_session(session.id)
            except ApiError as error:
                logs.emit(
                    {
                        "severity": "WARNING",
                        "message": "Could not expire a Checkout Session of a subscribed caller",
                        "user": logs.user_ref(uid),
                        "code": error.code,
                    }
                )
        try:
            self._billing.sync(uid, lambda: user_sources(self._directory, self._stripe, uid))
        except ApiError as error:
            logs.emit(
                {
                    "severity": "WARNING",
                    "message": "Could not sync the state of a subscribed caller",
                    "user": logs.user_ref(uid),
                    "code": error.code,
                }
            )
        raise _already_subscribed()

    def _state_subscriptions(self, uid: str, customer_id: str) -> list[Subscription]:
        """The customer's subscriptions as the synced state has them; `[]` when the state is
        absent, of another customer, or of a deleted one (Stripe's list decides then).

        A state this instance read in the last `STATE_MEMORY_SECONDS` (the page's `GET` before
        its "Choose a plan") stands in for a fresh read when it shows no plan: Stripe's list,
        read beside the create, decides then anyway, so the read would only have cost the
        request its time. A remembered plan is read again: a 409 is never an old state's word.
        """
        remembered = self._billing.last_read(uid, max_age=STATE_MEMORY_SECONDS)
        if remembered is not None:
            subscriptions = subscriptions_of(remembered.state, customer_id)
            if not has_subscription(subscriptions):
                return subscriptions
        return subscriptions_of(self._billing.read(uid), customer_id)

    def returned(self, caller: Caller, raw_session_id: str) -> dict[str, Any]:
        """`GET ?checkout_session=`: the caller's state (as `GET`), synced first if the session is
        the caller's and complete. Stripe is asked about a session once (then per interval
        while it is open), by one of the user's concurrent returns, within `ReturnBudget`."""
        session_id = checkout_session_id(raw_session_id)
        customer_id = self._directory.existing_customer(caller)
        if customer_id is None:  # no customer, no session of theirs: nothing to ask Stripe
            raise _session_not_found()
        key = (caller.uid, customer_id, session_id)
        turn = self.gate.lead(caller.uid)
        synced = False
        try:
            if isinstance(turn, threading.Event):  # another return is asking: use its answer
                turn.wait(RETURN_SYNC_WAIT_SECONDS)
            first: Future[Sources | None] | None = None
            status = fresh_status(
                self._verdicts.get(key), time.monotonic(), RETURN_SYNC_INTERVAL_SECONDS
            )
            if status is None:
                wait = self.budget.take(caller.uid)
                if wait:
                    raise RateLimited(
                        "Too many returns from Checkout; try again in a few seconds.",
                        headers={"Retry-After": str(max(1, math.ceil(wait)))},
                    )
                # The sync's first read runs beside the session's retrieve: the return costs
                # the two Stripe round trips of the write-then-verify, not three.
                if turn is True:
                    first = self._pool.submit(
                        user_sources, self._directory, self._stripe, caller.uid
                    )
                status = self._check(key, customer_id, caller.uid, session_id)
            if status == FOREIGN:
                raise _session_not_found()
            if status == COMPLETE and turn is True:
                if first is None:
                    first = self._pool.submit(
                        user_sources, self._directory, self._stripe, caller.uid
                    )
                self._sync(caller.uid, first)
                synced = True
        finally:
            if turn is True:
                self.gate.done(caller.uid, synced=synced)
        return caller_state(caller, self._directory, self._billing)

    def _check(self, key: tuple[str, str, str], customer_id: str, uid: str, session_id: str) -> str:
        """Ask Stripe whether the session is the caller's and complete; remember the answer."""
        try:
            session = check_session_is_callers(
                self._stripe.checkout_session(session_id), customer_id, uid
            )
        except NotFound:
            self._verdicts.put(key, (FOREIGN, time.monotonic()))
            raise
        status = COMPLETE if session.status == "complete" else OPEN
        self._verdicts.put(key, (status, time.monotonic()))
        return status

    def _sync(self, uid: str, first: Future[Sources | None]) -> None:
        pending = [first]

        def read_sources() -> Sources | None:
            if pending:  # the read that ran beside the retrieve; the verification reads again
                return pending.pop().result()
            return user_sources(self._directory, self._stripe, uid)

        written = self._billing.sync(uid, read_sources)
        logs.emit(
            {
                "severity": "INFO",
                "message": "Billing state synced on the return from Checkout",
                "user": logs.user_ref(uid),
                "subscriptions": None if written is None else len(written.subscriptions),
            }
        )
