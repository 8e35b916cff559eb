"""The risk controls' cost: the native one-call payment (3-D Secure frictionless) for a merchant with
10,000 entries on its blocklist and velocity rules, against the same payment for a merchant with none.

Issue 12's target: the blocklist and velocity checks add at most 10% to a one-call payment's server CPU.
The merchant is made with `tessera merchant create --json` on the server's store; its list is filled
through `POST /v1/blocklist` (cards, e-mails, customers, IP addresses and networks, BINs, in the
proportions a merchant's list might have: none of them matches the bench's payment, so every payment is
screened and goes through). Two velocity rules count per customer e-mail (attempts, and the INR amount);
each request's e-mail is unique (`UNIQUE_ID`), as a shop's payments come from many shoppers, so each
payment counts into a fresh counter, the costlier path (the previous windows' counters are dropped
first). A rule per card or per IP would make every bench payment count into one row: a hot row no real
shop has, and a contention test rather than a measure of the check's cost. The comparison flow
(`one_call_email`) is the same request for a merchant with no list and no rules.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench.config import BenchError
from bench.flows import BROWSER, CARD, UNIQUE_PLACEHOLDER, Call, Flow
from bench.procs import log
from bench.servers import Server, create_merchant

ONE_CALL_RISK = "one_call_risk"
ONE_CALL_EMAIL = "one_call_email"
TITLES = {
    ONE_CALL_EMAIL: "One-call payment with a customer e-mail, no risk controls set",
    ONE_CALL_RISK: "The same, with 10,000 blocklist entries and 2 velocity rules",
}
ENTRIES = 10_000
# Of every 20 entries: 8 cards, 4 e-mails, 3 IP addresses or networks, 3 customers, 2 BINs.
_MIX = ("card",) * 8 + ("email",) * 4 + ("ip",) * 3 + ("customer",) * 3 + ("bin",) * 2
RULES = (
    {"key": "email", "metric": "count", "limit": 20, "window_seconds": 3600},
    {"key": "email", "metric": "amount", "limit": 10_000_000, "currency": "INR", "window_seconds": 86_400},
)
_ADD_THREADS = 8


def _luhn_complete(partial: str) -> str:
    total = 0
    for i, digit in enumerate(reversed(partial)):
        d = int(digit)
        if i % 2 == 0:  # doubled: these are every second digit from the right once the check digit is added
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return partial + str((10 - total % 10) % 10)


def _value(kind: str, n: int, rng: random.Random) -> str:
    if kind == "card":
        return _luhn_complete("4" + "".join(str(rng.randrange(10)) for _ in range(14)))
    if kind == "email":
        return f"blocked-{n}@fraud.example"
    if kind == "ip":
        a, b, c = rng.randrange(1, 224), rng.randrange(256), rng.randrange(256)
        return f"{a}.{b}.{c}.0/24" if n % 3 == 0 else f"{a}.{b}.{c}.{rng.randrange(1, 255)}"
    if kind == "customer":
        return f"cus-blocked-{n}"
    return f"5{rng.randrange(10**7):07d}"  # an 8-digit BIN outside the bench card's Visa range


def _post(base_url: str, secret: str, path: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            found: dict[str, object] = json.loads(response.read())
            return found
    except urllib.error.HTTPError as exc:
        raise BenchError(f"POST {path} {body} answered {exc.code}: {exc.read().decode(errors='replace')}") from exc


def _fill(server: Server, secret: str) -> None:
    rng = random.Random(12)
    values = [(kind, _value(kind, n, rng)) for n, kind in ((n, _MIX[n % len(_MIX)]) for n in range(ENTRIES))]
    number = str(CARD["number"])
    if ("card", number) in values or any(number.startswith(v) for k, v in values if k == "bin"):
        raise BenchError("the bench's blocklist would block the bench's own card")

    def add(item: tuple[str, str]) -> None:
        _post(server.url, secret, "/v1/blocklist", {"type": item[0], "value": item[1]})

    with ThreadPoolExecutor(_ADD_THREADS) as pool:
        list(pool.map(add, values))
    for rule in RULES:
        _post(server.url, secret, "/v1/risk_rules", rule)


def _flow(key: str, secret: str) -> Flow:
    body = {
        "amount": 1000,
        "currency": "INR",
        "card": CARD,
        "browser": BROWSER,
        "customer": {"email": f"{UNIQUE_PLACEHOLDER}@shopper.example"},
    }
    call = Call("/v1/payments", f"Bearer {secret}", json.dumps(body, separators=(",", ":")))
    return Flow(key=key, content_type="application/json", payment=call, success='"status":"completed"')


def risk_flows(server: Server) -> list[Flow]:
    """Two merchants made now on `server`'s store: one with no risk controls, one with the full list and
    the rules; the same payment flow for each."""
    plain = create_merchant(server, "Bench no risk")
    screened = create_merchant(server, "Bench risk")
    log(f"{server.name}: adding {ENTRIES:,} blocklist entries and {len(RULES)} velocity rules to a bench merchant")
    _fill(server, screened["secret_key"])
    return [_flow(ONE_CALL_EMAIL, plain["secret_key"]), _flow(ONE_CALL_RISK, screened["secret_key"])]
