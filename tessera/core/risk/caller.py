"""Who is calling, by network address: the API IP allowlist, and the address a shopper's IP must not be.

The address is worked out once per request at the edge (`caller_address`, with the trusted proxies'
`X-Forwarded-For`) and kept in a context variable for the request's task, so the core's rules see it
whichever dialect made the command, as `merchants.authenticated_merchant` does for the merchant.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from contextvars import ContextVar

from tessera.core.errors import ErrorCode, PermissionDeniedError, ValidationError
from tessera.core.risk.model import address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CALLER: ContextVar[str | None] = ContextVar("tessera_caller_address", default=None)


def parse_networks(values: Sequence[str], *, field: str) -> list[Network]:
    out: list[Network] = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValidationError(f"{value!r} is not an IPv4 or IPv6 address or CIDR", field=field) from None
    return out


def _within(value: str | None, networks: Sequence[Network]) -> bool:
    ip = address(value)
    return ip is not None and any(ip.version == n.version and ip in n for n in networks)


def caller_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]) -> str | None:
    """The caller's address: the peer's, unless the peer is a trusted proxy; then the rightmost address
    of `X-Forwarded-For` that is not a trusted proxy (addresses left of it could be forged by the client)."""
    if peer is None or not trusted_proxies or not _within(peer, trusted_proxies) or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if address(hop) is None:
            return peer  # a hop that is no address: believe nothing the header says
        if not _within(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def set_caller(value: str | None) -> None:
    _CALLER.set(value)


def current_caller() -> str | None:
    return _CALLER.get()


def check_allowlist(allowed: Sequence[str], caller: str | None) -> None:
    """A secret-key call must come from the merchant's allowlist, when it has one."""
    if allowed and not _within(caller, parse_networks(allowed, field="allowed_ips")):
        raise PermissionDeniedError(
            "this API key may not be used from this IP address: it is not on the merchant's allowlist",
            code=ErrorCode.IP_NOT_ALLOWED,
        )


def check_shopper_ip(shopper_ip: str | None, caller: str | None) -> None:
    """The shopper's IP must not be the calling server's own: that is the merchant's server forwarding
    its own address instead of its shopper's. A loopback caller is exempt: on one machine (development,
    the test suite, the sandbox) shopper and server share 127.0.0.1, and no real shopper ever calls
    from a loopback address, so the rule would only refuse local work and catch nothing."""
    shopper, server = address(shopper_ip), address(caller)
    if shopper is None or server is None or server.is_loopback:
        return
    if shopper == server:
        raise ValidationError(
            "the shopper's IP address is the calling server's own; send the shopper's browser address",
            code=ErrorCode.SHOPPER_IP_IS_CALLER,
            field="browser.ip",
        )
