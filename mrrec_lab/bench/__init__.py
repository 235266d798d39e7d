"""Benchmarks of speed and resource use (not part of pytest)."""
