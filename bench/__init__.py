"""Benchmarks: `python -m bench.NAME` prints progress, then one JSON line (see DESIGN.md)."""
