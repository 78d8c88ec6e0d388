"""Benchmark scripts (run as ``PYTHONPATH=. python benchmarks/NAME.py``); a package so that
one script can share another's recipe and tests can import them."""
