"""Tessera's benchmark harness: `make bench` (or `python -m bench.run`) drives fresh servers with wrk.

See `bench/run.py` for what is measured and `docs/benchmarks.md` for the latest results.
"""
