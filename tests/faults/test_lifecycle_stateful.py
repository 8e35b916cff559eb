"""Stateful property test of the payment lifecycle against a real `tessera serve`, on SQLite and PostgreSQL.

Hypothesis drives random sequences of create (with a card, or an intent), confirm, capture, void,
refund, rebill, chargeback, chargeback reversal and receipt, with random amounts (over-amounts and zero
included), and retries: an earlier request sent again with its Idempotency-Key and body (the same
answer, no second effect; or, when the first was refused and its key freed, a fresh try), and an
earlier key with another body (refused). After every step the answer, the payment as fetched, and the
merchant's events since the last step are compared exactly with `lifecycle_model`, which is written
from the documents, not from the core.

Hypothesis state machines are synchronous, so the service runs as its own process (`tessera serve`,
no worker) on a free loopback port and the machine talks to it with a synchronous httpx client. A
fresh database per example would cost seconds, so each example is namespaced by a fresh merchant in
the one database of the test (its events are numbered from 1, its keys are its own).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, multiple, precondition, rule, run_state_machine_as_test

from tessera.bootstrap import build
from tessera.core.merchants import create_merchant
from tessera.settings import Settings
from tests.conftest import Backend
from tests.e2e.server import Server
from tests.factories import BROWSER, card
from tests.faults.conftest import Figure, scaled
from tests.faults.lifecycle_model import (
    APPROVED,
    CARDS,
    DECLINED,
    KEY_REUSED,
    Answer,
    EventModel,
    Ledger,
    PaymentModel,
)

pytestmark = pytest.mark.e2e

OWNER = "cust_lifecycle"  # the one card owner of each merchant: a card saved twice is found, not saved again
EXAMPLES = scaled(50, 240)
STEPS = scaled(40, 60)

WIRE_FIELDS = ("amount_authorized", "amount_captured", "amount_refunded", "amount_charged_back")


@dataclass
class World:
    """What every example shares: the server, an HTTP client, and a way to make a merchant."""

    http: httpx.Client
    new_merchant: Callable[[], str]  # a fresh merchant's test secret key
    counts: Counter[str]


@dataclass
class Sent:
    """A keyed request already sent, for a retry to send again."""

    key: str
    method: str
    path: str
    body: dict[str, Any] | None = field(repr=False)  # it may hold card data: never printed
    redo: Callable[[], Answer] = field(repr=False)  # the model's step, to run again if the key was freed
    kind: str = ""
    status: int = 0
    answer: Any = field(default=None, repr=False)
    kept: bool = False


class Lifecycle(RuleBasedStateMachine):
    """One merchant's payments, driven at random and checked against the model after every step."""

    world: World
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.world.counts["sequences"] += 1
        self.key = self.world.new_merchant()
        self.ledger = Ledger()
        self.sent: list[Sent] = []
        self.seen_events = 0

    # ------------------------------------------------------------------------------- plumbing

    def _post(self, path: str, body: dict[str, Any] | None, key: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        if body is None:
            return self.world.http.post(path, headers=headers)
        return self.world.http.post(path, json=body, headers=headers)

    def _get(self, path: str, **params: Any) -> Any:
        r = self.world.http.get(path, params=params, headers={"Authorization": f"Bearer {self.key}"})
        assert r.status_code == 200, r.text
        return r.json()

    def _step(
        self, kind: str, path: str, body: dict[str, Any] | None, step: Callable[[], Answer], keyed: bool
    ) -> Answer:
        """Send one request and hold its answer, the payment and the events against the model."""
        self.world.counts[kind] += 1
        sent = Sent(uuid.uuid4().hex, "POST", path, body, step, kind) if keyed else None
        expected = step()
        r = self._post(path, body, sent.key if sent else None)
        self._check(r, expected)
        if sent is not None:
            sent.status, sent.answer, sent.kept = r.status_code, r.json(), expected.kept
            self.sent.append(sent)
        return expected

    def _check(self, r: httpx.Response, expected: Answer) -> None:
        assert r.status_code == expected.status, (r.status_code, expected, r.text)
        body = r.json()
        if expected.payment is None:
            self.world.counts["refused"] += 1
            assert body["error"]["code"] == expected.error, body
        else:
            p = expected.payment
            if p.id is None:
                p.id = body["id"]
            if p.saved_card and p.saved_card not in self.ledger.tokens:
                # The card's token is the server's to choose: learned once, then every payment must name it.
                token = (body["card"] or {}).get("card_token")
                assert isinstance(token, str) and token, body["card"]
                self.ledger.tokens[p.saved_card] = token
            self._same_payment(body, p)
            assert self._get(f"/v1/payments/{p.id}") == body  # what was answered is what is stored
        self._check_events(expected.events)

    def _same_payment(self, got: dict[str, Any], p: PaymentModel) -> None:
        p.check_invariants()
        assert got["id"] == p.id
        want = {
            "status": p.status,
            "amount": p.amount,
            "capture_method": "manual" if p.manual else "automatic",
            "amount_authorized": p.authorized,
            "amount_captured": p.captured,
            "amount_refunded": p.refunded,
            "amount_charged_back": p.charged_back,
            "operations": p.operations,
            "error": p.error_code if p.status == "failed" else None,
            "last_error": p.error_code,  # why the last card failed, until one succeeds
            # Only a payment waiting for a card has cards left to try.
            "attempts_remaining": p.attempts_left if p.status == "requires_payment_method" else 0,
            "original_payment_id": p.original.id if p.original else None,
            "card_token": self.ledger.tokens.get(p.saved_card) if p.saved_card else None,
        }
        have = {
            **{name: got[name] for name in ("status", "amount", "capture_method", *WIRE_FIELDS)},
            "operations": [(o["type"], o["amount"], o["status"]) for o in got["operations"]],
            "error": got["error"]["code"] if got["error"] else None,
            "last_error": got["last_error"]["code"] if got["last_error"] else None,
            "attempts_remaining": got["attempts_remaining"],
            "original_payment_id": got["original_payment_id"],
            "card_token": got["card"]["card_token"] if got["card"] else None,
        }
        assert have == want, (have, want)
        # The amount rules, on what the server says, whatever the model says.
        assert 0 <= got["amount_captured"] <= got["amount_authorized"] <= got["amount"]
        assert 0 <= got["amount_refunded"] + got["amount_charged_back"] <= got["amount_captured"]

    def _check_events(self, expected: list[EventModel]) -> None:
        got: list[dict[str, Any]] = []
        while True:
            page = self._get("/v1/events", after=self.seen_events + len(got), limit=100)
            got += page["data"]
            if not page["has_more"]:
                break
        assert [e["sequence"] for e in got] == list(range(self.seen_events + 1, self.seen_events + 1 + len(got)))
        self.seen_events += len(got)
        have = [
            (
                e["type"],
                e["payment_id"],
                (e["data"]["operation"]["type"], e["data"]["operation"]["amount"])
                if e["data"].get("operation")
                else None,
                e["data"].get("status") if e["payment_id"] else None,
            )
            for e in got
        ]
        want = [(e.type, e.payment.id if e.payment else None, e.operation, _event_word(e.status)) for e in expected]
        assert have == want, (have, want)
        self.world.counts["events"] += len(got)

    def _aim(self, data: st.DataObject, p: PaymentModel, fits: Callable[[PaymentModel], bool]) -> PaymentModel:
        """Mostly a payment the operation fits (else most steps would be refusals), sometimes any."""
        fitting = [q for q in self.ledger.payments if fits(q)]
        if fitting and data.draw(st.integers(0, 3), label="aim") > 0:
            return data.draw(st.sampled_from(fitting), label="payment")
        return p

    # ---------------------------------------------------------------------------------- rules

    @rule(
        target=payments,
        amount=st.integers(1, 5000),
        card_name=st.sampled_from([*APPROVED, *APPROVED, DECLINED]),
        manual=st.booleans(),
        save=st.booleans(),
        keyed=st.booleans(),
    )
    def create_with_card(self, amount: int, card_name: str, manual: bool, save: bool, keyed: bool) -> PaymentModel:
        body: dict[str, Any] = {"amount": amount, "currency": "INR", "card": card(CARDS[card_name]), "browser": BROWSER}
        if manual:
            body["capture_method"] = "manual"
        if save:
            body |= {"save_card": True, "identifier": OWNER}
        step = lambda: self.ledger.create(amount, card_name, manual=manual, save=save)  # noqa: E731
        answer = self._step("create", "/v1/payments", body, step, keyed)
        assert answer.payment is not None
        return answer.payment

    @rule(target=payments, amount=st.integers(1, 5000), manual=st.booleans(), keyed=st.booleans())
    def create_intent(self, amount: int, manual: bool, keyed: bool) -> PaymentModel:
        body: dict[str, Any] = {"amount": amount, "currency": "INR"}
        if manual:
            body["capture_method"] = "manual"
        step = lambda: self.ledger.create(amount, None, manual=manual, save=False)  # noqa: E731
        answer = self._step("create", "/v1/payments", body, step, keyed)
        assert answer.payment is not None
        return answer.payment

    @rule(
        p=payments,
        data=st.data(),
        card_name=st.sampled_from([*APPROVED, DECLINED, DECLINED]),
        save=st.booleans(),
        keyed=st.booleans(),
    )
    def confirm(self, p: PaymentModel, data: st.DataObject, card_name: str, save: bool, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status == "requires_payment_method")
        body: dict[str, Any] = {"card": card(CARDS[card_name]), "browser": BROWSER}
        if save:
            body |= {"save_card": True, "identifier": OWNER}
        path = f"/v1/payments/{p.id}/confirm"
        self._step("confirm", path, body, lambda: self.ledger.confirm(p, card_name, save=save), keyed)

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def capture(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status == "authorized")
        amount = data.draw(_amounts(p.authorized))
        body = None if amount is None else {"amount": amount}
        self._step("capture", f"/v1/payments/{p.id}/capture", body, lambda: self.ledger.capture(p, amount), keyed)

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def void(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status == "authorized")
        self._step("void", f"/v1/payments/{p.id}/void", None, lambda: self.ledger.void(p), keyed)

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def refund(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status in ("completed", "partially_refunded"))
        amount = data.draw(_amounts(p.refundable))
        body = None if amount is None else {"amount": amount, "reason": "requested_by_customer"}
        self._step("refund", f"/v1/payments/{p.id}/refunds", body, lambda: self.ledger.refund(p, amount), keyed)

    @rule(target=payments, p=payments, data=st.data(), amount=st.integers(1, 5000), keyed=st.booleans())
    def rebill(self, p: PaymentModel, data: st.DataObject, amount: int, keyed: bool) -> Any:
        p = self._aim(data, p, lambda q: q.saved_card is not None and q.captured > 0)
        body = {"amount": amount, "reference": f"rebill-{amount}"}
        answer = self._step("rebill", f"/v1/payments/{p.id}/rebill", body, lambda: self.ledger.rebill(p, amount), keyed)
        # A rebill is a payment like any other: it joins the bundle for the rules that follow.
        return multiple() if answer.payment is None else answer.payment

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def chargeback(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status in ("completed", "partially_refunded", "charged_back"))
        amount = data.draw(_amounts(p.refundable))
        body = None if amount is None else {"amount": amount, "reason_code": "10.4"}
        path = f"/v1/test_helpers/payments/{p.id}/chargeback"
        self._step("chargeback", path, body, lambda: self.ledger.chargeback(p, amount), keyed)

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def chargeback_reversal(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.charged_back > 0)
        amount = data.draw(_amounts(p.charged_back))
        body = None if amount is None else {"amount": amount}
        path = f"/v1/test_helpers/payments/{p.id}/chargeback_reversal"
        self._step("chargeback_reversal", path, body, lambda: self.ledger.chargeback_reversal(p, amount), keyed)

    @rule(p=payments, data=st.data(), keyed=st.booleans())
    def receipt(self, p: PaymentModel, data: st.DataObject, keyed: bool) -> None:
        p = self._aim(data, p, lambda q: q.status == "authorized")
        amount = data.draw(_amounts(p.authorized))
        body = None if amount is None else {"amount": amount}
        path = f"/v1/test_helpers/payments/{p.id}/receipt"
        self._step("receipt", path, body, lambda: self.ledger.receipt(p, amount), keyed)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """An earlier keyed request again, byte for byte: its kept answer, or a fresh try if it was refused."""
        self._retry(data.draw(st.sampled_from(self.sent)))

    def _retry(self, sent: Sent) -> None:
        self.world.counts["retry"] += 1
        r = self._post(sent.path, sent.body, sent.key)
        if sent.kept:
            assert (r.status_code, r.json()) == (sent.status, sent.answer)
            assert r.headers.get("Idempotent-Replayed") == "true"
            self._check_events([])
            return
        expected = sent.redo()  # the refusal freed the key: this is a new request under it
        self._check(r, expected)
        sent.status, sent.answer, sent.kept = r.status_code, r.json(), expected.kept

    @precondition(lambda self: self.sent)
    @rule()
    def retry_the_last_request(self) -> None:
        """The commonest retry: the answer was lost, so the client sends the same request again at once."""
        self._retry(self.sent[-1])

    @precondition(lambda self: any(s.kept for s in self.sent))
    @rule(data=st.data())
    def reuse_key_with_another_body(self, data: st.DataObject) -> None:
        """A kept key with another request: refused, nothing happens."""
        sent = data.draw(st.sampled_from([s for s in self.sent if s.kept]))
        self.world.counts["key_reuse"] += 1
        other = {**(sent.body or {}), "amount": int((sent.body or {}).get("amount", 0)) + 1}
        r = self._post(sent.path, other, sent.key)
        assert r.status_code == 422 and r.json()["error"]["code"] == KEY_REUSED, r.text
        self._check_events([])

    def teardown(self) -> None:
        # Every payment of the merchant, as listed, is the model's.
        listed: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self._get("/v1/payments", limit=100, **({"starting_after": cursor} if cursor else {}))
            listed += page["data"]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        assert sorted(p["id"] for p in listed) == sorted(str(p.id) for p in self.ledger.payments)
        by_id = {p.id: p for p in self.ledger.payments}
        for got in listed:
            self._same_payment(got, by_id[got["id"]])


def _event_word(status: str | None) -> str | None:
    # An event carries the core's word for a payment's status, where the native payment says `completed`
    # (the same in webhooks): kept as the service publishes it, and reported.
    return "captured" if status == "completed" else status


def _amounts(limit: int) -> st.SearchStrategy[int | None]:
    """None (all of it), part, all, just over the limit (the boundary a wrong check lets through) or
    a little more, or zero."""
    part = st.integers(1, max(1, limit))
    over = st.integers(limit + 1, limit + 3)
    return st.one_of(st.none(), part, part, st.just(max(1, limit)), st.just(limit + 1), over, st.just(0))


RULES = ("create", "confirm", "capture", "void", "refund", "rebill", "chargeback", "chargeback_reversal", "receipt")


@pytest.mark.timeout(scaled(300, 1200))
def test_the_payment_lifecycle_follows_the_model_step_by_step(
    backend: Backend, artifacts: Path, pans_used: set[str], figure: Figure
) -> None:
    pans_used.update(CARDS.values())
    workdir = artifacts / f"lifecycle-{backend.name}-{uuid.uuid4().hex[:8]}"
    server = Server(workdir, database_url=backend.url).start("--no-worker")
    counts: Counter[str] = Counter()
    departure = None
    try:
        with asyncio.Runner() as runner, httpx.Client(base_url=server.base_url, timeout=30) as http:
            container = build(Settings(data_dir=workdir / ".tessera", database_url=backend.url))

            def new_merchant() -> str:
                _, [creds] = runner.run(create_merchant("Lifecycle Shop", uow=container.uow))
                return creds.secret_key

            machine = type("LifecycleRun", (Lifecycle,), {"world": World(http, new_merchant, counts)})
            try:
                run_state_machine_as_test(
                    machine,
                    settings=settings(
                        max_examples=EXAMPLES,
                        stateful_step_count=STEPS,
                        derandomize=True,
                        database=None,
                        deadline=None,
                        suppress_health_check=[HealthCheck.too_slow],
                        report_multiple_bugs=False,
                        # Shrinking replays against the live server for minutes; a failing sequence is
                        # printed whole instead, every step with its arguments.
                        phases=[Phase.explicit, Phase.generate],
                    ),
                )
            except AssertionError as exc:
                departure = exc
            finally:
                runner.run(container.close())
    finally:
        server.stop()
    database = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend.name]
    steps = sum(counts[name] for name in (*RULES, "retry", "key_reuse"))
    per_rule = ", ".join(f"{name.replace('_', ' ')} {counts[name]:,}" for name in RULES)
    figure(
        f"Payment lifecycle state machine, {database}",
        tried=(
            f"{counts['sequences']:,} sequences, {steps:,} steps ({per_rule}, retries with the same key "
            f"{counts['retry']:,}, a key reused with another body {counts['key_reuse']:,}); "
            f"{counts['refused']:,} refusals and {counts['events']:,} events, each as the model predicted"
        ),
        result="0 departures from the model" if departure is None else "1 departure from the model",
    )
    if departure is not None:
        raise departure
