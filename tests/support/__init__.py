"""Helpers for the tests: real local servers, processes, ports. Fixtures live in conftest.py."""
