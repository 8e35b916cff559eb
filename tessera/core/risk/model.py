"""The risk controls' values and pure rules: blocklist entries, velocity rules, fee schedules, and the
decision an attempt carries. No I/O.

A blocklist entry is matched by one `match_key` (`type:value`, the value normalised): a card by its
keyed fingerprint (the number is never stored), an e-mail lower-cased and stripped, a customer
identifier stripped, a BIN as 6 or 8 digits, an IP address or CIDR as its canonical network
(`10.0.0.0/8`, `2001:db8::/32`; one address is a /32 or /128). An attempt's keys are every key it
could match, so a single indexed `IN (...)` query answers every list at once: an address yields the
networks of every prefix length that contains it (33 for IPv4, 129 for IPv6), which is exactly the set
of CIDR entries that can contain it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from tessera.core.errors import ErrorCode, ValidationError


class BlockType(StrEnum):
    CARD = "card"
    EMAIL = "email"
    CUSTOMER = "customer"
    IP = "ip"
    BIN = "bin"


class VelocityKey(StrEnum):
    """What a velocity rule counts attempts of."""

    CARD = "card"
    EMAIL = "email"
    IP = "ip"
    CUSTOMER = "customer"


class VelocityMetric(StrEnum):
    COUNT = "count"  # attempts
    AMOUNT = "amount"  # minor units of one currency


_BIN = re.compile(r"^(?:[0-9]{6}|[0-9]{8})$")
MAX_WINDOW_SECONDS = 366 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BlockEntry:
    id: str
    merchant_id: str
    mode: str
    type: BlockType
    value: str  # what is shown: a card as BIN + last 4 (masked), anything else as normalised
    match_key: str  # `type:normalised value`; a card's is its fingerprint
    created_at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class VelocityRule:
    """At most `limit` attempts (COUNT), or `limit` minor units of `currency` (AMOUNT), per `key` within
    each window of `window_seconds`."""

    id: str
    merchant_id: str
    mode: str
    key: VelocityKey
    metric: VelocityMetric
    limit: int
    window_seconds: int
    created_at: datetime
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant_id": self.merchant_id,
            "mode": self.mode,
            "key": self.key.value,
            "metric": self.metric.value,
            "limit": self.limit,
            "window_seconds": self.window_seconds,
            "created_at": self.created_at.isoformat(),
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VelocityRule:
        return cls(
            str(data["id"]),
            str(data["merchant_id"]),
            str(data["mode"]),
            VelocityKey(data["key"]),
            VelocityMetric(data["metric"]),
            int(data["limit"]),
            int(data["window_seconds"]),
            datetime.fromisoformat(data["created_at"]),
            data.get("currency"),
        )


@dataclass(slots=True)
class RiskSummary:
    """What a merchant has set up in one mode, kept on its row and changed in the transaction that adds or
    removes an entry or rule (under the merchant's row lock). The merchant is loaded with its API key on
    every request, so this costs no query: a mode with nothing set up is screened without touching the
    database, and an address is looked up only at the prefix lengths its merchant lists."""

    entries: int = 0
    # The velocity rules themselves (a handful): screening reads them from here, with no query.
    rules: list[VelocityRule] = field(default_factory=list)
    ip_prefixes: dict[int, int] = field(default_factory=dict)  # prefix length -> entries of that length
    # Raised by every entry added or removed: a process's copy of the list (core.risk.lists) of another
    # version is read again.
    version: int = 0

    @property
    def empty(self) -> bool:
        return self.entries <= 0 and not self.rules

    def copy(self) -> RiskSummary:
        """A copy sharing nothing a change could reach (its rules are frozen)."""
        return RiskSummary(self.entries, list(self.rules), dict(self.ip_prefixes), self.version)

    def count_entry(self, entry: BlockEntry, change: int) -> None:
        self.entries += change
        self.version += 1
        if entry.type is BlockType.IP:
            prefix = int(entry.value.rsplit("/", 1)[1])
            left = self.ip_prefixes.get(prefix, 0) + change
            if left > 0:
                self.ip_prefixes[prefix] = left
            else:
                self.ip_prefixes.pop(prefix, None)

    def as_dict(self) -> dict[str, Any]:
        prefixes = {str(k): v for k, v in sorted(self.ip_prefixes.items())}
        rules = [rule.as_dict() for rule in self.rules]
        return {"entries": self.entries, "rules": rules, "ip_prefixes": prefixes, "version": self.version}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskSummary:
        prefixes = {int(k): int(v) for k, v in (data.get("ip_prefixes") or {}).items()}
        rules = [_stored_rule(tuple(rule.items())) for rule in data.get("rules") or ()]
        return cls(int(data.get("entries", 0)), rules, prefixes, int(data.get("version", 0)))


@lru_cache(maxsize=4_096)
def _stored_rule(fields: tuple[tuple[str, Any], ...]) -> VelocityRule:
    """A rule as stored in its merchant's summary, parsed once per process: the summary comes with the
    merchant's row on every request, and parsing its rules (dates, enums) was most of its 20 µs. A rule never
    changes once made (it is added or deleted), and the rule is frozen, so summaries share it."""
    return VelocityRule.from_dict(dict(fields))


def normalise_email(value: str) -> str:
    value = "".join(value.split()).lower()  # white space anywhere is never part of an address
    if "@" not in value or len(value) > 254 or value.startswith("@") or value.endswith("@"):
        raise ValidationError("value must be an e-mail address", field="value")
    return value


def normalise_customer(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise ValidationError("value must be a customer identifier of 1 to 200 characters", field="value")
    return value


def normalise_bin(value: str) -> str:
    value = value.strip()
    if not _BIN.match(value):
        raise ValidationError("value must be a BIN of 6 or 8 digits", field="value")
    return value


def normalise_network(value: str) -> str:
    """An IP address or CIDR as its canonical network; host bits set in a CIDR are cleared."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False).with_prefixlen
    except ValueError:
        raise ValidationError("value must be an IPv4 or IPv6 address or CIDR", field="value") from None


def address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as given, or None when it is not one; an IPv4-mapped IPv6 address is its IPv4."""
    if not value:
        return None
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def networks_containing(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefixes: Collection[int] | None = None
) -> list[str]:
    """Every network (canonical CIDR, as `normalise_network` writes it) that contains `ip`: what a CIDR entry
    matching it must be. Formatted from the integer: `ipaddress` objects cost ~20 µs each, 129 of them
    for an IPv6 address, on every payment."""
    value, bits = int(ip), ip.max_prefixlen
    full = (1 << bits) - 1
    text = _v4_text if bits == 32 else _v6_text
    lengths = range(bits + 1) if prefixes is None else sorted(n for n in prefixes if 0 <= n <= bits)
    return [f"{text(value & (full ^ ((1 << (bits - n)) - 1)))}/{n}" for n in lengths]


def _v4_text(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _v6_text(n: int) -> str:
    """RFC 5952's compressed form, as `ipaddress` writes it: the longest run (leftmost on a tie) of two or
    more zero groups becomes `::`."""
    groups = [(n >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, start = -1, 0, -1
    for i, group in enumerate(groups):
        if group:
            start = -1
            continue
        if start < 0:
            start = i
        if i - start + 1 > best_len:
            best_start, best_len = start, i - start + 1
    parts = [f"{g:x}" for g in groups]
    if best_len > 1:
        end = best_start + best_len
        parts[best_start:end] = [""]
        if best_start == 0:
            parts.insert(0, "")
        if end == 8:
            parts.append("")
    return ":".join(parts)


def match_key(kind: BlockType | VelocityKey | str, value: str) -> str:
    return f"{kind}:{value}"


# ------------------------------------------------------------------------------------ the attempt


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    """What risk sees of one attempt: never the card number, only its fingerprint and BIN."""

    merchant_id: str
    mode: str
    amount: int
    currency: str
    card_fingerprint: str
    bin: str
    brand: str
    email: str | None = None
    customer: str | None = None
    ip: str | None = None  # the shopper's, from the browser data

    def keys(self) -> dict[VelocityKey, str]:
        """The value each velocity key counts for this attempt (those it has)."""
        out = {VelocityKey.CARD: self.card_fingerprint}
        if self.email:
            out[VelocityKey.EMAIL] = self.email
        if self.customer:
            out[VelocityKey.CUSTOMER] = self.customer
        if self.ip:
            out[VelocityKey.IP] = self.ip
        return out

    def block_keys(self, ip_prefixes: Collection[int] | None = None) -> list[str]:
        """Every blocklist `match_key` this attempt would match (addresses: only networks of `ip_prefixes`
        lengths, when given)."""
        found = [match_key(BlockType.CARD, self.card_fingerprint)]
        found += [match_key(BlockType.BIN, self.bin[:n]) for n in (6, 8) if len(self.bin) >= n]
        if self.email:
            found.append(match_key(BlockType.EMAIL, self.email))
        if self.customer:
            found.append(match_key(BlockType.CUSTOMER, self.customer))
        ip = address(self.ip)
        if ip is not None:
            found += [match_key(BlockType.IP, net) for net in networks_containing(ip, ip_prefixes)]
        return found


# Which list decides with which code, and in which order when several match.
BLOCK_CODES: dict[BlockType, ErrorCode] = {
    BlockType.CARD: ErrorCode.CARD_BLOCKED,
    BlockType.BIN: ErrorCode.CARD_BLOCKED,
    BlockType.EMAIL: ErrorCode.CUSTOMER_BLOCKED,
    BlockType.CUSTOMER: ErrorCode.CUSTOMER_BLOCKED,
    BlockType.IP: ErrorCode.RISK_DECLINED,
}


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Why risk refused an attempt (or None when it let it through): the code, the rule or list entry
    that decided, and a reason that names no card number."""

    code: ErrorCode
    rule_type: str  # "blocklist" or "velocity_rule"
    rule_id: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "rule_type": self.rule_type, "rule_id": self.rule_id, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiskDecision:
        return cls(ErrorCode(data["code"]), data["rule_type"], data["rule_id"], data["reason"])


def blocked_by(entries: list[BlockEntry]) -> RiskDecision | None:
    """The decision of the entries an attempt matched: a card or BIN first, then the customer, then IP."""
    order = [BlockType.CARD, BlockType.BIN, BlockType.EMAIL, BlockType.CUSTOMER, BlockType.IP]
    for kind in order:
        for entry in entries:
            if entry.type is kind:
                what = "card" if kind is BlockType.CARD else f"{kind.value} {entry.value}"
                return RiskDecision(BLOCK_CODES[kind], "blocklist", entry.id, f"the {what} is on the blocklist")
    return None


class Count(NamedTuple):
    """One increment of an attempt: to the counter of (rule, key, window), allowed up to `limit`."""

    rule_id: str
    key: str
    window_start: int
    increment: int
    limit: int
    window: int  # the rule's window in seconds: the counter ends at window_start + window


def window_start(now_epoch: int, window_seconds: int) -> int:
    """The start (epoch seconds) of the fixed window `now` falls in."""
    return now_epoch - now_epoch % window_seconds


# ------------------------------------------------------------------------------------ fees

WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class Charge:
    """A fee: `percent_bp` basis points of the amount plus `fixed` minor units, for a card brand and a
    currency (either may be `*`)."""

    brand: str
    currency: str
    percent_bp: int
    fixed: int

    def as_dict(self) -> dict[str, Any]:
        return {"brand": self.brand, "currency": self.currency, "percent_bp": self.percent_bp, "fixed": self.fixed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Charge:
        return cls(str(data["brand"]), str(data["currency"]), int(data["percent_bp"]), int(data["fixed"]))

    def fee(self, amount: int) -> int:
        """Rounded half up to the minor unit (integers only: no float ever touches money)."""
        return (amount * self.percent_bp + 5_000) // 10_000 + self.fixed


def charge_for(charges: list[Charge], brand: str, currency: str) -> Charge | None:
    """The most specific row: brand and currency, then brand with any currency, then any brand with
    the currency, then `*`/`*`."""
    for want_brand, want_currency in ((brand, currency), (brand, WILDCARD), (WILDCARD, currency), (WILDCARD, WILDCARD)):
        for charge in charges:
            if charge.brand == want_brand and charge.currency == want_currency:
                return charge
    return None


def parse_charge(text: str) -> Charge:
    """`BRAND:CURRENCY:BASIS_POINTS:FIXED` (for example `visa:EUR:290:25`, `*:*:250:0`)."""
    parts = text.strip().split(":")
    if len(parts) != 4 or not all(parts):
        raise ValidationError(
            "a charge is BRAND:CURRENCY:BASIS_POINTS:FIXED, for example visa:EUR:290:25", field="charge"
        )
    brand, currency, bp, fixed = parts
    return check_charge(Charge(brand.lower() if brand != WILDCARD else brand, currency.upper(), _int(bp), _int(fixed)))


def _int(text: str) -> int:
    if not text.isdigit():
        raise ValidationError("basis points and fixed amount are whole numbers", field="charge")
    return int(text)


def check_charge(charge: Charge) -> Charge:
    if not 0 <= charge.percent_bp <= 10_000:
        raise ValidationError("percent_bp must be from 0 to 10000 (100%)", field="charge")
    if not 0 <= charge.fixed <= 10**12:
        raise ValidationError("fixed must be a non-negative number of minor units", field="charge")
    if charge.currency != WILDCARD and not re.fullmatch(r"[A-Z]{3}", charge.currency):
        raise ValidationError("currency must be a 3-letter ISO 4217 code or *", field="charge")
    if charge.brand != WILDCARD and not re.fullmatch(r"[a-z_]{2,20}", charge.brand):
        raise ValidationError("brand must be a card brand (visa, mastercard, ...) or *", field="charge")
    return charge
