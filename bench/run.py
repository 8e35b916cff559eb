"""Tessera's benchmark: `make bench`, or `.venv/bin/python -m bench.run` from the repository root.

For SQLite (one worker) and PostgreSQL (two workers, throwaway cluster), a fresh `tessera serve` is driven by wrk
(bench/lua/*.lua) at concurrency 1, 16 and 64 for one-call card payments without 3-D Secure and with a frictionless
3-D Secure authentication, token-then-payment, full 3-D Secure challenges (five requests each), saving a card in
the vault and paying with a saved card, a payment screened by 10,000 blocklist entries and velocity rules against
the same one unscreened (bench/risk.py), seed 000's EximPe orders (bench/eximpe.py) and seed 001's Paysecure
purchase (bench/paysecure.py), seed 003's OPPWA debit (bench/oppwa.py), with the server's CPU time per request;
then the store is topped up to BENCH_ROTATION_CARDS saved cards, the server stopped and `tessera vault rotate`
timed on it; on PostgreSQL, the one-call payment at c=64 on a fresh one-worker server and database (issue 15 holds
the matrix's two workers against it; skipped when BENCH_FLOWS leaves one_call out); then issue 15's ceiling
(bench/ceiling.py: a payment's durable work alone, and pgbench on PostgreSQL); then a growth check makes 100,000
one-call payments in 10 segments, watching throughput and the server's RSS; then the webhook benchmark
(bench/webhooks.py) measures deliveries per second and payments with webhooks on and off; then localstripe runs
the equivalent Stripe flows for comparison. Raw results go to bench/results/<time>.json and the report to
docs/benchmarks.md, whose hand-written tail (from the line HAND_WRITTEN on) is kept: the new report is written
above it.

`make bench-growth` (BENCH_ONLY_GROWTH=1) runs the growth check alone, for each backend, with 1,000,000 payments
unless BENCH_GROWTH_PAYMENTS says otherwise: raw results to bench/results/growth-<time>.json, the report (issue 15's
growth targets and the per-segment tables) to docs/benchmarks-growth.md.

Settings (environment): BENCH_DURATION (s per run, 10), BENCH_WARMUP (s, 2), BENCH_TIMEOUT (wrk's, s, 5),
BENCH_CONCURRENCY (1,16,64), BENCH_GROWTH_PAYMENTS (100000; 0 skips), BENCH_GROWTH_SEGMENTS (10),
BENCH_ROTATION_CARDS (20000; 0 skips the rotation), BENCH_BACKENDS (sqlite,postgresql), BENCH_LOCALSTRIPE (1),
BENCH_PG_DURABLE (1; 0 turns fsync off), BENCH_WEBHOOKS (1; 0 skips the webhook benchmark, whose own settings are
in bench/webhooks.py), BENCH_FLOWS (flow keys to measure, comma-separated; default all, and
the rotation runs only with save_card among them; `ceiling` names the ceiling), BENCH_CEILING (1; 0 skips it),
BENCH_ONLY_GROWTH (0; 1 runs only the growth check, as above).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import (
    ceiling,
    eximpe,
    flows,
    iso8583,
    issue15,
    machine,
    oppwa,
    paysecure,
    pg,
    report,
    risk,
    scenarios,
    servers,
)
from bench.config import BenchError, Config
from bench.flows import NO_3DS, ONE_CALL, SAVE_CARD, Flow, localstripe_flows, save_card, tessera_flows
from bench.procs import log

REPO = servers.REPO
RESULTS_DIR = REPO / "bench" / "results"
DOCS = REPO / "docs" / "benchmarks.md"
DOCS_GROWTH = REPO / "docs" / "benchmarks-growth.md"
HAND_WRITTEN = "<!-- Hand-written below: make bench keeps everything after this line. -->"
ONE_WORKER_CONCURRENCY = issue15.CONCURRENCY  # PostgreSQL's one-worker run (issue 15: two processes against one)
WORKERS = {"sqlite": 1, "postgresql": 2}
flows.TITLES.update(eximpe.TITLES)  # seed 000's orders (bench/eximpe.py)
flows.TITLES.update(paysecure.TITLES)  # seed 001's purchases (bench/paysecure.py)
flows.TITLES.update(risk.TITLES)  # the risk controls' cost (bench/risk.py)
flows.TITLES.update(oppwa.TITLES)  # seed 003's debit (bench/oppwa.py)
flows.TITLES.update(iso8583.TITLES)  # the ISO 8583 path through acquirer-sim (bench/iso8583.py)
flows.TITLES.update(ceiling.TITLES)  # issue 15's ceiling, a program of its own (bench/ceiling.py)

Results = dict[str, Any]


def _step(results: Results, name: str, action: Callable[[], None]) -> None:
    """Run one step; a failure is reported and recorded, and the other steps still run."""
    try:
        action()
    except (BenchError, OSError, ValueError, KeyError) as exc:
        log(f"FAILED: {name}: {exc}")
        results["failures"].append({"step": name, "error": str(exc), "traceback": traceback.format_exc()})


# Each flow a target holds against another runs right after it, on the store as that one left it: a flow run
# after every other on a grown store read up to 30 points worse than the same flow run beside its pair.
# The same pairs are measured again in alternating rounds after the matrix (scenarios.paired), and the targets
# read those.
_PAIRS = {
    ONE_CALL: NO_3DS,
    oppwa.OPPWA_DB: NO_3DS,
    paysecure.PAYSECURE_PURCHASE: ONE_CALL,
    risk.ONE_CALL_RISK: risk.ONE_CALL_EMAIL,
}


def _paired(every: list[Flow]) -> list[Flow]:
    ordered = [f for f in every if f.key not in _PAIRS]
    for flow in (f for f in every if f.key in _PAIRS):
        after = next((i for i, f in enumerate(ordered) if f.key == _PAIRS[flow.key]), len(ordered) - 1)
        ordered.insert(after + 1, flow)
    return ordered


def _tessera_phase(
    backend: str, config: Config, database_url: Callable[[str], str | None], results: Results
) -> Results:
    """The matrix, then (on the same store, with the server stopped) the key rotation, then the growth
    check on a fresh server. A failed rotation is recorded and the growth check still runs."""
    out: Results = {"workers": WORKERS[backend]}
    with servers.tessera(backend, WORKERS[backend], database_url("bench")) as server:
        every = tessera_flows(server.credentials, saved_card=save_card(server.url, server.credentials))
        every += eximpe.eximpe_flows(server.url, server.credentials)
        every += paysecure.paysecure_flows(server)
        if not config.flows or set(config.flows) & set(risk.TITLES):  # filling the list takes a while
            every += risk.risk_flows(server)
        every += oppwa.oppwa_flows(server)
        every = _paired(every)
        out["matrix"] = scenarios.matrix(server, _selected(every, config), config, backend, _PAIRS)
        save = next(f for f in every if f.key == SAVE_CARD)

        def rotate() -> None:
            out["rotation"] = scenarios.rotation(server, save, config, backend)

        if config.rotation_cards and (not config.flows or SAVE_CARD in config.flows):
            _step(results, f"{backend} rotation", rotate)
    if backend == "postgresql" and (not config.flows or ONE_CALL in config.flows):
        _step(
            results,
            f"{backend} one worker",
            lambda: out.update(one_worker=_one_worker(backend, config, database_url)),
        )
    if not config.flows or iso8583.ISO8583_NO_3DS in config.flows:

        def iso_path() -> None:
            out.setdefault("matrix", {}).update(
                iso8583.matrix(backend, WORKERS[backend], database_url("iso8583"), config)
            )

        _step(results, f"{backend} iso8583", iso_path)
    if ceiling.selected(config):  # issue 15's ceiling and pgbench, on the same store (bench/ceiling.py)
        _step(
            results,
            f"{backend} ceiling",
            lambda: out.update(ceiling=ceiling.run(backend, WORKERS[backend], database_url, config)),
        )
    if config.growth_payments:
        out["growth"] = _growth(backend, config, database_url)
    return out


def _one_worker(backend: str, config: Config, database_url: Callable[[str], str | None]) -> Results:
    """The one-call flow at ONE_WORKER_CONCURRENCY on a fresh one-worker server and database, as the matrix
    runs a flow (probe, warm-up, measured run): the run issue 15 holds the matrix's two workers against."""
    with servers.tessera(f"{backend}-one-worker", 1, database_url("one_worker")) as server:
        one_call = next(f for f in tessera_flows(server.credentials) if f.key == ONE_CALL)
        log(f"{backend}: one-call payments on one worker at c={ONE_WORKER_CONCURRENCY}")
        only = dataclasses.replace(config, concurrencies=(ONE_WORKER_CONCURRENCY,))
        runs = scenarios.matrix(server, [one_call], only, f"{backend} one worker")
    return {**runs[ONE_CALL][0], "workers": 1}


