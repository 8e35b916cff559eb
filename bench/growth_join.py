"""Join separate `make bench-growth` runs (one per backend) into one docs/benchmarks-growth.md.

The 1,000,000-payment check takes 35-55 minutes per backend. Running it once per backend
(`BENCH_BACKENDS=sqlite make bench-growth`, then `BENCH_BACKENDS=postgresql make bench-growth`) keeps the
first backend's results if the second run fails; this renders the page both would have made together:

    .venv/bin/python -m bench.growth_join bench/results/growth-A.json bench/results/growth-B.json

The machine section and the date are the first file's; the page says which files it joined.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench import report
from bench.config import BenchError
from bench.run import DOCS_GROWTH, REPO, write_report


def join(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One results document from several growth-only runs, each backend taken from the run that measured it."""
    if not runs:
        raise BenchError("no results to join")
    if not all(run["config"].get("only_growth") for run in runs):
        raise BenchError("only `make bench-growth` results (BENCH_ONLY_GROWTH=1) can be joined")
    payments = {run["config"]["growth_payments"] for run in runs}
    if len(payments) > 1:
        raise BenchError(f"the runs made different numbers of payments: {sorted(payments)}")
    measured = commits(runs)
    if len(measured) > 1:
        raise BenchError(f"the runs measured different commits: {measured}")
    backends: dict[str, Any] = {}
    for run in runs:
        for name, measured in run["backends"].items():
            if name in backends:
                raise BenchError(f"{name} was measured by more than one run")
            backends[name] = measured
    first = runs[0]
    config = {**first["config"], "backends": [b for run in runs for b in run["config"]["backends"]]}
    return {
        **first,
        "config": config,
        "backends": backends,
        "failures": [failure for run in runs for failure in run["failures"]],
        "finished_at": runs[-1].get("finished_at"),
    }


def commits(runs: list[dict[str, Any]]) -> list[str]:
    """The commits the runs measured (`git` in each run's machine section)."""
    return sorted({run["machine"]["git"] for run in runs})


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    files = [Path(name).resolve() for name in argv]
    runs = [json.loads(path.read_text()) for path in files]
    try:
        joined = join(runs)
    except BenchError as exc:
        print(f"bench.growth_join: {exc}", file=sys.stderr)
        return 2
    names = ", ".join(str(path.relative_to(REPO)) for path in files)
    write_report(DOCS_GROWTH, report.render_growth(joined, names))
    print(f"{DOCS_GROWTH.relative_to(REPO)} written from {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
