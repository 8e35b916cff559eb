"""The soak: `make soak`, or `.venv/bin/python -m soak.run` from the repository root.

It runs the fault and fuzz suite (tests/faults) with `TESSERA_SOAK=1`, so every test takes its soak size
(`tests.faults.conftest.scaled`), collects the figures each test records and each test's outcome, and
writes docs/reliability.md: one row per check with what was tried, the figure, and the verdict. The raw
records go to soak/results/<time>.jsonl. The report is written from this run alone, failures included: a
failed check says FAIL in the table, and the command exits non-zero.

Settings (environment): SOAK_PYTEST_ARGS (extra pytest arguments, e.g. `-k crash` to rerun one part;
the report then covers only what ran).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from soak.report import Record, render

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "soak" / "results"
DOCS = REPO / "docs" / "reliability.md"
FUZZ_MINIMUM = 50_000  # issue 11: the soak fuzzes at least this many requests


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "tessera"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def _machine() -> str:
    cpus = os.cpu_count() or 0
    try:
        kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, {memory}, Python {platform.python_version()}"


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    records = RESULTS / f"{started:%Y%m%dT%H%M%SZ}.jsonl"
    extra = shlex.split(os.environ.get("SOAK_PYTEST_ARGS", ""))
    pytest = [sys.executable, "-m", "pytest", "tests/faults", "-p", "no:cacheprovider", "-q"]
    argv = [*pytest, "-o", "timeout=3600", *extra]  # a soak-sized test may run far past make test's 5 minutes
    env = {**os.environ, "TESSERA_SOAK": "1", "TESSERA_FIGURES_FILE": str(records)}
    print(f"soak: {' '.join(argv[1:])} (records: {records.relative_to(REPO)})", flush=True)
    clock = time.monotonic()
    exit_code = subprocess.run(argv, cwd=REPO, env=env).returncode
    duration = time.monotonic() - clock
    lines = records.read_text().splitlines() if records.exists() else []
    parsed = [Record.from_json(json.loads(line)) for line in lines if line.strip()]
    DOCS.write_text(
        render(
            parsed,
            command="make soak" + (f" (SOAK_PYTEST_ARGS={' '.join(extra)})" if extra else ""),
            started=started,
            duration_s=duration,
            commit=_commit(),
            machine=_machine(),
            pytest_exit=exit_code,
            fuzz_minimum=FUZZ_MINIMUM,
        )
    )
    print(f"soak: wrote {DOCS.relative_to(REPO)} in {duration / 60:.1f} min; pytest exit {exit_code}", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