def _growth(backend: str, config: Config, database_url: Callable[[str], str | None]) -> Results:
    """The growth check on a fresh server and database."""
    with servers.tessera(f"{backend}-growth", WORKERS[backend], database_url("growth")) as server:
        one_call = next(f for f in tessera_flows(server.credentials) if f.key == ONE_CALL)
        log(f"{backend}: growth check, {config.growth_payments:,} payments at c={config.growth_concurrency}")
        return scenarios.growth(server, one_call, config, backend)


def _growth_phase(backend: str, config: Config, database_url: Callable[[str], str | None], results: Results) -> Results:
    """BENCH_ONLY_GROWTH: the growth check alone."""
    return {"workers": WORKERS[backend], "growth": _growth(backend, config, database_url)}


def _selected(every: list[Flow], config: Config) -> list[Flow]:
    if not config.flows:
        return every
    own_servers = {iso8583.ISO8583_NO_3DS, ceiling.CEILING}  # measured on servers of their own
    unknown = set(config.flows) - {f.key for f in every} - own_servers
    if unknown:
        raise BenchError(f"BENCH_FLOWS: unknown flow(s) {sorted(unknown)}; choose from {[f.key for f in every]}")
    return [f for f in every if f.key in config.flows]


def _run_backend(backend: str, config: Config, results: Results) -> None:
    log(f"{backend}: starting (load average {machine.loadavg()})")
    run_phase = _growth_phase if config.only_growth else _tessera_phase
    if backend == "sqlite":
        results["backends"][backend] = run_phase(backend, config, lambda _name: None, results)
        return
    with pg.running(config.pg_durable) as cluster:
        phase = run_phase(backend, config, lambda name: pg.create_database(cluster, name), results)
        results["backends"][backend] = {**phase, "settings": pg.settings(cluster)}


