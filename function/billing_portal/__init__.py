"""The portal session service: verified caller → Firestore-mapped Stripe customer → portal URL."""
