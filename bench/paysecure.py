"""Seed 001's Paysecure purchase under /paysecure/api/v1, measured end to end: create the purchase (a
unique `merchantRef` per request), its S2S card post, then the shopper's GET of the `callback_url`, which
answers 303 to `success_redirect` (not followed: it is the merchant's site). One success is one purchase
that ends PAID; bench/lua/paysecure.lua chains the three requests, as challenge.lua chains its five.

The demo merchant's `brand_id` is not in its credentials file, so a merchant of its own is made with
`tessera merchant create --json` (which prints it, as a Paysecure integrator gets it) on the server's store.
The S2S body is seed 001's with the frictionless Visa the native one-call payment uses, a valid expiry and
without `remember_card`, so that the purchase does the same card work as the two native calls it is
compared with. No `success_callback` / `failure_callback`: the bench sends nothing off this machine.
"""

from __future__ import annotations

import http.client
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.config import BenchError
from bench.flows import CARD, UNIQUE_PLACEHOLDER, Call, Flow
from bench.servers import Server, create_merchant

PAYSECURE_PURCHASE = "paysecure_purchase"
TITLES = {PAYSECURE_PURCHASE: "Paysecure purchase (seed 001), 3-D Secure frictionless"}
REQUESTS = 3  # per purchase: create, S2S post, callback GET
BASE = "/paysecure/api/v1"
ALLOWED_DOMAIN = "yoursite.com"  # the redirects' domain, allowed for the bench's merchant; never contacted
SUCCESS_REDIRECT = f"https://{ALLOWED_DOMAIN}/payment/success/"
FAILURE_REDIRECT = f"https://{ALLOWED_DOMAIN}/payment/failure/"
PAID = "PAID"
_PURCHASE = {
    "client": {"email": "user@example.com", "full_name": "Test User", "phone": "+15555550123",
               "street_address": "1 Test Street", "city": "London", "zip_code": "10001", "country": "GB",
               "stateCode": "LO"},
    "purchase": {"currency": "INR", "products": [{"name": "Order 1", "price": "10.00"}]},  # the native 1000 INR
    "merchantRef": UNIQUE_PLACEHOLDER,
    "success_redirect": SUCCESS_REDIRECT,
    "failure_redirect": FAILURE_REDIRECT,
}  # fmt: skip
# Seed 001's S2S body (its remote_ip is the shopper's: not this machine's, which the dialect would refuse).
_S2S = {
    "cardholder_name": "dk",
    "card_number": CARD["number"],
    "expires": f"{CARD['exp_month']:02d}/{str(CARD['exp_year'])[-2:]}",  # MM/YY
    "cvc": CARD["cvc"],
    "remote_ip": "157.38.242.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 "
    "Safari/537.36",
    "accept_header": "text/html",
    "language": "en-US",
    "java_enabled": False,
    "javascript_enabled": True,
    "color_depth": 24,
    "utc_offset": 0,
    "screen_width": 1920,
    "screen_height": 1080,
}


@dataclass(frozen=True)
class PaysecureFlow(Flow):
    """`payment` is the purchase's creation; `s2s_body` the card post's body. Successes are chains."""

    s2s_body: str = ""

    @property
    def success_counter(self) -> str:
        return "chains"

    def wrk_script(self) -> str:
        return "paysecure.lua"

    def wrk_args(self, stop_after: int = 0) -> list[str]:
        """paysecure.lua's arguments; a fresh random prefix per wrk run keeps every merchantRef unique."""
        p = self.payment
        return [
            BASE, p.authorization, p.body, self.s2s_body, SUCCESS_REDIRECT, str(stop_after),
            f"b{secrets.token_hex(6)}",
        ]  # fmt: skip

    def probe(self, base_url: str) -> str:
        """One purchase through the three steps, each checked, then read back: it must be PAID."""
        return _walk(base_url, self, f"probe-{secrets.token_hex(8)}")


def _walk(base_url: str, flow: PaysecureFlow, reference: str) -> str:
    where = urlsplit(base_url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=10)
    auth = {"Authorization": flow.payment.authorization}
    as_json = auth | {"Content-Type": "application/json"}

    def call(method: str, path: str, body: str | None, headers: dict[str, str], expect: int) -> tuple[str, str]:
        conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode(errors="replace")
        if answer.status != expect:
            raise BenchError(
                f"Paysecure purchase: {method} {path} answered {answer.status}, not {expect}:\n{text[:2000]}"
            )
        return text, answer.getheader("Location") or ""

    try:
        body = flow.payment.body.replace(UNIQUE_PLACEHOLDER, reference)
        created = json.loads(call("POST", flow.payment.path, body, as_json, 202)[0])
        pid = str(created["purchaseId"])
        posted = json.loads(call("POST", f"{BASE}/p/{pid}/?s2s=true", flow.s2s_body, as_json, 202)[0])
        callback = urlsplit(posted.get("callback_url", ""))
        if posted.get("status") != "pending" or callback.path != f"{BASE}/payment/{pid}/":
            raise BenchError(
                f"Paysecure purchase: the S2S post's answer is not pending with its callback_url: {posted}"
            )
        _, location = call("GET", callback.path, None, {}, 303)  # the shopper's browser: no key
        if not location.startswith(SUCCESS_REDIRECT) or "status=paid" not in location:
            raise BenchError(f"Paysecure purchase: the callback GET redirected to {location!r}, not success_redirect")
        found = json.loads(call("GET", f"{BASE}/purchases/{pid}/", None, auth, 200)[0])
        if found.get("status") != PAID:
            raise BenchError(f"Paysecure purchase: {pid} is {found.get('status')!r} after the callback, not {PAID}")
    except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
        raise BenchError(f"Paysecure purchase at {base_url}: {exc!r}") from exc
    finally:
        conn.close()
    return pid


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def paysecure_flows(server: Server) -> list[Flow]:
    """The purchase flow, for a merchant made now on `server`'s store."""
    creds = create_merchant(server, "Bench Paysecure", allow_domain=ALLOWED_DOMAIN)
    if not creds.get("brand_id"):
        raise BenchError(f"tessera merchant create --json printed no brand_id: {sorted(creds)}")
    create = Call(
        f"{BASE}/purchases/", f"Bearer {creds['secret_key']}", _json({**_PURCHASE, "brand_id": creds["brand_id"]})
    )
    return [
        PaysecureFlow(
            key=PAYSECURE_PURCHASE,
            content_type="application/json",
            payment=create,
            success=SUCCESS_REDIRECT,
            s2s_body=_json(_S2S),
        )
    ]
