"""The ISO 8583 acquirer processor: the core's `Processor` port over a `Link` to an acquirer host.

Configured by URL: `iso8583://host:port?header=2&length=binary&tpdu=...&connections=2&timeout=5&echo=30`
`&acquirer_id=...&terminal_id=...&merchant_id=...&stan_file=...&node=...&connect_wait=0.1&bitmap=binary`.
Transport failures become outcomes here and nowhere else: no connection to send on is UNAVAILABLE (nothing was sent), a
connection lost after sending or an unreadable or unexpected answer is UNKNOWN. An authorisation whose
outcome is unknown is never inquired: this processor `queues_reversals`, so the core fails the payment
with NETWORK_ERROR in the same transaction that queues a reversal, and the worker sends it (0400, then
0420 advice, then 0421 repeats) until the host acknowledges it.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from tessera.core.errors import ErrorCode
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
from tessera.processors.iso8583 import messages, spec
from tessera.processors.iso8583.link import Link, LinkDownError, LinkLostError
from tessera.processors.iso8583.numbering import TraceNumbers, retrieval_ref
from tessera.processors.iso8583.spec import Framing, Message

logger = logging.getLogger(__name__)

# Codes of a 0410/0430 that acknowledge a reversal: done, or the host never held the original.
_REVERSAL_ACKNOWLEDGED = frozenset({"00", "25", "12"})


class Iso8583Processor(BaseProcessor):
    name = "iso8583"
    capabilities = frozenset(Capability)
    queues_reversals = True

    @classmethod
    def from_config(cls, config: ProcessorConfig) -> Iso8583Processor:
        o = dict(config.options)
        if "host" not in o or "port" not in o:
            raise ValueError("iso8583: the URL must name host and port: iso8583://127.0.0.1:8583")
        acceptor = messages.Acceptor(
            acquirer_id=o.get("acquirer_id", "400000"),
            terminal_id=o.get("terminal_id", "TESS0001"),
            merchant_id=o.get("merchant_id", "TESSERA00000001"),
        )
        default_file = Path(tempfile.gettempdir()) / f"tessera-iso8583-{o['host']}-{o['port']}-{acceptor.terminal_id}"
        stan_file = Path(o.get("stan_file") or f"{default_file}.stan")
        node = int(o["node"]) if "node" in o else None
        return cls(
            o["host"],
            int(o["port"]),
            Framing.from_options(o),
            acceptor=acceptor,
            numbers=TraceNumbers(stan_file, node=node),
            connections=int(o.get("connections", "2")),
            timeout=float(o.get("timeout", "5")),
            echo_interval=float(o.get("echo", "30")),
            connect_wait=float(o.get("connect_wait", "0.1")),
        )

    def __init__(
        self,
        host: str,
        port: int,
        framing: Framing,
        *,
        acceptor: messages.Acceptor,
        numbers: TraceNumbers,
        connections: int = 2,
        timeout: float = 5.0,
        echo_interval: float = 30.0,
        connect_wait: float = 0.1,
    ) -> None:
        self._acceptor = acceptor
        self._numbers = numbers
        self.link = Link(
            host,
            port,
            framing,
            next_stan=numbers.next,
            connections=connections,
            timeout=timeout,
            echo_interval=echo_interval,
            connect_wait=connect_wait,
            terminal_id=acceptor.terminal_id,
        )

    async def start(self) -> None:
        await self.link.start()

    async def stop(self) -> None:
        await self.link.stop()

    def prepare(self, operation_type: str) -> ProcessorData:
        """A STAN and RRN, and the MTI and transmission time the message will go with: all committed
        with the pending operation, so a reversal can name the original after a crash."""
        now = datetime.now(UTC)
        stan = self._numbers.next()
        mti = messages.MTI_OF_OPERATION.get(operation_type, spec.AUTH)
        extra = (("dt", now.strftime("%m%d%H%M%S")), ("mti", mti))
        return ProcessorData(trace_number=stan, retrieval_ref=retrieval_ref(stan, now), extra=extra)

    async def _exchange(self, message: Message, data: ProcessorData, what: str) -> ProcessorResult:
        expected = spec.RESPONSE_OF[message["t"]]
        try:
            answer = await self.link.request(message)
        except LinkDownError:
            return ProcessorResult(Outcome.UNAVAILABLE, error_code=ErrorCode.NETWORK_ERROR)
        except (LinkLostError, TimeoutError):
            logger.info("iso8583 %s stan=%s: no answer", what, message.get("11"), extra={"outcome": "unknown"})
            return ProcessorResult(Outcome.UNKNOWN, response_code="TIMEOUT")
        return messages.result_of(answer, expected, data)

    async def authorize(self, req: AuthorizeRequest) -> ProcessorResult:
        return await self._exchange(messages.authorisation(req, self._acceptor), req.data, "authorisation")

    async def capture(self, req: FollowUpRequest) -> ProcessorResult:
        return await self._exchange(messages.follow_up("CP", req, self._acceptor), req.data, "capture")

    async def void(self, req: FollowUpRequest) -> ProcessorResult:
        return await self._exchange(messages.follow_up("RV", req, self._acceptor), req.data, "void")

    async def refund(self, req: FollowUpRequest) -> ProcessorResult:
        return await self._exchange(messages.follow_up("RF", req, self._acceptor), req.data, "refund")

    async def reverse(self, req: ReverseRequest) -> ProcessorResult:
        """APPROVED once the host acknowledges (00, or 25: it never held the original); else UNKNOWN,
        and the reversal queue tries again."""
        message = messages.reversal(req, self._acceptor, attempt=req.attempt)
        result = await self._exchange(message, req.data, "reversal")
        if result.response_code in _REVERSAL_ACKNOWLEDGED:
            return ProcessorResult(Outcome.APPROVED, processor_ref=result.retrieval_ref, response_code="00")
        return ProcessorResult(Outcome.UNKNOWN, response_code=result.response_code)

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        message = messages.inquiry(req.data, self._numbers.next(), self._acceptor)
        return await self._exchange(message, req.data, "inquiry")
