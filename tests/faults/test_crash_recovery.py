"""`kill -9` under load, with real processes: a `tessera serve --no-worker`, a separate `tessera worker`
(recovery and webhook deliveries) and a webhook receiver, on SQLite and on PostgreSQL.

Sixteen clients run payment flows (`tests.faults.load`) while the serve process, or in the other test the
worker process, is killed with SIGKILL at seeded random points and started again on the same port and
database. Then the load stops, the recovery grace and the idempotency lease run out, every request whose
answer was lost is sent again with its key, and what the clients were told is reconciled against what is
stored (`tests.faults.reconcile`): nothing lost, nothing doubled, nothing stuck, every key free or
answering its final outcome, and every event delivered at least once, in order per payment.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Backend
from tests.e2e.server import Server
from tests.faults.conftest import Figure, scaled
from tests.faults.load import CARDS, Exchange, Load, replay, retry_lost
from tests.faults.reconcile import Deliveries, Findings, Stored, check_deliveries, read, reconcile, unsettled
from tests.receiver import Receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

GRACE_SECONDS = 3.0  # pending operations older than this are recovered by the worker
LEASE_SECONDS = 3.0  # a crashed keyed request's key is taken over by a retry after this
ENV = {
    "TESSERA_RECOVERY_GRACE_SECONDS": str(GRACE_SECONDS),
    "TESSERA_IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS),
    "TESSERA_PROCESSOR_TIMEOUT_SECONDS": "0.5",
    "TESSERA_WORKER_INTERVAL_SECONDS": "0.2",
    "TESSERA_WEBHOOK_LEASE_SECONDS": "1",
    "TESSERA_WEBHOOK_POLL_SECONDS": "0.05",
    "TESSERA_WEBHOOK_TIMEOUT_SECONDS": "5",
    "TESSERA_LOG_LEVEL": "WARNING",
}
ROUNDS = scaled(2, 6)
# Seconds of load before each kill (drawn from this range), and after the last restart.
KILL_AFTER = (scaled(10, 20) / 10, scaled(25, 100) / 10)
CONCURRENCY = 16
SEED = 11
PREFIX = "crash"


@dataclass
class Outcome:
    rounds: int
    requests: int
    in_flight_at_kill: int
    findings: Findings
    retried: list[Exchange]
    unanswered: list[Exchange]  # retries that still got no final outcome
    keys_kept: int  # keys that answered their request's outcome once more
    replay_differs: list[Exchange]
    deliveries: Deliveries
    server_errors: int


class _Rig:
    """The processes under test: serve, a worker, and where the webhooks go."""

    def __init__(self, workdir: Path, backend: Backend) -> None:
        self.server = Server(workdir, database_url=backend.url, extra_env=ENV)
        self.worker: subprocess.Popen[bytes] | None = None
        self.workers_started = 0
        self.answered = 0
        # A receiver that takes a quarter of a second keeps deliveries in flight for a kill to interrupt.
        self.receiver = Receiver(answer=self._answer, delay=0.25)

    def _answer(self, _n: int) -> int:
        self.answered += 1
        return 200

    @property
    def deliveries_in_flight(self) -> int:
        return len(self.receiver.received) - self.answered

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start, "--no-worker")
        self.start_worker()
        await self.receiver.start()

    def start_worker(self) -> None:
        self.workers_started += 1
        log = self.server.workdir / f"worker-{self.workers_started}.log"
        with log.open("wb") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "tessera", "worker"],
                cwd=self.server.workdir,
                env=self.server.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def kill_serve(self) -> None:
        assert self.server.process is not None
        self.server.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.server.process.wait)
        await asyncio.to_thread(self.server.start, "--no-worker")

    async def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.worker.wait)
        self.start_worker()

    async def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.worker.wait, 15)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        if self.server.process is not None:
            await asyncio.to_thread(self.server.stop)
        await self.receiver.stop()


async def _crash_under_load(rig: _Rig, target: str, backend: Backend) -> Outcome:
    await rig.start()
    creds = rig.server.credentials()
    key, base = creds["secret_key"], rig.server.base_url
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        made = await http.post("/v1/webhook_endpoints", json={"url": rig.receiver.url, "enabled_events": ["*"]})
        assert made.status_code == 201, made.text

    rng = random.Random(SEED)
    load = Load(base, key, SEED, CONCURRENCY, PREFIX)
    running = asyncio.create_task(load.run())
    in_flight = 0
    try:
        for _ in range(ROUNDS):
            await asyncio.sleep(rng.uniform(*KILL_AFTER))
            if target == "serve":
                in_flight += load.in_flight
                await rig.kill_serve()
            else:
                # A worker still starting up has nothing in flight: kill it mid-delivery.
                await wait_until(lambda: rig.deliveries_in_flight > 0, what="a webhook delivery in flight")
                in_flight += rig.deliveries_in_flight
                await rig.kill_worker()
        await asyncio.sleep(rng.uniform(*KILL_AFTER))  # load against the last restart too
    finally:
        load.stop()
        await running

    # The worker recovers what the crashes left open, once it is older than the grace.
    async def settled() -> bool:
        return await unsettled(backend.url) == 0

    try:
        await wait_until(settled, what="the worker to settle every open operation", within=60, every=0.2)
    except AssertionError:
        pass  # what stays open is reported as stuck, by the figure and the asserts below
    # Counted before any retry: the worker alone must settle them, whether or not a client ever asks.
    open_after_grace = await unsettled(backend.url)
    retried = await retry_lost(base, key, load.lost(), within=LEASE_SECONDS + 30)
    unanswered = [x for x in retried if x.retry_status is None or x.retry_status >= 500 or _processing(x)]
    # Every key that made or moved a payment answers that request's outcome again; the others are free
    # (a request refused before anything durable happened releases its key).
    kept = [x for x in load.exchanges if x.payment() is not None]
    replay_differs = await replay(base, key, kept)

    stored = await read(backend.url, creds["merchant_id"])
    ours = {pid for pid, p in stored.payments.items() if (p.reference or "").startswith(PREFIX)}

    async def delivered() -> bool:
        nonlocal stored
        stored = await read(backend.url, creds["merchant_id"])
        return not _deliveries(rig, stored, ours).missing

    try:
        await wait_until(delivered, what="every event to reach the receiver", within=60, every=0.5)
    except AssertionError:
        pass  # reported, with what is missing, by the figure and the asserts below
    findings = reconcile(stored, load.exchanges, PREFIX)
    if open_after_grace:
        findings.stuck.append(f"{open_after_grace} payments or operations open after the grace, before any retry")
    return Outcome(
        ROUNDS,
        len(load.exchanges),
        in_flight,
        findings,
        retried,
        unanswered,
        len(kept),
        replay_differs,
        _deliveries(rig, stored, ours),
        load.server_errors,
    )


def _deliveries(rig: _Rig, stored: Stored, ours: set[str]) -> Deliveries:
    return check_deliveries(stored, [r.json for r in rig.receiver.received], ours)


def _keys(o: Outcome) -> str:
    retried, answered = len(o.retried), len(o.retried) - len(o.unanswered)
    replayed = o.keys_kept - len(o.replay_differs)
    retries = f"{answered} of {retried} lost answers given on retry with the same key" if retried else "no answer lost"
    return (
        f"{retries}, {replayed:,} of {o.keys_kept:,} keys replayed their outcome, {len(o.findings.held_keys)} keys held"
    )


def _processing(x: Exchange) -> bool:
    shown = x.payment()
    return shown is not None and shown["status"] == "processing"


def _assert_recovered(o: Outcome) -> None:
    assert o.server_errors == 0, f"{o.server_errors} answers were 5xx"
    assert not o.findings.lost, o.findings.lost
    assert not o.findings.double, o.findings.double
    assert not o.findings.stuck, o.findings.stuck
    assert not o.findings.held_keys, f"keys still in progress: {o.findings.held_keys}"
    assert not o.unanswered, [(x.key, x.retry_status, x.retry_answer) for x in o.unanswered]
    assert not o.replay_differs, [x.key for x in o.replay_differs]
    assert not o.deliveries.missing, o.deliveries.missing
    assert not o.deliveries.out_of_order, o.deliveries.out_of_order


def _rig(artifacts: Path, request: pytest.FixtureRequest, backend: Backend, pans_used: set[str]) -> _Rig:
    pans_used.update(CARDS)
    name = request.node.name.replace("[", "-").replace("]", "")
    return _Rig(artifacts / name, backend)


async def test_kill_9_of_serve_under_load_loses_doubles_and_strands_nothing(
    backend: Backend, artifacts: Path, pans_used: set[str], figure: Figure, request: pytest.FixtureRequest
) -> None:
    rig = _rig(artifacts, request, backend, pans_used)
    try:
        o = await _crash_under_load(rig, "serve", backend)
    finally:
        await rig.stop()
    database = "SQLite" if backend.name == "sqlite" else "PostgreSQL"
    figure(
        f"kill -9 of serve under load, {database}",
        tried=f"{o.rounds} rounds, {o.requests:,} requests at concurrency {CONCURRENCY}, "
        f"{o.in_flight_at_kill} in flight when killed",
        result=f"{o.findings.summary()}; {_keys(o)}; {len(o.deliveries.missing)} of {o.deliveries.events:,} events "
        "undelivered",
    )
    _assert_recovered(o)


async def test_kill_9_of_the_worker_under_load_loses_no_event_and_strands_nothing(
    backend: Backend, artifacts: Path, pans_used: set[str], figure: Figure, request: pytest.FixtureRequest
) -> None:
    rig = _rig(artifacts, request, backend, pans_used)
    try:
        o = await _crash_under_load(rig, "worker", backend)
    finally:
        await rig.stop()
    database = "SQLite" if backend.name == "sqlite" else "PostgreSQL"
    d = o.deliveries
    figure(
        f"kill -9 of the worker under load, {database}",
        tried=f"{o.rounds} rounds, {o.requests:,} requests at concurrency {CONCURRENCY}, "
        f"{d.events:,} events, {o.in_flight_at_kill} webhook deliveries in flight when killed",
        result=f"{len(d.missing)} events lost, {len(d.out_of_order)} out of order, {d.duplicates} delivered twice; "
        f"{o.findings.summary()}; {_keys(o)}",
    )
    _assert_recovered(o)
