"""`tessera acquirer-sim`: an ISO 8583 acquirer host in its own process, for tests, benchmarks and `make run`.

`host.py` answers the gateway over TCP by the sandbox's test-card table, `ledger.py` keeps what it has
applied on disk, `faults.py` says what it can break, `control.py` is its loopback control endpoint.
`run` wires them and writes the end-of-day settlement file when the process is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from tessera.acquirer_sim.control import Control
from tessera.acquirer_sim.faults import EVENT_FAULTS, Faults
from tessera.acquirer_sim.host import AcquirerHost
from tessera.processors.iso8583.spec import Framing

__all__ = ["run"]

logger = logging.getLogger(__name__)


async def run(
    *,
    host: str,
    port: int,
    ledger: Path,
    framing: Framing,
    faults: list[tuple[str, float]],
    control_port: int | None,
    settlement: Path,
    event_period: float = 10.0,
) -> None:
    rates = Faults()
    events: dict[str, float] = {}
    for name, value in faults:
        if name in EVENT_FAULTS:
            events[name] = value
        else:
            rates.set(name, value)
    acquirer = AcquirerHost(host, port, ledger, framing=framing, faults=rates)
    await acquirer.start()
    control = Control(acquirer, settlement)
    control_server = await control.serve(control_port) if control_port is not None else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    control_at = control_server.sockets[0].getsockname()[1] if control_server else None
    print(f"acquirer-sim listening on {host}:{acquirer.port} control={control_at}", flush=True)  # noqa: T201
    events_task = asyncio.create_task(acquirer.run_events(events, event_period, stop))
    try:
        await stop.wait()
    finally:
        events_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await events_task
        lines = acquirer.ledger.write_settlement(settlement)
        logger.info("acquirer-sim wrote %d settlement lines to %s", lines, settlement)
        if control_server is not None:
            control_server.close()
        await acquirer.close()
