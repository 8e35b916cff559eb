"""An in-memory unit of work for unit tests: the core's `UnitOfWork` port over dicts, no I/O.

Each unit of work stages its writes and applies them on `commit`; leaving without committing (or
`rollback`) discards them, as a database transaction would. Reads and writes copy objects, so a
caller never shares an object with the store or with another unit of work. Payments keep the SQL
repository's optimistic `version` check: saving a payment read before someone else's committed save
raises ConcurrentUpdateError. Locks are not modelled (`*_for_update` reads are plain reads).

    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    merchant, _ = await create_merchant("Shop", uow=uow)
    assert store.events == []
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

from tessera.core.clock import utcnow
from tessera.core.identities import StoredIdentity
from tessera.core.merchants import ApiKey, Merchant, MerchantStatus
from tessera.core.payments.events import Event
from tessera.core.payments.model import OperationStatus, Payment, PaymentStatus
from tessera.core.payments.reversals import QueuedReversal
from tessera.core.ports import ConcurrentUpdateError, ReferenceTakenError, StoredCiphertext
from tessera.core.risk.model import BlockEntry, Count, VelocityRule
from tessera.core.threeds.records import Authentication, ChallengeState
from tessera.core.vault.cards import CardStatus, SavedCard, pan_context
from tessera.core.vault.crypto import WrappedKey
from tessera.core.vault.tokens import CardToken, token_context
from tessera.core.webhooks.deliveries import Delivery
from tessera.core.webhooks.endpoints import EndpointKind, EndpointStatus, WebhookEndpoint
from tessera.sandbox import ports as acs
from tessera.storage.webhooks import CALLBACK_ALIAS

K = TypeVar("K")
V = TypeVar("V")
IdempotencyKey = tuple[str, str, str]  # merchant id, mode, key


class _Table(Generic[K, V]):
    """One table as one transaction sees it: the committed rows with this transaction's writes on top."""

    def __init__(self, committed: dict[K, V]) -> None:
        self._committed = committed
        self._written: dict[K, V] = {}
        self._deleted: set[K] = set()

    def peek(self, key: K) -> V | None:
        """The row itself, not a copy: for the repository's own use only."""
        if key in self._deleted:
            return None
        if key in self._written:
            return self._written[key]
        return self._committed.get(key)

    def get(self, key: K) -> V | None:
        return copy.deepcopy(self.peek(key))

    def rows(self) -> Iterator[V]:
        """Copies of every row, in insertion order."""
        for key in dict.fromkeys([*self._committed, *self._written]):
            row = self.peek(key)
            if row is not None:
                yield copy.deepcopy(row)

    def where(self, test: Callable[[V], bool]) -> list[V]:
        return [row for row in self.rows() if test(row)]

    def put(self, key: K, row: V) -> None:
        self._deleted.discard(key)
        self._written[key] = copy.deepcopy(row)

    def delete(self, key: K) -> None:
        self._written.pop(key, None)
        self._deleted.add(key)

    @property
    def changed(self) -> bool:
        return bool(self._written or self._deleted)

    def commit(self) -> None:
        for key in self._deleted:
            self._committed.pop(key, None)
        self._committed.update(self._written)
        self.discard()

    def discard(self) -> None:
        self._written.clear()
        self._deleted.clear()


@dataclass
class InMemoryStore:
    """The committed state every unit of work of one factory shares."""

    payments: dict[str, Payment] = field(default_factory=dict)
    event_rows: dict[str, Event] = field(default_factory=dict)
    tokens: dict[str, CardToken] = field(default_factory=dict)
    cards: dict[str, SavedCard] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)  # by key hash
    identities: dict[tuple[str, str, str], StoredIdentity] = field(default_factory=dict)
    authentications: dict[str, Authentication] = field(default_factory=dict)
    idempotency: dict[IdempotencyKey, dict[str, Any]] = field(default_factory=dict)
    vault_keys: dict[int, WrappedKey] = field(default_factory=dict)
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    block_entries: dict[str, BlockEntry] = field(default_factory=dict)
    risk_rules: dict[str, VelocityRule] = field(default_factory=dict)
    risk_counters: dict[tuple[str, str, int], int] = field(default_factory=dict)
    reversals: dict[str, QueuedReversal] = field(default_factory=dict)

    @property
    def events(self) -> list[Event]:
        """Committed events in the order they were written (with their payment, or on their own)."""
        return list(self.event_rows.values())


