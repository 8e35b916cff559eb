"""Processors: the acquirers behind the core's `Processor` port, one folder each.

`PROCESSORS` names every processor that can be configured, each by a factory taking its
`ProcessorConfig`; `Registry` builds them from settings, picks one per mode, and starts and stops them.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tessera.core.errors import ProcessorUnavailableError
from tessera.core.ports import Processor, ProcessorConfig, ProcessorFactory
from tessera.processors.iso8583.processor import Iso8583Processor
from tessera.processors.sandbox.processor import SandboxProcessor

PROCESSORS: dict[str, ProcessorFactory] = {
    "sandbox": SandboxProcessor.from_config,
    "iso8583": Iso8583Processor.from_config,
}


def parse_processor(spec: str, *, key: bytes = b"") -> ProcessorConfig:
    """`sandbox`, or a URL whose scheme names the processor (`iso8583://host:port?timeout=2`)."""
    if "://" not in spec:
        return ProcessorConfig(spec, {}, key)
    parts = urlsplit(spec)
    options = dict(parse_qsl(parts.query))
    if parts.hostname:
        options["host"] = parts.hostname
    if parts.port:
        options["port"] = str(parts.port)
    return ProcessorConfig(parts.scheme, options, key)


class Registry:
    """Test mode uses the sandbox unless `test` names another processor (an acquirer host simulator, so
    test traffic takes the live path); live mode uses the configured processor, if any. The same
    specification for both modes is one processor (one link)."""

    def __init__(self, live: str | None, *, sandbox_key: bytes = b"", test: str | None = None) -> None:
        self._by_name: dict[str, Processor] = {"sandbox": SandboxProcessor(sandbox_key)}
        self._modes: dict[str, str] = {"test": "sandbox"}
        built: dict[str, str] = {}
        for mode, spec in (("test", test), ("live", live)):
            if not spec:
                continue
            if spec in built:
                self._modes[mode] = built[spec]
                continue
            config = parse_processor(spec, key=sandbox_key)
            if config.name not in PROCESSORS:
                raise ValueError(f"unknown processor {config.name!r}; known: {sorted(PROCESSORS)}")
            processor = self._by_name.get(config.name) if not config.options else None
            if processor is None:
                processor = PROCESSORS[config.name](config)
                if processor.name in self._by_name:
                    raise ValueError(f"test and live processors are both named {processor.name!r}; use one spec")
                self._by_name[processor.name] = processor
            built[spec] = processor.name
            self._modes[mode] = processor.name

    async def start(self) -> None:
        for processor in self._by_name.values():
            await processor.start()

    async def stop(self) -> None:
        for processor in self._by_name.values():
            await processor.stop()

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
