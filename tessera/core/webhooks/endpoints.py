"""Webhook endpoints: a URL, the event types it wants, the format it is sent, and the secrets that sign it.

An endpoint made through the API is `endpoint`, sent the native format. The merchant's callback URL is
its `callback` endpoint (at most one per mode, and the only place that URL is kept): the payment
outcomes, signed with the merchant's webhook secret, in `CALLBACK_FORMAT`. A secret rotation keeps the
previous secret signing for a grace period, so a receiver can switch over without rejecting a single
delivery.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from tessera.core.errors import ValidationError
from tessera.core.payments import events as ev
from tessera.core.vault.service import CARD_DELETED, CARD_SAVED
from tessera.core.webhooks.formats import DEFAULT_FORMAT

ALL_EVENTS = "*"
EVENT_TYPES = frozenset(
    {
        ev.PAYMENT_CREATED,
        ev.PAYMENT_ATTEMPT_FAILED,
        ev.PAYMENT_AUTHORIZED,
        ev.PAYMENT_COMPLETED,
        ev.PAYMENT_FAILED,
        ev.PAYMENT_REQUIRES_ACTION,
        ev.PAYMENT_VOIDED,
        ev.PAYMENT_EXPIRED,
        ev.PAYMENT_CANCELED,
        ev.PAYMENT_CAPTURE_FAILED,
        ev.PAYMENT_VOID_FAILED,
        ev.REFUND_SUCCEEDED,
        ev.REFUND_FAILED,
        ev.CHARGEBACK_CREATED,
        ev.CHARGEBACK_REVERSED,
        CARD_SAVED,
        CARD_DELETED,
    }
)
# What the merchant's callback URL is sent: the outcome of each payment.
CALLBACK_EVENTS = (ev.PAYMENT_AUTHORIZED, ev.PAYMENT_COMPLETED, ev.PAYMENT_EXPIRED, ev.PAYMENT_FAILED)
# The format a merchant-level callback URL speaks. Seed 000's callback is the one such format today; a
# dialect whose vendor has another passes its own format name when it sets the URL.
CALLBACK_FORMAT = "eximpe"
MAX_URL_LENGTH = 2048
MAX_GRACE = timedelta(days=7)
RESOLVE_TIMEOUT = 5.0  # seconds for the DNS look-up of a live endpoint's host

# Resolves a host name to its IP addresses (the DNS look-up is the caller's I/O).
Resolver = Callable[[str], Awaitable[list[str]]]


class EndpointKind(StrEnum):
    ENDPOINT = "endpoint"
    CALLBACK = "callback"
    # A dialect's endpoint for the payments of its channel, addressed per payment by its format (Paysecure's
    # success_callback / failure_callback): never listed with the merchant's endpoints.
    CHANNEL = "channel"


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    DELETED = "deleted"


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    merchant_id: str
    mode: str
    kind: EndpointKind
    url: str
    enabled_events: list[str]
    secret: str
    status: EndpointStatus
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    previous_secret: str | None = None
    previous_secret_expires_at: datetime | None = None
    disabled_reason: str | None = None
    format: str = DEFAULT_FORMAT

    def wants(self, event_type: str) -> bool:
        return self.status is EndpointStatus.ENABLED and (
            ALL_EVENTS in self.enabled_events or event_type in self.enabled_events
        )

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        return signing_secrets(self.secret, self.previous_secret, self.previous_secret_expires_at, now)


def signing_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    if previous and previous_expires_at and previous_expires_at > now:
        return [current, previous]
    return [current]


def check_event_types(types: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(types))
    if not wanted:
        raise ValidationError('enabled_events must name at least one event type, or "*"', field="enabled_events")
    unknown = [t for t in wanted if t != ALL_EVENTS and t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"unknown event type {unknown[0]!r}; known types: {', '.join(sorted(EVENT_TYPES))}",
            field="enabled_events",
        )
    return [ALL_EVENTS] if ALL_EVENTS in wanted else wanted


def is_link_local(address: str) -> bool:
    """169.254.0.0/16 and fe80::/10, where cloud metadata services answer: never a webhook's target,
    even in test mode."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return ip.is_link_local or (mapped is not None and mapped.is_link_local)


def is_obfuscated_ip(host: str) -> bool:
    """An IPv4 address written any way but the usual dotted quad (decimal `2130706433`, hex `0x7f000001`,
    octal `0177.0.0.1`, short `127.1`): resolvers accept them, and they hide where a URL points."""
    if host.lower().startswith("0x"):
        return True
    parts = host.split(".")
    if not all(part.isdigit() or part.lower().startswith("0x") for part in parts):
        return False
    return len(parts) != 4 or any(part.lower().startswith("0x") or (len(part) > 1 and part[0] == "0") for part in parts)


def allowed_in_test_mode(address: str, *, private_networks: bool = False) -> bool:
    """Where test-mode events may go: loopback (a developer's own machine) and public addresses; never
    link-local (cloud metadata); the operator's private networks only when the operator opts in, since
    anyone with a test key could otherwise aim deliveries into them."""
    if is_link_local(address):
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if ip.is_loopback or (mapped is not None and mapped.is_loopback):
        return True
    return private_networks or is_public_address(address)


def is_public_address(address: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses, and for
    IPv6 forms that wrap one (IPv4-mapped, 6to4, Teredo)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        for wrapped in (ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None):
            if wrapped is not None and not is_public_address(str(wrapped)):
                return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def check_url(
    url: str, *, mode: str, resolve: Resolver, field_name: str = "url", private_networks: bool = False
) -> str:
    """A URL events may be sent to, checked against every address its host resolves to (no server-side
    request forgery into the gateway's own network). Live mode: HTTPS, public addresses only. Test mode
    allows plain HTTP and loopback, so a developer can receive webhooks on their machine, and private
    networks only when the operator allows them (`private_networks`). Never link-local."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            f"{field_name} must be an absolute URL of at most {MAX_URL_LENGTH} characters", field=field_name
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        raise ValidationError(f"{field_name} is not a valid URL", field=field_name) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{field_name} must be an absolute http or https URL", field=field_name)
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"{field_name} must not carry credentials", field=field_name)
    live = mode == "live"
    if live and parts.scheme != "https":
        raise ValidationError(f"{field_name} must use HTTPS in live mode", field=field_name)
    host = parts.hostname
    if is_obfuscated_ip(host):
        raise ValidationError(f"{field_name} must write an IP address in its usual dotted form", field=field_name)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                addresses = await resolve(host)
        except (OSError, ValueError, TimeoutError):
            raise ValidationError(f"{field_name}'s host {host!r} does not resolve", field=field_name) from None
    if not addresses:
        raise ValidationError(f"{field_name}'s host {host!r} does not resolve", field=field_name)
    if live and not all(is_public_address(a) for a in addresses):
        raise ValidationError(
            f"{field_name} must not point at a private, loopback or link-local address in live mode",
            field=field_name,
        )
    if not live and not all(allowed_in_test_mode(a, private_networks=private_networks) for a in addresses):
        raise ValidationError(
            f"{field_name} must point at loopback or a public address in test mode (not a private network or "
            "a link-local address)",
            field=field_name,
        )
    return url


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    url: str | None = None
    enabled_events: list[str] | None = None
    description: str | None = None
    disabled: bool | None = None
