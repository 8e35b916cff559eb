"""The acquirer host simulator: an ISO 8583 host on a TCP port, deciding by the sandbox's test-card table.

It speaks Tessera's specification (`processors/iso8583/spec.py`) with the framing it is started with,
answers 0100/0200/0220/0400/0420/0600/0800, and applies each request to its ledger before answering,
so what it holds survives its own restart and can be reconciled with the gateway's records. The
sandbox's `cards.py` decides: a declining card gets its response code, the card whose connection is
refused gets 91 (issuer inoperative), the card that is never answered is approved and held unanswered.
Faults (`faults.py`) are injected on top. Each request is handled in its own task, so a delayed answer
does not hold up the others on the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Any

from tessera.acquirer_sim.faults import Faults
from tessera.acquirer_sim.ledger import Entry, Ledger
from tessera.processors.iso8583 import spec
from tessera.processors.iso8583.messages import parse_original_elements
from tessera.processors.iso8583.spec import FrameError, Framing, Message
from tessera.processors.sandbox.cards import Behaviour, lookup

logger = logging.getLogger(__name__)

_ECHOED = ("3", "4", "7", "11", "12", "13", "37", "41", "42", "49", "70", "90")


def _answer(request: Message, code: str, **fields: str | None) -> Message:
    out: Message = {k: request[k] for k in _ECHOED if k in request}
    out["t"] = spec.RESPONSE_OF.get(request["t"], request["t"][:2] + "10")
    out["39"] = code
    out |= {k: v for k, v in fields.items() if v}
    return out


def _kind(message: Message) -> str:
    mti = message["t"]
    if mti == spec.AUTH:
        return "auth"
    if mti == spec.FINANCIAL:
        return "refund" if str(message.get("3", "")).startswith("20") else "sale"
    if mti in ("0220", "0221"):
        return "capture"
    if mti in ("0400", "0401", "0420", "0421"):
        return "reversal"
    if mti == spec.INQUIRY:
        return "inquiry"
    if mti == spec.NETWORK:
        return "network"
    return "unknown"


class Decider:
    """What the host answers to a request, applied to the ledger first. Returns (answer, hold): a held
    request is applied and never answered."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def decide(self, m: Message) -> tuple[Message | None, bool]:
        kind = _kind(m)
        if kind == "network":
            return _answer(m, "00"), False
        if kind == "unknown":
            return _answer(m, "12"), False
        terminal = str(m.get("41", "")).strip()
        if kind == "inquiry":
            return self._inquiry(m, terminal), False
        local = f"{m.get('13', '')}{m.get('12', '')}"
        duplicate = self.ledger.find_duplicate(terminal, m["11"], local, kind)
        if duplicate is not None:  # a repeat: the first answer again, applied once
            return self._reply(m, duplicate), False
        base: dict[str, Any] = {
            "terminal": terminal,
            "stan": m["11"],
            "local": local,
            "mti": m["t"],
            "kind": kind,
            "rrn": m.get("37"),
            "amount": int(m.get("4", "0") or 0),
            "currency": m.get("49", ""),
            "dt": m.get("7"),
        }
        if "90" in m:
            _mti, base["original_stan"], base["original_dt"] = parse_original_elements(m["90"])
        if kind in ("auth", "sale"):
            return self._authorise(m, base)
        original = self.ledger.original(
            terminal, rrn=m.get("37"), stan=base.get("original_stan"), dt=base.get("original_dt")
        )
        base["original_rrn"] = original.rrn if original else m.get("37")
        if kind == "reversal":
            if original is not None and original.approved and not original.reversed:
                self.ledger.mark_reversed(original.id)
            code = "00" if original is not None else "25"
            return self._reply(m, self.ledger.record(**base, response_code=code)), False
        usable = original is not None and original.approved and not original.reversed
        if kind == "capture":
            usable = usable and original is not None and original.kind == "auth"
        code = "00" if usable else "25"
        entry = self.ledger.record(**base, response_code=code, approval_code=_approval() if usable else None)
        return self._reply(m, entry), False

    def _authorise(self, m: Message, base: dict[str, Any]) -> tuple[Message | None, bool]:
        pan = str(m.get("2", ""))
        card = lookup(pan)
        try:
            private = spec.parse_tlv(m.get("48", ""))
        except FrameError:
            private = {}
        if card.behaviour is Behaviour.DECLINE:
            code = card.response_code
        elif card.behaviour is Behaviour.REFUSE_CONNECTION:
            code = "91"  # the issuer is unreachable: answered, nothing held
        elif private.get("EC") in ("05", "06", "02", "01") and not private.get("CV"):
            code = "N7"  # an authenticated ECI without its authentication value
        else:
            code = "00"
        approved = code == "00"
        hold = approved and card.behaviour is Behaviour.NO_ANSWER
        entry = self.ledger.record(
            **base,
            card=f"{pan[:6]}...{pan[-4:]}",
            response_code=code,
            approval_code=_approval() if approved else None,
            network_id=(private.get("NT") or f"{secrets.randbelow(10**15):015d}") if approved else None,
            answered=0 if hold else 1,
        )
        return (None if hold else self._reply(m, entry)), hold

    def _inquiry(self, m: Message, terminal: str) -> Message:
        _mti, stan, dt = parse_original_elements(str(m.get("90", "")).ljust(42, "0"))
        found = self.ledger.any_by_original(terminal, stan, dt)
        if found is None:
            return _answer(m, "25")
        return self._reply(m, found)

    def _reply(self, m: Message, entry: Entry) -> Message:
        private = spec.tlv({"NT": entry.network_id or ""})
        return _answer(
            m, entry.response_code, **{"38": entry.approval_code, "37": entry.rrn or m.get("37"), "48": private}
        )


