"""The table printed once everything runs: what runs where."""

from __future__ import annotations

from pathlib import Path

from local.run.environment import EXAMPLE_PATH, PROJECT
from local.run.options import Options


def summary(options: Options, firestore_host: str, log_dir: Path) -> str:
    """The table printed once everything runs."""
    stripe = (
        ("stripe", "api.stripe.com", "real Stripe TEST mode (STRIPE_SECRET_KEY is set)")
        if options.real_stripe
        else ("stripe", options.url("stripe"), "Stripe stand-in (no network, fake portal pages)")
    )
    rows = [
        ("open", options.url("web", EXAMPLE_PATH), "example settings page — start here"),
        ("function", options.url("function"), "functions-framework, debug (reloads on save)"),
        ("web", options.url("web"), "web/: the example page and billing-portal.js"),
        stripe,
        ("firestore", firestore_host, f"Firestore emulator, project {PROJECT}"),
        ("issuer", options.url("issuer"), "development sign-in (local only, never deployed)"),
        ("logs", str(log_dir), "one file per part"),
    ]
    width = max(len(row[1]) for row in rows)
    lines = ["", "billing-portal is running locally. Ctrl-C stops everything.", ""]
    lines += [f"  {name:<10} {where:<{width}}  {what}" for name, where, what in rows]
    return "\n".join([*lines, ""])
