"""A bounded load of real payment flows against a running `tessera serve`, recorded from the client's side.

Each of `concurrency` clients runs flows one after another until told to stop: a one-call payment
(approved, declined, the sandbox's time-out and refusal cards), a manual authorisation then its capture
or void and a refund, and an intent then its confirmation. Every request carries an Idempotency-Key, and
every exchange is kept: what was sent, and the answer, or that the connection died before one (`lost`).

A connection refused outright (the server is down, nothing was sent) is tried again with the same key
until the server is back, as a real client would. Any other transport failure means the request may have
been taken and its answer lost: the flow stops there, and `retry_lost` later sends it again (same key,
same body) to learn its outcome. Choices are drawn from a seeded random, so a failing run can be replayed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import BROWSER, card

APPROVED = ("4242424242424242", "5506900480000008", "378282246310005")
DECLINED = "4000000000000002"
NO_ANSWER = "4000000000000259"  # the acquirer takes it and never answers: reversed, NETWORK_ERROR
REFUSED = "4000000000000119"  # the acquirer refuses the connection: nothing charged
CARDS = (*APPROVED, DECLINED, NO_ANSWER, REFUSED)

# A connection refused while the server is down is tried again for this long before the flow gives up.
DOWN_FOR_AT_MOST = 60.0


@dataclass
class Exchange:
    """One keyed request and what the client learned from it."""

    flow: str  # the flow's merchant reference, e.g. `crash-7-3`
    step: str  # create, capture, void, refund, confirm
    key: str
    path: str
    body: dict[str, Any]
    status: int | None = None
    answer: Any = None
    lost: bool = False  # the connection died before an answer (or the server answered 5xx)
    retry_status: int | None = None
    retry_answer: Any = None

    @property
    def final_status(self) -> int | None:
        return self.retry_status if self.lost else self.status

    @property
    def final_answer(self) -> Any:
        return self.retry_answer if self.lost else self.answer

    def payment(self) -> dict[str, Any] | None:
        """The payment this exchange's (final) answer showed, if it showed one."""
        answer = self.final_answer
        if isinstance(answer, dict) and answer.get("object") == "payment":
            return answer
        return None


