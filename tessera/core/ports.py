"""The roles the core needs filled from outside: a processor, storage, a cipher, metrics.

`storage` implements the repositories and unit of work; `processors` implement `Processor`. The core
depends only on these protocols and the frozen dataclasses that cross them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, Self

from tessera.core.errors import ErrorCode
from tessera.core.vault.pan import CVV, PAN, Expiry

if TYPE_CHECKING:
    from tessera.core.identities import StoredIdentity
    from tessera.core.merchants import ApiKey, Merchant
    from tessera.core.payments.events import Event
    from tessera.core.payments.model import Payment
    from tessera.core.payments.reversals import QueuedReversal
    from tessera.core.risk.ports import RiskRepository
    from tessera.core.threeds.records import Authentication
    from tessera.core.vault.cards import SavedCard
    from tessera.core.vault.crypto import WrappedKey
    from tessera.core.vault.tokens import CardToken
    from tessera.core.webhooks.deliveries import Delivery
    from tessera.core.webhooks.endpoints import WebhookEndpoint


# ---------------------------------------------------------------------------------------- processor


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"  # nothing reached the acquirer: nothing was charged
    UNKNOWN = "unknown"  # sent, no answer: recovery must resolve it


class Capability(StrEnum):
    """What a processor can do. The core checks the capability an operation needs before it commits
    anything, so an unsupported operation is refused up front instead of becoming an unknown outcome."""

    AUTHORIZE = "authorize"  # PA: reserve funds
    SALE = "sale"  # DB: authorise and capture in one message
    CAPTURE = "capture"
    PARTIAL_CAPTURE = "partial_capture"
    VOID = "void"
    REFUND = "refund"
    PARTIAL_REFUND = "partial_refund"
    REVERSE = "reverse"  # undo an authorisation whose answer was lost
    INQUIRE = "inquire"  # ask what became of an operation
    MERCHANT_INITIATED = "merchant_initiated"  # RB: a sale with no cardholder present


class Initiator(StrEnum):
    """Who starts an authorisation: the cardholder (present, with CVV or 3-D Secure) or the merchant
    (a rebill on a stored credential, which networks tie to the first payment's transaction id)."""

    CARDHOLDER = "cardholder"
    MERCHANT = "merchant"


@dataclass(frozen=True, slots=True)
class ProcessorData:
    """What a processor numbers an operation by, prepared before the call and committed with the
    pending operation, so that a crash after sending still leaves what the acquirer knows it by: the
    trace number (ISO 8583 STAN), the retrieval reference (RRN), and the approval code once known."""

    trace_number: str | None = None
    retrieval_ref: str | None = None
    approval_code: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.trace_number is not None:
            out["trace_number"] = self.trace_number
        if self.retrieval_ref is not None:
            out["retrieval_ref"] = self.retrieval_ref
        if self.approval_code is not None:
            out["approval_code"] = self.approval_code
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProcessorData:
        if not data:
            return NO_PROCESSOR_DATA
        extra = data.get("extra") or {}
        return cls(
            data.get("trace_number"),
            data.get("retrieval_ref"),
            data.get("approval_code"),
            tuple(sorted((str(k), str(v)) for k, v in extra.items())),
        )


NO_PROCESSOR_DATA = ProcessorData()


@dataclass(frozen=True, slots=True)
class AuthenticationData:
    """A 3-D Secure result as the acquirer needs it in the authorisation."""

    status: str
    eci: str | None
    authentication_value: str | None  # the CAVV / AAV
    ds_trans_id: str | None
    acs_trans_id: str | None
    version: str

    def __repr__(self) -> str:
        return f"AuthenticationData(status={self.status}, eci={self.eci}, version={self.version})"


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    operation_id: str
    payment_id: str
    merchant_id: str
    amount: int
    currency: str
    pan: PAN
    expiry: Expiry
    cvv: CVV | None
    holder_name: str | None
    capture: bool  # True for a sale (DB, RB), False for a pre-authorisation (PA)
    authentication: AuthenticationData | None = None
    initiator: Initiator = Initiator.CARDHOLDER
    # For a merchant-initiated authorisation: the network's id of the first, cardholder-present one.
    network_transaction_id: str | None = None
    data: ProcessorData = NO_PROCESSOR_DATA
    # The payment's mode: a test acquirer honours its test conventions only for test-mode payments.
    mode: str = "live"


@dataclass(frozen=True, slots=True)
class OriginalAuthorisation:
    """The approved authorisation a follow-up refers to, as the acquirer knows it."""

    operation_id: str
    processor_ref: str
    amount: int
    data: ProcessorData = NO_PROCESSOR_DATA
    network_transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class FollowUpRequest:
    """Capture, void or refund of an earlier approved authorisation."""

    operation_id: str
    payment_id: str
    amount: int
    currency: str
    original: OriginalAuthorisation
    data: ProcessorData = NO_PROCESSOR_DATA

    @property
    def original_ref(self) -> str:
        return self.original.processor_ref


@dataclass(frozen=True, slots=True)
class ReverseRequest:
    """Undo an authorisation whose answer was lost (ISO 8583's reversal advice): the acquirer matches
    it by the original's trace data, since the gateway may never have learnt its reference."""

    operation_id: str  # the authorisation being reversed
    payment_id: str
    amount: int
    currency: str
    original_data: ProcessorData
    processor_ref: str | None = None  # when an inquiry found it
    data: ProcessorData = NO_PROCESSOR_DATA
    attempt: int = 0  # tries before this one: an ISO 8583 link sends 0400 first, then 0420 advices


@dataclass(frozen=True, slots=True)
class InquireRequest:
    operation_id: str
    payment_id: str
    data: ProcessorData = NO_PROCESSOR_DATA


class ReportKind(StrEnum):
    CHARGEBACK = "CB"
    CHARGEBACK_REVERSAL = "CR"
    RECEIPT = "RC"


@dataclass(frozen=True, slots=True)
class AcquirerReport:
    """What an acquirer tells the gateway on its own: a chargeback, its reversal, or a receipt. It names
    the payment by the processor reference of its authorisation, unique within that processor."""

    kind: ReportKind
    processor: str
    processor_ref: str
    amount: int | None = None  # None: all that the operation can take
    reason_code: str | None = None
    report_ref: str | None = None  # the acquirer's own id for this report


@dataclass(frozen=True, slots=True)
class ProcessorResult:
    outcome: Outcome
    processor_ref: str | None = None
    response_code: str | None = None
    error_code: ErrorCode | None = None
    auth_code: str | None = None
    retrieval_ref: str | None = None
    network_transaction_id: str | None = None


class Processor(Protocol):
    """An acquirer link. Stateless towards storage: the core commits a pending operation (with what
    `prepare` returned), calls, then records the result."""

    name: str
    capabilities: frozenset[Capability]
    # True: an authorisation whose outcome is unknown is never inquired; the core fails it with
    # NETWORK_ERROR in the transaction that queues its reversal, which the worker sends until acknowledged.
    queues_reversals: bool

    async def start(self) -> None:
        """Open connections (an ISO 8583 link); called once before the first operation."""
        ...

    async def stop(self) -> None: ...

    def prepare(self, operation_type: str) -> ProcessorData:
        """Number a new operation (trace number, retrieval reference) before it is committed."""
        ...

    async def authorize(self, req: AuthorizeRequest) -> ProcessorResult: ...
    async def capture(self, req: FollowUpRequest) -> ProcessorResult: ...
    async def void(self, req: FollowUpRequest) -> ProcessorResult: ...
    async def refund(self, req: FollowUpRequest) -> ProcessorResult: ...

    async def reverse(self, req: ReverseRequest) -> ProcessorResult:
        """Undo an authorisation whose outcome was unknown; APPROVED once nothing is held."""
        ...

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        """What became of an operation: APPROVED if the acquirer holds it approved, DECLINED if it
        was declined or never arrived, UNKNOWN if the acquirer cannot say now."""
        ...


@dataclass(frozen=True, slots=True)
class ProcessorConfig:
    """What a processor factory is given: its options (from a URL such as `iso8583://host:port?x=y`)
    and a key derived from the gateway's secrets for processors that need one."""

    name: str
    options: Mapping[str, str] = field(default_factory=dict)
    key: bytes = b""


ProcessorFactory = Callable[[ProcessorConfig], Processor]


class ProcessorRegistry(Protocol):
    def for_mode(self, mode: str) -> Processor: ...
    def by_name(self, name: str) -> Processor: ...


# ------------------------------------------------------------------------------------------ storage


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> None:
        """Insert a new payment; ReferenceTakenError if its unique reference is taken."""
        ...

    async def get(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None: ...
    async def get_for_update(self, merchant_id: str, mode: str, payment_id: str) -> Payment | None: ...
    async def get_by_id(self, payment_id: str) -> Payment | None: ...
    async def get_by_operation(self, merchant_id: str, mode: str, operation_id: str) -> Payment | None:
        """The merchant's payment in this mode holding the operation, if any."""
        ...

    async def get_by_id_for_update(self, payment_id: str) -> Payment | None: ...
    async def save(self, payment: Payment) -> None:
        """Write the payment's changes, its new and changed operations and its new events.
        Raises ConcurrentUpdateError when the row changed since it was read."""
        ...

    async def get_by_unique_reference(self, merchant_id: str, mode: str, reference: str) -> Payment | None:
        """The payment made for a merchant's unique `reference` (unique per merchant and mode)."""
        ...

    async def get_by_processor_ref_for_update(self, processor: str, processor_ref: str) -> Payment | None:
        """The payment whose authorisation `processor` knows by `processor_ref` (its reports name it)."""
        ...

    async def authorized_before(self, cutoff: datetime, limit: int) -> Sequence[str]:
        """Ids of payments still only authorised, made before `cutoff`."""
        ...

    async def stale_operations(self, before: datetime, limit: int) -> Sequence[tuple[str, str]]:
        """(payment id, operation id) of operations pending since before `before`, or unknown."""
        ...


class TokenRepository(Protocol):
    async def add(self, token: CardToken) -> None: ...
    async def get_for_update(self, merchant_id: str, mode: str, token_id: str) -> CardToken | None: ...
    async def mark_used(self, token: CardToken) -> None: ...
    async def erase_expired_secrets(self, now: datetime) -> int: ...


class CardRepository(Protocol):
    async def add(self, card: SavedCard) -> None: ...
    async def get(self, merchant_id: str, mode: str, card_token: str) -> SavedCard | None: ...
    async def find_active(self, merchant_id: str, mode: str, identifier: str, fingerprint: str) -> SavedCard | None: ...
    async def list_active(self, merchant_id: str, mode: str, identifier: str) -> Sequence[SavedCard]: ...
    async def mark_deleted(self, card: SavedCard) -> None: ...


class AuthenticationRepository(Protocol):
    async def add(self, authentication: Authentication) -> None: ...
    async def get_by_trans_id(self, three_ds_server_trans_id: str) -> Authentication | None: ...
    async def get_for_payment(self, payment_id: str) -> Authentication | None: ...
    async def save(self, authentication: Authentication) -> None: ...
    async def expired_challenges(self, now: datetime, limit: int) -> Sequence[Authentication]: ...


class EventRepository(Protocol):
    async def add(self, event: Event) -> None: ...


class VaultKeyRepository(Protocol):
    async def data_keys(self) -> list[WrappedKey]: ...
    async def add_data_key(self, key: WrappedKey, created_at: datetime) -> bool:
        """False when that version already exists (another process made it first)."""
        ...

    async def rewrap(self, key: WrappedKey) -> None: ...
    async def stale_ciphertexts(self, current: int, limit: int) -> Sequence[StoredCiphertext]: ...
    async def count_stale(self, current: int) -> int: ...
    async def replace_ciphertexts(self, updates: Sequence[StoredCiphertext]) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredCiphertext:
    """One encrypted field of one row, for re-encryption: `context` is what it is bound to."""

    table: str
    row_id: str
    field: str
    context: bytes
    ciphertext: bytes
    key_version: int


class MerchantRepository(Protocol):
    async def add(self, merchant: Merchant, keys: Sequence[ApiKey]) -> None: ...
    async def find_key(self, key_hash: str) -> tuple[ApiKey, Merchant] | None: ...
    async def count(self) -> int: ...
    async def set_status(self, merchant_id: str, status: str) -> None: ...
    async def get(self, merchant_id: str, *, for_update: bool = False) -> Merchant | None: ...
    async def key_modes(self, merchant_id: str) -> list[str]:
        """The modes the merchant has keys for."""
        ...

    async def allowing_domains(self, domains: Sequence[str], *, limit: int) -> list[Merchant]:
        """Up to `limit` active merchants whose allowed domains include one of `domains` exactly."""
        ...

    async def save_settings(self, merchant: Merchant) -> None:
        """Store the merchant's changeable settings (allowed return-URL domains)."""
        ...

    async def active_keys(self, merchant_id: str) -> list[ApiKey]:
        """The merchant's keys that are not revoked, oldest first."""
        ...

    async def add_keys(self, keys: Sequence[ApiKey]) -> None: ...

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Mark the key revoked at `at`; False when it already was (or does not exist)."""
        ...

    async def identity(self, merchant_id: str, mode: str, kind: str) -> StoredIdentity | None: ...
    async def identity_by_public_id(self, kind: str, public_id: str) -> StoredIdentity | None: ...
    async def add_identity(self, identity: StoredIdentity) -> bool:
        """False when the merchant already has an identity of this kind and mode; run it last in its
        transaction (a refused insert may end it)."""
        ...


class IdempotencyRepository(Protocol):
    """Keys and their claims. Every write after the claim is a no-op unless `claim` still holds the key
    in progress; `take_over` is the compare-and-set that hands a key whose lease passed to a retry."""

    async def try_insert(self, record: dict[str, Any]) -> bool: ...
    async def get(self, merchant_id: str, mode: str, key: str) -> dict[str, Any] | None: ...
    async def take_over(
        self, merchant_id: str, mode: str, key: str, old_claim: str | None, new_claim: str, locked_until: datetime
    ) -> dict[str, Any] | None:
        """The record, now held by `new_claim`; None if `old_claim` no longer held it."""
        ...

    async def record_resource(self, merchant_id: str, mode: str, key: str, claim: str, resource_id: str) -> bool:
        """False: the claim was taken over, and the caller must not commit its change."""
        ...

    async def complete(self, merchant_id: str, mode: str, key: str, claim: str, status: int, body: bytes) -> None: ...
    async def reopen(self, merchant_id: str, mode: str, key: str, claim: str, now: datetime) -> None: ...
    async def release(self, merchant_id: str, mode: str, key: str, claim: str) -> None: ...
    async def delete(self, merchant_id: str, mode: str, key: str) -> None: ...
    async def purge(self, before: datetime) -> int: ...


class WebhookRepository(Protocol):
    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def get_endpoint(
        self, merchant_id: str, mode: str, endpoint_id: str, *, for_update: bool = False
    ) -> WebhookEndpoint | None:
        """By id, or the merchant's callback endpoint when `endpoint_id` is "callback"."""
        ...

    async def list_endpoints(self, merchant_id: str, mode: str) -> Sequence[WebhookEndpoint]:
        """The endpoints made through the API that are not deleted, oldest first."""
        ...

    async def get_channel_endpoint(self, merchant_id: str, mode: str, format_name: str) -> WebhookEndpoint | None:
        """The merchant's channel endpoint of this format (`EndpointKind.CHANNEL`), if it has one."""
        ...

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    async def park_deliveries(self, endpoint_id: str) -> None:
        """Pending deliveries wait, undue, while their endpoint is disabled."""
        ...

    async def resume_deliveries(self, endpoint_id: str, now: datetime) -> None: ...
    async def cancel_deliveries(self, endpoint_id: str, now: datetime) -> None: ...
    async def list_deliveries(self, endpoint_id: str, *, limit: int, before: str | None) -> Sequence[Delivery]:
        """Newest first, each with its attempts."""
        ...

    async def retry_delivery(self, endpoint_id: str, delivery_id: str, now: datetime) -> Delivery | None:
        """Due now again; None if there is no such delivery. Raises ConflictError while an attempt of it
        is in flight."""
        ...


class ReversalRepository(Protocol):
    """The persisted queue of time-out reversals (store and forward): a reversal is added in the
    transaction that fails its payment, and removed from the due list only once the acquirer acknowledged."""

    async def add(self, reversal: QueuedReversal) -> None: ...
    async def due(self, now: datetime, limit: int) -> Sequence[QueuedReversal]: ...
    async def claim(self, reversal: QueuedReversal, until: datetime) -> bool:
        """Hold a due reversal until `until` for this process; False when another process took it."""
        ...

    async def save(self, reversal: QueuedReversal) -> None: ...
    async def for_payment(self, payment_id: str) -> Sequence[QueuedReversal]: ...


class UnitOfWork(Protocol):
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def cards(self) -> CardRepository: ...
    @property
    def vault_keys(self) -> VaultKeyRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def authentications(self) -> AuthenticationRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def merchants(self) -> MerchantRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def webhooks(self) -> WebhookRepository: ...
    @property
    def risk(self) -> RiskRepository: ...
    @property
    def reversals(self) -> ReversalRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work; `read_only` ones take no write lock and must not write."""
        ...


class ConcurrentUpdateError(Exception):
    """A row changed between read and write; the caller re-reads and decides again."""


class ReferenceTakenError(Exception):
    """A new payment's unique reference is already taken (the store's unique index said so)."""


# -------------------------------------------------------------------------------------- other roles


class ReadModel(Protocol):
    """Read-only lists for the APIs and the dashboard (cosmicpython's views): no rules, no locks."""

    async def list_payments(
        self,
        merchant_id: str,
        mode: str,
        *,
        limit: int,
        starting_after: str | None = None,
        status: str | None = None,
        reference: str | None = None,
    ) -> tuple[list[Payment], bool]:
        """Up to `limit` payments, newest first, and whether more follow."""
        ...

    async def list_events(
        self, merchant_id: str, mode: str, *, limit: int, after: int = 0, types: list[str] | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events in sequence order after number `after`, and whether more follow."""
        ...


class Cipher(Protocol):
    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes: ...
    async def decrypt(self, ciphertext: bytes, *, context: bytes) -> bytes:
        """Async because a ciphertext sealed under a data key made by another process since this one
        loaded its keys makes it fetch that key first."""
        ...

    def keyed_hash(self, data: bytes) -> str: ...
    def keyed_digest(self, data: bytes) -> bytes: ...


class Metrics(Protocol):
    def payment_finished(self, status: str, error_code: str | None) -> None: ...


class NoMetrics:
    def payment_finished(self, status: str, error_code: str | None) -> None:
        return None
