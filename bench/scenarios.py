"""What is measured: the throughput/latency matrix, the growth check, and the localstripe comparison.

Each function takes running servers and returns plain dicts, ready for the JSON results and the report.
"""

from __future__ import annotations

import time
from typing import Any

from bench import wrk
from bench.config import Config
from bench.flows import ONE_CALL, Flow
from bench.procs import CpuWatch, log
from bench.servers import Server


def _describe(result: wrk.WrkResult) -> str:
    return (
        f"{result.payments_per_s:7.1f} payments/s, p50 {result.latency_ms['p50']:.1f} ms, "
        f"p99 {result.latency_ms['p99']:.1f} ms, non-2xx {result.non_2xx}, socket errors {result.socket_errors}"
    )


def measure(flow: Flow, server: Server, concurrency: int, config: Config, label: str) -> dict[str, Any]:
    """A warm-up run (discarded), then the measured run."""
    if config.warmup:
        wrk.run(flow, server.url, concurrency, config.warmup, config.timeout)
    watch = CpuWatch()
    result = wrk.run(flow, server.url, concurrency, config.duration, config.timeout)
    other = watch.other_cpu_pct()
    log(f"  {label} {flow.key} c={concurrency}: {_describe(result)}, other processes' CPU {other:.0f}%")
    return {**result.as_dict(), "other_cpu_pct": other}


def matrix(server: Server, flows: list[Flow], config: Config, label: str) -> dict[str, list[dict[str, Any]]]:
    """Every flow at every concurrency, each flow checked by one probe payment first."""
    results: dict[str, list[dict[str, Any]]] = {}
    for flow in flows:
        flow.probe(server.url)
        results[flow.key] = [measure(flow, server, c, config, label) for c in config.concurrencies]
    return results


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
