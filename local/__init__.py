"""Local stand-ins for the cloud services billing-portal uses, for tests and the local run.

Nothing in this package is deployed: the Cloud Function lives in ``function/``.
"""
