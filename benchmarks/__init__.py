"""Benchmarks: `make bench`. They print a table and write JSON; CI never fails on them."""
