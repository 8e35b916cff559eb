"""OPPWA's payment object (oppwa.md section 3), rendered from a payment or one of its operations: what
every answer and report says. Pure functions, no I/O; the card appears as BIN and last four only.

An initial payment (PA, DB, or an RB on a registration or a referenced payment) is the payment itself; a
back-office operation (CP, RF, RV, CB, CR, RC) is a new object with its own id (the operation's) and
`referencedId` (the payment's).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from tessera.core.clock import utcnow
from tessera.core.errors import ErrorCode
from tessera.core.money import to_major_string
from tessera.core.payments.model import (
    AUTHORISATIONS,
    Operation,
    OperationStatus,
    OperationType,
    Payment,
    PaymentStatus,
)
from tessera.dialects.oppwa import codes as c
from tessera.dialects.oppwa import ids
from tessera.dialects.oppwa.requests import BRANDS, CHANNEL

BUILD_NUMBER = "0000000000000000000000000000000000000000@2026-11-28 00:00:00 +0000"
_PENDING = frozenset({PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING})


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S+0000")


def envelope(result_code: str, entity_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """The fields every answer has, with or without a transaction behind it."""
    result: dict[str, Any] = {"code": result_code, "description": c.describe(result_code)}
    now = utcnow()
    return {
        **extra,
        "result": result,
        "buildNumber": BUILD_NUMBER,
        "timestamp": timestamp(now),
        # OPPWA's ndc: the entity and a unique hex token (a run of padded digits could spell a card number).
        "ndc": f"{entity_id or '0' * 32}_{secrets.token_hex(16)}",
    }


def channel(p: Payment) -> dict[str, Any]:
    return (p.channel_data or {}) if p.channel == CHANNEL else {}


def _authorisation(p: Payment) -> Operation | None:
    return next((op for op in reversed(p.operations) if op.type in AUTHORISATIONS), None)


def _failure_code(p: Payment, op: Operation | None) -> str:
    """The acquirer's own OPPWA code when it gave one (the sandbox's test convention), else the ErrorCode's;
    a risk refusal says which list or rule decided."""
    if op is not None and op.response_code and c.RESULT_CODE.match(op.response_code):
        return op.response_code
    if p.error_code is None:
        return c.TIMED_OUT if p.status is PaymentStatus.EXPIRED else "800.100.100"
    if p.error_code is ErrorCode.NETWORK_ERROR and any(
        o.type is OperationType.RV and o.status is OperationStatus.SUCCEEDED for o in p.operations
    ):
        return "900.100.301"  # sent, never answered, then reversed
    reason = str((p.risk or {}).get("reason") or "")
    for kind, code in c.BLOCKED_BY.items():
        if reason.startswith(f"the {kind}"):
            return code
    return c.ERRORS[p.error_code][1]


def payment_code(p: Payment) -> str:
    """The initial payment's own result: it succeeded once its authorisation did, whatever came after."""
    op = _authorisation(p)
    if op is not None and op.status is OperationStatus.SUCCEEDED:
        return c.success(p.mode)
    if p.status in _PENDING or (op is not None and op.is_open):
        return c.UNCERTAIN if op is not None and op.status is OperationStatus.UNKNOWN else c.PENDING
    return _failure_code(p, op)


def operation_code(p: Payment, op: Operation) -> str:
    if op.status is OperationStatus.SUCCEEDED:
        return c.success(p.mode)
    if op.status is OperationStatus.PENDING:
        return c.PENDING
    if op.status is OperationStatus.UNKNOWN:
        return c.UNCERTAIN
    if op.response_code and c.RESULT_CODE.match(op.response_code):
        return op.response_code
    return c.ERRORS[op.error_code][1] if op.error_code else "800.100.100"


def _card(p: Payment) -> dict[str, Any] | None:
    if p.card is None:
        return None
    found = {
        "bin": p.card.bin,
        "last4Digits": p.card.last4,
        "holder": p.card.holder_name,
        "expiryMonth": f"{p.card.exp_month:02d}",
        "expiryYear": f"{p.card.exp_year:04d}",
    }
    return {k: v for k, v in found.items() if v is not None}


