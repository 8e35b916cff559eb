"""The payment flows that are measured, for Tessera's native API and for localstripe's Stripe API.

A flow knows the wrk Lua script and arguments that drive it, and can make one payment itself (`probe`)
so that a broken flow fails loudly before any measuring.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass

from bench.config import BenchError

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
VAULT_CARD = {"number": "5555555555554444", "exp_month": 12, "exp_year": 2030, "name": "Bench"}
TOKEN_PLACEHOLDER = "TOKEN_ID"
UNIQUE_PLACEHOLDER = "UNIQUE_ID"  # unique.lua replaces it with a value no other request of the run has
ONE_CALL = "one_call"
TOKEN_THEN_PAYMENT = "token_then_payment"
SAVE_CARD = "save_card"
SAVED_CARD_PAYMENT = "saved_card_payment"
TITLES = {
    ONE_CALL: "One-call S2S card payment",
    TOKEN_THEN_PAYMENT: "Token, then payment",
    SAVE_CARD: "Save a card (vault)",
    SAVED_CARD_PAYMENT: "Payment with a saved card",
}


@dataclass(frozen=True)
class Call:
    path: str
    authorization: str
    body: str


@dataclass(frozen=True)
class Flow:
    key: str
    content_type: str
    payment: Call  # with a token step, its body holds TOKEN_PLACEHOLDER; it may hold UNIQUE_PLACEHOLDER
    success: str  # a plain substring of a successful response's body (a completed payment, a saved card)
    token: Call | None = None
    token_pattern: str = ""  # Lua pattern capturing the token's id in a token response
    payment_marker: str = ""  # a plain substring telling a payment response from a token response

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def unique(self) -> bool:
        """Whether every request needs its own body (UNIQUE_PLACEHOLDER replaced by a unique value)."""
        return UNIQUE_PLACEHOLDER in self.payment.body

    @property
    def success_counter(self) -> str:
        """The Lua counter holding the successful responses."""
        return "successes" if self.unique else "payments"

    def wrk_script(self) -> str:
        if self.token:
            return "twostep.lua"
        return "unique.lua" if self.unique else "oneshot.lua"

    def wrk_args(self, stop_after: int = 0) -> list[str]:
        """The arguments the Lua script expects after `--` (see the scripts' headers). A unique flow gets a
        fresh random prefix for its values at every call, so that no two wrk runs send the same one."""
        p = self.payment
        if self.token is None:
            args = [p.path, p.authorization, self.content_type, p.body, self.success, str(stop_after)]
            return args + [f"b{secrets.token_hex(6)}"] if self.unique else args
        t = self.token
        return [
            t.path, t.authorization, t.body, p.path, p.authorization, p.body, self.content_type,
            self.token_pattern, self.payment_marker, self.success, str(stop_after),
        ]  # fmt: skip

    def probe(self, base_url: str) -> str:
        """Make one payment (or saved card) through the flow; return its id (or card token), or raise if it
        did not succeed."""
        body = self.payment.body.replace(UNIQUE_PLACEHOLDER, f"probe-{secrets.token_hex(8)}")
        if self.token is not None:
            token = json.loads(self._post(base_url, self.token, self.token.body))["id"]
            body = body.replace(TOKEN_PLACEHOLDER, token)
        answer = self._post(base_url, self.payment, body)
        if self.success not in answer:
            raise BenchError(f"{self.title} at {base_url}: the request did not succeed:\n{answer[:2000]}")
        found = json.loads(answer)
        return str(found.get("id") or found["card_token"])

    def _post(self, base_url: str, call: Call, body: str) -> str:
        request = urllib.request.Request(
            base_url + call.path,
            data=body.encode(),
            method="POST",
            headers={"Authorization": call.authorization, "Content-Type": self.content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return str(response.read().decode())
        except urllib.error.HTTPError as exc:
            raise BenchError(f"POST {call.path} answered {exc.code}: {exc.read().decode(errors='replace')}") from exc


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _save_card_body(identifier: str) -> str:
    return _json({"card": VAULT_CARD, "identifier": identifier, "card_type": "CREDIT", "consent": True})


def save_card(base_url: str, credentials: dict[str, str]) -> tuple[str, str]:
    """Save one card through the API, for the saved-card payment flow; return its card token and owner."""
    identifier = f"bench-owner-{secrets.token_hex(8)}"
    flow = Flow(
        key=SAVE_CARD,
        content_type="application/json",
        payment=Call("/v1/cards", f"Bearer {credentials['secret_key']}", _save_card_body(identifier)),
        success='"card_token":"',
    )
    return flow.probe(base_url), identifier


def tessera_flows(credentials: dict[str, str], saved_card: tuple[str, str] | None = None) -> list[Flow]:
    """Tessera's flows; the saved-card payment flow only with `saved_card` (its card token and owner, from
    `save_card`)."""
    secret = f"Bearer {credentials['secret_key']}"
    publishable = f"Bearer {credentials['publishable_key']}"
    payment = {"amount": 1000, "currency": "INR"}
    browser = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}
    success = '"object":"payment","status":"completed"'
    vault: list[Flow] = [
        Flow(
            key=SAVE_CARD,
            content_type="application/json",
            payment=Call("/v1/cards", secret, _save_card_body(UNIQUE_PLACEHOLDER)),
            success='"card_token":"',
        )
    ]
    if saved_card is not None:
        card_token, identifier = saved_card
        body = _json({**payment, "saved_card": card_token, "identifier": identifier})
        call = Call("/v1/payments", secret, body)
        vault.append(Flow(key=SAVED_CARD_PAYMENT, content_type="application/json", payment=call, success=success))
    return [
        Flow(
            key=ONE_CALL,
            content_type="application/json",
            payment=Call("/v1/payments", secret, _json({**payment, "card": CARD, "browser": browser})),
            success=success,
        ),
        Flow(
            key=TOKEN_THEN_PAYMENT,
            content_type="application/json",
            token=Call("/v1/tokens", publishable, _json({"card": CARD})),
            payment=Call("/v1/payments", secret, _json({**payment, "token": TOKEN_PLACEHOLDER})),
            success=success,
            token_pattern='^{"id":"(tok_[%w_]+)"',
            payment_marker='{"id":"pay_',
        ),
        *vault,
    ]


def _form(fields: dict[str, object]) -> str:
    # Stripe's bracketed form keys are sent as-is: localstripe unflattens them itself.
    return "&".join(f"{key}={value}" for key, value in fields.items())


def localstripe_flows(secret_key: str) -> list[Flow]:
    """localstripe 1.15 takes neither `payment_method_data` on payment intents nor raw card details as a
    charge's `source`, so the one-call flow confirms a payment intent with Stripe's `pm_card_visa` test
    payment method (4242 4242 4242 4242, which localstripe turns into a new PaymentMethod on every call),
    and the two-call flow creates a PaymentMethod from the card, then confirms a payment intent with it."""
    auth = f"Bearer {secret_key}"
    intent = {"amount": 1000, "currency": "inr", "confirm": "true"}
    card = {f"card[{key}]": value for key, value in CARD.items()}
    success = '\n  "status": "succeeded"'  # the intent's own status: top-level keys are indented by two
    return [
        Flow(
            key=ONE_CALL,
            content_type="application/x-www-form-urlencoded",
            payment=Call("/v1/payment_intents", auth, _form({**intent, "payment_method": "pm_card_visa"})),
            success=success,
        ),
        Flow(
            key=TOKEN_THEN_PAYMENT,
            content_type="application/x-www-form-urlencoded",
            token=Call("/v1/payment_methods", auth, _form({"type": "card", **card})),
            payment=Call("/v1/payment_intents", auth, _form({**intent, "payment_method": TOKEN_PLACEHOLDER})),
            success=success,
            token_pattern='"id": "(pm_%w+)"',
            payment_marker='"object": "payment_intent"',
        ),
    ]
