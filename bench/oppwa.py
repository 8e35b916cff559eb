"""Seed 003's OPPWA debit under /oppwa, measured as an OPPWA client sends it: one form-encoded
`POST /oppwa/v1/payments` with `paymentType=DB` and OPPWA's own sample values (92.00 EUR, VISA
4200000000000000, Jane Jones, 05/2034), `Authorization: Bearer <secret key>` and the merchant's
`entityId`. One success is one debit answered with OPPWA's test-mode success code, `000.100.110`.

The card is OPPWA's default sample card, which the sandbox does not enrol in 3-D Secure (its test-card
table), so the debit does the card work of the native payment without 3-D Secure (`one_call_no_3ds`),
the fair comparison; issue 13 asks for the server's CPU per payment within 15% of the native one-call
payment. Every request is the same body, so bench/lua/oneshot.lua drives it (OPPWA has no idempotency
key and requires no unique reference).

The demo merchant's credentials file holds no `entity_id`, so a merchant of its own is made with
`tessera merchant create --json` on the server's store, which prints it, as an OPPWA integrator gets it.

`BENCH_FLOWS=oppwa_db,one_call_no_3ds` measures it alone, with the payment it is held against.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bench.config import BenchError
from bench.flows import Call, Flow
from bench.servers import Server, create_merchant

OPPWA_DB = "oppwa_db"
TITLES = {OPPWA_DB: "OPPWA debit (seed 003), form-encoded, no 3-D Secure"}
PATH = "/oppwa/v1/payments"
SUCCESS = '"000.100.110"'  # result.code of a test-mode success ("Merchant in Integrator Test Mode")
# OPPWA's sample debit, field for field as its clients send it (oppwa.md 2.1, 2.2; PAY.ON's samples).
_DEBIT = {
    "paymentType": "DB",
    "amount": "92.00",
    "currency": "EUR",
    "paymentBrand": "VISA",
    "card.number": "4200000000000000",
    "card.holder": "Jane Jones",
    "card.expiryMonth": "05",
    "card.expiryYear": "2034",
    "card.cvv": "123",
    # The shopper's address and browser: Tessera requires them of every payment with a card the shopper enters
    # (3-D Secure and the risk rules read them); OPPWA's 3-D Secure samples send them too.
    "customer.ip": "203.0.113.7",
    "customer.browser.userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
}


def debit_body(entity_id: str) -> str:
    """The form body; `card.number` and the other dotted names are percent-encoded as clients do."""
    return urlencode({"entityId": entity_id, **_DEBIT})


def oppwa_flows(server: Server) -> list[Flow]:
    """The debit flow, for a merchant made now on `server`'s store."""
    creds = create_merchant(server, "Bench OPPWA")
    if not creds.get("entity_id"):
        raise BenchError(f"tessera merchant create --json printed no entity_id: {sorted(creds)}")
    call = Call(PATH, f"Bearer {creds['secret_key']}", debit_body(creds["entity_id"]))
    return [
        Flow(
            key=OPPWA_DB,
            content_type="application/x-www-form-urlencoded; charset=UTF-8",
            payment=call,
            success=SUCCESS,
        )
    ]
