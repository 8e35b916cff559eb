"""The payments service: one function per command, each a short story of transactions.

Each money movement is two transactions around the processor call: the first locks the payment,
checks the rules (and that the processor can do it) and commits a pending operation with the
processor's numbering, so the movement is durable before any money moves; the second records the
processor's result with its event. An unknown result is resolved at once by `settle.resolve_operation`,
and again later by the recovery job if the acquirer cannot say yet.

Every rule is checked here, from the command and the merchant this service loads itself: a dialect
only translates.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tessera.core.clock import utcnow
from tessera.core.errors import ConflictError, DuplicateReferenceError, NotFoundError, ValidationError
from tessera.core.ids import looks_like_id, new_id
from tessera.core.merchants import Merchant, authenticated_merchant
from tessera.core.money import check_amount
from tessera.core.payments import capabilities, rules
from tessera.core.payments.attempt import (
    CardAttempt,
    Confirmation,
    NewPayment,
    check_confirmable,
    fee_of,
    record_refusal,
    refuse,
    refused,
    risk_facts,
    snapshot,
)
from tessera.core.payments.commands import (
    CancelPayment,
    CapturePayment,
    CardSource,
    ConfirmPayment,
    CreatePayment,
    PaymentSource,
    RebillPayment,
    RefundPayment,
    SaveCardOnSuccess,
    SavedCardSource,
    TokenSource,
    VoidPayment,
)
from tessera.core.payments.model import (
    AUTHORISATIONS,
    SALES,
    CaptureMethod,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
)
from tessera.core.payments.settle import AlsoInResult, PaymentDeps, call_processor, record_result, resolve_operation
from tessera.core.ports import (
    AuthenticationData,
    AuthorizeRequest,
    ConcurrentUpdateError,
    FollowUpRequest,
    Initiator,
    OriginalAuthorisation,
    Outcome,
    ReferenceTakenError,
    UnitOfWork,
)
from tessera.core.risk import service as risk
from tessera.core.risk.caller import check_shopper_ip, current_caller
from tessera.core.threeds.flow import Authenticated, authenticate
from tessera.core.threeds.service import Decision, Policy
from tessera.core.vault.pan import CardData
from tessera.core.vault.service import SaveCard, open_saved_card, store_card
from tessera.core.vault.tokens import redeem_token

logger = logging.getLogger(__name__)

_Begin = Callable[[Payment, datetime], Operation]

__all__ = [
    "authorise",
    "capture",
    "confirm_payment",
    "create_payment",
    "follow_up",
    "get_payment",
    "rebill",
    "refund",
    "save_card_after",
    "void",
]


async def load_merchant(tx: UnitOfWork, merchant_id: str) -> Merchant:
    merchant = authenticated_merchant(merchant_id) or await tx.merchants.get(merchant_id)
    if merchant is None:
        raise NotFoundError("no such merchant", field="merchant_id")
    return merchant


async def _merchant(deps: PaymentDeps, merchant_id: str) -> Merchant:
    """The merchant and its settings, as this request authenticated it or read now."""
    known = authenticated_merchant(merchant_id)
    if known is not None:
        return known
    async with deps.uow(read_only=True) as tx:
        return await load_merchant(tx, merchant_id)


# ------------------------------------------------------------------------------ create and confirm


async def create_payment(cmd: CreatePayment, *, deps: PaymentDeps) -> Payment:
    """A payment: confirmed at once with its card (3-D Secure, then the authorisation), or an intent
    waiting for one. A unique reference already taken is refused (DuplicateReferenceError) when the
    payment is inserted, before any money moves."""
    try:
        return await _create_payment(cmd, deps=deps)
    except ReferenceTakenError:
        assert cmd.unique_reference is not None
        # Read as a writer: on SQLite the winner may still be in the batch that is being committed.
        async with deps.uow() as tx:
            existing = await tx.payments.get_by_unique_reference(cmd.merchant_id, cmd.mode, cmd.unique_reference)
        raise DuplicateReferenceError(
            "a payment with this reference already exists; it was not charged again",
            existing_id=existing.id if existing else None,
            field="unique_reference",
        ) from None


async def _create_payment(cmd: CreatePayment, *, deps: PaymentDeps) -> Payment:
    processor = deps.processors.for_mode(cmd.mode)
    now = utcnow()
    merchant = await _merchant(deps, cmd.merchant_id)
    amount, currency = rules.check_new_payment(cmd, merchant)
    if cmd.payment_id is not None and not looks_like_id(cmd.payment_id, "pay"):
        raise ValidationError("payment_id must have the shape of a payment id (pay_...)", field="payment_id")
    fields: dict[str, Any] = {
        "merchant_id": cmd.merchant_id,
        "mode": cmd.mode,
        "amount": amount,
        "currency": currency,
        "capture_method": cmd.capture_method,
        "processor": processor.name,
        "channel": cmd.channel,
        "channel_data": cmd.channel_data,
        "reference": cmd.reference,
        "unique_reference": cmd.unique_reference,
        "description": cmd.description,
        "customer": cmd.customer,
        "browser": cmd.browser,
        "metadata": cmd.metadata,
        "return_url": rules.normalise_return_url(cmd.return_url),
    }
    if cmd.source is None:
        payment = Payment.intent(now=now, payment_id=cmd.payment_id, attempt_budget=merchant.attempt_budget, **fields)
        async with deps.uow() as tx:
            await tx.payments.add(payment)
            await tx.commit()
        payment.clear_changes()
        return payment
    capabilities.require(processor, capabilities.needed(_authorisation_type(cmd.capture_method)))
    check_shopper_ip((cmd.browser or {}).get("ip"), current_caller())
    payment_id = cmd.payment_id or new_id("pay")
    card, card_token = await _resolve_card(cmd.source, cmd.merchant_id, cmd.mode, payment_id, deps, now)
    attempt = CardAttempt(card, card_token, _to_save(cmd.source, cmd.save_card), processor, merchant)
    attempt.fee = fee_of(attempt, cmd.mode, currency, amount, deps)
    return await _pay(attempt, NewPayment(payment_id, fields | {"fee": attempt.fee}), deps=deps, now=now)


async def confirm_payment(cmd: ConfirmPayment, *, deps: PaymentDeps) -> Payment:
    """A card for an intent: 3-D Secure, then the authorisation. A declined attempt returns the payment
    to `requires_payment_method` (with its error) until the attempt budget is spent; then it fails."""
    now = utcnow()
    async with deps.uow(read_only=True) as tx:
        merchant = await load_merchant(tx, cmd.merchant_id)
        payment = await tx.payments.get(cmd.merchant_id, cmd.mode, cmd.payment_id)
    if payment is None:
        raise NotFoundError("no such payment", field="id")
    rules.check_confirmation(cmd, merchant)
    check_confirmable(payment)  # before a single-use token is spent on it
    processor = deps.processors.by_name(payment.processor)
    capabilities.require(processor, capabilities.needed(_authorisation_type(payment.capture_method)))
    browser = cmd.browser if cmd.browser is not None else payment.browser
    check_shopper_ip((browser or {}).get("ip"), current_caller())
    card, card_token = await _resolve_card(cmd.source, cmd.merchant_id, cmd.mode, payment.id, deps, now)
    attempt = CardAttempt(card, card_token, _to_save(cmd.source, cmd.save_card), processor, merchant)
    attempt.fee = fee_of(attempt, cmd.mode, payment.currency, payment.amount, deps)
    return await _pay(
        attempt, Confirmation(payment, cmd.browser, rules.normalise_return_url(cmd.return_url)), deps=deps, now=now
    )


def _authorisation_type(method: CaptureMethod) -> OperationType:
    return OperationType.DB if method is CaptureMethod.AUTOMATIC else OperationType.PA


def _to_save(source: PaymentSource, save: SaveCardOnSuccess | None) -> SaveCardOnSuccess | None:
    return None if isinstance(source, SavedCardSource) else save  # a saved card is saved already


async def _pay(attempt: CardAttempt, target: NewPayment | Confirmation, *, deps: PaymentDeps, now: datetime) -> Payment:
    """Screen the attempt, authenticate the shopper, then authorise: the shared story of a new payment
    and a confirmation."""
    # Risk decides first, from what it can read (the lists, and counters this process saw at their limit);
    # the attempt is counted against the velocity rules in the transaction that records it, which refuses
    # it after all when other attempts (here or in another process) took the last of a limit meanwhile.
    facts = risk_facts(attempt, target, deps)
    screening = await risk.screen(
        facts, attempt.merchant, uow=deps.uow, now=now, lists=deps.lists, counters=deps.counters
    )
    if screening.decision is not None:
        return await refuse(attempt, target, screening.decision, deps=deps, now=now)
    auth = None
    threeds = deps.threeds.get(target.mode)
    if threeds is not None:
        auth = await authenticate(
            payment_id=target.id,
            merchant_id=attempt.merchant.id,
            mode=target.mode,
            merchant_name=attempt.merchant.name,
            policy=Policy(attempt.merchant.threeds_policy),
            amount=target.amount,
            currency=target.currency,
            card=attempt.card,
            browser=target.browser,
            deps=threeds,
            cipher=deps.cipher,
            now=now,
        )
    op: Operation | None = None
    payment: Payment
    while True:
        async with deps.uow() as tx:
            refusal = await screening.record(tx, now)
            if refusal is not None:
                try:
                    declined = await record_refusal(tx, attempt, target, refusal, now)
                except ConcurrentUpdateError:
                    continue
                await tx.commit()
                screening.committed()
                return refused(declined, refusal, deps)
            if isinstance(target, NewPayment):
                payment, op = _new_payment(target, attempt, auth, now)
                await tx.payments.add(payment)
            else:
                found = await tx.payments.get_for_update(target.payment.merchant_id, target.payment.mode, target.id)
                if found is None:
                    raise NotFoundError("no such payment", field="id")
                payment = found
                target.apply(payment, attempt)
                op = _confirm(payment, attempt, auth, now)
                try:
                    await tx.payments.save(payment)
                except ConcurrentUpdateError:
                    continue
            if auth is not None:
                await tx.authentications.add(auth.record)
            await tx.commit()
        screening.committed()
        break
    payment.clear_changes()
    if op is None:  # waiting for the shopper's challenge, or refused by 3-D Secure
        if payment.status is not PaymentStatus.REQUIRES_ACTION:
            deps.metrics.payment_finished(payment.status.value, payment.error_code)
        return payment
    payment = await authorise(payment, op, attempt.card, auth.authorisation_data() if auth else None, deps=deps)
    if attempt.save is not None:
        payment = await save_card_after(payment, attempt.card, attempt.save, deps=deps)
    return payment


def _new_payment(
    target: NewPayment, attempt: CardAttempt, auth: Authenticated | None, now: datetime
) -> tuple[Payment, Operation | None]:
    fields = target.fields | {"card_token": attempt.card_token}
    if auth is not None:
        fields["authentication"] = auth.record.summary()
    if auth is not None and auth.decision is Decision.CHALLENGE:
        # The card is saved, if asked, once the challenge's result has authorised the payment.
        payment = Payment.awaiting_shopper(
            payment_id=target.id,
            now=now,
            card=attempt.snapshot,
            next_action=auth.next_action(),
            card_to_save=attempt.save,
            **fields,
        )
        return payment, None
    if auth is not None and auth.decision is not Decision.PROCEED:
        return Payment.failed_authentication(payment_id=target.id, now=now, card=attempt.snapshot, **fields), None
    kind = _authorisation_type(fields["capture_method"])
    return Payment.start(
        payment_id=target.id,
        now=now,
        card=attempt.snapshot,
        processor_data=attempt.processor.prepare(kind.value),
        **fields,
    )


def _confirm(payment: Payment, attempt: CardAttempt, auth: Authenticated | None, now: datetime) -> Operation | None:
    if auth is not None:
        payment.authentication = auth.record.summary()
    if auth is not None and auth.decision is Decision.CHALLENGE:
        payment.card_to_save = attempt.save
        payment.await_shopper(attempt.snapshot, auth.next_action(), now)
        return None
    if auth is not None and auth.decision is not Decision.PROCEED:
        payment.refuse_authentication(attempt.snapshot, now)
        return None
    data = attempt.processor.prepare(_authorisation_type(payment.capture_method).value)
    return payment.begin_attempt(attempt.snapshot, now, data=data)


async def _resolve_card(
    source: PaymentSource, merchant_id: str, mode: str, payment_id: str, deps: PaymentDeps, now: datetime
) -> tuple[CardData, str | None]:
    """The card to charge, and the saved card's token if it is one. A token is used up here, in its
    own transaction: a payment that then fails has still spent it, as single use means."""
    if isinstance(source, CardSource):
        return source.card, None
    if isinstance(source, TokenSource):
        async with deps.uow() as tx:
            card = await redeem_token(
                tx, merchant_id, mode, source.token_id, cipher=deps.cipher, now=now, payment_id=payment_id
            )
            await tx.commit()
        return card, None
    async with deps.uow(read_only=True) as tx:
        saved, card = await open_saved_card(
            tx, merchant_id, mode, source.card_token, source.identifier, cipher=deps.cipher, now=now
        )
    return card, saved.card_token


# ------------------------------------------------------------------------------ the authorisation


async def authorise(
    payment: Payment,
    op: Operation,
    card: CardData,
    authentication: AuthenticationData | None,
    *,
    deps: PaymentDeps,
    also: AlsoInResult | None = None,
) -> Payment:
    """Send a committed, pending PA, DB or RB to the acquirer and record what it says (with `also`, in
    the same transaction)."""
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
        capture=op.type in SALES,  # a rebill is a sale: its money is taken at once
        authentication=authentication,
        initiator=payment.initiator,
        network_transaction_id=payment.network_transaction_id if payment.initiator is Initiator.MERCHANT else None,
        data=op.processor_data,
        mode=payment.mode,
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
    payment = await record_result(deps, payment.id, op.id, result, known=payment, also=also)
    if result.outcome is Outcome.UNKNOWN:
        payment = await resolve_operation(payment.id, op.id, deps=deps)
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


# ------------------------------------------------------------------------------ rebills


async def rebill(cmd: RebillPayment, *, deps: PaymentDeps) -> Payment:
    """A new merchant-initiated sale (RB) on the saved card of an earlier payment: no CVV, no 3-D
    Secure, linked to the original by `original_payment_id` and its network transaction id."""
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
    processor = deps.processors.by_name(original.processor)
    capabilities.require(processor, capabilities.needed(OperationType.RB))
    # A rebill is charged like any payment (CHARGES_INCOMPLETE in live mode without a charge). The blocklists
    # and velocity rules screen the shopper's own attempts; a merchant-initiated rebill has no shopper.
    merchant = await _merchant(deps, cmd.merchant_id)
    fee = risk.fee_for(merchant, cmd.mode, card.pan.brand.value, original.currency, amount, deps.default_test_charge)
    payment, op = Payment.start(
        now=now,
        first_operation=OperationType.RB,
        processor_data=processor.prepare(OperationType.RB.value),
        merchant_id=cmd.merchant_id,
        mode=cmd.mode,
        amount=amount,
        currency=original.currency,
        capture_method=CaptureMethod.AUTOMATIC,
        card=snapshot(card),
        processor=processor.name,
        channel=cmd.channel,
        reference=cmd.reference,
        customer=original.customer,
        original_payment_id=original.id,
        card_token=original.card_token,
        initiator=Initiator.MERCHANT,
        network_transaction_id=original.network_transaction_id,
        fee=fee,
    )
    async with deps.uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()
    payment.clear_changes()
    return await authorise(payment, op, card, None, deps=deps)


# ------------------------------------------------------------------------------ reads and follow-ups


async def get_payment(merchant_id: str, mode: str, payment_id: str, *, deps: PaymentDeps) -> Payment:
    async with deps.uow(read_only=True) as tx:
        payment = await tx.payments.get(merchant_id, mode, payment_id)
    if payment is None:
        raise NotFoundError("no such payment", field="id")
    return payment


async def get_operation(
    merchant_id: str, mode: str, operation_id: str, *, deps: PaymentDeps
) -> tuple[Payment, Operation]:
    """An operation (a capture, a refund, ...) by its own id, with the payment it belongs to."""
    async with deps.uow(read_only=True) as tx:
        payment = await tx.payments.get_by_operation(merchant_id, mode, operation_id)
    op = next((o for o in payment.operations if o.id == operation_id), None) if payment else None
    if payment is None or op is None:
        raise NotFoundError("no such operation", field="id")
    return payment, op


async def capture(cmd: CapturePayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(
        cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_capture(cmd.amount, now)
    )


async def cancel(cmd: CancelPayment, *, deps: PaymentDeps) -> Payment:
    """Call off an intent waiting for its card, under its row lock (a card posted at the same moment
    either pays it first, and the cancel is refused, or finds it canceled)."""
    while True:
        async with deps.uow() as tx:
            payment = await tx.payments.get_for_update(cmd.merchant_id, cmd.mode, cmd.payment_id)
            if payment is None:
                raise NotFoundError("no such payment", field="id")
            payment.cancel(utcnow())
            try:
                await tx.payments.save(payment)
            except ConcurrentUpdateError:
                continue
            await tx.commit()
        payment.clear_changes()
        return payment


async def void(cmd: VoidPayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_void(now))


async def refund(cmd: RefundPayment, *, deps: PaymentDeps) -> Payment:
    return await follow_up(
        cmd.merchant_id, cmd.mode, cmd.payment_id, deps, lambda p, now: p.begin_refund(cmd.amount, now)
    )


def original_authorisation(payment: Payment) -> OriginalAuthorisation:
    """The approved authorisation of a payment, as its follow-ups name it to the acquirer."""
    for op in reversed(payment.operations):
        if op.type in AUTHORISATIONS and op.status is OperationStatus.SUCCEEDED:
            data = op.processor_data
            if op.auth_code and data.approval_code is None:
                data = dataclasses.replace(data, approval_code=op.auth_code)
            return OriginalAuthorisation(
                op.id, payment.processor_ref or op.processor_ref or "", op.amount, data, payment.network_transaction_id
            )
    return OriginalAuthorisation("", payment.processor_ref or "", payment.amount_authorized)


async def follow_up(
    merchant_id: str | None, mode: str | None, payment_id: str, deps: PaymentDeps, begin: _Begin
) -> Payment:
    """Capture, void or refund: checked against the processor's capabilities, a pending operation
    committed with the processor's numbering, the acquirer called, its answer recorded. Without a
    merchant and mode (the gateway's own housekeeping) the payment is found by id alone."""
    async with deps.uow() as tx:
        if merchant_id is None or mode is None:
            payment = await tx.payments.get_by_id_for_update(payment_id)
        else:
            payment = await tx.payments.get_for_update(merchant_id, mode, payment_id)
        if payment is None:
            raise NotFoundError("no such payment", field="id")
        processor = deps.processors.by_name(payment.processor)
        op = begin(payment, utcnow())
        capabilities.require_for(processor, op, payment)  # before the commit: refused, nothing is left open
        op.processor_data = processor.prepare(op.type.value)
        await tx.payments.save(payment)
        await tx.commit()
    payment.clear_changes()
    request = FollowUpRequest(
        op.id, payment.id, op.amount, payment.currency, original_authorisation(payment), op.processor_data
    )
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
