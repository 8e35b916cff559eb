"""What every processor shares: refusing flows it lacks, rather than pretending to run them."""

from __future__ import annotations

from tessera.core.ports import FollowUpRequest, InquireRequest, ProcessorResult


class NotSupportedError(Exception):
    """The processor has no such flow."""


class BaseProcessor:
    name = "base"

    async def capture(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot capture")

    async def void(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot void")

    async def refund(self, req: FollowUpRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot refund")

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        raise NotSupportedError(f"{self.name} cannot inquire")
