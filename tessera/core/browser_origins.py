"""Which web origins may call the gateway from a shopper's browser (tessera.js), for which merchant and mode.

A merchant's browser origins are its allowed domains (the same list that bounds its return URLs), a
domain also covering its subdomains, on any port: in test mode over http or https, in live mode over
https only, since a live checkout page served over plain http could have its script swapped on the way.
An origin is the exact serialisation a browser sends (`scheme://host[:port]`); anything else, `null`
included (sandboxed frames, file pages), is no origin a merchant can allow.

The CORS headers themselves are the web layer's; this module only says yes or no. It must not import
anything HTTP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tessera.core.merchants import Merchant, MerchantStatus
from tessera.core.ports import UnitOfWorkFactory

_SCHEMES = {"test": ("http", "https"), "live": ("https",)}
# How many candidate merchants a preflight looks at: any one of them granting is enough.
_CANDIDATES = 50


def origin_host(origin: str) -> tuple[str, str] | None:
    """The scheme and host of a well-formed origin, or None (no path, query, user or trailing slash)."""
    if not origin or len(origin) > 300 or origin != origin.strip():
        return None
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return None
    return parts.scheme, parts.hostname.rstrip(".")


def origin_allowed(merchant: Merchant, mode: str, origin: str) -> bool:
    """May a page of `origin` use `merchant`'s publishable key of `mode` from a browser?"""
    found = origin_host(origin)
    if found is None or merchant.status is not MerchantStatus.ACTIVE:
        return False
    scheme, host = found
    return scheme in _SCHEMES.get(mode, ()) and merchant.allows_return_url_host(host)


def candidate_domains(host: str) -> list[str]:
    """The allowed-domain entries that would cover `host`: itself and each parent domain."""
    labels = host.lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


async def origin_allowed_by_any(origin: str, *, uow: UnitOfWorkFactory) -> bool:
    """Does some merchant allow `origin` in some mode it has keys for? A CORS preflight carries no key,
    so this is all it can be answered on; the request that follows is held to its own key's merchant."""
    found = origin_host(origin)
    if found is None:
        return False
    async with uow(read_only=True) as tx:
        for merchant in await tx.merchants.allowing_domains(candidate_domains(found[1]), limit=_CANDIDATES):
            modes = await tx.merchants.key_modes(merchant.id)
            if any(origin_allowed(merchant, mode, origin) for mode in modes):
                return True
    return False
