"""Real `tessera serve` and `tessera acquirer-sim` processes, on SQLite and PostgreSQL: every test card of
both tables (a challenge card's challenge answered over HTTP as a browser would), then runs of 500
payments at concurrency 16 with each fault injected, the simulator restarted, SIGKILLed and started again,
and `serve` SIGKILLed and started again. After each run every payment is final, and a
reconciliation of Tessera's records against the simulator's ledger (printed) finds every approval the
ledger holds either reported approved or reversed, and nothing charged twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tessera.bootstrap import build
from tessera.processors.sandbox.cards import TEST_CARDS, Behaviour, ThreeDS
from tessera.settings import Settings
from tessera.storage import tables as t
from tests.acquirer_sim import AcquirerSim
from tests.conftest import BACKENDS, database_for
from tests.e2e.server import Server
from tests.factories import payment
from tests.html_forms import answer_challenge

pytestmark = pytest.mark.e2e

CONCURRENCY = 16
PER_RUN = 500  # payments in each run with a fault injected, as issue 17 asks
RETURN_URL = "https://yoursite.com/back"
FAULTS: list[dict[str, float]] = [
    {"drop": 0.1},
    {"delay": 0.1, "delay_seconds": 1.0},  # later than serve's 0.5 s time-out: late answers
    {"close": 0.05},
    {"garble": 0.1},
    {"duplicate": 0.2},
]
FINAL = {"captured", "failed", "authorized", "voided", "refunded", "partially_refunded"}


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return database_for(request, "e2e")


async def _run(base: str, key: str, numbers: list[str], *, tolerate_errors: bool = False) -> list[dict[str, Any]]:
    """Payments at concurrency 16; requests cut off by a killed server are tolerated when asked."""
    gate = asyncio.Semaphore(CONCURRENCY)
    h = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(number: str) -> dict[str, Any] | None:
            async with gate:
                try:
                    r = await http.post(f"{base}/v1/payments", json=payment(number), headers=h)
                except httpx.HTTPError:
                    if tolerate_errors:
                        return None
                    raise
                if r.status_code >= 500 and tolerate_errors:
                    return None
                assert r.status_code in (201, 400), r.text
                body: dict[str, Any] = r.json()
                return body

        done = await asyncio.gather(*(one(n) for n in numbers))
    return [d for d in done if d is not None]


async def _challenged(base: str, key: str, number: str) -> dict[str, Any]:
    """A challenge card's payment, its challenge answered with the one-time password over HTTP as a
    browser walks it (redirect page, the sandbox ACS, the CRes back to Tessera); then its final state."""
    h = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        started = await http.post("/v1/payments", json=payment(number, return_url=RETURN_URL), headers=h)
        assert started.status_code == 202 and started.json()["status"] == "requires_action", started.text
        body = started.json()
        back = await answer_challenge(http, body["redirect_url"])
        assert back.status_code == 303 and back.headers["location"].startswith(RETURN_URL), back.text
        final: dict[str, Any] = (await http.get(f"/v1/payments/{body['id']}", headers=h)).json()
        return final


def _expected(number: str) -> tuple[str, str | None]:
    """What the sandbox's table says a card's payment ends as: its status and error code."""
    card = TEST_CARDS[number]
    if card.threeds is ThreeDS.REJECTED:
        return "failed", "3DS_FAILED"
    if card.behaviour is Behaviour.APPROVE:
        return "completed", None
    assert card.error is not None
    return "failed", card.error.value


async def _records(settings: Settings) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Tessera's payments (status, sale RRN) and its queue of reversals."""
    container = build(settings)
    try:
        async with container.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(t.payments.c.id, t.payments.c.status, t.operations.c.type, t.operations.c.status)
                    .add_columns(t.operations.c.processor_data)
                    .join(t.operations, t.operations.c.payment_id == t.payments.c.id)
                    .where(t.payments.c.processor == "iso8583")
                )
            ).all()
            queue = [dict(r._mapping) for r in (await conn.execute(select(t.reversal_queue))).all()]
    finally:
        await container.close()
    payments: dict[str, dict[str, Any]] = {}
    for pid, status, op_type, op_status, data in rows:
        entry = payments.setdefault(pid, {"status": status, "ops": []})
        entry["ops"].append((op_type, op_status, (data or {}).get("retrieval_ref")))
    return payments, queue


