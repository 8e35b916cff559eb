"""The risk service: blocklists, velocity rules and fees, decided for every dialect.

`screen` is called by the payments service once the card is known and before 3-D Secure and the
processor. The merchant's row (loaded with its API key) carries a summary of what it has set up per mode
(`RiskSummary`: how many entries, which IP prefix lengths, its velocity rules), so a mode with nothing set
up costs no query; else one read-only transaction looks up every entry the attempt could match (one
indexed IN query) and the counters of its rules (one more), and refuses the attempt there and then.

Counting is fixed-window: a counter row per (rule, key, window start). `Screening.record` counts the
attempt in the transaction that records it on its payment, by one atomic statement per rule that refuses
to pass the limit, so concurrent attempts in any number of processes never let more than the limit
through; an attempt that loses that race is refused there, after 3-D Secure but before the processor.
An attempt counts when it is recorded, whatever its outcome later; a refused one counts against no rule.
A card is known to the lists only by its vault fingerprint, and counters key their values by SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tessera.core.errors import ConflictError, ErrorCode, NotFoundError, PaymentError, ValidationError
from tessera.core.ids import new_id
from tessera.core.merchants import Merchant
from tessera.core.ports import Cipher, UnitOfWork, UnitOfWorkFactory
from tessera.core.risk.counters import CounterCache, CounterId
from tessera.core.risk.lists import ListCache
from tessera.core.risk.model import (
    MAX_WINDOW_SECONDS,
    AttemptFacts,
    BlockEntry,
    BlockType,
    Charge,
    Count,
    RiskDecision,
    VelocityKey,
    VelocityMetric,
    VelocityRule,
    blocked_by,
    charge_for,
    match_key,
    normalise_bin,
    normalise_customer,
    normalise_email,
    normalise_network,
    window_start,
)
from tessera.core.vault.pan import PAN
from tessera.core.vault.service import fingerprint_of

DEFAULT_TEST_CHARGE = Charge("*", "*", 250, 0)  # test mode without charges of its own: 2.50%, nothing fixed


# ------------------------------------------------------------------------------ blocklist


async def add_entry(
    merchant_id: str, mode: str, kind: str, value: str, *, uow: UnitOfWorkFactory, cipher: Cipher, now: datetime
) -> tuple[BlockEntry, bool]:
    """List `value`; a value already listed is not listed twice: the existing entry is returned with
    False (the native API answers it with 200 instead of 201)."""
    try:
        block = BlockType(kind)
    except ValueError:
        raise ValidationError("type must be one of card, email, customer, ip, bin", field="type") from None
    if not isinstance(value, str):
        raise ValidationError("value must be a string", field="value")
    if block is BlockType.CARD:
        pan = PAN.parse(value, field="value")
        key, shown = match_key(block, fingerprint_of(pan, cipher)), pan.masked
    else:
        normalise = {
            BlockType.EMAIL: normalise_email,
            BlockType.CUSTOMER: normalise_customer,
            BlockType.IP: normalise_network,
            BlockType.BIN: normalise_bin,
        }[block]
        shown = normalise(value)
        key = match_key(block, shown)
    entry = BlockEntry(new_id("blk"), merchant_id, mode, block, shown, key, now)
    async with uow() as tx:
        merchant = await _locked_merchant(tx, merchant_id)
        if await tx.risk.add_entry(entry):
            merchant.summary(mode).count_entry(entry, 1)
            await tx.merchants.save_settings(merchant)
            await tx.commit()
            return entry, True
        existing = await tx.risk.entry_by_key(merchant_id, mode, key)
    if existing is None:  # deleted between the two statements
        raise ConflictError("the entry changed while it was added; try again")
    return existing, False


async def _locked_merchant(tx: UnitOfWork, merchant_id: str) -> Merchant:
    """The merchant, its row locked: its risk summary changes with the entry or rule, one writer at a time."""
    merchant = await tx.merchants.get(merchant_id, for_update=True)
    if merchant is None:
        raise NotFoundError("no such merchant", field="merchant_id")
    return merchant


async def list_entries(
    merchant_id: str, mode: str, *, limit: int, starting_after: str | None, uow: UnitOfWorkFactory
) -> tuple[list[BlockEntry], bool]:
    async with uow(read_only=True) as tx:
        return await tx.risk.list_entries(merchant_id, mode, limit=limit, starting_after=starting_after)


async def delete_entry(merchant_id: str, mode: str, entry_id: str, *, uow: UnitOfWorkFactory) -> BlockEntry:
    async with uow() as tx:
        merchant = await _locked_merchant(tx, merchant_id)
        entry = await tx.risk.delete_entry(merchant_id, mode, entry_id)
        if entry is None:
            raise NotFoundError("no such blocklist entry", field="id")
        merchant.summary(mode).count_entry(entry, -1)
        await tx.merchants.save_settings(merchant)
        await tx.commit()
    return entry


# ------------------------------------------------------------------------------ velocity rules


@dataclass(frozen=True, slots=True)
class NewRule:
    merchant_id: str
    mode: str
    key: str
    metric: str
    limit: int
    window_seconds: int
    currency: str | None = None


def _whole(value: Any, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


async def add_rule(cmd: NewRule, *, uow: UnitOfWorkFactory, now: datetime) -> VelocityRule:
    try:
        key, metric = VelocityKey(cmd.key), VelocityMetric(cmd.metric)
    except ValueError:
        raise ValidationError("key must be card, email, ip or customer; metric count or amount", field="key") from None
    limit = _whole(cmd.limit, 1, 10**15, "limit")
    window = _whole(cmd.window_seconds, 1, MAX_WINDOW_SECONDS, "window_seconds")
    currency = cmd.currency
    if metric is VelocityMetric.AMOUNT:
        if currency is None or len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise ValidationError("an amount rule needs the 3-letter currency it counts", field="currency")
        currency = currency.upper()
    elif currency is not None:
        raise ValidationError("only an amount rule takes a currency", field="currency")
    rule = VelocityRule(new_id("rrl"), cmd.merchant_id, cmd.mode, key, metric, limit, window, now, currency)
    async with uow() as tx:
        merchant = await _locked_merchant(tx, cmd.merchant_id)
        await tx.risk.add_rule(rule)
        merchant.summary(cmd.mode).rules.append(rule)
        await tx.merchants.save_settings(merchant)
        await tx.commit()
    return rule


async def list_rules(merchant_id: str, mode: str, *, uow: UnitOfWorkFactory) -> list[VelocityRule]:
    async with uow(read_only=True) as tx:
        return await tx.risk.rules(merchant_id, mode)


async def delete_rule(merchant_id: str, mode: str, rule_id: str, *, uow: UnitOfWorkFactory) -> VelocityRule:
    async with uow() as tx:
        merchant = await _locked_merchant(tx, merchant_id)
        rule = await tx.risk.delete_rule(merchant_id, mode, rule_id)
        if rule is None:
            raise NotFoundError("no such risk rule", field="id")
        summary = merchant.summary(mode)
        summary.rules = [r for r in summary.rules if r.id != rule.id]
        await tx.merchants.save_settings(merchant)
        await tx.commit()
    return rule


async def purge_counters(*, uow: UnitOfWorkFactory, now: datetime) -> int:
    """Drop velocity counters whose window has ended (the worker's housekeeping): a counter is only read
    for the window `now` falls in, so an ended one decides nothing, and a key never seen again would
    otherwise keep its rows for ever."""
    async with uow() as tx:
        purged = await tx.risk.purge_counters(int(now.timestamp()))
        await tx.commit()
    return purged


async def admit(key: str, *, limit: int, window_seconds: int, uow: UnitOfWorkFactory, now: datetime) -> bool:
    """Whether one more request under `key` stays within `limit` for the fixed window `now` falls in (a
    dialect's rate limit, such as OPPWA's two status calls a minute per payment); counted in the
    database, so every process sees the same count."""
    epoch = int(now.timestamp())
    start = window_start(epoch, window_seconds)
    async with uow() as tx:
        admitted = await tx.risk.admit(key, start, start + window_seconds, limit)
        await tx.commit()
    return admitted


# ------------------------------------------------------------------------------ fees


def fee_for(merchant: Merchant, mode: str, brand: str, currency: str, amount: int, default: Charge | None) -> int:
    """The fee of a payment, in minor units of its currency. A live payment whose merchant has no charge
    for its brand and currency is refused (CHARGES_INCOMPLETE); test mode falls back on `default`."""
    charge = charge_for(merchant.charges, brand, currency)
    if charge is None and mode == "test" and default is not None:
        charge = default
    if charge is None:
        raise PaymentError(
            "the merchant's charges setting is incomplete: no fee is set for this card brand and currency",
            code=ErrorCode.CHARGES_INCOMPLETE,
        )
    return charge.fee(amount)


# ------------------------------------------------------------------------------ screening


def _counter_key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()  # fixed width, and no e-mail in the clear


@dataclass(slots=True)
class Screening:
    """What `screen` found: a refusal (a list entry, or a counter already at its limit), or the rules the
    attempt is to be counted against when it is recorded."""

    facts: AttemptFacts
    decision: RiskDecision | None
    rules: list[VelocityRule]
    epoch: int = 0
    counters: CounterCache | None = None  # this process's memory of committed totals, told of new ones
    _counted: list[tuple[VelocityRule, str, int, int]] | None = None
    _learned: list[tuple[CounterId, int]] = field(default_factory=list)

    def counted(self) -> list[tuple[VelocityRule, str, int, int]]:
        """(rule, counter key, window start, increment) of every rule this attempt counts against."""
        if self._counted is None:
            keys = self.facts.keys()
            out = []
            for rule in self.rules:
                value = keys.get(rule.key)
                if value is None or (rule.metric is VelocityMetric.AMOUNT and rule.currency != self.facts.currency):
                    continue
                increment = self.facts.amount if rule.metric is VelocityMetric.AMOUNT else 1
                out.append((rule, _counter_key(value), window_start(self.epoch, rule.window_seconds), increment))
            self._counted = out
        return self._counted

    def precheck(self, total: Callable[[CounterId], int | None]) -> None:
        """Refuse now, before 3-D Secure, an attempt that a counter already at its limit would refuse."""
        for rule, key, start, increment in self.counted():
            if (total((rule.id, key, start)) or 0) + increment > rule.limit:
                self.decision = _exceeded(rule)
                return

    async def record(self, tx: UnitOfWork, now: datetime) -> RiskDecision | None:
        """In the transaction recording the attempt: count it against every rule, atomically, or refuse it
        (and count it against none) when one would pass its limit. Call `committed` once `tx` commits."""
        self._learned = []
        if self.decision is not None or not self.rules:
            return self.decision
        counted = self.counted()
        for rule, _key, _start, increment in counted:
            if increment > rule.limit:  # a first count of a window is not held to the limit by the store
                self.decision = _exceeded(rule)
                return self.decision
        counts = [
            Count(rule.id, key, start, increment, rule.limit, rule.window_seconds)
            for rule, key, start, increment in counted
        ]
        added = await tx.risk.count(counts) if counts else {}
        if len(added) == len(counts):
            self._learned = [((c.rule_id, c.key, c.window_start), added[c.rule_id]) for c in counts]
            return None
        # Concurrent attempts took the last of a limit meanwhile: take back what was added, refuse.
        for count in counts:
            counter = (count.rule_id, count.key, count.window_start)
            if count.rule_id in added:
                await tx.risk.uncount(count.rule_id, count.key, count.window_start, count.increment)
                self._learned.append((counter, added[count.rule_id] - count.increment))
            else:  # refused: its stored total is at least what leaves no room for this increment
                self._learned.append((counter, max(count.limit - count.increment + 1, 0)))
        self.decision = _exceeded(next(rule for rule, *_ in counted if rule.id not in added))
        return self.decision

    def committed(self) -> None:
        """The recording transaction committed: what it counted is now the store's, and this process's."""
        if self.counters is not None and self._learned:
            self.counters.learn(self._learned)
        self._learned = []


def _exceeded(rule: VelocityRule) -> RiskDecision:
    what = "attempts" if rule.metric is VelocityMetric.COUNT else f"{rule.currency} amount"
    reason = f"more than {rule.limit} {what} per {rule.key.value} within {rule.window_seconds} seconds"
    return RiskDecision(ErrorCode.RISK_DECLINED, "velocity_rule", rule.id, reason)


async def screen(
    facts: AttemptFacts,
    merchant: Merchant,
    *,
    uow: UnitOfWorkFactory,
    now: datetime,
    lists: ListCache | None = None,
    counters: CounterCache | None = None,
) -> Screening:
    """Every list entry the attempt matches, the rules it must be counted against and their counters: no
    query at all when the merchant has nothing set up in this mode (its row says so), indexed ones else.
    With `lists`, the keys the attempt could match are first looked for in this process's copy of the list,
    and only those found are read (for the entry that decides). With `counters`, the counters are this
    process's memory of them (see `counters`), and not read at all."""
    screening = Screening(facts, None, [], int(now.timestamp()), counters)
    summary = merchant.risk.get(facts.mode)
    if summary is None or summary.empty:
        return screening
    keys = facts.block_keys(summary.ip_prefixes.keys()) if summary.entries > 0 else []
    if keys and lists is not None and lists.holds(summary.entries):
        keys = await lists.listed(facts.merchant_id, facts.mode, summary.version, keys, uow=uow)
    screening.rules = list(summary.rules)
    wanted = [] if counters is not None else [(rule.id, key, start) for rule, key, start, _ in screening.counted()]
    totals: dict[CounterId, int] = {}
    if keys or wanted:
        async with uow(read_only=True) as tx:
            entries, totals = await tx.risk.screen(facts.merchant_id, facts.mode, keys, wanted)
        screening.decision = blocked_by(entries)
    if screening.decision is None and screening.rules:
        screening.precheck(counters.total if counters is not None else totals.get)
    return screening


def customer_facts(customer: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The customer's e-mail (normalised) and identifier, as the lists and rules know them."""
    if not customer:
        return None, None
    email, ident = customer.get("email"), customer.get("id") or customer.get("identifier")
    try:
        email = normalise_email(email) if isinstance(email, str) and email.strip() else None
    except ValidationError:
        email = None
    ident = ident.strip() or None if isinstance(ident, str) else None
    return email, ident
