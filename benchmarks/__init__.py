"""Benchmarks: a seeded enterprise generator and the measurements of `make bench`."""
