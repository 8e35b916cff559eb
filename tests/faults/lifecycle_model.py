"""A small, independent model of a payment's life in the native API, for the stateful property test.

It is written from the documents (docs/architecture.md's state table and amount rules, the README's
API description and docs/test-cards.md), not from the core's code, so that the test can catch the code
being wrong: each method says what the API must answer to one request and changes the model only when
that request is accepted. Nothing here does I/O.

The rules it holds:
- a card payment made in one call is one attempt: approved it is `completed` (automatic capture) or
  `authorized` (manual), declined it is `failed` (400); an intent (no card) is `requires_payment_method`
  with an attempt budget of 3, and a declined confirmation returns it there (402) until the budget is
  spent, then it is `failed` (400);
- captured <= authorised: an authorised payment is captured (CP) or confirmed by the acquirer (RC) once,
  whole or part, or voided (RV, the whole authorisation);
- refunded <= captured - charged back: refunds (RF) only from `completed` or `partially_refunded`; all
  of it refunded is `refunded` (final);
- a chargeback (CB) takes at most what is neither refunded nor charged back yet, from a payment that
  is `completed`, `partially_refunded` or already `charged_back`; a reversal (CR) gives back at most
  what is charged back, and when nothing stays charged back the payment is `completed` again (or
  `partially_refunded` if part was refunded);
- a rebill (RB) is a new sale on the saved card of a payment that was captured;
- a request is judged on the payment's state first (409 `invalid_state`), then on what is left to move
  (409 `amount_too_large` when nothing is), then on its amount (400 for zero, 409 above the limit);
- every accepted money movement is exactly one event; a refused request is none, and its
  Idempotency-Key is free again; an answer about a payment (accepted or declined) is kept for its key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ATTEMPT_BUDGET = 3  # a new merchant's, as the README says

# The model and the test's printed steps name cards, never their numbers (docs/test-cards.md).
CARDS = {
    "visa": "4242424242424242",  # frictionless 3-D Secure, approved
    "mastercard": "5555555555554444",  # frictionless 3-D Secure, approved
    "declined": "4000000000000002",  # frictionless 3-D Secure, then CARD_DECLINED by the issuer
}
APPROVED = ("visa", "mastercard")
DECLINED = "declined"

INVALID_STATE = "invalid_state"
AMOUNT_TOO_LARGE = "amount_too_large"
PARAMETER_INVALID = "parameter_invalid"
KEY_REUSED = "idempotency_key_reused"

# An operation as the payment lists it: (type, amount, status).
Op = tuple[str, int, str]


@dataclass(frozen=True)
class EventModel:
    """One event the API must publish: its type, its payment (None for a card event), and the money
    movement it reports with the payment's status after it."""

    type: str
    payment: PaymentModel | None
    operation: tuple[str, int] | None = None
    status: str | None = None


@dataclass(eq=False)
class PaymentModel:
    amount: int
    manual: bool
    status: str = "requires_payment_method"
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    charged_back: int = 0
    attempts_left: int = ATTEMPT_BUDGET
    operations: list[Op] = field(default_factory=list)
    error_code: str | None = None
    saved_card: str | None = None  # the saved card this payment names, if any
    original: PaymentModel | None = None
    id: str | None = None  # the server's id, learned from its first answer

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded - self.charged_back

    def check_invariants(self) -> None:
        assert 0 <= self.captured <= self.authorized <= self.amount
        assert 0 <= self.refunded + self.charged_back <= self.captured


@dataclass
class Answer:
    """What the API must answer: an HTTP status and either a payment or an error code; with the events
    it must publish and whether the answer is kept for its Idempotency-Key."""

    status: int
    payment: PaymentModel | None = None
    error: str | None = None
    events: list[EventModel] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        return self.payment is not None


def refused(status: int, code: str) -> Answer:
    return Answer(status, error=code)


