"""docs/reliability.md from the soak's records: the figures the fault and fuzz tests recorded
(tests/faults/conftest.py's `figure`) and each test's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Record:
    kind: str  # "figure" or "outcome"
    nodeid: str
    check: str = ""
    tried: str = ""
    result: str = ""
    outcome: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Record:
        return cls(
            kind=str(raw["kind"]),
            nodeid=str(raw["nodeid"]),
            check=str(raw.get("check", "")),
            tried=str(raw.get("tried", "")),
            result=str(raw.get("result", "")),
            outcome=str(raw.get("outcome", "")),
            counts={str(k): int(v) for k, v in (raw.get("counts") or {}).items()},
        )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _verdict(outcome: str | None) -> str:
    return {"passed": "pass", "failed": "**FAIL**", "skipped": "not run"}.get(outcome or "", "**no outcome**")


def render(
    records: list[Record],
    *,
    command: str,
    started: datetime,
    duration_s: float,
    commit: str,
    machine: str,
    pytest_exit: int,
    fuzz_minimum: int,
) -> str:
    outcomes = {r.nodeid: r.outcome for r in records if r.kind == "outcome"}
    figures = [r for r in records if r.kind == "figure"]
    with_figures = {r.nodeid for r in figures}
    fuzzed = sum(r.counts.get("requests", 0) for r in figures if r.check.startswith("Fuzzing"))
    rows = [
        f"| {_cell(r.check)} | {_cell(r.tried)} | {_cell(r.result)} | {_verdict(outcomes.get(r.nodeid))} |"
        for r in figures
    ]
    # A test that failed before it could record its figure still shows, so no failure is silent.
    rows += [
        f"| {_cell(nodeid)} | (no figure recorded) | | {_verdict(outcome)} |"
        for nodeid, outcome in outcomes.items()
        if nodeid not in with_figures and outcome != "passed"
    ]
    failed = [n for n, o in outcomes.items() if o == "failed"]
    fuzz_line = f"Fuzzing sent {fuzzed:,} requests in all, against the {fuzz_minimum:,} the soak must reach: " + (
        "**met**." if fuzzed >= fuzz_minimum else "**NOT met**."
    )
    verdict = (
        "Every check passed."
        if not failed and pytest_exit == 0 and fuzzed >= fuzz_minimum
        else f"**Not every check passed** (pytest exit {pytest_exit}; failed: {', '.join(failed) or 'none listed'})."
    )
    return "\n".join(
        [
            "# Reliability: the fault and fuzz suite's figures",
            "",
            "Written by `make soak` from its own run (soak/run.py); do not edit by hand. Each row is one test of",
            "tests/faults at its soak size: what it tried, what it measured, and whether it passed. The same tests",
            "run at a bounded size in `make test` and CI.",
            "",
            f"- Run: `{command}`, started {started:%Y-%m-%d %H:%M} UTC, {duration_s / 60:.1f} minutes",
            f"- Code: commit {commit}",
            f"- Machine: {machine}",
            f"- {fuzz_line}",
            f"- Verdict: {verdict}",
            "",
            "| Check | What was tried | Figure | Verdict |",
            "|---|---|---|---|",
            *rows,
            "",
            "## What the checks mean",
            "",
            "- **Fuzzing**: schemathesis sends requests generated from /openapi.json, valid and invalid, with",
            "  every check it has (server errors, response schemas and status codes, valid data accepted,",
            "  invalid data refused, unsupported methods, ...). *Schema violations* are disagreements between",
            "  the document and the server in either direction. Requests refused for a reason no schema can hold",
            "  (a card number's check digit, an expiry before today, a webhook host that does not resolve) are",
            "  counted apart; tests/faults/fuzz_hooks.py lists each such reason.",
            "- **Lifecycle state machine**: hypothesis drives random sequences of payment operations and retries",
            "  through the API and compares every payment with an independent model of its amounts.",
            "- **kill -9**: `tessera serve` or `tessera worker` is killed with SIGKILL under load; afterwards",
            "  what clients were told is reconciled with what is stored. *Lost*: a client was told a result that",
            "  is not stored. *Double*: one request charged or moved money twice. *Stuck*: a payment or",
            "  operation still pending after the recovery grace.",
            "- **Processor faults**: the sandbox acquirer's time-out and refusal cards; no unknown outcome may",
            "  end approved or leave money held.",
            "- **Webhook receiver outage**: the merchant's endpoint is down for minutes; every event must arrive",
            "  afterwards, in order per payment.",
            "- **Tenant and key matrix**: every route with every wrong credential; only the owner's secret key",
            "  may act, and no other merchant's data may show.",
            "- **Card-number scan**: every card number the suite used, searched in every form in the databases,",
            "  their WAL, a pg_dump and every log (`tessera scan-pans`, docs/scan-pans.md).",
            "",
        ]
    )