def _reconcile(label: str, payments: dict[str, dict[str, Any]], queue: list[dict[str, Any]], ledger: list[Any]) -> None:
    sales = [r for r in ledger if r["kind"] == "sale"]
    approved = [r for r in sales if r["response_code"] == "00"]
    by_rrn = Counter(r["rrn"] for r in approved)
    charged_twice = [rrn for rrn, n in by_rrn.items() if n > 1]
    rrn_of = {rrn: pid for pid, p in payments.items() for (typ, _s, rrn) in p["ops"] if typ == "DB" and rrn}
    reversed_in_ledger = {r["rrn"] for r in approved if r["reversed"]}
    standing = {r["rrn"] for r in approved if not r["reversed"]}
    not_final = [pid for pid, p in payments.items() if p["status"] not in FINAL]
    open_ops = [pid for pid, p in payments.items() if any(s in ("pending", "unknown") for _t, s, _r in p["ops"])]
    completed = {pid for pid, p in payments.items() if p["status"] == "captured"}
    unreported = [rrn for rrn in standing if rrn_of.get(rrn) not in completed]
    approved_without_charge = [pid for pid in completed if not any(rrn_of.get(r) == pid for r in standing)]
    unacknowledged = [q["id"] for q in queue if q["acknowledged_at"] is None]
    print(  # noqa: T201 - the reconciliation the issue asks the test to print
        f"\nreconciliation [{label}]: tessera payments={len(payments)} "
        f"completed={len(completed)} failed={sum(p['status'] == 'failed' for p in payments.values())} "
        f"not_final={len(not_final)} open_operations={len(open_ops)} | ledger sales={len(sales)} "
        f"approved={len(approved)} reversed={len(reversed_in_ledger)} standing={len(standing)} | "
        f"reversals queued={len(queue)} unacknowledged={len(unacknowledged)} | "
        f"approved-in-ledger-but-not-reported={len(unreported)} reported-without-ledger-charge="
        f"{len(approved_without_charge)} charged-twice={len(charged_twice)}"
    )
    assert not not_final and not open_ops
    assert not unreported, unreported  # every standing ledger approval is a payment reported approved
    assert not approved_without_charge
    assert not charged_twice
    assert not unacknowledged
    # Every approval the ledger holds for a payment Tessera reports failed was reversed.
    failed_rrns = {rrn for rrn, pid in rrn_of.items() if payments[pid]["status"] == "failed"}
    assert not (failed_rrns & standing)


async def _settle(server: Server, sim: AcquirerSim, settings: Settings, label: str, timeout: float = 45) -> None:
    """Wait until the worker has finished every operation and reversal, then reconcile."""
    deadline = time.monotonic() + timeout
    while True:
        payments, queue = await _records(settings)
        busy = any(p["status"] not in FINAL for p in payments.values()) or any(
            q["acknowledged_at"] is None for q in queue
        )
        if not busy or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    _reconcile(label, payments, queue, sim.ledger())


def test_payments_through_serve_and_acquirer_sim_reconcile_under_every_fault_and_crash(
    tmp_path: Path, database_url: str | None
) -> None:
    started = time.monotonic()
    sim = AcquirerSim(tmp_path / "sim").start()
    env = {
        "TESSERA_TEST_PROCESSOR": sim.url(stan_file=str(tmp_path / "link.stan"), timeout="1", echo="2"),
        "TESSERA_RECOVERY_GRACE_SECONDS": "1",
        "TESSERA_WORKER_INTERVAL_SECONDS": "0.2",
        "TESSERA_LOG_LEVEL": "WARNING",
    }
    server = Server(tmp_path / "serve", database_url=database_url, extra_env=env).start()
    data_dir = server.workdir / ".tessera"
    settings = Settings(data_dir=data_dir, database_url=database_url) if database_url else Settings(data_dir=data_dir)
    key = server.credentials()["secret_key"]
    try:
        # Every test card of both tables, decided by the simulator from the sandbox's one table.
        plain = [n for n, c in TEST_CARDS.items() if c.threeds is not ThreeDS.CHALLENGE]
        results = asyncio.run(_run(server.base_url, key, plain))
        assert len(results) == len(plain)
        challenged = [n for n, c in TEST_CARDS.items() if c.threeds is ThreeDS.CHALLENGE]
        results += [asyncio.run(_challenged(server.base_url, key, n)) for n in challenged]
        seen = {
            (p["card"]["bin"], p["card"]["last4"]): (p["status"], (p.get("error") or {}).get("code")) for p in results
        }
        mismatched = {n: seen.get((n[:6], n[-4:])) for n in TEST_CARDS if seen.get((n[:6], n[-4:])) != _expected(n)}
        assert not mismatched, mismatched

        cards = ["4242424242424242", "5555555555554444", "4000000000000002", "4000000000009995"]
        run = [cards[i % 4] for i in range(PER_RUN)]
        for fault in FAULTS:
            sim.faults(**fault)
            assert len(asyncio.run(_run(server.base_url, key, run))) == PER_RUN
            sim.faults(clear=1)
        for event in ({"refuse": 0.5}, {"restart": 0.5}):

            async def during_event(event: dict[str, float] = event) -> None:
                payments = asyncio.create_task(_run(server.base_url, key, run))
                await asyncio.sleep(0.5)
                sim.faults(**event)
                assert len(await payments) == PER_RUN

            asyncio.run(during_event())
        asyncio.run(_settle(server, sim, settings, "faults"))

        async def kill_sim_mid_run() -> None:
            payments = asyncio.create_task(_run(server.base_url, key, run))
            await asyncio.sleep(1.0)
            sim.kill()
            await asyncio.sleep(0.5)
            await asyncio.to_thread(sim.start)
            assert len(await payments) == PER_RUN

        asyncio.run(kill_sim_mid_run())
        asyncio.run(_settle(server, sim, settings, "acquirer-sim SIGKILL"))

        async def kill_serve_mid_run() -> None:
            payments = asyncio.create_task(_run(server.base_url, key, run, tolerate_errors=True))
            await asyncio.sleep(1.0)
            assert server.process is not None
            server.process.kill()
            server.process.wait()
            await payments  # those answered before the kill; the rest were cut off, or never sent

        asyncio.run(kill_serve_mid_run())
        server.start()
        asyncio.run(_settle(server, sim, settings, "serve SIGKILL"))
    finally:
        server.stop()
        sim.stop()
    assert "Traceback" not in sim.log()
    print(f"iso8583 e2e took {time.monotonic() - started:.1f}s")  # noqa: T201
