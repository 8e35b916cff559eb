"""The payments service: one function per command, each a short story of transactions.

Each money movement is two transactions around the processor call: the first locks the payment,
checks the rules and commits a pending operation (so the movement is durable before any money
moves); the second records the processor's result with its event. An unknown result is resolved at
once by `settle.resolve_operation`, and again later by the recovery job if the acquirer cannot say yet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError, DuplicateReferenceError, ErrorCode, NotFoundError, ValidationError
from tessera.core.ids import new_id
from tessera.core.merchants import Merchant
from tessera.core.money import check_amount
from tessera.core.payments.commands import (
    CapturePayment,
    CardSource,
    CreatePayment,
    RebillPayment,
    RefundPayment,
    SaveCardOnSuccess,
    SavedCardSource,
    TokenSource,
    VoidPayment,
)
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Operation, OperationType, Payment, PaymentStatus
from tessera.core.payments.settle import PaymentDeps, call_processor, record_result, resolve_operation
from tessera.core.ports import (
    AuthenticationData,
    AuthorizeRequest,
    ConcurrentUpdateError,
    DuplicateOrderReferenceError,
    FollowUpRequest,
    Outcome,
)
from tessera.core.threeds.flow import Authenticated, authenticate
from tessera.core.threeds.service import Decision, Policy
from tessera.core.vault.pan import CardData
from tessera.core.vault.service import SaveCard, open_saved_card, store_card
from tessera.core.vault.tokens import redeem_token

logger = logging.getLogger(__name__)

_Begin = Callable[[Payment, datetime], Operation]


def check_return_url(merchant: Merchant, url: str | None) -> None:
    if url is None:
        return
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise ValidationError("return_url must be an absolute http or https URL", field="return_url")
    if not merchant.allows_return_url_host(hostname):
        raise ValidationError(
            "return_url's host is not one of the merchant's allowed domains",
            code=ErrorCode.RETURN_URL_NOT_ALLOWED,
            field="return_url",
        )


async def rebill(cmd: RebillPayment, *, deps: PaymentDeps) -> Payment:
    """A new merchant-initiated debit (RB) on the saved card of an earlier payment: no CVV, no 3-D
    Secure, linked to the original by `original_payment_id`."""
    processor = deps.processors.for_mode(cmd.mode)
    amount = check_amount(cmd.amount)
    now = utcnow()
    async with deps.uow(read_only=True) as tx:
        original = await tx.payments.get(cmd.merchant_id, cmd.mode, cmd.payment_id)
        if original is None:
            raise NotFoundError("no such payment", field="id")
        if original.card_token is None:
            raise ConflictError("only a payment whose card is saved in the vault can be rebilled")
        if original.amount_captured <= 0:
            raise ConflictError(f"a payment that is {original.status.value} and never captured cannot be rebilled")
        _saved, card = await open_saved_card(
            tx, cmd.merchant_id, cmd.mode, original.card_token, None, cipher=deps.cipher, now=now
        )
    async with deps.uow() as tx:
        payment, op = Payment.start(
            now=now,
            first_operation=OperationType.RB,
            merchant_id=cmd.merchant_id,
            mode=cmd.mode,
            amount=amount,
            currency=original.currency,
            capture_method=CaptureMethod.AUTOMATIC,
            card=_snapshot(card),
            processor=processor.name,
            reference=cmd.reference,
            customer=original.customer,
            original_payment_id=original.id,
            card_token=original.card_token,
        )
        await tx.payments.add(payment)
        await tx.commit()
    payment.clear_changes()
    return await authorise(payment, op, card, None, deps=deps)


async def create_payment(cmd: CreatePayment, *, deps: PaymentDeps) -> Payment:
    """Resolve the card, authenticate the shopper, then authorise. An order reference already taken
    is refused (DuplicateReferenceError) when the payment is inserted, before any money moves."""
    try:
        return await _create_payment(cmd, deps=deps)
    except DuplicateOrderReferenceError:
        assert cmd.order_reference is not None
        # Read as a writer: on SQLite the winner may still be in the batch that is being committed.
        async with deps.uow() as tx:
            existing = await tx.payments.get_by_order_reference(cmd.merchant_id, cmd.mode, cmd.order_reference)
        raise DuplicateReferenceError(
            "an order with this reference already exists; it was not charged again",
            existing_id=existing.id if existing else None,
            field="reference_id",
        ) from None


async def _create_payment(cmd: CreatePayment, *, deps: PaymentDeps) -> Payment:
    processor = deps.processors.for_mode(cmd.mode)
    if cmd.save_card is not None and not cmd.save_card.identifier.strip():
        raise ValidationError("an identifier is needed to save the card", field="identifier")
    now = utcnow()
    payment_id = new_id("pay")
    card, card_token = await _resolve_card(cmd, payment_id, deps, now)
    threeds = deps.threeds.get(cmd.mode)
    auth = None
    if threeds is not None:
        auth = await authenticate(
            payment_id=payment_id,
            merchant_id=cmd.merchant_id,
            mode=cmd.mode,
            merchant_name=cmd.merchant_name,
            policy=Policy(cmd.threeds_policy),
            amount=cmd.amount,
            currency=cmd.currency,
            card=card,
            browser=cmd.browser,
            deps=threeds,
            cipher=deps.cipher,
            now=now,
        )
    if auth is not None and auth.decision is not Decision.PROCEED:
        return await _store_unauthorised(cmd, payment_id, processor.name, card, card_token, auth, deps, now)
    async with deps.uow() as tx:
        payment, op = _start(cmd, processor.name, now, payment_id, card)
        payment.card_token = card_token
        if auth is not None:
            payment.authentication = auth.record.summary()
        await tx.payments.add(payment)
        if auth is not None:
            await tx.authentications.add(auth.record)
        await tx.commit()
    payment.clear_changes()
    payment = await authorise(payment, op, card, auth.authorisation_data() if auth else None, deps=deps)
    if cmd.save_card is not None and not isinstance(cmd.source, SavedCardSource):
        payment = await save_card_after(payment, card, cmd.save_card, deps=deps)
    return payment


async def authorise(
    payment: Payment, op: Operation, card: CardData, authentication: AuthenticationData | None, *, deps: PaymentDeps
) -> Payment:
    """Send a committed, pending PA or DB to the acquirer and record what it says."""
    processor = deps.processors.by_name(payment.processor)
    request = AuthorizeRequest(
        operation_id=op.id,
        payment_id=payment.id,
        merchant_id=payment.merchant_id,
        amount=payment.amount,
        currency=payment.currency,
        pan=card.pan,
        expiry=card.expiry,
        cvv=card.cvv,
        holder_name=card.holder_name,
        capture=op.type.value == "DB",
        authentication=authentication,
    )
    started = time.perf_counter()
    result = await call_processor(processor.authorize(request), deps.processor_timeout)
    logger.info(
        "authorize outcome=%s",
        result.outcome.value,
        extra={
            "payment_id": payment.id,
            "merchant_id": payment.merchant_id,
            "outcome": result.outcome.value,
            "code": result.error_code,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    payment = await record_result(deps, payment.id, op.id, result, known=payment)
    if result.outcome is Outcome.UNKNOWN:
        payment = await resolve_operation(payment.id, op.id, deps=deps)
    deps.metrics.payment_finished(payment.status.value, payment.error_code)
    return payment


async def _resolve_card(
    cmd: CreatePayment, payment_id: str, deps: PaymentDeps, now: datetime
) -> tuple[CardData, str | None]:
    """The card to charge, and the saved card's token if it is one. A token is used up here, in its
    own transaction: a payment that then fails has still spent it, as single use means."""
    source = cmd.source
    if isinstance(source, CardSource):
        return source.card, None
    if isinstance(source, TokenSource):
        async with deps.uow() as tx:
            card = await redeem_token(
                tx, cmd.merchant_id, cmd.mode, source.token_id, cipher=deps.cipher, now=now, payment_id=payment_id
            )
            await tx.commit()
        return card, None
    async with deps.uow(read_only=True) as tx:
        saved, card = await open_saved_card(
            tx, cmd.merchant_id, cmd.mode, source.card_token, source.identifier, cipher=deps.cipher, now=now
        )
    return card, saved.card_token


async def _store_unauthorised(
    cmd: CreatePayment,
    payment_id: str,
    processor: str,
    card: CardData,
    card_token: str | None,
    auth: Authenticated,
    deps: PaymentDeps,
    now: datetime,
) -> Payment:
    """A payment that 3-D Secure stopped (3DS_FAILED) or that waits for the shopper's challenge."""
    fields = _fields(cmd, processor, card) | {"card_token": card_token, "authentication": auth.record.summary()}
    if auth.decision is Decision.CHALLENGE:
        # The card is saved, if asked, once the challenge's result has authorised the payment.
        to_save = cmd.save_card if not isinstance(cmd.source, SavedCardSource) else None
        payment = Payment.awaiting_shopper(
            payment_id=payment_id, now=now, next_action=auth.next_action(), card_to_save=to_save, **fields
        )
    else:
        payment = Payment.failed_authentication(payment_id=payment_id, now=now, **fields)
    async with deps.uow() as tx:
        await tx.payments.add(payment)
        await tx.authentications.add(auth.record)
        await tx.commit()
    payment.clear_changes()
    if payment.status is PaymentStatus.FAILED:
        deps.metrics.payment_finished(payment.status.value, payment.error_code)
    return payment


