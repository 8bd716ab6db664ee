"""A local, stateful stand-in for the Stripe API endpoints billing-portal uses.

The unmodified stripe SDK talks to it when only the base URL changes::

    standin = StripeStandin().start()
    client = stripe.StripeClient(
        "sk_test_…", base_addresses={"api": standin.url, "files": standin.url}
    )

One module per Stripe topic holds that topic's routes and its objects: ``customers``,
``portal`` (configurations, sessions, the portal pages), ``catalog`` (products, prices),
``files``, ``accounts``, ``subscriptions``, ``events`` (every change to a customer or
subscription) and ``webhook_endpoints`` (signed delivery of those events). ``core/`` is the
HTTP core under them (server and routing, form and multipart decoding, schema validation,
errors, keys, idempotency, faults, the request log and control API, list pagination, the
store). ``standin`` puts them together; ``control`` is the HTTP client of the control API.
"""

from local.stripe.control import StandinControl, StandinError
from local.stripe.core.keys import LIVE_KEY, TEST_KEY
from local.stripe.standin import StripeStandin

__all__ = ["LIVE_KEY", "TEST_KEY", "StandinControl", "StandinError", "StripeStandin"]
