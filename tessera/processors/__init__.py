"""Processors: the acquirers behind the core's `Processor` port, one folder each.

`PROCESSORS` names every processor that can be configured; `Registry` picks one per mode.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.core.errors import ProcessorUnavailableError
from tessera.core.ports import Processor
from tessera.processors.sandbox.processor import SandboxProcessor

PROCESSORS: dict[str, Callable[[], Processor]] = {"sandbox": SandboxProcessor}


class Registry:
    """Test mode always uses the sandbox; live mode uses the configured processor, if any."""

    def __init__(self, live: str | None, *, sandbox_key: bytes = b"") -> None:
        self._by_name: dict[str, Processor] = {"sandbox": SandboxProcessor(sandbox_key)}
        if live and live not in self._by_name:
            if live not in PROCESSORS:
                raise ValueError(f"unknown processor {live!r}; known: {sorted(PROCESSORS)}")
            self._by_name[live] = PROCESSORS[live]()
        self._modes: dict[str, str] = {"test": "sandbox"}
        if live:
            self._modes["live"] = live

    def for_mode(self, mode: str) -> Processor:
        name = self._modes.get(mode)
        if name is None:
            raise ProcessorUnavailableError(f"no processor is configured for {mode} mode")
        return self._by_name[name]

    def by_name(self, name: str) -> Processor:
        try:
            return self._by_name[name]
        except KeyError:
            raise ProcessorUnavailableError(f"processor {name} is not configured") from None
