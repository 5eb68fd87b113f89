"""Benchmarks of alertd's core engine: ``python -m bench.run [--quick] [--only NAME,...]`` (see README.md)."""