@dataclass
class Ledger:
    """The model of one merchant: its payments, its saved cards and the events it must see."""

    payments: list[PaymentModel] = field(default_factory=list)
    saved_cards: set[str] = field(default_factory=set)  # cards saved for the one card owner
    tokens: dict[str, str] = field(default_factory=dict)  # saved card -> its card_token, learned

    # ------------------------------------------------------------------------- creating and paying

    def create(self, amount: int, card_name: str | None, *, manual: bool, save: bool) -> Answer:
        p = PaymentModel(amount, manual)
        self.payments.append(p)
        if card_name is None:
            return Answer(201, p, events=[EventModel("payment.created", p, None, p.status)])
        p.attempts_left = 1  # a payment made with its card in one call is one attempt
        return self._attempt(p, card_name, save, approved_http=201, declined_http=400)

    def confirm(self, p: PaymentModel, card_name: str, *, save: bool) -> Answer:
        if p.status == "failed" or (p.status == "requires_payment_method" and p.attempts_left <= 0):
            return refused(409, "attempts_exhausted")  # a failed payment spent its attempt budget
        if p.status != "requires_payment_method":
            return refused(409, INVALID_STATE)
        return self._attempt(p, card_name, save, approved_http=200, declined_http=402)

    def _attempt(
        self, p: PaymentModel, card_name: str, save: bool, *, approved_http: int, declined_http: int
    ) -> Answer:
        kind = "PA" if p.manual else "DB"
        p.attempts_left -= 1
        if card_name == DECLINED:
            p.operations.append((kind, p.amount, "failed"))
            p.error_code = "CARD_DECLINED"
            if p.attempts_left > 0:
                p.status = "requires_payment_method"
                event = EventModel("payment.attempt_failed", p, (kind, p.amount), p.status)
                return Answer(declined_http, p, events=[event])
            p.status = "failed"
            return Answer(400, p, events=[EventModel("payment.failed", p, (kind, p.amount), p.status)])
        p.operations.append((kind, p.amount, "succeeded"))
        p.error_code = None
        p.authorized = p.amount
        if p.manual:
            p.status = "authorized"
            events = [EventModel("payment.authorized", p, (kind, p.amount), p.status)]
        else:
            p.status, p.captured = "completed", p.amount
            events = [EventModel("payment.completed", p, (kind, p.amount), p.status)]
        if save:
            p.saved_card = card_name
            if card_name not in self.saved_cards:  # the owner holds each card once
                self.saved_cards.add(card_name)
                events.append(EventModel("card.saved", None))
        return Answer(approved_http, p, events=events)

    def rebill(self, original: PaymentModel, amount: int) -> Answer:
        if original.saved_card is None or original.captured <= 0:
            return refused(409, INVALID_STATE)
        p = PaymentModel(amount, manual=False, status="completed", authorized=amount, captured=amount)
        p.attempts_left, p.saved_card, p.original = 0, original.saved_card, original
        p.operations.append(("RB", amount, "succeeded"))
        self.payments.append(p)
        return Answer(201, p, events=[EventModel("payment.completed", p, ("RB", amount), p.status)])

    # ------------------------------------------------------------------------ after the authorisation

    def capture(self, p: PaymentModel, amount: int | None) -> Answer:
        return self._take(p, amount, "CP", 200)

    def receipt(self, p: PaymentModel, amount: int | None) -> Answer:
        return self._take(p, amount, "RC", 200)

    def _take(self, p: PaymentModel, amount: int | None, kind: str, http: int) -> Answer:
        if p.status != "authorized":
            return refused(409, INVALID_STATE)
        if amount is not None and amount <= 0:
            return refused(400, PARAMETER_INVALID)
        amount = p.authorized if amount is None else amount
        if amount > p.authorized:
            return refused(409, AMOUNT_TOO_LARGE)
        p.captured, p.status = amount, "completed"
        p.operations.append((kind, amount, "succeeded"))
        return Answer(http, p, events=[EventModel("payment.completed", p, (kind, amount), p.status)])

    def void(self, p: PaymentModel) -> Answer:
        if p.status != "authorized":
            return refused(409, INVALID_STATE)
        p.status = "voided"
        p.operations.append(("RV", p.authorized, "succeeded"))
        return Answer(200, p, events=[EventModel("payment.voided", p, ("RV", p.authorized), p.status)])

    def refund(self, p: PaymentModel, amount: int | None) -> Answer:
        if p.status not in ("completed", "partially_refunded"):
            return refused(409, INVALID_STATE)
        if amount is not None and amount <= 0:
            return refused(400, PARAMETER_INVALID)
        amount = p.refundable if amount is None else amount
        if amount > p.refundable:
            return refused(409, AMOUNT_TOO_LARGE)
        p.refunded += amount
        p.status = "refunded" if p.refunded == p.captured else "partially_refunded"
        p.operations.append(("RF", amount, "succeeded"))
        return Answer(201, p, events=[EventModel("refund.succeeded", p, ("RF", amount), p.status)])

    # --------------------------------------------------------------------- the acquirer's own reports

    def chargeback(self, p: PaymentModel, amount: int | None) -> Answer:
        if p.status not in ("completed", "partially_refunded", "charged_back"):
            return refused(409, INVALID_STATE)
        left = p.captured - p.refunded - p.charged_back
        if left <= 0:  # nothing left, as a refund of nothing left
            return refused(409, AMOUNT_TOO_LARGE)
        if amount is not None and amount <= 0:
            return refused(400, PARAMETER_INVALID)
        amount = left if amount is None else amount
        if amount > left:
            return refused(409, AMOUNT_TOO_LARGE)
        p.charged_back += amount
        p.status = "charged_back"
        p.operations.append(("CB", amount, "succeeded"))
        return Answer(200, p, events=[EventModel("chargeback.created", p, ("CB", amount), p.status)])

    def chargeback_reversal(self, p: PaymentModel, amount: int | None) -> Answer:
        if p.charged_back <= 0:
            return refused(409, INVALID_STATE)
        if amount is not None and amount <= 0:
            return refused(400, PARAMETER_INVALID)
        amount = p.charged_back if amount is None else amount
        if amount > p.charged_back:
            return refused(409, AMOUNT_TOO_LARGE)
        p.charged_back -= amount
        if p.charged_back == 0:
            p.status = "partially_refunded" if p.refunded else "completed"
        p.operations.append(("CR", amount, "succeeded"))
        return Answer(200, p, events=[EventModel("chargeback.reversed", p, ("CR", amount), p.status)])
