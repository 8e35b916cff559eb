"""What is measured: the throughput/latency matrix, the vault's key rotation, the growth check, and the
localstripe comparison.

Each function takes running servers and returns plain dicts, ready for the JSON results and the report.
"""

from __future__ import annotations

import time
from typing import Any

from bench import procs, vault, wrk
from bench.config import CPU_CONCURRENCY, Config, wrk_threads
from bench.flows import ONE_CALL, SAVE_CARD, Flow
from bench.procs import CpuWatch, TreeCpu, log
from bench.servers import Server


def _describe(result: wrk.WrkResult) -> str:
    what = "payments" if result.success_counter == "payments" else result.success_counter
    failed = f", failed chains {result.failures}" if "failures" in result.counters else ""
    return (
        f"{result.successes_per_s:7.1f} {what}/s, p50 {result.latency_ms['p50']:.1f} ms, "
        f"p99 {result.latency_ms['p99']:.1f} ms, non-2xx {result.non_2xx}{failed}, "
        f"socket errors {result.socket_errors}"
    )


def _per_success_ms(cpu_s: float, successes: int) -> float | None:
    return round(cpu_s * 1000 / successes, 3) if successes else None


def measure(flow: Flow, server: Server, concurrency: int, config: Config, label: str) -> dict[str, Any]:
    """A warm-up run (discarded), then the measured run, with the CPU time the server's processes (and
    PostgreSQL's, when its cluster runs) used during it."""
    if config.warmup:
        wrk.run(flow, server.url, concurrency, config.warmup, config.timeout)
    database = sorted(procs.OWN_ROOTS)  # PostgreSQL's postmaster, whose children are its backends
    watch, server_cpu, database_cpu = CpuWatch(), TreeCpu([server.process.pid]), TreeCpu(database)
    result = wrk.run(flow, server.url, concurrency, config.duration, config.timeout)
    server_s, database_s = server_cpu.seconds(), database_cpu.seconds()
    other = watch.other_cpu_pct()
    per_success = _per_success_ms(server_s, result.successes)
    log(
        f"  {label} {flow.key} c={concurrency}: {_describe(result)}, server CPU "
        f"{per_success if per_success is not None else '-'} ms/success, other processes' CPU {other:.0f}%"
    )
    cpu: dict[str, Any] = {"server_cpu_s": round(server_s, 3), "server_cpu_ms_per_success": per_success}
    if database:
        cpu |= {"database_cpu_s": round(database_s, 3)}
        cpu |= {"database_cpu_ms_per_success": _per_success_ms(database_s, result.successes)}
    return {**result.as_dict(), **cpu, "other_cpu_pct": other}


# A target that holds one flow's CPU per request against another's within 10-25% reads a difference this
# machine's own drift exceeds between two runs a minute apart (up to 30 points this session, "other CPU" 0%).
# Measured in alternating rounds, both flows see the same drift.
PAIRED_ROUNDS = 4


