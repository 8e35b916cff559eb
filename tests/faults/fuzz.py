"""One schemathesis run over a live server's /openapi.json, restricted to one dialect's paths and
carrying that dialect's credentials, with every check; its JSON report read back as figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
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


def run(base_url: str, dialect: Dialect, *, max_examples: int, seed: int, workdir: Path) -> FuzzRun:
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"schemathesis-{dialect.name}.json"
    ledger = workdir / f"beyond-schema-{dialect.name}.jsonl"
    ledger.unlink(missing_ok=True)
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
    for name, value in dialect.headers.items():
        argv += ["--header", f"{name}: {value}"]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.faults.fuzz_hooks",
        "TESSERA_FUZZ_LEDGER": str(ledger),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=3600)
    (workdir / f"schemathesis-{dialect.name}.log").write_text(done.stdout + done.stderr)
    data = json.loads(report.read_text())
    beyond: Counter[str] = Counter()
    if ledger.exists():
        for line in ledger.read_text().splitlines():
            beyond[json.loads(line)["beyond_schema"]] += 1
    return FuzzRun(
        dialect=dialect.name,
        operations=int(data["operations"]["tested"]),
        cases=int(data["test_cases"]["generated"]),
        failures={f["title"]: int(f["count"]) for f in data["failures"]},
        errors=sum(int(e["count"]) for e in data["errors"]),
        beyond_schema=dict(beyond),
        output=done.stdout[-6000:],
    )
