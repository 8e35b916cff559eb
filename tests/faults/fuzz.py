"""One schemathesis run over a live server's /openapi.json, restricted to one dialect's paths and
carrying that dialect's credentials, with every check; its JSON report read back as figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dialect:
    name: str
    path_regex: str
    headers: dict[str, str]


@dataclass(frozen=True)
class FuzzRun:
    dialect: str
    operations: int
    cases: int
    failures: dict[str, int]  # schemathesis failure title -> unique failures
    errors: int  # schemathesis's own errors (a case it could not generate or send)
    beyond_schema: dict[str, int]  # schema-valid requests refused for a documented reason no schema can hold
    output: str

    @property
    def server_errors(self) -> int:
        return sum(n for title, n in self.failures.items() if "Server error" in title)

    @property
    def schema_violations(self) -> int:
        return sum(self.failures.values()) - self.server_errors


def run(base_url: str, dialect: Dialect, *, max_examples: int, seed: int, shards: int = 1) -> FuzzRun:
    """`shards` client processes, two at a time: the schemathesis client spends a core generating (the
    server is idle most of the time), so a soak's size needs several. The first runs every phase with
    `seed`; the others only generate fresh random cases (the fuzzing phase) from `seed + 1`, `seed + 2`...,
    because the examples' and the coverage phase's cases are the same for every seed."""
    plans = [(seed, None)] + [(seed + i, "fuzzing") for i in range(1, shards)]
    with ThreadPoolExecutor(min(2, shards)) as pool:
        parts = list(pool.map(lambda plan: _run_one(base_url, dialect, max_examples, *plan), plans))
    failures: Counter[str] = Counter()
    beyond: Counter[str] = Counter()
    for part in parts:
        failures.update(part.failures)
        beyond.update(part.beyond_schema)
    return FuzzRun(
        dialect=dialect.name,
        operations=max(part.operations for part in parts),
        cases=sum(part.cases for part in parts),
        failures=dict(failures),
        errors=sum(part.errors for part in parts),
        beyond_schema=dict(beyond),
        output="\n".join(part.output for part in parts if part.failures or part.errors) or parts[0].output,
    )


def _run_one(base_url: str, dialect: Dialect, max_examples: int, seed: int, phases: str | None) -> FuzzRun:
    # The client's own records (schemathesis's report, its failure cache and output) hold the card numbers
    # it sent: they are the test's, not the gateway's, so they live outside the session's folders that the
    # card-number scan reads, and are removed after a clean run (kept, and named, after a failing one).
    client = Path(tempfile.mkdtemp(prefix=f"tessera-fuzz-{dialect.name}-"))
    report = client / "schemathesis.json"
    ledger = client / "beyond-schema.jsonl"
    argv = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--include-path-regex",
        dialect.path_regex,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        # NUL bytes are refused everywhere as bad input (issue 11, defect 3), which JSON Schema cannot say of
        # every string; tests/integration/test_nul_characters.py proves it field by field.
        "--generation-allow-x00",
        "false",
        "--generation-database",
        "none",
        "--workers",
        "1",
        # Conditional rules (a card needs the shopper's browser, a token's card its CVV) make the generator
        # discard many drafts; that is slow, not wrong, and the run must not stop on it.
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    if phases is not None:
        argv += ["--phases", phases]
    for name, value in dialect.headers.items():
        argv += ["--header", f"{name}: {value}"]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.faults.fuzz_hooks",
        "TESSERA_FUZZ_LEDGER": str(ledger),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(argv, cwd=client, env=env, capture_output=True, text=True, timeout=3600)
    (client / "schemathesis.log").write_text(done.stdout + done.stderr)
    data = json.loads(report.read_text())
    beyond: Counter[str] = Counter()
    if ledger.exists():
        for line in ledger.read_text().splitlines():
            beyond[json.loads(line)["beyond_schema"]] += 1
    failures = {f["title"]: int(f["count"]) for f in data["failures"]}
    errors = sum(int(e["count"]) for e in data["errors"])
    if failures or errors:
        output = f"(client records kept in {client})\n" + done.stdout[-6000:]
    else:
        output = done.stdout[-6000:]
        shutil.rmtree(client, ignore_errors=True)
    return FuzzRun(
        dialect=dialect.name,
        operations=int(data["operations"]["tested"]),
        cases=int(data["test_cases"]["generated"]),
        failures=failures,
        errors=errors,
        beyond_schema=dict(beyond),
        output=output,
    )