# -------------------------------------------------------------------------------------- repositories


class InMemoryPaymentRepository:
    def __init__(self, payments: _Table[str, Payment], events: _Table[str, Event]) -> None:
        self._payments = payments
        self._events = events

    def _write(self, payment: Payment) -> None:
        """Store the payment as a later read would see it, and its new events in the events list."""
        for event in payment.events:
            self._events.put(event.id, event)
        kept = copy.deepcopy(payment)
        kept.clear_changes()
        self._payments.put(kept.id, kept)

    async def add(self, payment: Payment) -> None:
        if self._payments.peek(payment.id) is not None:
            raise ValueError(f"payment {payment.id} exists")  # the primary key would refuse it
        if payment.unique_reference is not None and self._payments.where(
            lambda p: (
                (p.merchant_id, p.mode, p.unique_reference)
                == (payment.merchant_id, payment.mode, payment.unique_reference)
            )
        ):
            raise ReferenceTakenError(payment.unique_reference)
        if payment.processor_ref is not None and self._payments.where(
            lambda p: (p.processor, p.processor_ref) == (payment.processor, payment.processor_ref)
        ):
            raise ValueError("the processor reference is taken")  # the unique index would refuse it
        self._write(payment)

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        payment = self._payments.get(payment_id)
        return payment if payment and (payment.merchant_id, payment.mode) == (merchant_id, mode) else None

    async def get_for_update(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None:
        return await self.get(merchant_id, mode, payment_id)

    async def get_by_id(self, payment_id: str) -> Payment | None:
        return self._payments.get(payment_id)

    async def get_by_operation(self, merchant_id: str, mode: str, operation_id: str) -> Payment | None:
        for payment in self._payments.rows():
            if (payment.merchant_id, payment.mode) == (merchant_id, mode) and any(
                op.id == operation_id for op in payment.operations
            ):
                return payment
        return None

    async def get_by_id_for_update(self, payment_id: str) -> Payment | None:
        return self._payments.get(payment_id)

    async def save(self, payment: Payment) -> None:
        stored = self._payments.peek(payment.id)
        if stored is None or stored.version != payment.version:
            raise ConcurrentUpdateError(payment.id)
        payment.version += 1
        self._write(payment)

    async def get_by_unique_reference(self, merchant_id: str, mode: str, reference: str) -> Payment | None:
        found = self._payments.where(
            lambda p: (p.merchant_id, p.mode, p.unique_reference) == (merchant_id, mode, reference)
        )
        return found[0] if found else None

    async def get_by_processor_ref_for_update(self, processor: str, processor_ref: str) -> Payment | None:
        found = self._payments.where(lambda p: (p.processor, p.processor_ref) == (processor, processor_ref))
        return found[0] if found else None

    async def authorized_before(self, cutoff: datetime, limit: int) -> Sequence[str]:
        found = self._payments.where(lambda p: p.status is PaymentStatus.AUTHORIZED and p.created_at < cutoff)
        return [p.id for p in sorted(found, key=lambda p: p.created_at)][:limit]

    async def stale_operations(self, before: datetime, limit: int) -> Sequence[tuple[str, str]]:
        ops = [
            op
            for payment in self._payments.rows()
            for op in payment.operations
            if op.status is OperationStatus.UNKNOWN or (op.status is OperationStatus.PENDING and op.updated_at < before)
        ]
        return [(op.payment_id, op.id) for op in sorted(ops, key=lambda op: op.updated_at)][:limit]


class InMemoryEventRepository:
    def __init__(self, events: _Table[str, Event]) -> None:
        self._events = events

    async def add(self, event: Event) -> None:
        self._events.put(event.id, event)


class InMemoryTokenRepository:
    def __init__(self, tokens: _Table[str, CardToken]) -> None:
        self._tokens = tokens

    async def add(self, token: CardToken) -> None:
        self._tokens.put(token.id, token)

    async def get_for_update(self, merchant_id: str, mode: str, token_id: str) -> CardToken | None:
        token = self._tokens.get(token_id)
        return token if token and (token.merchant_id, token.mode) == (merchant_id, mode) else None

    async def mark_used(self, token: CardToken) -> None:
        stored = self._tokens.get(token.id)
        assert stored is not None
        stored.used_at, stored.cvv_ciphertext, stored.payment_id = token.used_at, token.cvv_ciphertext, token.payment_id
        self._tokens.put(stored.id, stored)

    async def erase_expired_secrets(self, now: datetime) -> int:
        expired = self._tokens.where(lambda t: t.expires_at <= now and t.cvv_ciphertext is not None)
        for token in expired:
            token.cvv_ciphertext = None
            self._tokens.put(token.id, token)
        return len(expired)


class InMemoryCardRepository:
    def __init__(self, cards: _Table[str, SavedCard]) -> None:
        self._cards = cards

    async def add(self, card: SavedCard) -> None:
        self._cards.put(card.id, card)

    async def get(self, merchant_id: str, mode: str, card_token: str) -> SavedCard | None:
        found = self._cards.where(lambda c: (c.merchant_id, c.mode, c.card_token) == (merchant_id, mode, card_token))
        return found[0] if found else None

    async def find_active(self, merchant_id: str, mode: str, identifier: str, fingerprint: str) -> SavedCard | None:
        found = [c for c in await self.list_active(merchant_id, mode, identifier) if c.fingerprint == fingerprint]
        return found[0] if found else None

    async def list_active(self, merchant_id: str, mode: str, identifier: str) -> list[SavedCard]:
        found = self._cards.where(
            lambda c: (
                (c.merchant_id, c.mode, c.identifier, c.status) == (merchant_id, mode, identifier, CardStatus.ACTIVE)
            )
        )
        return sorted(found, key=lambda c: c.id, reverse=True)

    async def mark_deleted(self, card: SavedCard) -> None:
        stored = self._cards.get(card.id)
        assert stored is not None
        stored.status, stored.deleted_at = card.status, card.deleted_at
        stored.pan_ciphertext = b""  # a deleted card keeps no PAN, as in SQL
        self._cards.put(stored.id, stored)


class InMemoryMerchantRepository:
    def __init__(
        self,
        merchants: _Table[str, Merchant],
        keys: _Table[str, ApiKey],
        identities: _Table[tuple[str, str, str], StoredIdentity] | None = None,
    ) -> None:
        self._merchants = merchants
        self._keys = keys
        self._identities = identities if identities is not None else _Table({})

    async def add(self, merchant: Merchant, keys: Sequence[ApiKey]) -> None:
        self._merchants.put(merchant.id, merchant)
        for key in keys:
            self._keys.put(key.key_hash, key)

    async def find_key(self, key_hash: str) -> tuple[ApiKey, Merchant] | None:
        key = self._keys.get(key_hash)
        key = key if key is None or key.revoked_at is None or key.revoked_at > utcnow() else None
        merchant = self._merchants.get(key.merchant_id) if key else None
        return (key, merchant) if key and merchant else None

    async def get(self, merchant_id: str, *, for_update: bool = False) -> Merchant | None:
        return self._merchants.get(merchant_id)

    async def key_modes(self, merchant_id: str) -> list[str]:
        return sorted({k.mode for k in self._keys.rows() if k.merchant_id == merchant_id})

    async def allowing_domains(self, domains: Sequence[str], *, limit: int) -> list[Merchant]:
        wanted = set(domains)
        found = self._merchants.where(
            lambda m: m.status is MerchantStatus.ACTIVE and bool(wanted.intersection(m.allowed_domains))
        )
        return sorted(found, key=lambda m: m.id)[:limit]

    async def save_settings(self, merchant: Merchant) -> None:
        self._merchants.put(merchant.id, merchant)

    async def active_keys(self, merchant_id: str) -> list[ApiKey]:
        now = utcnow()
        found = self._keys.where(
            lambda k: k.merchant_id == merchant_id and (k.revoked_at is None or k.revoked_at > now)
        )
        return sorted(found, key=lambda k: k.created_at)

    async def add_keys(self, keys: Sequence[ApiKey]) -> None:
        for key in keys:
            self._keys.put(key.key_hash, key)

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        # A revoked key is one no look-up finds: the fake forgets it, where the SQL store marks it; one
        # revoked from a time to come (a roll's grace period) is kept with that time, as the store does.
        found = self._keys.where(lambda k: k.id == key_id and (k.revoked_at is None or k.revoked_at > at))
        for key in found:
            if at > utcnow():
                self._keys.put(key.key_hash, dataclasses.replace(key, revoked_at=at))
            else:
                self._keys.delete(key.key_hash)
        return bool(found)

    async def identity(self, merchant_id: str, mode: str, kind: str) -> StoredIdentity | None:
        return self._identities.get((merchant_id, mode, kind))

    async def identity_by_public_id(self, kind: str, public_id: str) -> StoredIdentity | None:
        found = self._identities.where(lambda i: i.kind == kind and i.public_id == public_id)
        return found[0] if found else None

    async def add_identity(self, identity: StoredIdentity) -> bool:
        key = (identity.merchant_id, identity.mode, identity.kind)
        if self._identities.get(key) is not None:
            return False
        self._identities.put(key, identity)
        return True

    async def count(self) -> int:
        return len(list(self._merchants.rows()))

    async def set_status(self, merchant_id: str, status: str) -> None:
        merchant = self._merchants.get(merchant_id)
        if merchant is not None:
            merchant.status = MerchantStatus(status)
            self._merchants.put(merchant.id, merchant)


class InMemoryAuthenticationRepository:
    def __init__(self, authentications: _Table[str, Authentication]) -> None:
        self._authentications = authentications

    async def add(self, authentication: Authentication) -> None:
        self._authentications.put(authentication.id, authentication)

    async def get_by_trans_id(self, three_ds_server_trans_id: str) -> Authentication | None:
        found = self._authentications.where(lambda a: a.three_ds_server_trans_id == three_ds_server_trans_id)
        return found[0] if found else None

    async def get_for_payment(self, payment_id: str) -> Authentication | None:
        found = self._authentications.where(lambda a: a.payment_id == payment_id)
        return found[0] if found else None

    async def save(self, authentication: Authentication) -> None:
        self._authentications.put(authentication.id, authentication)

    async def expired_challenges(self, now: datetime, limit: int) -> list[Authentication]:
        found = self._authentications.where(lambda a: a.challenge is ChallengeState.PENDING and a.expires_at <= now)
        return sorted(found, key=lambda a: a.expires_at)[:limit]


class InMemoryIdempotencyRepository:
    def __init__(self, records: _Table[IdempotencyKey, dict[str, Any]]) -> None:
        self._records = records

    async def try_insert(self, record: dict[str, Any]) -> bool:
        key = (record["merchant_id"], record["mode"], record["key"])
        if self._records.peek(key) is not None:
            return False
        self._records.put(key, record)
        return True

    async def get(self, merchant_id: str, mode: str, key: str) -> dict[str, Any] | None:
        return self._records.get((merchant_id, mode, key))

    def _held(self, merchant_id: str, mode: str, key: str, claim: str | None) -> dict[str, Any] | None:
        record = self._records.get((merchant_id, mode, key))
        if record is None or record["state"] != "in_progress" or record.get("claim") != claim:
            return None
        return record

    def _update(self, record: dict[str, Any], **values: Any) -> None:
        record.update(values)
        self._records.put((record["merchant_id"], record["mode"], record["key"]), record)

    async def take_over(
        self, merchant_id: str, mode: str, key: str, old_claim: str | None, new_claim: str, locked_until: datetime
    ) -> dict[str, Any] | None:
        record = self._held(merchant_id, mode, key, old_claim)
        if record is None:
            return None
        self._update(record, claim=new_claim, locked_until=locked_until)
        return dict(record)

    async def record_resource(self, merchant_id: str, mode: str, key: str, claim: str, resource_id: str) -> bool:
        record = self._held(merchant_id, mode, key, claim)
        if record is not None:
            self._update(record, resource_id=resource_id)
        return record is not None

    async def complete(self, merchant_id: str, mode: str, key: str, claim: str, status: int, body: bytes) -> None:
        record = self._held(merchant_id, mode, key, claim)
        if record is not None:
            self._update(record, state="complete", response_status=status, response_body=body)

    async def reopen(self, merchant_id: str, mode: str, key: str, claim: str, now: datetime) -> None:
        record = self._held(merchant_id, mode, key, claim)
        if record is not None:
            self._update(record, locked_until=now)

    async def release(self, merchant_id: str, mode: str, key: str, claim: str) -> None:
        if self._held(merchant_id, mode, key, claim) is not None:
            self._records.delete((merchant_id, mode, key))

    async def delete(self, merchant_id: str, mode: str, key: str) -> None:
        self._records.delete((merchant_id, mode, key))

    async def purge(self, before: datetime) -> int:
        expired = self._records.where(lambda r: r["expires_at"] <= before)
        for record in expired:
            self._records.delete((record["merchant_id"], record["mode"], record["key"]))
        return len(expired)


class InMemoryVaultKeyRepository:
    def __init__(
        self, keys: _Table[int, WrappedKey], cards: _Table[str, SavedCard], tokens: _Table[str, CardToken]
    ) -> None:
        self._keys = keys
        self._cards = cards
        self._tokens = tokens

    async def data_keys(self) -> list[WrappedKey]:
        return sorted(self._keys.rows(), key=lambda k: k.version)

    async def add_data_key(self, key: WrappedKey, created_at: datetime) -> bool:
        if self._keys.peek(key.version) is not None:
            return False
        self._keys.put(key.version, key)
        return True

    async def rewrap(self, key: WrappedKey) -> None:
        self._keys.put(key.version, key)

    def _stale(self, current: int) -> list[StoredCiphertext]:
        found = [
            StoredCiphertext("cards", c.id, "pan_ciphertext", pan_context(c.id), c.pan_ciphertext, c.key_version)
            for c in sorted(self._cards.rows(), key=lambda c: c.id)
            if c.key_version != current and c.pan_ciphertext
        ]
        for t in sorted(self._tokens.rows(), key=lambda t: t.id):
            if t.key_version == current:
                continue
            found.append(
                StoredCiphertext(
                    "card_tokens", t.id, "pan_ciphertext", token_context(t.id, "pan"), t.pan_ciphertext, t.key_version
                )
            )
            if t.cvv_ciphertext is not None:
                found.append(
                    StoredCiphertext(
                        "card_tokens",
                        t.id,
                        "cvv_ciphertext",
                        token_context(t.id, "cvv"),
                        t.cvv_ciphertext,
                        t.key_version,
                    )
                )
        return found

    async def stale_ciphertexts(self, current: int, limit: int) -> list[StoredCiphertext]:
        return self._stale(current)[:limit]

    async def count_stale(self, current: int) -> int:
        return len(self._stale(current))

    async def replace_ciphertexts(self, updates: Sequence[StoredCiphertext]) -> None:
        for item in updates:
            if item.table == "cards":
                card = self._cards.get(item.row_id)
                assert card is not None
                setattr(card, item.field, item.ciphertext)
                card.key_version = item.key_version
                self._cards.put(card.id, card)
            else:  # a token's key version is read from its PAN ciphertext
                token = self._tokens.get(item.row_id)
                assert token is not None
                setattr(token, item.field, item.ciphertext)
                self._tokens.put(token.id, token)


class InMemoryWebhookRepository:
    """Endpoints only: deliveries belong to the delivery worker's store, which unit tests do not need."""

    def __init__(self, endpoints: _Table[str, WebhookEndpoint]) -> None:
        self._endpoints = endpoints

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._endpoints.put(endpoint.id, endpoint)

    async def get_channel_endpoint(self, merchant_id: str, mode: str, format_name: str) -> WebhookEndpoint | None:
        found = self._endpoints.where(
            lambda e: (
                (e.merchant_id, e.mode, e.kind, e.format) == (merchant_id, mode, EndpointKind.CHANNEL, format_name)
            )
        )
        return found[0] if found else None

    async def get_endpoint(
        self, merchant_id: str, mode: str, endpoint_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        def wanted(e: WebhookEndpoint) -> bool:
            if (e.merchant_id, e.mode) != (merchant_id, mode):
                return False
            if endpoint_id == CALLBACK_ALIAS:
                return e.kind is EndpointKind.CALLBACK and e.status is not EndpointStatus.DELETED
            return e.id == endpoint_id

        found = self._endpoints.where(wanted)
        return found[0] if found else None

    async def list_endpoints(self, merchant_id: str, mode: str) -> Sequence[WebhookEndpoint]:
        found = self._endpoints.where(
            lambda e: (
                (e.merchant_id, e.mode, e.kind) == (merchant_id, mode, EndpointKind.ENDPOINT)
                and e.status is not EndpointStatus.DELETED
            )
        )
        return sorted(found, key=lambda e: e.id)

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._endpoints.put(endpoint.id, endpoint)

    async def park_deliveries(self, endpoint_id: str) -> None:
        raise NotImplementedError

    async def resume_deliveries(self, endpoint_id: str, now: datetime) -> None:
        raise NotImplementedError

    async def cancel_deliveries(self, endpoint_id: str, now: datetime) -> None:
        raise NotImplementedError

    async def list_deliveries(self, endpoint_id: str, *, limit: int, before: str | None) -> Sequence[Delivery]:
        raise NotImplementedError

    async def retry_delivery(self, endpoint_id: str, delivery_id: str, now: datetime) -> Delivery | None:
        raise NotImplementedError


class InMemoryRiskRepository:
    """The risk port over dicts; a unit of work's writes are atomic as a whole (no concurrency here)."""

    def __init__(
        self,
        entries: _Table[str, BlockEntry],
        rules: _Table[str, VelocityRule],
        counters: _Table[tuple[str, str, int], int],
    ) -> None:
        self._entries, self._rules, self._counters = entries, rules, counters

    async def add_entry(self, entry: BlockEntry) -> bool:
        if await self.entry_by_key(entry.merchant_id, entry.mode, entry.match_key) is not None:
            return False
        self._entries.put(entry.id, entry)
        return True

    async def entry_by_key(self, merchant_id: str, mode: str, match_key: str) -> BlockEntry | None:
        found = self._entries.where(lambda e: (e.merchant_id, e.mode, e.match_key) == (merchant_id, mode, match_key))
        return found[0] if found else None

    async def entry_keys(self, merchant_id: str, mode: str) -> list[str]:
        return [e.match_key for e in self._entries.where(lambda e: (e.merchant_id, e.mode) == (merchant_id, mode))]

    async def matching_entries(self, merchant_id: str, mode: str, match_keys: Sequence[str]) -> list[BlockEntry]:
        keys = set(match_keys)
        return self._entries.where(lambda e: (e.merchant_id, e.mode) == (merchant_id, mode) and e.match_key in keys)

    async def screen(
        self, merchant_id: str, mode: str, match_keys: Sequence[str], counters: Sequence[tuple[str, str, int]]
    ) -> tuple[list[BlockEntry], dict[tuple[str, str, int], int]]:
        return await self.matching_entries(merchant_id, mode, match_keys), await self.totals(counters)

    async def list_entries(
        self, merchant_id: str, mode: str, *, limit: int, starting_after: str | None
    ) -> tuple[list[BlockEntry], bool]:
        found = sorted(
            self._entries.where(lambda e: (e.merchant_id, e.mode) == (merchant_id, mode)),
            key=lambda e: e.id,
            reverse=True,
        )
        if starting_after is not None:
            found = [e for e in found if e.id < starting_after]
        return found[:limit], len(found) > limit

    async def delete_entry(self, merchant_id: str, mode: str, entry_id: str) -> BlockEntry | None:
        entry = self._entries.get(entry_id)
        if entry is None or (entry.merchant_id, entry.mode) != (merchant_id, mode):
            return None
        self._entries.delete(entry_id)
        return entry

    async def add_rule(self, rule: VelocityRule) -> None:
        self._rules.put(rule.id, rule)

    async def rules(self, merchant_id: str, mode: str) -> list[VelocityRule]:
        found = self._rules.where(lambda r: (r.merchant_id, r.mode) == (merchant_id, mode))
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def delete_rule(self, merchant_id: str, mode: str, rule_id: str) -> VelocityRule | None:
        rule = self._rules.get(rule_id)
        if rule is None or (rule.merchant_id, rule.mode) != (merchant_id, mode):
            return None
        self._rules.delete(rule_id)
        for key in [k for k in list(self._counters._committed) if k[0] == rule_id]:
            self._counters.delete(key)
        return rule

    async def count(self, counts: Sequence[Count]) -> dict[str, int]:
        added = {}
        for c in counts:
            total = self._counters.get((c.rule_id, c.key, c.window_start)) or 0
            if total and total + c.increment > c.limit:
                continue
            self._counters.put((c.rule_id, c.key, c.window_start), total + c.increment)
            added[c.rule_id] = total + c.increment
        return added

    async def totals(self, counters: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str, int], int]:
        found = {c: self._counters.get(c) for c in counters}
        return {c: n for c, n in found.items() if n is not None}

    async def uncount(self, rule_id: str, key: str, window_start: int, increment: int) -> None:
        total = self._counters.get((rule_id, key, window_start)) or 0
        self._counters.put((rule_id, key, window_start), total - increment)

    async def admit(self, key: str, window_start: int, ends_at: int, limit: int) -> bool:
        counter = ("rate:" + key, str(ends_at), window_start)
        total = self._counters.get(counter) or 0
        if total + 1 > limit:
            return False
        self._counters.put(counter, total + 1)
        return True

    async def purge_counters(self, now_epoch: int) -> int:
        ended = []
        for rule_id, key, start in list(self._counters._committed):
            if rule_id.startswith("rate:"):  # a rate counter keeps its end in `key`
                if int(key) <= now_epoch:
                    ended.append((rule_id, key, start))
                continue
            rule = self._rules.get(rule_id)
            if start + (rule.window_seconds if rule is not None else 0) <= now_epoch:
                ended.append((rule_id, key, start))
        for counter in ended:
            self._counters.delete(counter)
        return len(ended)


class InMemoryReversalRepository:
    def __init__(self, reversals: _Table[str, QueuedReversal]) -> None:
        self._reversals = reversals

    async def add(self, reversal: QueuedReversal) -> None:
        self._reversals.put(reversal.id, reversal)

    async def due(self, now: datetime, limit: int) -> list[QueuedReversal]:
        found = self._reversals.where(lambda r: r.acknowledged_at is None and r.next_attempt_at <= now)
        return sorted(found, key=lambda r: r.next_attempt_at)[:limit]

    async def claim(self, reversal: QueuedReversal, until: datetime) -> bool:
        current = self._reversals.peek(reversal.id)
        if current is None or current.acknowledged_at is not None or current.attempts != reversal.attempts:
            return False
        if current.next_attempt_at != reversal.next_attempt_at:
            return False
        self._reversals.put(reversal.id, dataclasses.replace(current, next_attempt_at=until))
        return True

    async def save(self, reversal: QueuedReversal) -> None:
        self._reversals.put(reversal.id, reversal)

    async def for_payment(self, payment_id: str) -> list[QueuedReversal]:
        return self._reversals.where(lambda r: r.payment_id == payment_id)


# -------------------------------------------------------------------------------------- unit of work


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self.committed = False  # whether any commit happened, for tests that care

    async def __aenter__(self) -> Self:
        s = self._store
        payments, events, tokens, cards = _Table(s.payments), _Table(s.event_rows), _Table(s.tokens), _Table(s.cards)
        merchants, keys, endpoints = _Table(s.merchants), _Table(s.api_keys), _Table(s.endpoints)
        authentications, idempotency = _Table(s.authentications), _Table(s.idempotency)
        vault_keys, identities = _Table(s.vault_keys), _Table(s.identities)
        entries, rules, counters = _Table(s.block_entries), _Table(s.risk_rules), _Table(s.risk_counters)
        reversals = _Table(s.reversals)
        self._tables: list[_Table[Any, Any]] = [payments, events, tokens, cards, merchants, keys, endpoints]
        self._tables += [authentications, idempotency, vault_keys, identities, entries, rules, counters, reversals]
        self.reversals = InMemoryReversalRepository(reversals)
        self.risk = InMemoryRiskRepository(entries, rules, counters)
        self.payments = InMemoryPaymentRepository(payments, events)
        self.events = InMemoryEventRepository(events)
        self.tokens = InMemoryTokenRepository(tokens)
        self.cards = InMemoryCardRepository(cards)
        self.merchants = InMemoryMerchantRepository(merchants, keys, identities)
        self.authentications = InMemoryAuthenticationRepository(authentications)
        self.idempotency = InMemoryIdempotencyRepository(idempotency)
        self.vault_keys = InMemoryVaultKeyRepository(vault_keys, cards, tokens)
        self.webhooks = InMemoryWebhookRepository(endpoints)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.rollback()  # whatever was not committed is lost

    async def commit(self) -> None:
        if self._read_only and any(table.changed for table in self._tables):
            raise RuntimeError("a read-only unit of work wrote")
        for table in self._tables:
            table.commit()
        self.committed = True

    async def rollback(self) -> None:
        for table in self._tables:
            table.discard()


class InMemoryUnitOfWorkFactory:
    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()

    def __call__(self, *, read_only: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, read_only=read_only)


# ------------------------------------------------------------------------------------- sandbox ACS


class InMemoryChallengeStore:
    """The sandbox ACS's `ChallengeStore` over a dict (no transactions: each call stands alone)."""

    def __init__(self) -> None:
        self.challenges: dict[str, acs.Challenge] = {}

    async def add(self, challenge: acs.Challenge) -> None:
        self.challenges[challenge.acs_trans_id] = challenge

    async def get(self, acs_trans_id: str) -> acs.Challenge | None:
        return self.challenges.get(acs_trans_id)

    async def issue_form_token(self, acs_trans_id: str, form_token_hash: str) -> None:
        found = self.challenges.get(acs_trans_id)
        if found is not None and found.state is acs.ChallengeState.WAITING:
            self.challenges[acs_trans_id] = dataclasses.replace(found, form_token_hash=form_token_hash)

    async def claim_answer(self, acs_trans_id: str) -> bool:
        found = self.challenges.get(acs_trans_id)
        if found is None or found.state is not acs.ChallengeState.WAITING:
            return False
        self.challenges[acs_trans_id] = dataclasses.replace(found, state=acs.ChallengeState.ANSWERED)
        return True
