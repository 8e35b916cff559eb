"""The purchase object (paysecure.md section 3), rendered from a payment: what `GET /purchases/{id}/`
answers and what a callback carries. Pure functions, no I/O; the card appears as first digits and last
four only.

Amounts are major units as JSON numbers (Paysecure's `amountUnit: "MAJOR"`): made from the exact
decimal string of the minor amount, at the wire only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tessera.core.money import to_major_string
from tessera.core.payments.model import AttemptStatus, OperationStatus, OperationType, Payment, PaymentStatus
from tessera.dialects.paysecure import messages as m
from tessera.dialects.paysecure.requests import CHANNEL, purchase_id_of

_SUCCEEDED = OperationStatus.SUCCEEDED
REFUND_DAYS = 180  # how long after payment the sandbox acquirer takes a refund


def major(amount: int, currency: str) -> float:
    return float(to_major_string(amount, currency))


def _ts(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def channel(p: Payment) -> dict[str, Any]:
    """What this dialect kept on the payment (a payment made through another dialect has nothing)."""
    return (p.channel_data or {}) if p.channel == CHANNEL else {}


def status(p: Payment) -> str:
    """The purchase's status. An intent whose last card failed says ERROR (with its reason) while its
    attempt budget still lets the merchant post another card."""
    if p.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and p.attempts and p.error_code is not None:
        return "ERROR"
    return m.STATUS[p.status]


def masked_pan(p: Payment) -> str | None:
    if p.card is None:
        return None
    return f"{p.card.bin}{'*' * max(0, 16 - len(p.card.bin) - 4)}{p.card.last4}"


def error(p: Payment) -> tuple[str, str]:
    """(errorMsg, errorCode)."""
    if p.status is PaymentStatus.EXPIRED:
        return "Transaction expired", "expired"
    if p.error_code is not None:
        return m.DECLINES.get(p.error_code, (p.error_message or "Transaction failed", p.error_code.value))
    if p.status in (PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_REFUNDED):
        return "Transaction succeeded-APPROVED", "NA"
    return "", "NA"


def _history(p: Payment) -> list[dict[str, Any]]:
    lines = [{"status": "created", "timestamp": _ts(p.created_at)}]
    for attempt in p.attempts:
        lines.append({"status": "pending_execute", "timestamp": _ts(attempt.created_at)})
        if attempt.status is AttemptStatus.FAILED:
            lines.append({"status": "error", "timestamp": _ts(attempt.updated_at)})
    words = {
        OperationType.DB: "paid",
        OperationType.CP: "paid",
        OperationType.PA: "hold",
        OperationType.RV: "cancelled",
        OperationType.CB: "chargeback",
    }
    for op in p.operations:
        if op.status is not _SUCCEEDED:
            continue
        if op.type is OperationType.RF:
            lines.append(
                {"status": f"refunded amt: {to_major_string(op.amount, p.currency)}", "timestamp": _ts(op.updated_at)}
            )
        elif op.type in words:
            lines.append({"status": words[op.type], "timestamp": _ts(op.updated_at)})
    if p.status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELED):
        lines.append({"status": m.STATUS[p.status].lower(), "timestamp": _ts(p.updated_at)})
    return lines


def _attempts(p: Payment) -> list[dict[str, Any]]:
    found = []
    for attempt in p.attempts:
        item: dict[str, Any] = {
            "type": "execute",
            "payment_method": attempt.card.brand.upper(),
            "flow": "payform",
            "successful": attempt.status is AttemptStatus.SUCCEEDED,
            "processing_time": _ts(attempt.updated_at),
            "client_ip": (p.browser or {}).get("ip"),
            "extra": {
                "masked_pan": f"{attempt.card.bin}{'*' * max(0, 12 - len(attempt.card.bin))}{attempt.card.last4}"
            },
        }
        if attempt.error_code is not None:
            message, code = m.DECLINES.get(attempt.error_code, ("Transaction failed", attempt.error_code.value))
            item["error"] = {"message": message, "code": code}
        found.append(item)
    for op in p.operations:
        if op.type is OperationType.RF:
            found.append(
                {"type": "refund", "successful": op.status is _SUCCEEDED, "processing_time": _ts(op.updated_at)}
            )
    return found


def _paid_at(p: Payment) -> datetime | None:
    done = [
        op.updated_at
        for op in p.operations
        if op.status is _SUCCEEDED and op.type in (OperationType.DB, OperationType.CP)
    ]
    return done[0] if done else None


def render(p: Payment, *, public_url: str) -> dict[str, Any]:
    """The purchase object."""
    data = channel(p)
    pid = purchase_id_of(p.id)
    cur = p.currency
    message, code = error(p)
    paid_at = _paid_at(p)
    refundable = max(0, p.amount_captured - p.amount_refunded - p.amount_charged_back)
    products = [
        {
            "name": item["name"],
            "quantity": item.get("quantity", "1"),
            "price": major(int(item["price"]), cur),
            "discount": 0,
            "tax_percent": "0.00",
        }
        for item in data.get("products") or [{"name": p.description or "Purchase", "price": p.amount}]
    ]
    extra: dict[str, Any] = {}
    if p.card is not None:
        extra = {
            "masked_pan": masked_pan(p),
            "card_brand": p.card.brand.upper(),
            "cardholder_name": p.card.holder_name,
            "expiry_month": f"{p.card.exp_month:02d}",
            "expiry_year": f"{p.card.exp_year % 100:02d}",
            "amount": major(p.amount, cur),
        }
    client = {"customerId": "NA", "cc": [], "bcc": [], **(data.get("client") or {})}
    captures = [
        {"captureId": op.id, "purchaseId": pid, "amount": major(op.amount, cur), "status": op.status.value.upper()}
        for op in p.operations
        if op.type is OperationType.CP
    ]
    return {
        "purchaseId": pid,
        "type": "purchase",
        "status": status(p),
        "status_history": _history(p),
        "client": client,
        "purchase": {
            "currency": cur,
            "products": products,
            "total": major(p.amount, cur),
            "requestAmount": major(p.amount, cur),
            "language": data.get("language"),
            "notes": data.get("notes"),
            "debt": 0,
            "total_formatted": to_major_string(p.amount, cur),
            "taxAmount": 0,
            "taxPercent": 0,
            "request_client_details": [],
            "email_message": "",
        },
        "payment": (
            {
                "is_outgoing": False,
                "payment_type": "PURCHASE",
                "amount": major(p.amount_captured, cur),
                "currency": cur,
                "net_amount": major(p.amount_captured, cur),
                "fee_amount": 0,
                "pending_amount": 0,
                "description": p.description,
                "paid_on": _ts(paid_at),
            }
            if paid_at
            else None
        ),
        "transaction_data": {
            "payment_method": p.card.brand.upper() if p.card else None,
            "flow": "payform",
            "extra": extra,
            "country": (data.get("client") or {}).get("country"),
            "attempts": _attempts(p),
        },
        "paymentMethod": p.card.brand.upper() if p.card else "VISA,MASTER",
        "amountUnit": "MAJOR",
        "errorMsg": message,
        "errorCode": code,
        "merchantRef": data.get("merchantRef") or pid,
        "redirectType": "POST",
        "extraParam": {},
        "created_on": _ts(p.created_at),
        "updated_on": _ts(p.updated_at),
        "paidOn": _ts(paid_at),
        "due": _ts(p.created_at),
        "issued": p.created_at.date().isoformat(),
        "brand_id": data.get("brand_id"),
        "is_test": p.mode == "test",
        "send_receipt": bool(data.get("send_receipt")),
        "is_recurring_token": False,
        "force_recurring": False,
        "skip_capture": p.capture_method.value == "manual",
        "reference_generated": f"PS{pid[-8:]}",
        "refund_upto": _ts(paid_at) + REFUND_DAYS * 86400 - 3600 if paid_at else 0,
        "refund_availability": "ALL" if refundable else "NONE",
        "refundable_amount": major(refundable, cur),
        "totalRefunded": major(p.amount_refunded, cur),
        "captureTxns": captures,
        "success_redirect": data.get("success_redirect") or p.return_url,
        "failure_redirect": data.get("failure_redirect"),
        "pending_redirect": data.get("pending_redirect"),
        "cancel_redirect": data.get("cancel_redirect"),
        "success_callback": data.get("success_callback"),
        "failure_callback": data.get("failure_callback"),
        "platform": "API",
        "created_from_ip": data.get("created_from_ip"),
        "checkout_url": f"{public_url}/paysecure/api/v1/payment/{pid}/",  # no hosted cashier: the shopper page
        "direct_post_url": f"{public_url}/paysecure/api/v1/p/{pid}/",
    }
