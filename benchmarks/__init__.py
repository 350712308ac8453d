"""Benchmarks run outside the test suite (benchmarks/run.py orchestrates them)."""
