"""The instance's clients, built once from its settings: Stripe (one pooled session), Firestore,
and the two stores over them (the user → customer mapping and the billing state).

The function's entry points and the backfill command build them the same way here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
import stripe
from google.cloud import firestore

from .billing_state import BillingState
from .customers import CustomerDirectory
from .settings import Settings
from .stripe_api import StripeGateway, build_client, build_session


@dataclass(frozen=True)
class Clients:
    """What a request (or a backfill) talks to."""

    stripe_session: requests.Session
    stripe_client: stripe.StripeClient
    stripe: StripeGateway
    db: firestore.Client
    directory: CustomerDirectory
    billing: BillingState


def build_clients(settings: Settings, *, background: ThreadPoolExecutor | None = None) -> Clients:
    """The clients of `settings`' deployment; `background` runs new customers' email updates."""
    session = build_session()
    client = build_client(settings, session)
    gateway = StripeGateway(client, settings)
    db = firestore.Client(
        project=settings.google_cloud_project, database=settings.firestore_database
    )
    directory = CustomerDirectory(
        db,
        settings.customers_collection,
        gateway,
        livemode=settings.livemode,
        timeout_seconds=settings.firestore_timeout_seconds,
        background=background,
    )
    billing = BillingState(
        db, settings.customers_collection, timeout_seconds=settings.firestore_timeout_seconds
    )
    return Clients(session, client, gateway, db, directory, billing)
