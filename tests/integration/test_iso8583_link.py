"""The ISO 8583 link against a real `tessera acquirer-sim` process, and the core's queue of time-out
reversals on both databases: every test card, captures, refunds, voids, each fault, and a host from PyPI
written by someone else (iso8583sim's mock host, in its default format)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tessera.bootstrap import Container, build
from tessera.core.clock import utcnow
from tessera.core.merchants import UpdateMerchant, create_merchant, update_merchant
from tessera.core.payments.recovery import send_queued_reversals
from tessera.core.ports import AuthorizeRequest, Outcome, ReverseRequest
from tessera.core.risk.model import Charge
from tessera.core.vault.pan import PAN, Expiry
from tessera.processors import parse_processor
from tessera.processors.iso8583.processor import Iso8583Processor
from tessera.processors.sandbox.cards import TEST_CARDS, Behaviour, ThreeDS
from tessera.storage import tables as t
from tests.acquirer_sim import AcquirerSim
from tests.conftest import Backend, auth, make_settings
from tests.factories import payment
from tests.html_forms import answer_challenge
from tests.pg import free_port


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[AcquirerSim]:
    s = AcquirerSim(tmp_path / "sim").start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
async def iso(backend: Backend, tmp_path: Path, sim: AcquirerSim) -> AsyncIterator[Container]:
    settings = make_settings(backend, tmp_path, test_processor=sim.url(stan_file=str(tmp_path / "stan")))
    c = build(settings)
    await c.start()
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
async def api(iso: Container) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    from tessera.app import create_app

    _made, creds = await create_merchant("ISO Shop", uow=iso.uow, allowed_domains=["yoursite.com"])
    app = create_app(iso.settings, container=iso, embedded_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
        yield http, auth(creds[0].secret_key)


def _frictionless(number: str) -> bool:
    card = TEST_CARDS[number]
    return card.threeds is not ThreeDS.CHALLENGE


async def _pay(api: tuple[httpx.AsyncClient, dict[str, str]], number: str, **extra: Any) -> dict[str, Any]:
    http, headers = api
    r = await http.post("/v1/payments", json=payment(number, **extra), headers=headers)
    assert r.status_code in (200, 201, 400, 402), r.text
    body: dict[str, Any] = r.json()
    return body


async def test_every_test_card_is_decided_by_the_sandbox_table_through_the_simulator(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    numbers = [n for n, c in TEST_CARDS.items() if c.table == "tessera" and _frictionless(n)]
    for number in numbers:
        card = TEST_CARDS[number]
        p = await _pay(api, number)
        if card.threeds is ThreeDS.REJECTED:
            assert (p["status"], p["error"]["code"]) == ("failed", "3DS_FAILED"), number
        elif card.behaviour is Behaviour.APPROVE:
            assert p["status"] == "completed", (number, p)
        else:
            assert p["status"] == "failed", (number, p)
            assert card.error is not None and p["error"]["code"] == card.error.value, (number, p)
    rows = sim.ledger()
    sales = [r for r in rows if r["kind"] == "sale"]
    assert all(len(r["card"]) == 13 for r in sales)  # BIN and last four, never the number
    held = [r for r in sales if r["answered"] == 0]
    assert len(held) == 1 and held[0]["response_code"] == "00"  # the never-answered card, approved and held
    async with iso.uow(read_only=True) as tx:
        queued = [r for p in await tx.payments.stale_operations(utcnow(), 10) for r in [p]]
    assert queued == []  # nothing is left open: the unanswered one failed with its reversal queued
    assert await send_queued_reversals(deps=iso.payments) == 1
    reversed_row = next(r for r in sim.ledger() if r["id"] == held[0]["id"])
    assert reversed_row["reversed"] == 1


async def test_a_challenged_payment_is_authorised_over_the_link_with_its_own_stan_and_rrn(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    http, headers = api
    started = await http.post(
        "/v1/payments", json=payment("4000002500003155", return_url="https://yoursite.com/back"), headers=headers
    )
    assert started.status_code == 202, started.text
    back = await answer_challenge(http, started.json()["redirect_url"])
    assert back.status_code == 303
    paid = (await http.get(f"/v1/payments/{started.json()['id']}", headers=headers)).json()
    assert paid["status"] == "completed" and paid["authentication"]["status"] == "Y", paid
    async with iso.uow(read_only=True) as tx:
        stored = await tx.payments.get_by_id(paid["id"])
    assert stored is not None
    data = stored.operations[0].processor_data
    [sale] = [row for row in sim.ledger() if row["kind"] == "sale"]
    # Numbered when its pending operation was committed after the challenge, not sent as STAN 000000.
    assert data.trace_number not in (None, "000000") and (sale["stan"], sale["rrn"]) == (
        data.trace_number,
        data.retrieval_ref,
    )


async def test_capture_refund_and_void_reach_the_host_as_0220_0200_and_0400(
    api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    http, headers = api
    p = await _pay(api, "4242424242424242", capture_method="manual")
    assert p["status"] == "authorized"
    captured = (await http.post(f"/v1/payments/{p['id']}/capture", headers=headers)).json()
    assert captured["status"] == "completed"
    refunded = await http.post(f"/v1/payments/{p['id']}/refunds", json={"amount": 400}, headers=headers)
    assert refunded.status_code in (200, 201), refunded.text
    other = await _pay(api, "5555555555554444", capture_method="manual")
    voided = (await http.post(f"/v1/payments/{other['id']}/void", headers=headers)).json()
    assert voided["status"] == "voided", voided
    kinds = [(r["mti"], r["kind"], r["response_code"]) for r in sim.ledger()]
    assert kinds == [
        ("0100", "auth", "00"),
        ("0220", "capture", "00"),
        ("0200", "refund", "00"),
        ("0100", "auth", "00"),
        ("0400", "reversal", "00"),
    ]
    settled = sim.control("POST", "/settle")
    lines = sim.settlement_path.read_text().splitlines()
    assert settled["lines"] == 2 and [line.split("|")[0] for line in lines] == ["capture", "refund"]


async def test_a_timed_out_authorisation_fails_only_with_its_reversal_queued_and_the_reversal_is_retried(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    sim.faults(drop=1)
    p = await _pay(api, "4242424242424242")
    assert (p["status"], p["error"]["code"]) == ("failed", "NETWORK_ERROR")
    async with iso.uow(read_only=True) as tx:
        (queued,) = await tx.reversals.for_payment(p["id"])
    assert queued.attempts == 0 and queued.acknowledged_at is None
    assert await send_queued_reversals(deps=iso.payments) == 1  # 0400: dropped too
    async with iso.uow(read_only=True) as tx:
        (queued,) = await tx.reversals.for_payment(p["id"])
    assert queued.attempts == 1 and queued.acknowledged_at is None and queued.next_attempt_at > utcnow()
    assert await send_queued_reversals(deps=iso.payments) == 0  # backing off
    sim.faults(clear=1)
    async with iso.db.begin() as conn:
        await conn.execute(update(t.reversal_queue).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert await send_queued_reversals(deps=iso.payments) == 1  # 0420 advice: acknowledged
    async with iso.uow(read_only=True) as tx:
        (queued,) = await tx.reversals.for_payment(p["id"])
    assert queued.attempts == 2 and queued.acknowledged_at is not None
    auth_row = next(r for r in sim.ledger() if r["kind"] == "sale")
    assert auth_row["response_code"] == "00" and auth_row["reversed"] == 1
    http, headers = api
    again = (await http.get(f"/v1/payments/{p['id']}", headers=headers)).json()
    assert again["status"] == "failed" and again["amount_captured"] == 0


async def test_a_late_approval_is_logged_and_never_approves(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    sim.faults(delay=1, delay_seconds=0.8)  # the answer comes after Tessera's 0.3 s time-out
    p = await _pay(api, "4242424242424242")
    assert (p["status"], p["error"]["code"]) == ("failed", "NETWORK_ERROR")
    processor = iso.payments.processors.by_name("iso8583")
    assert isinstance(processor, Iso8583Processor)
    deadline = time.monotonic() + 5
    while processor.link.late_answers == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert processor.link.late_answers == 1
    http, headers = api
    assert (await http.get(f"/v1/payments/{p['id']}", headers=headers)).json()["status"] == "failed"
    async with iso.uow(read_only=True) as tx:
        assert len(await tx.reversals.for_payment(p["id"])) == 1


async def test_refused_connections_fail_payments_without_a_reversal_and_the_link_comes_back(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    # The window is long enough that a loaded machine still pays inside it (1.5 s was not, once in CI); the
    # link's coming back is then polled for, every failure meanwhile a network error.
    sim.faults(refuse=4.0)
    await asyncio.sleep(0.3)
    p = await _pay(api, "4242424242424242")
    assert (p["status"], (p["error"] or {}).get("code")) == ("failed", "NETWORK_ERROR")
    async with iso.uow(read_only=True) as tx:
        assert await tx.reversals.for_payment(p["id"]) == []  # nothing reached the host
    deadline = time.monotonic() + 20
    while (again := await _pay(api, "4242424242424242"))["status"] != "completed":
        assert (again["status"], (again["error"] or {}).get("code")) == ("failed", "NETWORK_ERROR")
        assert time.monotonic() < deadline, "the link did not come back within 20 s of the refusals' end"
        await asyncio.sleep(0.5)


async def test_the_ledger_asked_for_during_a_restart_is_read_once_the_host_is_back(
    iso: Container, api: tuple[httpx.AsyncClient, dict[str, str]], sim: AcquirerSim
) -> None:
    paid = await _pay(api, "4242424242424242")
    sim.faults(restart=1.0)
    started = time.monotonic()
    rows = await asyncio.to_thread(sim.ledger)  # the ledger file is closed while the host restarts
    assert time.monotonic() - started > 0.5  # answered only after the restart, not refused during it
    assert paid["status"] == "completed"
    assert [(r["kind"], r["response_code"]) for r in rows] == [("sale", "00")]


@pytest.fixture
async def live_iso(backend: Backend, tmp_path: Path, sim: AcquirerSim) -> AsyncIterator[tuple[Container, str, str]]:
    """Live mode on the ISO 8583 link (TESSERA_LIVE_PROCESSOR): no directory server is connected."""
    settings = make_settings(backend, tmp_path, live_processor=sim.url(stan_file=str(tmp_path / "stan")))
    c = build(settings)
    await c.start()
    try:
        made, creds = await create_merchant(
            "Live ISO Shop", uow=c.uow, allowed_domains=["shop.example"], modes=("live",)
        )
        await update_merchant(UpdateMerchant(made.id, charges=[Charge("*", "*", 0, 0)]), uow=c.uow)
        yield c, made.id, creds[0].secret_key
    finally:
        await c.close()


@pytest.mark.parametrize("policy", ["auto", "required"])
async def test_live_payments_on_the_link_go_without_3ds_under_auto_and_fail_when_the_merchant_requires_it(
    live_iso: tuple[Container, str, str], sim: AcquirerSim, policy: str
) -> None:
    from tessera.app import create_app

    c, merchant_id, key = live_iso
    await update_merchant(UpdateMerchant(merchant_id, threeds_policy=policy), uow=c.uow)
    app = create_app(c.settings, container=c, embedded_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://tessera.test") as http:
        r = await http.post("/v1/payments", json=payment("4242424242424242"), headers=auth(key))
    body = r.json()
    sales = [row for row in sim.ledger() if row["kind"] == "sale"]
    if policy == "auto":
        # As for a card whose range is not enrolled: authorised over ISO 8583, no authentication, ECI 07.
        assert (r.status_code, body["status"], body["authentication"]) == (201, "completed", None), r.text
        assert [row["response_code"] for row in sales] == ["00"]
    else:
        # 3-D Secure could not be performed, and the merchant insists on it: never sent to the acquirer.
        assert (body["status"], body["error"]["code"]) == ("failed", "3DS_FAILED"), r.text
        assert body["authentication"]["status"] == "U"
        assert sales == []


def _request(processor: Iso8583Processor, number: str = "4242424242424242") -> AuthorizeRequest:
    data = processor.prepare("PA")
    return AuthorizeRequest(
        "op_1", "pay_1", "mer_1", 1000, "INR", PAN.parse(number), Expiry(12, 2030), None, None, False, data=data
    )


@pytest.fixture
async def link(sim: AcquirerSim, tmp_path: Path) -> AsyncIterator[Iso8583Processor]:
    processor = Iso8583Processor.from_config(
        parse_processor(sim.url(stan_file=str(tmp_path / "stan"), timeout="0.5", connections="1"))
    )
    await processor.start()
    try:
        yield processor
    finally:
        await processor.stop()


@pytest.mark.parametrize("fault", ["drop", "close", "garble"])
async def test_a_lost_or_unreadable_answer_is_unknown_never_approved(
    link: Iso8583Processor, sim: AcquirerSim, fault: str
) -> None:
    sim.faults(**{fault: 1})
    result = await link.authorize(_request(link))
    assert result.outcome is Outcome.UNKNOWN
    sim.faults(clear=1)
    await asyncio.sleep(0.3 if fault == "close" else 0)  # a closed connection is opened again
    for _ in range(20):
        result = await link.authorize(_request(link))
        if result.outcome is not Outcome.UNAVAILABLE:
            break
        await asyncio.sleep(0.1)
    assert result.outcome is Outcome.APPROVED


async def test_an_answer_sent_twice_is_taken_once(link: Iso8583Processor, sim: AcquirerSim) -> None:
    sim.faults(duplicate=1)
    results = await asyncio.gather(*(link.authorize(_request(link)) for _ in range(8)))
    assert all(r.outcome is Outcome.APPROVED for r in results)
    await asyncio.sleep(0.2)
    assert link.link.late_answers == 8
    assert len({r.processor_ref for r in results}) == 8


async def test_many_messages_in_flight_on_one_connection_are_matched_by_stan(
    link: Iso8583Processor, sim: AcquirerSim
) -> None:
    cards = ["4242424242424242", "4000000000000002", "4000000000009995", "4000000000000069"] * 25
    results = await asyncio.gather(*(link.authorize(_request(link, n)) for n in cards))
    codes = [r.response_code for r in results]
    assert codes == ["00", "05", "51", "54"] * 25


async def test_the_link_signs_on_echoes_and_on_stop_drains_what_is_in_flight_then_signs_off(
    sim: AcquirerSim, tmp_path: Path
) -> None:
    def handled() -> int:  # every message the host acted on, 0800s included
        count: int = sim.control("GET", "/health")["handled"]
        return count

    processor = Iso8583Processor.from_config(
        parse_processor(sim.url(stan_file=str(tmp_path / "stan"), timeout="3", echo="0.3", connections="1"))
    )
    await processor.start()
    assert processor.link.up and handled() == 1  # the sign-on
    await asyncio.sleep(1.1)
    assert handled() >= 1 + 3  # an echo every 0.3 s, with nothing else sent
    sim.faults(delay=1, delay_seconds=0.8)  # financial answers only; network management is never delayed
    before = handled()
    in_flight = [asyncio.create_task(processor.authorize(_request(processor))) for _ in range(3)]
    await asyncio.sleep(0.2)
    await processor.stop()  # waits for the three answers, then signs off and closes
    assert all(task.done() and task.result().outcome is Outcome.APPROVED for task in in_flight)
    assert not processor.link.up
    await asyncio.sleep(0.2)
    # The three authorisations and the sign-off (0800, DE70 002); an echo may have gone before `stop`.
    assert before + 3 + 1 <= handled() <= before + 3 + 1 + 1
    after_stop = await processor.authorize(_request(processor))
    assert after_stop.outcome is Outcome.UNAVAILABLE  # nothing is sent on a stopped link


def test_an_authorisation_and_a_reversal_work_against_iso8583sims_mock_host(tmp_path: Path) -> None:
    """iso8583sim (PyPI, by Subhadip Mitra) `serve` in its defaults: 1987, ASCII fields with a binary
    bitmap, a 2-byte binary length header."""
    executable = shutil.which("iso8583sim", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail("iso8583sim is a test dependency: pip install iso8583sim")
    port = free_port()
    host = subprocess.Popen(
        [executable, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    async def exchange() -> tuple[Outcome, str | None, Outcome]:
        processor = Iso8583Processor.from_config(
            parse_processor(f"iso8583://127.0.0.1:{port}?stan_file={tmp_path / 'stan'}&timeout=2")
        )
        for _ in range(50):  # the host takes a moment to listen
            await processor.start()
            if processor.link.up:
                break
            await processor.stop()
            await asyncio.sleep(0.1)
        try:
            req = _request(processor)
            approved = await processor.authorize(req)
            reverse = ReverseRequest("op_1", "pay_1", 1000, "INR", original_data=req.data, data=processor.prepare("RV"))
            reversal = await processor.reverse(reverse)
            return approved.outcome, approved.auth_code, reversal.outcome
        finally:
            await processor.stop()

    try:
        outcome, auth_code, reversal = asyncio.run(exchange())
    finally:
        host.terminate()
        output = host.communicate(timeout=10)[0].decode(errors="replace")
    assert (outcome, reversal) == (Outcome.APPROVED, Outcome.APPROVED), output
    assert auth_code
    assert "errors 0" in output and "'00'" in output
