"""The stand-in's HTTP core, under every Stripe topic: the server and its request pipeline
(``server``), routing (``routing``), form and multipart decoding (``forms``, ``multipart``),
schema validation (``validation``), errors (``errors``), API keys (``keys``), idempotency
(``idempotency``), injected faults (``faults``), the request log (``requestlog``), the control
API (``control_routes``), list pagination (``listing``), object ids and updates (``objects``) and
the in-memory state (``store``). Nothing here knows a Stripe topic.
"""
