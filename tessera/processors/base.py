"""What every processor shares: no connections to open, no numbering of its own, and a refusal of
every flow it does not declare, rather than pretending to run it."""

from __future__ import annotations

from tessera.core.errors import NotSupportedError
from tessera.core.ports import (
    NO_PROCESSOR_DATA,
    Capability,
    FollowUpRequest,
    InquireRequest,
    ProcessorData,
    ProcessorResult,
    ReverseRequest,
)


class BaseProcessor:
    name = "base"
    capabilities: frozenset[Capability] = frozenset()
    queues_reversals = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def prepare(self, operation_type: str) -> ProcessorData:
        return NO_PROCESSOR_DATA

    async def capture(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot capture")

    async def void(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot void")

    async def refund(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot refund")

    async def reverse(self, req: ReverseRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot reverse")

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot inquire")
