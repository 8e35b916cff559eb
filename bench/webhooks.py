"""The webhook benchmark: `.venv/bin/python -m bench.webhooks` (and a step of `make bench`).

1. Deliveries per second: a backlog of BENCH_WEBHOOK_EVENTS events (one per payment) waits in the outbox
   of a store with one endpoint; `tessera worker` processes (one, then two, on a fresh store each) turn
   them into deliveries and send them, signed, to a local receiver (bench/receiver.py, its own process)
   that answers 200 at once. The rate is events delivered over the time from the workers' start to the
   receiver's last count, with the workers' CPU time per delivery.
2. Payments with webhooks on and off: a fresh `tessera serve` (with its embedded worker) is driven by wrk
   with one-call payments at c=64, alternating runs without an endpoint and with one pointing at the
   receiver, so every payment's event is delivered while payments go on.

Settings: BENCH_WEBHOOK_EVENTS (20000), BENCH_WEBHOOK_PAYMENT_RUNS (2 of each kind), and the BENCH_* ones of
bench/config.py (backends, duration, warm-up, PostgreSQL durability).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import pg, servers, wrk
from bench.config import Config
from bench.flows import ONE_CALL, tessera_flows
from bench.procs import CpuWatch, Managed, TreeCpu, free_port, log

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "20000"))
PAYMENT_RUNS = int(os.environ.get("BENCH_WEBHOOK_PAYMENT_RUNS", "2"))  # of each kind, alternating
CONCURRENCY = 64


def _receiver(workdir: Path) -> tuple[Managed, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(servers.REPO)}
    process = Managed.start("receiver", [sys.executable, "-m", "bench.receiver", str(port)], workdir, env)
    base = f"http://127.0.0.1:{port}"
    process.wait_ready(f"{base}/readyz", 30)
    return process, base


def _count(base: str) -> int:
    with urllib.request.urlopen(f"{base}/count", timeout=5) as reply:
        return int(reply.read())


def _env(database_url: str, workdir: Path) -> dict[str, str]:
    env = servers.tessera_env()
    env |= {
        "TESSERA_DATABASE_URL": database_url,
        "TESSERA_DATA_DIR": str(workdir / ".tessera"),
        "TESSERA_VAULT_KEK": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    return env


async def _seed(database_url: str, env: dict[str, str], receiver_url: str, events: int) -> None:
    """Make a merchant with one endpoint, and write `events` payment events into the outbox."""
    os.environ.update(env)
    from tessera.bootstrap import build
    from tessera.core.clock import utcnow
    from tessera.core.ids import new_id
    from tessera.core.merchants import create_merchant
    from tessera.core.payments.events import PAYMENT_COMPLETED, Event
    from tessera.core.webhooks.service import create_endpoint
    from tessera.settings import Settings
    from tessera.storage.events import insert_events

    container = build(Settings())
    try:
        await container.start()
        merchant, _creds = await create_merchant("Bench", uow=container.uow)

        async def no_dns(_host: str) -> list[str]:
            return []

        await create_endpoint(
            merchant.id, "test", receiver_url, ["*"], description=None, uow=container.uow, resolve=no_dns, now=utcnow()
        )
        for start in range(0, events, 1000):
            batch = []
            for _ in range(min(1000, events - start)):
                payment_id = new_id("pay")
                data = {
                    "payment_id": payment_id,
                    "status": "captured",
                    "amount": 1000,
                    "currency": "INR",
                    "card": {"bin": "424242", "last4": "4242", "brand": "visa"},
                    "error_code": None,
                }
                batch.append(Event(merchant.id, "test", PAYMENT_COMPLETED, payment_id, data, utcnow()))
            async with container.db.connect(write=True) as conn:
                await insert_events(conn, batch)
                await conn.commit()
    finally:
        await container.close()


def deliveries(backend: str, database_url: str, workers: int, events: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"tessera-bench-webhooks-{backend}-"))
    receiver, base = _receiver(workdir)
    procs: list[Managed] = []
    try:
        env = _env(database_url, workdir)
        from tessera.storage.migrate import upgrade

        upgrade(database_url)  # outside any event loop: Alembic runs its own
        asyncio.run(_seed(database_url, env, f"{base}/hooks", events))
        log(f"{backend}: {events:,} events waiting; starting {workers} worker(s)")
        watch, started = CpuWatch(), time.monotonic()
        procs = [
            Managed.start(f"worker-{i}", [sys.executable, "-m", "tessera", "worker"], workdir, env)
            for i in range(workers)
        ]
        cpu = TreeCpu([p.pid for p in procs])
        # The rate runs from the first delivery to the last, leaving out the workers' start-up.
        deadline, last, first_seen, last_change = started + 600, 0, 0.0, started
        while True:
            time.sleep(0.02)
            got = _count(base)
            if got != last:
                now = time.monotonic()
                first_seen, last, last_change = first_seen or now, got, now
            if got >= events or time.monotonic() > deadline or time.monotonic() - last_change > 30:
                break
        elapsed = last_change - first_seen
        worker_cpu = cpu.seconds()
        other = watch.other_cpu_pct()
    finally:
        for p in procs:
            p.stop()
        receiver.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    rate = last / elapsed if elapsed else 0.0
    log(
        f"  {backend} {workers} worker(s): {last:,}/{events:,} delivered in {elapsed:.2f} s = {rate:,.0f}/s, "
        f"worker CPU {worker_cpu * 1000 / max(last, 1):.3f} ms/delivery, other processes' CPU {other:.0f}%"
    )
    return {
        "workers": workers,
        "events": events,
        "delivered": last,
        "seconds": round(elapsed, 3),
        "deliveries_per_s": round(rate, 1),
        "worker_cpu_ms_per_delivery": round(worker_cpu * 1000 / max(last, 1), 3),
        "other_cpu_pct": other,
    }


def payments(backend: str, workers: int, database_url: str | None, config: Config) -> dict[str, Any]:
    """One-call payments at c=64 without and with a webhook endpoint, alternating."""
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-webhooks-receiver-"))
    receiver, base = _receiver(workdir)
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    try:
        with servers.tessera(f"{backend}-webhooks", workers, database_url) as server:
            flow = next(f for f in tessera_flows(server.credentials) if f.key == ONE_CALL)
            flow.probe(server.url)
            if config.warmup:
                wrk.run(flow, server.url, CONCURRENCY, config.warmup, config.timeout)
            endpoint_id = None
            for _ in range(PAYMENT_RUNS):
                for kind in ("off", "on"):
                    endpoint_id = _switch(server, kind == "on", f"{base}/hooks", endpoint_id)
                    before = _count(base)
                    cpu = TreeCpu([server.process.pid])
                    result = wrk.run(flow, server.url, CONCURRENCY, config.duration, config.timeout)
                    time.sleep(1.0)  # let the last deliveries land
                    delivered = _count(base) - before
                    row = {**result.as_dict(), "delivered": delivered, "server_cpu_s": round(cpu.seconds(), 3)}
                    row["non_2xx"] = result.non_2xx
                    runs[kind].append(row)
                    log(
                        f"  {backend} webhooks {kind}: {result.payments_per_s:.1f} payments/s, "
                        f"p99 {result.latency_ms['p99']:.1f} ms, delivered {delivered:,}, non-2xx {result.non_2xx}"
                    )
    finally:
        receiver.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    off = sum(r["payments_per_s"] for r in runs["off"]) / len(runs["off"])
    on = sum(r["payments_per_s"] for r in runs["on"]) / len(runs["on"])
    return {
        "runs": runs,
        "off_payments_per_s": round(off, 1),
        "on_payments_per_s": round(on, 1),
        "change_pct": round((on - off) / off * 100, 1) if off else None,
    }


def _switch(server: servers.Server, on: bool, url: str, endpoint_id: str | None) -> str | None:
    """Add an endpoint (on) or delete it (off); returns the endpoint's id while there is one."""
    headers = {"Authorization": f"Bearer {server.credentials['secret_key']}", "Content-Type": "application/json"}
    if on:
        body = json.dumps({"url": url, "enabled_events": ["*"]}).encode()
        request = urllib.request.Request(f"{server.url}/v1/webhook_endpoints", body, headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return str(json.loads(reply.read())["id"])
    if endpoint_id:
        request = urllib.request.Request(
            f"{server.url}/v1/webhook_endpoints/{endpoint_id}", None, headers, method="DELETE"
        )
        urllib.request.urlopen(request, timeout=10).close()
    return None


def run(config: Config) -> dict[str, Any]:
    out: dict[str, Any] = {"events": EVENTS, "concurrency": CONCURRENCY}
    for backend in config.backends:
        if backend == "sqlite":
            workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-webhooks-db-"))
            try:
                url = f"sqlite:///{workdir / 'tessera.db'}"
                out["sqlite"] = {"deliveries": [deliveries("sqlite", url, 1, EVENTS)]}
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            out["sqlite"]["payments"] = payments("sqlite", 1, None, config)
            continue
        with pg.running(config.pg_durable) as cluster:
            out["postgresql"] = {
                "deliveries": [
                    deliveries("postgresql", pg.create_database(cluster, f"hooks{n}"), n, EVENTS) for n in (1, 2)
                ],
                "payments": payments("postgresql", 2, pg.create_database(cluster, "hookpay"), config),
            }
    return out


def main() -> int:
    """Run alone: the results join the latest full run's (if there is one) and docs/benchmarks.md is
    rendered again from them."""
    from bench import report
    from bench.run import DOCS, RESULTS_DIR, _save, write_report

    config = Config.from_env()
    found = run(config)
    previous = sorted(p for p in RESULTS_DIR.glob("2*.json")) if RESULTS_DIR.exists() else []
    if not previous:
        path = RESULTS_DIR / f"webhooks-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found, indent=2) + "\n")
        log(f"raw results: {path.relative_to(servers.REPO)} (no full run to join: run `make bench` for the report)")
        return 0
    results = json.loads(previous[-1].read_text())
    results["webhooks"] = found
    path = _save(results)
    write_report(DOCS, report.render(results, str(path.relative_to(servers.REPO))))
    log(f"raw results: {path.relative_to(servers.REPO)} (the webhooks of this run, the rest of {previous[-1].name})")
    for goal, measured, met in report._webhook_targets(results):
        log(f"target {'met' if met else 'NOT MET' if met is False else 'not measured'}: {goal} ({measured})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
