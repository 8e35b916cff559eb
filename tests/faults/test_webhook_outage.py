"""A webhook receiver down for a while, in each way receivers go down (connections refused, then 503s,
then requests left hanging past the webhook time-out), while payments, captures and refunds go on at a
steady rate against a real `tessera serve`. Once it is back, every event the gateway emitted reaches it,
signed, each payment's events first arriving in sequence order, and any duplicate with its event's
`webhook-id`. The retry schedule is shortened by configuration (TESSERA_WEBHOOK_RETRY_DELAYS) so the
retries span the outage; the outage is ~17 s in `make test` and 3 minutes in `make soak`."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import BACKENDS, database_for
from tests.e2e.server import Server
from tests.factories import payment
from tests.faults.conftest import Figure, scaled
from tests.faults.flaky_receiver import Arrival, FlakyReceiver, Mode
from tests.faults.live import Api, running_server
from tests.waiting import wait_until_sync

pytestmark = pytest.mark.e2e

CARD = "4242424242424242"
WEBHOOK_TIMEOUT = 1.0
HANG = 2 * WEBHOOK_TIMEOUT  # a hanging receiver answers only after the sender has given up
# The outage, phase by phase, in seconds: connections refused, then 503s, then requests left hanging.
UP_BEFORE = scaled(2, 5)
REFUSING = scaled(7, 90)
FAILING = scaled(5, 60)
HANGING = scaled(5, 30)
UP_AFTER = scaled(2, 5)
OUTAGE = REFUSING + FAILING + HANGING
# Retries every few seconds, enough of them to outlast the outage (each wait may be 10% shorter).
RETRY_GAP = scaled(3, 5)
RETRIES = scaled(20, 45)
SCHEDULE = ",".join(["1s", "2s", *[f"{RETRY_GAP}s"] * RETRIES])
OPERATION_EVERY = 0.2  # seconds between two merchant calls


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return database_for(request, "faults")


@pytest.fixture
def server(artifacts: Path, database_url: str | None) -> Iterator[Server]:
    env = {
        "TESSERA_WEBHOOK_RETRY_DELAYS": SCHEDULE,
        "TESSERA_WEBHOOK_TIMEOUT_SECONDS": str(WEBHOOK_TIMEOUT),
        "TESSERA_WEBHOOK_POLL_SECONDS": "0.05",
    }
    yield from running_server(artifacts, "webhook-outage", database_url, env)


@pytest.fixture
def receiver() -> Iterator[FlakyReceiver]:
    r = FlakyReceiver(hang_seconds=HANG)
    r.set_mode(Mode.UP)
    try:
        yield r
    finally:
        r.stop()


@dataclass
class Load:
    """Payments and money movements at a steady rate: sales, authorisations captured in part, and
    partial refunds of what was captured, until `stop` is set."""

    api: Api
    stop: threading.Event = field(default_factory=threading.Event)
    calls: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        authorized: list[str] = []
        captured: list[str] = []
        step = 0
        while not self.stop.is_set():
            started = time.monotonic()
            kind = ("sale", "authorize", "capture", "refund")[step % 4]
            step += 1
            try:
                self._call(kind, authorized, captured)
            except Exception as exc:  # a failed call is reported by the test, not lost in a thread
                self.failures.append(f"{kind}: {exc!r}")
            self.stop.wait(max(0.0, OPERATION_EVERY - (time.monotonic() - started)))

    def _call(self, kind: str, authorized: list[str], captured: list[str]) -> None:
        if kind == "sale":
            r = self.api.post("/v1/payments", payment(CARD, amount=1500))
            self._check(kind, r.status_code, 201, r.text)
            captured.append(r.json()["id"])
        elif kind == "authorize":
            r = self.api.post("/v1/payments", payment(CARD, amount=2000, capture_method="manual"))
            self._check(kind, r.status_code, 201, r.text)
            authorized.append(r.json()["id"])
        elif kind == "capture" and authorized:
            paid = authorized.pop(0)
            r = self.api.post(f"/v1/payments/{paid}/capture", {"amount": 1200})
            self._check(kind, r.status_code, 200, r.text)
            captured.append(paid)
        elif kind == "refund" and captured:
            paid = captured.pop(0)
            r = self.api.post(f"/v1/payments/{paid}/refunds", {"amount": 500})
            self._check(kind, r.status_code, 201, r.text)
        else:
            return
        self.calls[kind] += 1

    def _check(self, kind: str, got: int, expected: int, text: str) -> None:
        if got != expected:
            raise AssertionError(f"{kind} answered {got}: {text[:300]}")


def _first_arrival_order(arrivals: list[Arrival]) -> dict[str, list[int]]:
    """Per payment, the sequence numbers of its events in the order each first reached the receiver."""
    seen: set[str] = set()
    order: dict[str, list[int]] = defaultdict(list)
    for a in arrivals:
        body = a.json
        if body["id"] in seen:
            continue
        seen.add(body["id"])
        order[str(body["data"].get("payment_id"))].append(body["sequence"])
    return order


def _inversions(order: dict[str, list[int]]) -> int:
    return sum(1 for seqs in order.values() for before, after in zip(seqs, seqs[1:], strict=False) if after < before)


def test_a_receiver_down_for_a_while_gets_every_event_in_order_per_payment_once_it_is_back(
    server: Server,
    receiver: FlakyReceiver,
    database_url: str | None,
    figure: Figure,
    pans_used: set[str],
) -> None:
    pans_used.add(CARD)
    api = Api(server)
    made = api.post("/v1/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    load = Load(api)
    loader = threading.Thread(target=load.run, daemon=True)
    loader.start()
    try:
        time.sleep(UP_BEFORE)
        for mode, seconds in ((Mode.REFUSING, REFUSING), (Mode.FAILING, FAILING), (Mode.HANGING, HANGING)):
            receiver.set_mode(mode)
            time.sleep(seconds)
        receiver.set_mode(Mode.UP)
        time.sleep(UP_AFTER)
    finally:
        load.stop.set()
        loader.join(timeout=60)
    events = api.events()
    wanted = {e["id"] for e in events}

    def all_delivered() -> bool:
        return wanted <= {a.json["id"] for a in receiver.delivered()}

    # The last retry of an event that waited out the whole outage comes at most RETRY_GAP (+10%) after it.
    try:
        wait_until_sync(all_delivered, what="every event to be delivered", within=60 + 2 * RETRY_GAP, every=0.2)
    except AssertionError:
        pass  # counted as lost below, and reported in the figure
    time.sleep(1)  # let any attempt still in flight land, so duplicates are counted too
    arrivals = list(receiver.arrivals)
    delivered = receiver.delivered()
    delivered_ids = Counter(a.json["id"] for a in delivered)
    lost = sorted(wanted - set(delivered_ids))
    unknown = sorted(set(delivered_ids) - wanted)
    duplicates = sum(n - 1 for n in delivered_ids.values())
    out_of_order = _inversions(_first_arrival_order(arrivals)) + _inversions(_first_arrival_order(delivered))
    bad_signatures = 0
    for a in arrivals:
        try:
            a.verified(secret)
        except WebhookVerificationError:
            bad_signatures += 1
    webhook_ids: dict[str, set[str]] = defaultdict(set)
    for a in arrivals:
        webhook_ids[a.json["id"]].add(a.headers["webhook-id"])
    foreign_ids = sum(1 for event_id, ids in webhook_ids.items() if ids != {event_id})
    payments = {e["data"].get("payment_id") for e in events}
    turned_away = sum(1 for a in arrivals if not a.delivered)
    database = "SQLite" if database_url is None else "PostgreSQL"
    calls = ", ".join(f"{n} {kind}s" for kind, n in sorted(load.calls.items()))
    figure(
        f"Webhook receiver outage, {database}",
        tried=f"{OUTAGE} s down ({REFUSING} s connections refused, then {FAILING} s of 503s, then {HANGING} s "
        f"hanging past the {WEBHOOK_TIMEOUT:g} s time-out) under load ({calls}); {len(events)} events from "
        f"{len(payments)} payments; {turned_away} requests turned away meanwhile; retries every "
        f"{RETRY_GAP} s by configuration",
        result=f"{len(events) - len(lost)} of {len(events)} delivered, {out_of_order} out of order per payment, "
        f"{len(lost)} lost; {duplicates} duplicates, {foreign_ids} with another webhook-id; "
        f"{bad_signatures} bad signatures",
    )
    assert not load.failures, load.failures[:5]
    assert turned_away > 0  # the receiver did see the outage's 503s and hangs, not only refusals
    assert not lost, f"{len(lost)} events never delivered, e.g. {lost[:3]}"
    assert not unknown
    assert out_of_order == 0
    assert bad_signatures == 0
    assert foreign_ids == 0
    api.close()