def paired(flow: Flow, versus: Flow, server: Server, config: Config, label: str) -> dict[str, Any]:
    """`versus` then `flow`, PAIRED_ROUNDS times, each run at CPU_CONCURRENCY for half the measured duration
    (at least 4 s); the server's CPU and the successes summed per flow over the rounds."""
    seconds = max(4, config.duration // 2)
    cpu_s, successes = {flow.key: 0.0, versus.key: 0.0}, {flow.key: 0, versus.key: 0}
    for _ in range(PAIRED_ROUNDS):
        for f in (versus, flow):
            watch = TreeCpu([server.process.pid])
            result = wrk.run(f, server.url, CPU_CONCURRENCY, seconds, config.timeout)
            cpu_s[f.key] += watch.seconds()
            successes[f.key] += result.successes
    mine, theirs = (_per_success_ms(cpu_s[k], successes[k]) for k in (flow.key, versus.key))
    log(
        f"  {label} {flow.key} against {versus.key}, {PAIRED_ROUNDS} alternating rounds of {seconds} s at "
        f"c={CPU_CONCURRENCY}: server CPU {mine} vs {theirs} ms/success"
    )
    return {
        "versus": versus.key,
        "rounds": PAIRED_ROUNDS,
        "seconds": seconds,
        "successes": successes[flow.key],
        "versus_successes": successes[versus.key],
        "server_cpu_ms_per_success": mine,
        "versus_server_cpu_ms_per_success": theirs,
    }


def matrix(
    server: Server, flows: list[Flow], config: Config, label: str, pairs: dict[str, str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every flow at every concurrency, each flow checked by one probe payment first; then each pair in
    `pairs` (flow key -> the flow it is held against) measured again in alternating rounds (`paired`), kept
    on the flow's CPU_CONCURRENCY run as `paired`."""
    results: dict[str, list[dict[str, Any]]] = {}
    for flow in flows:
        flow.probe(server.url)
        results[flow.key] = [measure(flow, server, c, config, label) for c in config.concurrencies]
    by_key = {f.key: f for f in flows}
    for key, versus in (pairs or {}).items():
        row = next((r for r in results.get(key, []) if r["concurrency"] == CPU_CONCURRENCY), None)
        if row is not None and versus in by_key:
            row["paired"] = paired(by_key[key], by_key[versus], server, config, label)
    return results


def rotation(server: Server, flow: Flow, config: Config, label: str) -> dict[str, Any]:
    """Top the store up to `config.rotation_cards` saved cards with `flow` (save-card) if it holds fewer,
    stop the server, and time `tessera vault rotate` on its store. The server is stopped after this."""
    assert flow.key == SAVE_CARD
    before = vault.stored(server)
    topup = None
    missing = config.rotation_cards - before["cards"]
    if missing > 0:
        c = CPU_CONCURRENCY
        per_thread = -(-missing // wrk_threads(c))
        log(f"{label}: {before['cards']:,} saved cards stored; saving {missing:,} more at c={c}")
        started, watch = time.monotonic(), CpuWatch()
        result = wrk.run_count(flow, server.url, c, per_thread, config.timeout, max(600, missing // 10))
        topup = {**result.as_dict(), "wall_s": round(time.monotonic() - started, 3)}
        topup["other_cpu_pct"] = watch.other_cpu_pct()
        log(f"  {label} save-card top-up: {_describe(result)}")
    server.process.stop()
    held = vault.stored(server)
    if held["cards"] < config.rotation_cards:
        log(f"warning: {label}: only {held['cards']:,} saved cards stored, not {config.rotation_cards:,}")
    log(
        f"{label}: server stopped; rotating the vault's data key over {held['cards']:,} saved cards and "
        f"{held['token_pans'] + held['token_cvvs']:,} card-token fields"
    )
    rotated = vault.rotate(server)
    log(
        f"  {label} rotation: {rotated['fields']:,} fields in {rotated['seconds']:.2f} s "
        f"({rotated['fields_per_s']:,.0f}/s; whole command {rotated['command_wall_s']:.2f} s), "
        f"other processes' CPU {rotated['other_cpu_pct']:.0f}%"
    )
    found = {"cards_target": config.rotation_cards, "stored_before_topup": before, "topup": topup, "stored": held}
    return found | rotated


def growth(server: Server, flow: Flow, config: Config, label: str) -> dict[str, Any]:
    """`config.growth_payments` one-call payments in segments, with throughput and server RSS per segment."""
    assert flow.key == ONE_CALL
    c = config.growth_concurrency
    flow.probe(server.url)
    rss_start, _ = server.rss_kb()
    warmup = None
    if config.warmup:
        warmup = wrk.run(flow, server.url, c, config.warmup, config.timeout).as_dict()
    segments = []
    for index in range(1, config.growth_segments + 1):
        started, watch = time.monotonic(), CpuWatch()
        result = wrk.run_count(flow, server.url, c, config.segment_payments_per_thread, config.timeout, 600)
        other = watch.other_cpu_pct()
        rss, per_process = server.rss_kb()
        segments.append(
            {
                **result.as_dict(),
                "segment": index,
                "wall_s": round(time.monotonic() - started, 3),
                "rss_kb": rss,
                "rss_kb_per_pid": per_process,
                "other_cpu_pct": other,
            }
        )
        log(
            f"  {label} growth segment {index}/{config.growth_segments}: {_describe(result)}, "
            f"RSS {rss / 1024:.1f} MB, other processes' CPU {other:.0f}%"
        )
    first, last = segments[0]["payments_per_s"], segments[-1]["payments_per_s"]
    return {
        "concurrency": c,
        "payments_target": config.growth_payments,
        "payments_counted": sum(s["payments"] for s in segments),
        "rss_kb_before": rss_start,
        "warmup": warmup,
        "segments": segments,
        "first_payments_per_s": first,
        "last_payments_per_s": last,
        "change_pct": round((last - first) / first * 100, 1) if first else None,
        "rss_change_pct": round((segments[-1]["rss_kb"] - segments[0]["rss_kb"]) / segments[0]["rss_kb"] * 100, 1)
        if segments[0]["rss_kb"]
        else None,
    }
