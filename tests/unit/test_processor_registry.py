"""Processor factories take their configuration, and the registry starts and stops what it built."""

from __future__ import annotations

import pytest

from tessera.core.errors import ProcessorUnavailableError
from tessera.core.ports import Capability, ProcessorConfig
from tessera.processors import PROCESSORS, Registry, parse_processor
from tessera.processors.sandbox.processor import SandboxProcessor


def test_a_processor_url_gives_its_factory_the_host_port_and_options() -> None:
    config = parse_processor("iso8583://acquirer.example:5001?timeout=2&terminal=T1", key=b"k")
    assert config == ProcessorConfig(
        "iso8583", {"host": "acquirer.example", "port": "5001", "timeout": "2", "terminal": "T1"}, b"k"
    )
    assert parse_processor("sandbox") == ProcessorConfig("sandbox", {}, b"")


def test_an_unknown_processor_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="unknown processor"):
        Registry("visanet://host:1")


def test_a_limited_sandbox_declares_only_what_it_can_do_and_keeps_its_own_name() -> None:
    registry = Registry("sandbox://?without=void,partial_refund")
    live = registry.for_mode("live")
    assert live.name == "sandbox-limited" and registry.by_name("sandbox-limited") is live
    assert Capability.VOID not in live.capabilities and Capability.PARTIAL_REFUND not in live.capabilities
    assert Capability.SALE in live.capabilities
    assert registry.for_mode("test").capabilities == frozenset(Capability)  # test mode keeps the full sandbox
    with pytest.raises(ValueError, match="unknown capabilities"):
        Registry("sandbox://?without=teleport")


def test_no_live_processor_means_live_payments_are_refused() -> None:
    with pytest.raises(ProcessorUnavailableError):
        Registry(None).for_mode("live")


class _Linked(SandboxProcessor):
    """A processor holding a connection: started before the first operation, stopped at shutdown."""

    name = "linked"
    events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


async def test_the_registry_starts_and_stops_the_processors_it_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROCESSORS, "linked", lambda config: _Linked(config.key))
    registry = Registry("linked://host:1")
    assert registry.for_mode("live").name == "linked"
    await registry.start()
    await registry.stop()
    assert _Linked.events == ["start", "stop"]
