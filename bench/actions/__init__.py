"""Benchmark of the actions hot path: ``python -m bench.actions`` (see run.py)."""