async def save_card_after(payment: Payment, card: CardData, opts: SaveCardOnSuccess, *, deps: PaymentDeps) -> Payment:
    """Save the card of a successful payment (or find it already saved) and name it on the payment;
    a payment that did not succeed saves nothing."""
    if payment.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
        return payment
    save = SaveCard(
        merchant_id=payment.merchant_id,
        mode=payment.mode,
        identifier=opts.identifier,
        card=card,
        card_type=opts.card_type,
        consent=True,  # the merchant asked to save it with this payment: its consent record is this request
        consent_ip=opts.consent_ip,
        credential=opts.credential,
        nickname=opts.nickname,
    )
    while True:
        async with deps.uow() as tx:
            saved, _ = await store_card(tx, save, cipher=deps.cipher, now=utcnow())
            current = await tx.payments.get_by_id_for_update(payment.id)
            assert current is not None
            current.card_token = saved.card_token
            current.card_to_save = None
            try:
                await tx.payments.save(current)
            except ConcurrentUpdateError:
                continue
            await tx.commit()
        current.clear_changes()
        return current


def _fields(cmd: CreatePayment, processor: str, card: CardData) -> dict[str, Any]:
    return {
        "merchant_id": cmd.merchant_id,
        "mode": cmd.mode,
        "amount": cmd.amount,
        "currency": cmd.currency,
        "capture_method": cmd.capture_method,
        "card": _snapshot(card),
        "processor": processor,
        "reference": cmd.reference,
        "description": cmd.description,
        "customer": cmd.customer,
        "browser": cmd.browser,
        "metadata": cmd.metadata,
        "return_url": cmd.return_url,
        "mop_type": cmd.mop_type,
        "order_reference": cmd.order_reference,
        "order_details": cmd.order_details,
    }


