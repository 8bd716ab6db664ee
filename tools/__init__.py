"""Maintenance scripts: run from the repository root with `.venv/bin/python -m tools.<name>`."""
