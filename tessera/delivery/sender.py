"""POSTs a rendered webhook (its format has built and signed it), within a time limit.

Live-mode deliveries resolve host names through a resolver that refuses private, loopback and
link-local addresses, so an endpoint whose name is later pointed inside the network (DNS rebinding)
still cannot be reached; test mode refuses only link-local ones, where cloud metadata services live.
Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from tessera import __version__
from tessera.core.webhooks.deliveries import EXCERPT_LENGTH, AttemptResult
from tessera.core.webhooks.endpoints import allowed_in_test_mode, is_obfuscated_ip, is_public_address
from tessera.logs import scrub_text

USER_AGENT = f"Tessera-Webhooks/{__version__}"
_READ_LIMIT = 1024


class CheckingResolver(AbstractResolver):
    """Resolves as usual, then refuses a host with any address `allowed` rejects."""

    def __init__(self, allowed: Callable[[str], bool], refusal: str) -> None:
        self._inner = DefaultResolver()
        self._allowed = allowed
        self._refusal = refusal

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not found or not all(self._allowed(r["host"]) for r in found):
            raise OSError(f"{host} resolves to {self._refusal}")
        return found

    async def close(self) -> None:
        await self._inner.close()


def excerpt(raw: bytes) -> str | None:
    """A short, card-free excerpt of a receiver's reply, for the delivery log."""
    if not raw:
        return None
    return scrub_text(raw[:_READ_LIMIT].decode("utf-8", "replace"))[:EXCERPT_LENGTH]


class Sender:
    def __init__(self, *, timeout: float, connections: int = 256, private_networks: bool = False) -> None:
        self._private = private_networks  # test mode may reach the operator's private networks (opt-in)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._connections = connections
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def _session(self, live: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(live)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections,
                limit_per_host=self._connections,
                ttl_dns_cache=10,
                # Live: public addresses only. Test: loopback too (and private networks if the operator
                # allows them), but never link-local (cloud metadata).
                resolver=CheckingResolver(is_public_address, "a private, loopback or link-local address")
                if live
                else CheckingResolver(self._test_mode_allows, "a private or link-local address"),
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
                skip_auto_headers=("Accept-Encoding",),
            )
            self._sessions[live] = session
        return session

    async def send(self, url: str, body: bytes, headers: dict[str, str], *, live: bool) -> AttemptResult:
        started = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - started) * 1000)

        if not self._literal_host_allowed(url, live=live):
            return AttemptResult(None, took(), "the endpoint's address is not allowed")
        try:
            async with self._session(live).post(url, data=body, headers=headers, allow_redirects=False) as resp:
                raw = await resp.content.read(_READ_LIMIT)
                return AttemptResult(resp.status, took(), None, excerpt(raw))
        except TimeoutError:
            return AttemptResult(None, took(), f"no answer within {self._timeout.total:g} seconds")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return AttemptResult(None, took(), _describe(exc))

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def _test_mode_allows(self, address: str) -> bool:
        return allowed_in_test_mode(address, private_networks=self._private)

    def _literal_host_allowed(self, url: str, *, live: bool) -> bool:
        host = urlsplit(url).hostname or ""
        if is_obfuscated_ip(host):
            return False
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return True  # a name: the resolver checks what it resolves to
        return is_public_address(host) if live else self._test_mode_allows(host)


def _describe(exc: BaseException) -> str:
    return scrub_text(f"{type(exc).__name__}: {exc}")[:200]