@dataclass
class Load:
    """`concurrency` clients running payment flows against `base_url` until `stop()`."""

    base_url: str
    secret_key: str
    seed: int
    concurrency: int = 16
    prefix: str = "crash"
    exchanges: list[Exchange] = field(default_factory=list)
    in_flight: int = 0  # requests sent and not yet answered, right now
    server_errors: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        self._stop.set()

    def lost(self) -> list[Exchange]:
        return [x for x in self.exchanges if x.lost]

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=headers, limits=limits, timeout=httpx.Timeout(30.0)
        ) as http:
            await asyncio.gather(*(self._client(http, n) for n in range(self.concurrency)))

    async def _client(self, http: httpx.AsyncClient, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        flows = 0
        while not self._stop.is_set():
            flows += 1
            await self._flow(http, rng, f"{self.prefix}-{n}-{flows}")

    async def _flow(self, http: httpx.AsyncClient, rng: random.Random, ref: str) -> None:
        kind = rng.choices(("sale", "manual", "intent"), weights=(5, 3, 2))[0]
        amount = rng.randrange(100, 100_000)
        if kind == "sale":
            number = rng.choices(CARDS, weights=(4, 2, 2, 2, 1, 1))[0]
            body = {"amount": amount, "currency": "INR", "card": card(number), "browser": BROWSER, "reference": ref}
            await self._send(http, ref, "create", "/v1/payments", body)
            return
        if kind == "manual":
            number = rng.choice(APPROVED)
            body = {
                "amount": amount,
                "currency": "INR",
                "card": card(number),
                "browser": BROWSER,
                "capture_method": "manual",
                "reference": ref,
            }
            made = await self._send(http, ref, "create", "/v1/payments", body)
            if made is None or made.get("status") != "authorized":
                return
            pay = f"/v1/payments/{made['id']}"
            if rng.random() < 0.2:
                await self._send(http, ref, "void", f"{pay}/void", {})
                return
            captured = await self._send(http, ref, "capture", f"{pay}/capture", {"amount": rng.randint(1, amount)})
            if captured is None or captured.get("status") != "completed" or rng.random() < 0.3:
                return
            await self._send(
                http, ref, "refund", f"{pay}/refunds", {"amount": rng.randint(1, captured["amount_captured"])}
            )
            return
        intent = await self._send(
            http, ref, "create", "/v1/payments", {"amount": amount, "currency": "INR", "reference": ref}
        )
        if intent is None or intent.get("status") != "requires_payment_method":
            return
        number = rng.choices((*APPROVED, DECLINED), weights=(2, 2, 2, 3))[0]
        await self._send(
            http, ref, "confirm", f"/v1/payments/{intent['id']}/confirm", {"card": card(number), "browser": BROWSER}
        )

    async def _send(self, http: httpx.AsyncClient, ref: str, step: str, path: str, body: dict[str, Any]) -> Any:
        """POST under a fresh key; the answer's JSON, or None when it was lost (the flow stops there)."""
        x = Exchange(ref, step, f"{ref}-{step}", path, body)
        self.exchanges.append(x)
        down_since: float | None = None
        while True:
            self.in_flight += 1
            try:
                r = await http.post(path, json=body, headers={"Idempotency-Key": x.key})
            except httpx.ConnectError:
                # Refused: nothing reached the server. Wait for it to come back, as a real client would.
                down_since = down_since or time.monotonic()
                if time.monotonic() - down_since > DOWN_FOR_AT_MOST:
                    x.lost = True
                    return None
                await asyncio.sleep(0.05)
                continue
            except httpx.TransportError:
                x.lost = True  # sent, perhaps taken, no answer: only a retry with the same key can tell
                return None
            finally:
                self.in_flight -= 1
            break
        x.status, x.answer = r.status_code, _json(r)
        if r.status_code >= 500:
            self.server_errors += 1
            x.lost = True
            return None
        return x.answer


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return r.text


async def retry_lost(base_url: str, secret_key: str, lost: Iterable[Exchange], *, within: float) -> list[Exchange]:
    """Send every lost request again (same key, same body) until it answers something other than
    `idempotency_key_in_use` (its crashed holder's lease runs out), giving up after `within` seconds."""

    async def again(http: httpx.AsyncClient, x: Exchange) -> None:
        deadline = time.monotonic() + within
        while True:
            r = await http.post(x.path, json=x.body, headers={"Idempotency-Key": x.key})
            x.retry_status, x.retry_answer = r.status_code, _json(r)
            if not _in_use(r) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.2)

    todo = list(lost)
    await _each(base_url, secret_key, todo, again)
    return todo


async def replay(base_url: str, secret_key: str, exchanges: Iterable[Exchange]) -> list[Exchange]:
    """Send each request once more; the ones whose answer differs from the final answer they had."""
    differ: list[Exchange] = []

    async def once(http: httpx.AsyncClient, x: Exchange) -> None:
        r = await http.post(x.path, json=x.body, headers={"Idempotency-Key": x.key})
        if (r.status_code, _json(r)) != (x.final_status, x.final_answer):
            differ.append(x)

    await _each(base_url, secret_key, exchanges, once)
    return differ


async def _each(
    base_url: str,
    secret_key: str,
    exchanges: Iterable[Exchange],
    send: Callable[[httpx.AsyncClient, Exchange], Awaitable[None]],
    concurrency: int = 16,
) -> None:
    """`send` for every exchange, `concurrency` at a time (thousands of requests queued on one client at
    once would spend the test's event loop on the connection pool's bookkeeping)."""
    queue = list(exchanges)
    headers = {"Authorization": f"Bearer {secret_key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(30.0)) as http:

        async def drain() -> None:
            while queue:
                await send(http, queue.pop())

        await asyncio.gather(*(drain() for _ in range(concurrency)))


def _in_use(r: httpx.Response) -> bool:
    if r.status_code != 409:
        return False
    answer = _json(r)
    return isinstance(answer, dict) and answer.get("error", {}).get("code") == "idempotency_key_in_use"
