"""Builders and the pyx12 oracle shared by the tests and the benchmarks (never imported by Lambda code)."""
