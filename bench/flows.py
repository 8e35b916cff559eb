"""The payment flows that are measured, for Tessera's native API and for localstripe's Stripe API.

A flow knows the wrk Lua script and arguments that drive it, and can make one payment itself (`probe`)
so that a broken flow fails loudly before any measuring.
"""

from __future__ import annotations

import http.client
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from bench.config import BenchError

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}  # 3-D Secure: frictionless
NOT_ENROLLED_CARD = {"number": "2223003122003222", "exp_month": 12, "exp_year": 2030, "cvc": "123"}  # no 3-D Secure
CHALLENGE_CARD = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"}  # 3-D Secure challenge
BROWSER = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}  # card and token payments need the shopper's browser
RETURN_URL = "https://yoursite.com/payment/callback/"  # on a domain the demo merchant allows
OTP = "123456"  # the sandbox ACS's one-time password
VAULT_CARD = {"number": "5555555555554444", "exp_month": 12, "exp_year": 2030, "name": "Bench"}
TOKEN_PLACEHOLDER = "TOKEN_ID"
UNIQUE_PLACEHOLDER = "UNIQUE_ID"  # unique.lua replaces it with a value no other request of the run has
ONE_CALL = "one_call"  # with a card enrolled in 3-D Secure: a frictionless authentication, then authorisation
NO_3DS = "one_call_no_3ds"
TOKEN_THEN_PAYMENT = "token_then_payment"
CHALLENGE = "challenge"
SAVE_CARD = "save_card"
SAVED_CARD_PAYMENT = "saved_card_payment"
TITLES = {
    NO_3DS: "One-call payment without 3-D Secure",
    ONE_CALL: "One-call payment, 3-D Secure frictionless",
    CHALLENGE: "3-D Secure challenge, start to finish",
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
    challenge: bool = False  # the payment answers requires_action: walk the shopper's 3-D Secure challenge
    probe_marker: str = ""  # a plain substring the probe's response must hold too (wrk checks only `success`)

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def unique(self) -> bool:
        """Whether every request needs its own body (UNIQUE_PLACEHOLDER replaced by a unique value)."""
        return UNIQUE_PLACEHOLDER in self.payment.body

    @property
    def success_counter(self) -> str:
        """The Lua counter holding the successes: finished challenges, saved cards or completed payments."""
        if self.challenge:
            return "chains"
        return "successes" if self.unique else "payments"

    def wrk_script(self) -> str:
        if self.challenge:
            return "challenge.lua"
        if self.token:
            return "twostep.lua"
        return "unique.lua" if self.unique else "oneshot.lua"

    def wrk_args(self, stop_after: int = 0) -> list[str]:
        """The arguments the Lua script expects after `--` (see the scripts' headers). A unique flow gets a
        fresh random prefix for its values at every call, so that no two wrk runs send the same one. For a
        challenge flow, `stop_after` counts finished challenges per thread, not responses."""
        p = self.payment
        if self.challenge:
            return [p.path, p.authorization, self.content_type, p.body, str(stop_after), OTP]
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
        did not succeed. A challenge flow's payment is walked through its whole challenge, and fetched after."""
        if self.challenge:
            return _walk_challenge(base_url, self.payment, self.success)
        body = self.payment.body.replace(UNIQUE_PLACEHOLDER, f"probe-{secrets.token_hex(8)}")
        if self.token is not None:
            token = json.loads(self._post(base_url, self.token, self.token.body))["id"]
            body = body.replace(TOKEN_PLACEHOLDER, token)
        answer = self._post(base_url, self.payment, body)
        if self.success not in answer or self.probe_marker not in answer:
            wanted = repr(self.success) + (f" and {self.probe_marker!r}" if self.probe_marker else "")
            raise BenchError(f"{self.title} at {base_url}: the response lacks {wanted}:\n{answer[:2000]}")
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


class _Form(HTMLParser):
    """A page's first form: where it posts, and its hidden fields (and whether it asks for an `otp`)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.asks_otp = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden" and "name" in a:
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("name") == "otp":
            self.asks_otp = True


def _walk_challenge(base_url: str, payment: Call, success: str) -> str:
    """What challenge.lua does for each chain, checked at every step: create the payment (202
    requires_action), open its redirect_url, post the CReq form to the ACS, answer the challenge, post the
    CRes form back (303 to the return_url with status=completed); then fetch the payment, which must be
    completed. Returns the payment's id."""
    where = urlsplit(base_url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=10)

    def call(method: str, path: str, body: str | None, headers: dict[str, str], expect: int) -> tuple[str, str]:
        conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode(errors="replace")
        if answer.status != expect:
            what = f"{method} {path} answered {answer.status}, not {expect}"
            raise BenchError(f"3-D Secure challenge: {what}:\n{text[:2000]}")
        return text, answer.getheader("Location") or ""

    def post_form(page: str, step: str) -> tuple[str, str]:
        form = _Form(page)
        if not form.action:
            raise BenchError(f"3-D Secure challenge: {step}: the page has no form:\n{page[:2000]}")
        fields = form.hidden | ({"otp": OTP, "action": "submit"} if form.asks_otp else {})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return call("POST", urlsplit(form.action).path, urlencode(fields), headers, 303 if step == "notify" else 200)

    try:
        auth = {"Authorization": payment.authorization, "Content-Type": "application/json"}
        created = json.loads(call("POST", payment.path, payment.body, auth, 202)[0])
        if created.get("status") != "requires_action" or not created.get("redirect_url"):
            raise BenchError(f"3-D Secure challenge: the payment needs no action: {created}")
        page, _ = call("GET", urlsplit(created["redirect_url"]).path, None, {}, 200)
        page, _ = post_form(page, "to the ACS")
        if not _Form(page).asks_otp:
            raise BenchError(f"3-D Secure challenge: the ACS's page asks for no one-time password:\n{page[:2000]}")
        page, _ = post_form(page, "the answer")
        _, location = post_form(page, "notify")
        if not location.startswith(RETURN_URL) or "status=completed" not in location:
            raise BenchError(f"3-D Secure challenge: redirected to {location!r}, not to the return_url, completed")
        found, _ = call("GET", f"{payment.path}/{created['id']}", None, {"Authorization": payment.authorization}, 200)
        if success not in found:
            raise BenchError(f"3-D Secure challenge: the payment is not completed after it:\n{found[:2000]}")
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"3-D Secure challenge at {base_url}: {exc}") from exc
    finally:
        conn.close()
    return str(created["id"])


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
    challenge = {**payment, "card": CHALLENGE_CARD, "browser": BROWSER, "return_url": RETURN_URL}
    # The payment without 3-D Secure runs first, on the emptier store, so that a store grown by the other
    # flows cannot flatter it against the frictionless payment.
    return [
        Flow(
            key=NO_3DS,
            content_type="application/json",
            payment=Call("/v1/payments", secret, _json({**payment, "card": NOT_ENROLLED_CARD, "browser": BROWSER})),
            success=success,
            probe_marker='"authentication":null',
        ),
        Flow(
            key=ONE_CALL,
            content_type="application/json",
            payment=Call("/v1/payments", secret, _json({**payment, "card": CARD, "browser": BROWSER})),
            success=success,
            probe_marker='"authentication":{"status":"Y"',
        ),
        Flow(
            key=TOKEN_THEN_PAYMENT,
            content_type="application/json",
            token=Call("/v1/tokens", publishable, _json({"card": CARD})),
            payment=Call("/v1/payments", secret, _json({**payment, "token": TOKEN_PLACEHOLDER, "browser": BROWSER})),
            success=success,
            token_pattern='^{"id":"(tok_[%w_]+)"',
            payment_marker='{"id":"pay_',
        ),
        Flow(
            key=CHALLENGE,
            content_type="application/json",
            payment=Call("/v1/payments", secret, _json(challenge)),
            success=success,
            challenge=True,
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