def brand(p: Payment) -> str | None:
    said = channel(p).get("paymentBrand")
    if said:
        return str(said)
    if p.card is None:
        return None
    return next((word for b, word in BRANDS.items() if b.value == p.card.brand), p.card.brand.upper())


def _three_ds(p: Payment) -> dict[str, Any]:
    a = p.authentication
    if a is None:
        return {"eci": "07"}
    found = {"eci": a.eci, "version": a.version, "authenticationStatus": a.status}
    return {k: v for k, v in found.items() if v is not None}


def _redirect(p: Payment) -> dict[str, Any] | None:
    action = p.next_action
    if p.status is not PaymentStatus.REQUIRES_ACTION or action is None:
        return None
    return {
        "url": action.url,
        "method": action.method.upper(),
        "parameters": [{"name": k, "value": v} for k, v in action.params.items()],
    }


def _descriptor(oppwa_id: str, data: dict[str, Any]) -> str:
    return f"{ids.short_id(oppwa_id)} {data.get('descriptor') or 'Tessera'}"


def _details(p: Payment, op: Operation | None) -> dict[str, Any]:
    found = {
        "clearingInstituteName": f"Tessera {p.processor}",
        "ConnectorTxID1": op.processor_ref if op else None,
        "AcquirerResponse": op.response_code if op else None,
        "ExtendedDescription": p.error_message if p.error_code else None,
    }
    return {k: v for k, v in found.items() if v is not None}


def render_payment(p: Payment, entity_id: str) -> dict[str, Any]:
    """The initial payment (PA, DB, or RB)."""
    data = channel(p)
    oppwa_id = ids.to_hex(p.id)
    op = _authorisation(p)
    kind = op.type.value if op is not None else str(data.get("paymentType") or "DB")
    code = payment_code(p)
    body: dict[str, Any] = {
        "id": oppwa_id,
        "paymentType": kind,
        "paymentBrand": brand(p),
        "amount": to_major_string(p.amount, p.currency),
        "currency": p.currency,
        "descriptor": _descriptor(oppwa_id, data),
        "merchantTransactionId": data.get("merchantTransactionId") or p.reference,
        "merchantInvoiceId": data.get("merchantInvoiceId"),
        "resultDetails": _details(p, op),
        "card": _card(p),
        "threeDSecure": _three_ds(p),
        "customParameters": data.get("customParameters"),
        "risk": {"score": "100" if p.risk else "0"},
        "redirect": _redirect(p),
        "referencedId": ids.to_hex(p.original_payment_id) if p.original_payment_id else None,
        "registrationId": ids.registration_id(p.card_token) if p.card_token else None,
    }
    out = envelope(code, entity_id, **{k: v for k, v in body.items() if v is not None})
    out["timestamp"] = timestamp(p.updated_at)
    return out


def render_operation(p: Payment, op: Operation, entity_id: str) -> dict[str, Any]:
    """A back-office operation on the payment: its own object."""
    data = channel(p)
    oppwa_id = ids.to_hex(op.id)
    body: dict[str, Any] = {
        "id": oppwa_id,
        "referencedId": ids.to_hex(p.id),
        "paymentType": op.type.value,
        "paymentBrand": brand(p),
        "amount": to_major_string(op.amount, p.currency),
        "currency": p.currency,
        "descriptor": _descriptor(oppwa_id, data),
        "merchantTransactionId": data.get("merchantTransactionId") or p.reference,
        "resultDetails": {k: v for k, v in {"ConnectorTxID1": op.processor_ref}.items() if v},
        "card": _card(p),
        "risk": {"score": "0"},
    }
    out = envelope(operation_code(p, op), entity_id, **{k: v for k, v in body.items() if v is not None})
    out["timestamp"] = timestamp(op.updated_at)
    return out


def http_status(result_code: str) -> int:
    """200 for success and pending, 400 for a rejection (oppwa.md section 0)."""
    return 200 if c.is_success(result_code) or result_code.startswith("000.200") else 400


def transactions(p: Payment, entity_id: str) -> list[dict[str, Any]]:
    """The payment and each of its back-office operations, oldest first (a report's `payments[]`)."""
    found = [render_payment(p, entity_id)]
    found += [
        render_operation(p, op, entity_id)
        for op in p.operations
        if op.type not in AUTHORISATIONS and op.type is not OperationType.RB
    ]
    return found
