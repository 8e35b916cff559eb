"""One card tried on a payment: what `service._pay` knows of it (the card, its fee, the payment it is for),
and what the risk controls decide of it before 3-D Secure and the acquirer (`core.risk`), recorded on the
payment as a refused attempt when they refuse it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from tessera.core.errors import ConflictError, ErrorCode, NotFoundError
from tessera.core.merchants import Merchant
from tessera.core.payments.commands import SaveCardOnSuccess
from tessera.core.payments.model import CardSnapshot, Payment, PaymentStatus
from tessera.core.payments.settle import PaymentDeps
from tessera.core.ports import ConcurrentUpdateError, Processor, UnitOfWork
from tessera.core.risk import service as risk
from tessera.core.risk.model import AttemptFacts, RiskDecision
from tessera.core.vault.pan import CardData
from tessera.core.vault.service import fingerprint_of

logger = logging.getLogger(__name__)


def check_confirmable(payment: Payment) -> None:
    """An intent may take a card while it waits for one and has attempts left. A failed payment has spent
    its attempt budget (a failed attempt fails the payment only then): ATTEMPTS_EXHAUSTED, which each
    dialect words as its vendor does (Paysecure's "Allowed Attempt for this Transaction has been consumed")."""
    if payment.status is PaymentStatus.FAILED or (
        payment.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and payment.attempts_left <= 0
    ):
        raise ConflictError("the payment has used all its attempts", code=ErrorCode.ATTEMPTS_EXHAUSTED)
    if payment.status is not PaymentStatus.REQUIRES_PAYMENT_METHOD:
        raise ConflictError(f"a payment that is {payment.status.value} cannot be confirmed")


class CardAttempt:
    """One card for a payment, with everything `service._pay` needs about it."""

    def __init__(
        self,
        card: CardData,
        card_token: str | None,
        save: SaveCardOnSuccess | None,
        processor: Processor,
        merchant: Merchant,
    ) -> None:
        self.card, self.card_token, self.save = card, card_token, save
        self.processor, self.merchant = processor, merchant
        self.snapshot = snapshot(card)
        self.fee: int | None = None


def fee_of(attempt: CardAttempt, mode: str, currency: str, amount: int, deps: PaymentDeps) -> int:
    """The payment's fee; CHARGES_INCOMPLETE for a live one its merchant set no charge for."""
    brand = attempt.card.pan.brand.value
    return risk.fee_for(attempt.merchant, mode, brand, currency, amount, deps.default_test_charge)


class NewPayment:
    """A payment made with its card in one call: inserted once 3-D Secure has spoken."""

    def __init__(self, payment_id: str, fields: dict[str, Any]) -> None:
        self.id, self.fields, self.mode = payment_id, fields, str(fields["mode"])
        self.amount, self.currency, self.browser = fields["amount"], fields["currency"], fields["browser"]


class Confirmation:
    """An intent taking a card: changed under its row lock once 3-D Secure has spoken."""

    def __init__(self, payment: Payment, browser: dict[str, Any] | None, return_url: str | None) -> None:
        self.id, self.payment, self.mode = payment.id, payment, payment.mode
        self.amount, self.currency = payment.amount, payment.currency
        self.browser = browser if browser is not None else payment.browser
        self.return_url = return_url

    def apply(self, payment: Payment, attempt: CardAttempt) -> None:
        check_confirmable(payment)
        payment.browser = self.browser
        if self.return_url is not None:
            payment.return_url = self.return_url
        payment.card_token = attempt.card_token
        payment.fee = attempt.fee


def risk_facts(attempt: CardAttempt, target: NewPayment | Confirmation, deps: PaymentDeps) -> AttemptFacts:
    customer = target.fields.get("customer") if isinstance(target, NewPayment) else target.payment.customer
    email, identifier = risk.customer_facts(customer)
    ip = (target.browser or {}).get("ip")
    return AttemptFacts(
        merchant_id=attempt.merchant.id,
        mode=target.mode,
        amount=target.amount,
        currency=target.currency,
        card_fingerprint=fingerprint_of(attempt.card.pan, deps.cipher),
        bin=attempt.card.pan.reveal()[:8],  # 6 and 8 digit BINs are matched; only they leave this function
        brand=attempt.card.pan.brand.value,
        email=email,
        customer=identifier,
        ip=ip if isinstance(ip, str) else None,
    )


async def record_refusal(
    tx: UnitOfWork, attempt: CardAttempt, target: NewPayment | Confirmation, decision: RiskDecision, now: datetime
) -> Payment:
    """Record, in `tx`, the attempt risk refused (ConcurrentUpdateError: the intent changed; decide again)."""
    if isinstance(target, NewPayment):
        fields = target.fields | {"card_token": attempt.card_token}
        payment = Payment.refused_by_risk(
            payment_id=target.id,
            now=now,
            card=attempt.snapshot,
            decision=decision.as_dict(),
            code=decision.code,
            **fields,
        )
        await tx.payments.add(payment)
        return payment
    found = await tx.payments.get_for_update(target.payment.merchant_id, target.payment.mode, target.id)
    if found is None:
        raise NotFoundError("no such payment", field="id")
    target.apply(found, attempt)
    found.refuse_by_risk(attempt.snapshot, decision.as_dict(), decision.code, now)
    await tx.payments.save(found)
    return found


async def refuse(
    attempt: CardAttempt, target: NewPayment | Confirmation, decision: RiskDecision, *, deps: PaymentDeps, now: datetime
) -> Payment:
    """Risk refused the attempt before 3-D Secure: the payment keeps the refused attempt, nothing was sent."""
    while True:
        async with deps.uow() as tx:
            try:
                payment = await record_refusal(tx, attempt, target, decision, now)
            except ConcurrentUpdateError:
                continue
            await tx.commit()
        return refused(payment, decision, deps)


def refused(payment: Payment, decision: RiskDecision, deps: PaymentDeps) -> Payment:
    logger.info(
        "risk refused code=%s",
        decision.code.value,
        extra={"payment_id": payment.id, "merchant_id": payment.merchant_id, "code": decision.code.value},
    )
    payment.clear_changes()
    deps.metrics.payment_finished(payment.status.value, payment.error_code)
    return payment


def snapshot(card: CardData) -> CardSnapshot:
    return CardSnapshot(
        bin=card.pan.bin,
        last4=card.pan.last4,
        brand=card.pan.brand.value,
        exp_month=card.expiry.month,
        exp_year=card.expiry.year,
        holder_name=card.holder_name,
    )