def _approval() -> str:
    return f"{secrets.randbelow(10**6):06d}"


class AcquirerHost:
    def __init__(self, host: str, port: int, ledger_path: Path, *, framing: Framing, faults: Faults) -> None:
        self.host, self.port = host, port
        self.ledger_path = ledger_path
        self.framing = framing
        self.faults = faults
        self.ledger = Ledger(ledger_path)
        self.decider = Decider(self.ledger)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled = 0
        self._down = False  # restarting or refusing: whatever still arrives is lost, as in a crash
        self._event = asyncio.Lock()  # one refuse or restart at a time

    async def start(self) -> None:
        self._down = False
        self._server = await asyncio.start_server(self._connection, self.host, self.port, reuse_address=True)
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        await self._go_down(forget=True)

    async def _go_down(self, *, forget: bool) -> None:
        """Stop listening and drop every connection; with `forget`, also what is in memory (the answers
        under way) and the ledger's open file, as a crash would."""
        self._down = True
        await self._close_listener()
        self._drop_connections()
        if forget:
            for task in list(self._tasks):
                task.cancel()
            self.ledger.close()

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()  # stops listening at once; the connections are dropped separately
            self._server = None

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def up(self) -> None:
        """Wait for a refuse or restart in progress to end (the ledger is open again after a restart)."""
        async with self._event:
            pass

    async def refuse(self, seconds: float) -> None:
        """Close every connection and refuse new ones for `seconds`."""
        async with self._event:
            logger.warning("acquirer-sim refuses connections for %.1fs", seconds)
            await self._go_down(forget=False)
            await asyncio.sleep(seconds)
            await self.start()

    async def restart(self, seconds: float) -> None:
        """As a restart of the host: everything in memory is gone, the ledger is read again from disk."""
        async with self._event:
            logger.warning("acquirer-sim restarts (down %.1fs)", seconds)
            await self._go_down(forget=True)
            await asyncio.sleep(seconds)
            self.ledger = Ledger(self.ledger_path)
            self.decider = Decider(self.ledger)
            await self.start()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                raw = await spec.read_frame(reader, self.framing)
                try:
                    message = self.framing.decode(raw)
                except FrameError:
                    logger.warning("acquirer-sim: unreadable request dropped")
                    continue
                task = asyncio.create_task(self._respond(message, writer))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, FrameError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, message: Message, writer: asyncio.StreamWriter) -> None:
        if self._down:
            return
        try:
            answer, hold = self.decider.decide(message)
        except Exception:
            logger.exception("acquirer-sim could not apply a %s; no answer", message.get("t"))
            return
        self.handled += 1
        if hold or answer is None:
            return
        fault = self.faults.pick() if message["t"] != spec.NETWORK else None
        out = self.framing.answering()
        if fault == "drop":
            return
        if fault == "close":
            writer.transport.abort()
            return
        if fault == "delay":
            await asyncio.sleep(self.faults.delay_seconds)
        if writer.is_closing():
            return
        if fault == "garble":
            writer.write(out.frame(b"\x00\xffnot an iso 8583 message" + secrets.token_bytes(8)))
            return
        frame = out.frame(out.encode(answer))
        writer.write(frame)
        if fault == "duplicate":
            writer.write(frame)

    async def run_events(self, events: dict[str, float], period: float, stop: asyncio.Event) -> None:
        """Flag-set event faults (`refuse`, `restart`), once every `period` seconds until `stop`."""
        while events and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period)
            if stop.is_set():
                return
            for name, seconds in events.items():
                await (self.refuse(seconds) if name == "refuse" else self.restart(seconds))
