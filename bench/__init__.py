"""Benchmarks of the function: cold start, warm latency against the floor, one instance's load.

`python -m bench` (full run, a few minutes) or `python -m bench --smoke` (CI, well under a
minute). See docs/bench.md.
"""
