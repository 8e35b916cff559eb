"""Processor faults against a real `tessera serve`: many payments at concurrency with the sandbox's
time-out card (the acquirer takes the authorisation and never answers) and refusal card (nothing reaches
it), mixed with approved cards, in one call and as intents confirmed later, and captures and refunds that
time out or are refused (docs/sandbox-faults.md). Every unknown outcome ends resolved, reversed or
reported, none approved; and the gateway's records agree with the sandbox acquirer's ledger, read from
what the acquirer logs about its faults: no authorisation left held, every held capture or refund
recorded as done."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS, database_for
from tests.e2e.server import Server
from tests.factories import BROWSER, card, payment
from tests.faults.conftest import Figure, scaled
from tests.faults.live import Api, running_server
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.e2e

TIME_OUT = "4000000000000259"  # the acquirer takes it and never answers
REFUSED = "4000000000000119"  # the acquirer refuses the connection
APPROVED = ("4242424242424242", "5555555555554444")
# Captures and refunds of these amounts fault (docs/sandbox-faults.md).
REFUSED_AMOUNT, NO_ANSWER_AMOUNT = 40_000_119, 40_000_259
ROUNDS = scaled(12, 120)
CONCURRENCY = 16


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return database_for(request, "faults")


@pytest.fixture
def server(artifacts: Path, database_url: str | None) -> Iterator[Server]:
    env = {"TESSERA_PROCESSOR_TIMEOUT_SECONDS": "0.3", "TESSERA_RECOVERY_GRACE_SECONDS": "2"}
    yield from running_server(artifacts, "processor-faults", database_url, env)


@dataclass(frozen=True)
class Job:
    number: str
    flow: str  # "one-call", "intent" (created, then confirmed with the card), or "follow-ups"
    amount: int


def _jobs() -> list[Job]:
    jobs = []
    for i in range(ROUNDS):
        for number in (TIME_OUT, REFUSED, APPROVED[i % 2]):
            jobs.append(Job(number, "one-call", 1000 + i))
            jobs.append(Job(number, "intent", 2000 + i))
        jobs.append(Job(APPROVED[i % 2], "follow-ups", NO_ANSWER_AMOUNT + 1000 + i))
    return jobs


def _run(api: Api, job: Job) -> tuple[Job, str, list[int]]:
    """Make the job's payment; returns its id and the HTTP statuses it was answered."""
    if job.flow == "one-call":
        r = api.post("/v1/payments", payment(job.number, amount=job.amount))
        return job, r.json()["id"], [r.status_code]
    if job.flow == "intent":
        made = api.post("/v1/payments", {"amount": job.amount, "currency": "INR"})
        paid = made.json()["id"]
        r = api.post(f"/v1/payments/{paid}/confirm", {"card": card(job.number), "browser": BROWSER})
        return job, paid, [made.status_code, r.status_code]
    made = api.post("/v1/payments", payment(job.number, amount=job.amount, capture_method="manual"))
    paid = made.json()["id"]
    statuses = [made.status_code]
    for path, amount in (
        ("capture", REFUSED_AMOUNT),
        ("capture", NO_ANSWER_AMOUNT),
        ("refunds", REFUSED_AMOUNT),
        ("refunds", NO_ANSWER_AMOUNT),
    ):
        statuses.append(api.post(f"/v1/payments/{paid}/{path}", {"amount": amount}).status_code)
    return job, paid, statuses


_LEDGER_LINE = re.compile(r"sandbox acquirer (holds (\w+)|reversed) (op_\w+)")


def _acquirer_ledger(server: Server) -> tuple[dict[str, str], set[str]]:
    """What the sandbox acquirer logged of its faults: operations it applied and never answered (by
    kind), and authorisations it reversed while holding them."""
    held: dict[str, str] = {}
    reversed_: set[str] = set()
    for line in server.output().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        found = _LEDGER_LINE.fullmatch(entry.get("msg", "").replace(" without answering", ""))
        if found is None:
            continue
        if found.group(2):
            held[found.group(3)] = found.group(2)
        elif entry.get("outcome") == "reversed":
            reversed_.add(found.group(3))
    return held, reversed_


def _authorisation(p: dict[str, Any]) -> dict[str, Any]:
    [op] = [o for o in p["operations"] if o["type"] in ("DB", "PA")]
    return op


