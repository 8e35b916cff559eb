"""Seed 000's orders under /eximpe, measured like the native flows: a new-card order and a saved-card
order, each with a fresh `reference_id` per request (a reference may be used once), driven by
bench/lua/unique.lua with EximPe's three credential headers.

The new-card order is seed 000's example body with the frictionless Visa the native one-call payment
uses (the seed's own card always asks for a challenge, which no single call can finish) and without
`save_card`, so that the two compare like with like.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from bench.config import BenchError
from bench.flows import CARD, RETURN_URL, UNIQUE_PLACEHOLDER, Call, Flow

EXIMPE_ORDER = "eximpe_order"
EXIMPE_SAVED_CARD_ORDER = "eximpe_saved_card_order"
TITLES = {
    EXIMPE_ORDER: "EximPe order, new card (seed 000), 3-D Secure frictionless",
    EXIMPE_SAVED_CARD_ORDER: "EximPe order, saved card token (seed 000)",
}
SAVED_CARD = {"number": "5555555555554444", "network": "MASTERCARD"}  # frictionless, as the native saved card
SUCCESS = '"status":"payment_successful"'
_BUYER = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "phone": "+919876543210",
    "address": {"line_1": "123 Main Street", "line_2": "Apt 4B", "city": "City", "state": "State",
                "postal_code": "123456"},
    "ip_address": "192.168.1.100",
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
}  # fmt: skip
_ORDER = {
    "amount": "10.00",
    "currency": "INR",
    "reference_id": UNIQUE_PLACEHOLDER,
    "return_url": RETURN_URL,
    "collection_mode": "s2s",
    "buyer": _BUYER,
    "product": {"name": "Sample Product", "description": "This is a sample product description",
                "hs_code": "98051000", "hs_code_description": "Portable automatic data processing machines",
                "type_of_goods": "physical_goods"},
    "invoice": {"number": "INV_0HOZ0C", "date": "2025-09-04"},
}  # fmt: skip


@dataclass(frozen=True)
class EximpeFlow(Flow):
    headers: dict[str, str] = field(default_factory=dict)

    def wrk_args(self, stop_after: int = 0) -> list[str]:
        """unique.lua's arguments (no Authorization), with EximPe's headers appended."""
        return [*super().wrk_args(stop_after), *(f"{name}: {value}" for name, value in self.headers.items())]

    def probe(self, base_url: str) -> str:
        body = self.payment.body.replace(UNIQUE_PLACEHOLDER, f"probe-{secrets.token_hex(8)}")
        answer = _post(base_url, self.payment.path, body, self.headers)
        if self.success not in answer:
            raise BenchError(f"{self.title} at {base_url}: the response lacks {self.success!r}:\n{answer[:2000]}")
        return str(json.loads(answer)["data"]["order_id"])


def _post(base_url: str, path: str, body: str, headers: dict[str, str]) -> str:
    request = urllib.request.Request(
        base_url + path, data=body.encode(), method="POST", headers={**headers, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise BenchError(f"POST {path} answered {exc.code}: {exc.read().decode(errors='replace')}") from exc


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def eximpe_flows(base_url: str, credentials: dict[str, str]) -> list[Flow]:
    """Both order flows; the saved-card one pays with a card saved now through seed 004's Save Card API."""
    headers = {
        "X-Client-ID": credentials["client_id"],
        "X-Client-Secret": credentials["secret_key"],
        "X-Merchant-ID": credentials["merchant_id"],
        "X-API-Version": "1.0.0",
    }
    identifier = f"bench-eximpe-{secrets.token_hex(8)}"
    saved = _post(
        base_url,
        "/eximpe/pg/tokens/",
        _json({"identifier": identifier, "card_number": SAVED_CARD["number"], "cardholder_name": "Bench",
               "expiry_month": 12, "expiry_year": 2030, "network": SAVED_CARD["network"], "card_type": "CREDIT",
               "card_holder_consent": True}),
        headers,
    )  # fmt: skip
    token = json.loads(saved)["data"]["card_token"]
    new_card = {
        "number": CARD["number"], "cardholder_name": "John Doe", "expiry_month": "12",
        "expiry_year": str(CARD["exp_year"]), "cvv": CARD["cvc"], "network": "visa", "nickname": "VISA Debit",
        "identifier": "EX0001",
    }  # fmt: skip
    token_card = {"token": token, "identifier": identifier, "network": SAVED_CARD["network"].lower()}
    path = "/eximpe/pg/orders/"
    return [
        EximpeFlow(
            key=EXIMPE_ORDER,
            content_type="application/json",
            payment=Call(path, "", _json({**_ORDER, "mop_type": "debit_card", "card_details": new_card})),
            success=SUCCESS,
            headers=headers,
        ),
        EximpeFlow(
            key=EXIMPE_SAVED_CARD_ORDER,
            content_type="application/json",
            payment=Call(path, "", _json({**_ORDER, "mop_type": "CREDIT_CARD", "card_details": token_card})),
            success=SUCCESS,
            headers=headers,
        ),
    ]
