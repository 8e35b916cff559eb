"""The sandbox acquirer: answers like a real one, deciding every outcome from `cards.py` (and, in test
mode, from a rejection code written as the card holder: `holder_codes.py`).

It keeps a ledger of recent operations, as a real acquirer does, so `inquire` can say what became of
an operation whose answer was lost, and a reversed authorisation cannot be captured. The ledger lives
in this process's memory and holds the most recent `LEDGER_SIZE` operations, so memory stays flat:
an operation it has no record of reads as never arrived (nothing charged, which in the sandbox is the
truth), and a follow-up on a sandbox reference it has forgotten is honoured, since the core has
already checked the state and amounts.

What its faults leave in the ledger is logged (an operation held without an answer, a reversal), so
that tests of a separate `tessera serve` process can reconcile the gateway's records with the acquirer's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from tessera.core.errors import ErrorCode
from tessera.core.ids import random_digits, random_hex
from tessera.core.ports import (
    AuthorizeRequest,
    Capability,
    FollowUpRequest,
    InquireRequest,
    Outcome,
    ProcessorConfig,
    ProcessorData,
    ProcessorResult,
    ReverseRequest,
)
from tessera.processors.base import BaseProcessor
from tessera.processors.sandbox.cards import Behaviour, follow_up_fault, lookup
from tessera.processors.sandbox.holder_codes import rejection
from tessera.sandbox.directory import is_genuine

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Entry:
    result: ProcessorResult
    reversed: bool = False


# Enough for every operation of the last half-minute or so at full speed, which is as far back as an
# inquiry looks (time-outs are inquired at once); small enough (~5 MB) that memory stays flat.
LEDGER_SIZE = 10_000


class SandboxProcessor(BaseProcessor):
    name = "sandbox"
    capabilities = frozenset(Capability)  # a full-featured acquirer

    @classmethod
    def from_config(cls, config: ProcessorConfig) -> SandboxProcessor:
        """`sandbox`, or `sandbox://?without=void,partial_refund` to stand in for an acquirer that lacks
        those flows (for live-mode rehearsals of what a merchant's real acquirer cannot do)."""
        processor = cls(config.key)
        without = {name.strip() for name in config.options.get("without", "").split(",") if name.strip()}
        unknown = without - {c.value for c in Capability}
        if unknown:
            raise ValueError(f"sandbox: unknown capabilities {sorted(unknown)}; known: {[c.value for c in Capability]}")
        if without:
            processor.capabilities = frozenset(c for c in Capability if c.value not in without)
            processor.name = "sandbox-limited"  # its payments must never be mistaken for the full sandbox's
        return processor

    def __init__(self, key: bytes = b"") -> None:
        self._key = key  # to tell the sandbox networks' authentication values from made-up ones
        self._ledger: OrderedDict[str, _Entry] = OrderedDict()
        self._by_ref: OrderedDict[str, str] = OrderedDict()
        self._hang = asyncio.Event()  # never set: what "never answers" waits on

    def prepare(self, operation_type: str) -> ProcessorData:
        """A trace number and retrieval reference, as an ISO 8583 acquirer link numbers its messages."""
        return ProcessorData(trace_number=random_digits(6), retrieval_ref=random_digits(12))

    def _approve(
        self, operation_id: str, *, auth: bool, data: ProcessorData, network_transaction_id: str | None = None
    ) -> ProcessorResult:
        ref = f"sbx_{random_hex(8)}"
        result = ProcessorResult(
            Outcome.APPROVED,
            processor_ref=ref,
            response_code="00",
            auth_code=random_digits(6) if auth else None,
            retrieval_ref=data.retrieval_ref or random_digits(12),
            network_transaction_id=network_transaction_id,
        )
        self._remember(operation_id, result)
        return result

    def _remember(self, operation_id: str, result: ProcessorResult) -> None:
        self._ledger[operation_id] = _Entry(result)
        if result.processor_ref:
            self._by_ref[result.processor_ref] = operation_id
        while len(self._ledger) > LEDGER_SIZE:
            self._ledger.popitem(last=False)
        while len(self._by_ref) > LEDGER_SIZE:
            self._by_ref.popitem(last=False)

    async def authorize(self, req: AuthorizeRequest) -> ProcessorResult:
        card = lookup(req.pan.reveal())
        auth = req.authentication
        if auth is not None and auth.status in ("Y", "A"):
            # An authenticated authorisation must carry its proof: ECI and a genuine CAVV for this ACS transaction.
            genuine = bool(auth.authentication_value and auth.eci and auth.acs_trans_id) and (
                not self._key or is_genuine(self._key, auth.acs_trans_id or "", auth.authentication_value or "")
            )
            if not genuine:
                return ProcessorResult(Outcome.DECLINED, response_code="N7", error_code=ErrorCode.THREEDS_FAILED)
        forced = rejection(req.holder_name) if req.mode == "test" else None
        if forced is not None:
            # OPPWA's test convention: the holder names the rejection, which is answered as it stands.
            result = ProcessorResult(
                Outcome.DECLINED,
                processor_ref=f"sbx_{random_hex(8)}",
                response_code=req.holder_name,
                error_code=forced,
            )
            self._remember(req.operation_id, result)
            return result
        if card.behaviour is Behaviour.REFUSE_CONNECTION:
            return ProcessorResult(Outcome.UNAVAILABLE, error_code=ErrorCode.NETWORK_ERROR)
        if card.behaviour is Behaviour.DECLINE:
            result = ProcessorResult(
                Outcome.DECLINED,
                processor_ref=f"sbx_{random_hex(8)}",
                response_code=card.response_code,
                error_code=card.error,
            )
            self._remember(req.operation_id, result)
            return result
        # A merchant-initiated sale keeps the network id of the series' first payment, as networks do.
        network_id = req.network_transaction_id or random_digits(15)
        approved = self._approve(req.operation_id, auth=True, data=req.data, network_transaction_id=network_id)
        if card.behaviour is Behaviour.NO_ANSWER:
            await self._hold(req.operation_id, req.payment_id, "authorisation")
        return approved

    async def _hold(self, operation_id: str, payment_id: str, what: str) -> None:
        """The acquirer has applied the operation and never says so."""
        logger.info(
            "sandbox acquirer holds %s %s without answering",
            what,
            operation_id,
            extra={"payment_id": payment_id, "outcome": "held"},
        )
        await self._hang.wait()

    async def _follow_up(self, req: FollowUpRequest) -> ProcessorResult:
        original = self._by_ref.get(req.original_ref) or req.original_ref
        entry = self._ledger.get(original)
        known_approved = entry is not None and entry.result.outcome is Outcome.APPROVED and not entry.reversed
        forgotten = entry is None and req.original_ref.startswith("sbx_")
        if not (known_approved or forgotten):
            result = ProcessorResult(Outcome.DECLINED, response_code="25", error_code=ErrorCode.CARD_DECLINED)
            self._remember(req.operation_id, result)
            return result
        return self._approve(req.operation_id, auth=False, data=req.data)

    async def _faulty_follow_up(self, req: FollowUpRequest, what: str) -> ProcessorResult:
        fault = follow_up_fault(req.amount)
        if fault is Behaviour.REFUSE_CONNECTION:
            return ProcessorResult(Outcome.UNAVAILABLE, error_code=ErrorCode.NETWORK_ERROR)
        result = await self._follow_up(req)
        if fault is Behaviour.NO_ANSWER:
            await self._hold(req.operation_id, req.payment_id, what)
        return result

    async def capture(self, req: FollowUpRequest) -> ProcessorResult:
        return await self._faulty_follow_up(req, "capture")

    async def refund(self, req: FollowUpRequest) -> ProcessorResult:
        return await self._faulty_follow_up(req, "refund")

    async def void(self, req: FollowUpRequest) -> ProcessorResult:
        result = await self._follow_up(req)
        if result.outcome is Outcome.APPROVED:
            entry = self._ledger.get(self._by_ref.get(req.original_ref) or req.original_ref)
            if entry is not None:
                entry.reversed = True
        return result

    async def reverse(self, req: ReverseRequest) -> ProcessorResult:
        """Release whatever the lost authorisation holds; one the ledger never saw holds nothing."""
        entry = self._ledger.get(req.operation_id)
        held = entry is not None and entry.result.outcome is Outcome.APPROVED
        if entry is not None and held:
            entry.reversed = True
        logger.info(
            "sandbox acquirer reversed %s",
            req.operation_id,
            extra={"payment_id": req.payment_id, "outcome": "reversed" if held else "nothing held"},
        )
        return ProcessorResult(Outcome.APPROVED, processor_ref=f"sbx_{random_hex(8)}", response_code="00")

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        entry = self._ledger.get(req.operation_id)
        if entry is None:
            return ProcessorResult(Outcome.DECLINED, response_code="25", error_code=ErrorCode.NETWORK_ERROR)
        return entry.result
