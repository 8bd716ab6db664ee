"""A local, stateful stand-in for the Stripe API endpoints billing-portal uses.

The unmodified stripe SDK talks to it when only the base URL changes::

    standin = StripeStandin().start()
    client = stripe.StripeClient(
        "sk_test_…", base_addresses={"api": standin.url, "files": standin.url}
    )
"""

from local.stripe.control import StandinControl, StandinError
from local.stripe.keys import LIVE_KEY, TEST_KEY
from local.stripe.server import StripeStandin

__all__ = ["LIVE_KEY", "TEST_KEY", "StandinControl", "StandinError", "StripeStandin"]