def _run_localstripe(config: Config, results: Results) -> None:
    version = servers.ensure_localstripe()
    log(f"localstripe {version}: one fresh server per run")
    matrix: dict[str, list[dict[str, Any]]] = {}
    results["localstripe"] = {"version": version, "matrix": matrix}
    try:
        for flow in localstripe_flows(servers.LOCALSTRIPE_KEY):
            matrix[flow.key] = []
            for concurrency in config.concurrencies:
                with servers.localstripe() as server:
                    flow.probe(server.url)
                    matrix[flow.key].append(scenarios.measure(flow, server, concurrency, config, "localstripe"))
    finally:
        servers.LOCALSTRIPE_STORE.unlink(missing_ok=True)


def _check_tools() -> None:
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed: run `make bench-deps` (or apt-get install wrk)")


def _save(results: Results, prefix: str = "") -> Path:
    """Write the raw results to bench/results/<prefix><time>.json. A full run has no prefix: `python -m
    bench.webhooks` joins its results to the latest of those (bench/results/2*.json)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{prefix}{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def _terminate(signum: int, _frame: FrameType | None) -> None:
    log(f"interrupted by signal {signum}: stopping the servers")
    raise SystemExit(128 + signum)  # so that every `finally` stops its servers


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        config = Config.from_env()
        _check_tools()
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 2
    log(f"settings: {config}")
    results: Results = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": dataclasses.asdict(config),
        "machine": machine.describe(REPO),
        "backends": {},
        "failures": [],
    }
    try:
        _run_all(config, results)
    except KeyboardInterrupt:
        log("interrupted: the servers are stopped; no results written")
        return 130
    return _publish(results)


def write_report(path: Path, text: str) -> None:
    """Write a rendered report to `path`, followed by the HAND_WRITTEN line and everything after it in the file
    it replaces (if that has the line), so that hand-written sections survive a regeneration."""
    try:
        old = path.read_text().splitlines(keepends=True)
    except FileNotFoundError:
        old = []
    at = next((i for i, line in enumerate(old) if line.strip() == HAND_WRITTEN), None)
    if at is not None:
        text = text.rstrip("\n") + "\n\n" + "".join(old[at:])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _log_targets(found: list[tuple[str, str, bool | None]]) -> None:
    for goal, measured, met in found:
        log(f"target {'met' if met else 'NOT MET' if met is False else 'not measured'}: {goal} ({measured})")


def _publish(results: Results) -> int:
    """Save the raw results, write the report, print the targets; the exit code says if all steps ran."""
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if results["config"].get("only_growth"):
        path = _save(results, "growth-")
        write_report(DOCS_GROWTH, report.render_growth(results, str(path.relative_to(REPO))))
        log(f"raw results: {path.relative_to(REPO)}; report: {DOCS_GROWTH.relative_to(REPO)}")
        for name in results["config"]["backends"]:
            _log_targets(issue15.growth_targets(name, results["backends"].get(name, {}).get("growth")))
    else:
        path = _save(results)
        write_report(DOCS, report.render(results, str(path.relative_to(REPO))))
        log(f"raw results: {path.relative_to(REPO)}; report: {DOCS.relative_to(REPO)}")
        _log_targets(issue15.targets(results))
        _log_targets(report.targets(results))
    if results["failures"]:
        log(f"{len(results['failures'])} step(s) failed: {', '.join(f['step'] for f in results['failures'])}")
        return 1
    return 0


def _run_webhooks(config: Config, results: Results) -> None:
    from bench import webhooks

    results["webhooks"] = webhooks.run(config)


def _run_all(config: Config, results: Results) -> None:
    for backend in config.backends:
        _step(results, backend, functools.partial(_run_backend, backend, config, results))
    if config.only_growth:
        return
    if os.environ.get("BENCH_WEBHOOKS", "1") != "0":
        _step(results, "webhooks", lambda: _run_webhooks(config, results))
    if config.localstripe:
        _step(results, "localstripe", lambda: _run_localstripe(config, results))


if __name__ == "__main__":
    sys.exit(main())