def test_unknown_processor_outcomes_end_resolved_reversed_or_reported_never_approved(
    server: Server, database_url: str | None, figure: Figure, pans_used: set[str]
) -> None:
    pans_used.update({TIME_OUT, REFUSED, *APPROVED})
    api = Api(server)
    jobs = _jobs()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        done = list(pool.map(lambda job: _run(api, job), jobs))

    def read(paid: str) -> dict[str, Any]:
        found: dict[str, Any] = api.get(f"/v1/payments/{paid}").json()
        return found

    def nothing_open() -> bool:
        return not any(o["status"] == "pending" for _, paid, _ in done for o in read(paid)["operations"])

    # Time-outs are resolved inline; anything left open is the recovery job's (grace 2 s) to resolve.
    wait_until_sync(nothing_open, what="every operation to be resolved", within=60, every=1)
    held, reversed_ = _acquirer_ledger(server)
    payments = {paid: read(paid) for _, paid, _ in done}
    wrong: list[str] = []
    approved_faults = left_held = answered_5xx = 0
    counts: Counter[str] = Counter()
    for job, paid, statuses in done:
        p = payments[paid]
        answered_5xx += sum(1 for s in statuses if s >= 500)
        kind = {TIME_OUT: "time-out", REFUSED: "refused"}.get(job.number, "approved")
        counts[f"{kind} {job.flow}"] += 1
        if job.flow == "follow-ups":
            ops = [(o["type"], o["amount"], o["status"], o["error_code"]) for o in p["operations"]]
            expected = [
                ("PA", job.amount, "succeeded", None),
                ("CP", REFUSED_AMOUNT, "failed", "NETWORK_ERROR"),
                ("CP", NO_ANSWER_AMOUNT, "succeeded", None),  # applied by the acquirer: found by inquiry
                ("RF", REFUSED_AMOUNT, "failed", "NETWORK_ERROR"),
                ("RF", NO_ANSWER_AMOUNT, "succeeded", None),
            ]
            gateway_held = {o["id"] for o in p["operations"] if o["amount"] == NO_ANSWER_AMOUNT}
            if ops != expected or p["status"] != "refunded" or gateway_held - set(held):
                wrong.append(f"{paid}: {p['status']} {ops}")
            continue
        auth = _authorisation(p)
        if kind == "approved":
            ok = p["status"] == "completed" and p["amount_captured"] == job.amount and auth["id"] not in reversed_
        else:
            expected_status = "failed" if job.flow == "one-call" else "requires_payment_method"
            code = (p["error"] if job.flow == "one-call" else p["last_error"]) or {}
            charged = p["amount_authorized"] or p["amount_captured"] or p["status"] in ("completed", "authorized")
            approved_faults += bool(charged)
            # What the acquirer holds: the time-out card's authorisation until it is reversed; nothing of
            # the refused card's, which never reached it.
            in_ledger = auth["id"] in held
            left_held += in_ledger and auth["id"] not in reversed_
            ok = (
                p["status"] == expected_status
                and code.get("code") == "NETWORK_ERROR"
                and auth["status"] == "failed"
                and auth["error_code"] == "NETWORK_ERROR"
                and not charged
                and in_ledger == (kind == "time-out")
                and (kind == "refused" or auth["id"] in reversed_)
            )
        if not ok:
            wrong.append(f"{paid} ({kind} {job.flow}): {p['status']} {p['operations']}")
    held_auths = sum(1 for what in held.values() if what == "authorisation")
    held_follow_ups = len(held) - held_auths
    database = "SQLite" if database_url is None else "PostgreSQL"
    tried = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    figure(
        f"Processor faults (sandbox time-out and refusal), {database}",
        tried=f"{len(done)} payments at concurrency {CONCURRENCY}: {tried}; each follow-up payment has a capture "
        f"and a refund refused and a capture and a refund left unanswered; processor time-out 0.3 s",
        result=f"{approved_faults} faulted payments approved; {held_auths - left_held} of {held_auths} unanswered "
        f"authorisations reversed at the acquirer, {left_held} left held; {held_follow_ups} unanswered captures "
        f"and refunds recorded as the acquirer applied them; {len(wrong)} payments in a wrong state; "
        f"{answered_5xx} answers 5xx",
    )
    assert approved_faults == 0
    assert left_held == 0
    assert held_auths == counts["time-out one-call"] + counts["time-out intent"]
    assert held_follow_ups == 2 * counts["approved follow-ups"]
    assert not wrong, wrong[:5]
    assert answered_5xx == 0
    api.close()