def _start(
    cmd: CreatePayment, processor: str, now: datetime, payment_id: str, card: CardData
) -> tuple[Payment, Operation]:
    return Payment.start(now=now, payment_id=payment_id, **_fields(cmd, processor, card))


def _snapshot(card: CardData) -> CardSnapshot:
    return CardSnapshot(
        bin=card.pan.bin,
        last4=card.pan.last4,
        brand=card.pan.brand.value,
        exp_month=card.expiry.month,
        exp_year=card.expiry.year,
        holder_name=card.holder_name,
    )


async def get_payment(merchant_id: str, mode: str, payment_id: str, *, deps: PaymentDeps) -> Payment:
    async with deps.uow(read_only=True) as tx:
        payment = await tx.payments.get(merchant_id, mode, payment_id)
    if payment is None:
        raise NotFoundError("no such payment", field="id")
    return payment


async def capture(cmd: CapturePayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(
        cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_capture(cmd.amount, now)
    )


async def void(cmd: VoidPayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_void(now))


async def refund(cmd: RefundPayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(
        cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_refund(cmd.amount, now)
    )


async def follow_up(
    merchant_id: str | None, mode: str | None, payment_id: str, deps: PaymentDeps, begin: _Begin
) -> Payment:
    """Capture, void or refund: a pending operation committed, the acquirer called, its answer recorded.
    Without a merchant and mode (the gateway's own housekeeping) the payment is found by id alone."""
    async with deps.uow() as tx:
        if merchant_id is None or mode is None:
            payment = await tx.payments.get_by_id_for_update(payment_id)
        else:
            payment = await tx.payments.get_for_update(merchant_id, mode, payment_id)
        if payment is None:
            raise NotFoundError("no such payment", field="id")
        op = begin(payment, utcnow())
        await tx.payments.save(payment)
        await tx.commit()
    payment.clear_changes()
    processor = deps.processors.by_name(payment.processor)
    request = FollowUpRequest(op.id, payment.id, op.amount, payment.currency, payment.processor_ref or "")
    call = {"CP": processor.capture, "RV": processor.void, "RF": processor.refund}[op.type.value]
    result = await call_processor(call(request), deps.processor_timeout)
    logger.info(
        "%s outcome=%s",
        op.type.value,
        result.outcome.value,
        extra={"payment_id": payment.id, "operation": op.type.value, "outcome": result.outcome.value},
    )
    payment = await record_result(deps, payment.id, op.id, result, known=payment)
    if result.outcome is Outcome.UNKNOWN:
        payment = await resolve_operation(payment.id, op.id, deps=deps)
    return payment
