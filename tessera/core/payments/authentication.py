"""After a 3-D Secure challenge: the RReq's result authorises or fails the payment; silence expires it.

The RReq (ACS to 3DS server, server to server) is the authoritative result, so the payment is settled
when it arrives, not when the shopper's browser comes back: a browser that never returns changes
nothing, and a forged CRes cannot change the result.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from tessera.core.clock import utcnow
from tessera.core.payments.model import Operation, Payment
from tessera.core.payments.service import authorise, save_card_after
from tessera.core.payments.settle import PaymentDeps
from tessera.core.ports import UnitOfWork
from tessera.core.threeds.flow import authentication_data
from tessera.core.threeds.model import TransStatus
from tessera.core.threeds.records import Authentication, ChallengeState, card_context
from tessera.core.threeds.service import AuthenticationResult, Decision, Policy, decide, read_rreq
from tessera.core.vault.brands import Brand
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry

logger = logging.getLogger(__name__)


def _erro(rreq: dict[str, Any], code: str, detail: str) -> dict[str, Any]:
    return {
        "messageType": "Erro",
        "messageVersion": rreq.get("messageVersion"),
        "threeDSServerTransID": rreq.get("threeDSServerTransID"),
        "errorCode": code,
        "errorComponent": "S",
        "errorDescription": detail,
    }


async def _waiting_card(record: Authentication, deps: PaymentDeps, now: datetime) -> CardData:
    assert record.card_ciphertext is not None and record.exp_month and record.exp_year
    pan = PAN.parse(
        (await deps.cipher.decrypt(record.card_ciphertext, context=card_context(record.id, "pan"))).decode()
    )
    cvv = None
    if record.cvv_ciphertext is not None:
        raw = await deps.cipher.decrypt(record.cvv_ciphertext, context=card_context(record.id, "cvv"))
        cvv = CVV.parse(raw.decode(), pan.brand)
    expiry = Expiry.parse(record.exp_month, record.exp_year, now=now)
    return CardData(pan=pan, expiry=expiry, cvv=cvv, holder_name=record.holder_name)


async def receive_rreq(rreq: dict[str, Any], *, deps: PaymentDeps) -> dict[str, Any]:
    """Take the ACS's result: answer RRes, and authorise or fail the payment before answering."""
    now = utcnow()
    op: Operation | None = None
    card: CardData | None = None
    async with deps.uow() as tx:
        record = await tx.authentications.get_by_trans_id(str(rreq.get("threeDSServerTransID")))
        if record is None:
            return _erro(rreq, "301", "Transaction ID not recognised")
        if record.challenge is not ChallengeState.PENDING:
            return _erro(rreq, "305", "Transaction data not valid: the challenge is not waiting for a result")
        payment = await tx.payments.get_by_id_for_update(record.payment_id)
        assert payment is not None
        expected = AuthenticationResult(
            TransStatus.CHALLENGE,
            record.three_ds_server_trans_id,
            record.version,
            record.ds_trans_id,
            record.acs_trans_id,
        )
        assert payment.card is not None  # a challenge is for a card
        try:
            result = read_rreq(rreq, expected=expected, brand=Brand(payment.card.brand))
        except ValueError:
            return _erro(rreq, "305", "Transaction data not valid")
        record.trans_status, record.trans_status_reason, record.eci = result.status, result.reason, result.eci
        if result.authentication_value:
            record.cavv_ciphertext = deps.cipher.encrypt(
                result.authentication_value.encode(), context=card_context(record.id, "cavv")
            )
        record.challenge = ChallengeState.COMPLETED
        record.updated_at = now
        payment.authentication = record.summary()
        if decide(result, Policy(record.policy)) is Decision.PROCEED:
            card = await _waiting_card(record, deps, now)
            # The acquirer's numbering (an ISO 8583 link's STAN and RRN) is committed with the pending
            # operation, as for a payment authorised at once: a reversal must be able to name it.
            processor = deps.processors.by_name(payment.processor)
            op = payment.begin_authorisation(now, data=processor.prepare(payment.authorisation_type.value))
        else:
            payment.fail_authentication(now)
            record.forget_card()
        await tx.authentications.save(record)
        await tx.payments.save(payment)
        await tx.commit()
    payment.clear_changes()
    if op is not None and card is not None:

        async def forget_card(tx: UnitOfWork) -> None:
            # The CVV and PAN waited only for this authorisation: erased by the transaction that records
            # its result, so no crash can leave them stored after it.
            record.forget_card()
            record.updated_at = utcnow()
            await tx.authentications.save(record)

        payment = await authorise(payment, op, card, authentication_data(result), deps=deps, also=forget_card)
        if payment.card_to_save is not None:
            payment = await save_card_after(payment, card, payment.card_to_save, deps=deps)
    else:
        deps.metrics.payment_finished(payment.status.value, payment.error_code)
    logger.info("3ds challenge outcome=%s", result.status.value, extra={"payment_id": payment.id})
    return {
        "messageType": "RRes",
        "messageVersion": record.version,
        "threeDSServerTransID": record.three_ds_server_trans_id,
        "acsTransID": record.acs_trans_id,
        "dsTransID": record.ds_trans_id,
        "resultsStatus": "01",
    }


async def expire_challenges(*, deps: PaymentDeps, limit: int = 100) -> int:
    """Payments whose shopper left the challenge unanswered past its time end `expired`."""
    now = utcnow()
    async with deps.uow(read_only=True) as tx:
        expired = await tx.authentications.expired_challenges(now, limit)
    for stale in expired:
        async with deps.uow() as tx:
            record = await tx.authentications.get_by_trans_id(stale.three_ds_server_trans_id)
            if record is None or record.challenge is not ChallengeState.PENDING:
                continue
            payment: Payment | None = await tx.payments.get_by_id_for_update(record.payment_id)
            assert payment is not None
            payment.expire(now)
            record.challenge = ChallengeState.EXPIRED
            record.forget_card()
            record.updated_at = now
            await tx.authentications.save(record)
            await tx.payments.save(payment)
            await tx.commit()
        deps.metrics.payment_finished(payment.status.value, payment.error_code)
    return len(expired)
