"""The TCP link to an ISO 8583 host: a pool of persistent connections, many messages in flight on each.

Each connection is kept by a supervisor task: connect, sign on (0800, DE70 001), echo every
`echo_interval` seconds (0800, DE70 301; no 0810 in time closes the connection), and on any loss
reconnect with an exponential back-off. A request goes out on a signed-on connection and waits for the
answer with the same STAN (DE11), so answers may come in any order. An answer nobody waits for any more
(it came after its time-out, or twice) is logged and dropped; an unreadable frame is logged and dropped,
and the request it answered runs into its time-out. `stop` drains: no new request is taken, those in
flight get their answers (or their time-out), then the connections sign off and close.

Raises `LinkDownError` when no connection could take the request (nothing was sent) and `LinkLostError`
when the connection went away after the request was written (the host may have acted on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from tessera.processors.iso8583 import spec
from tessera.processors.iso8583.spec import FrameError, Framing, Message

logger = logging.getLogger(__name__)


class LinkDownError(Exception):
    """No connection could take the request: nothing reached the host."""


class LinkLostError(Exception):
    """The connection closed after the request was sent: the host may have acted on it."""


def transmission_time(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%m%d%H%M%S")


class _Connection:
    def __init__(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._link = link
        self._reader, self._writer = reader, writer
        self.pending: dict[str, asyncio.Future[Message]] = {}
        self.closed = asyncio.Event()

    @property
    def usable(self) -> bool:
        return not self.closed.is_set() and not self._writer.is_closing()

    async def read_loop(self) -> None:
        framing = self._link.framing
        try:
            while True:
                raw = await spec.read_frame(self._reader, framing)
                try:
                    message = framing.decode(raw)
                except FrameError as exc:
                    logger.warning("iso8583 link dropped an unreadable frame: %s", exc, extra={"code": "garbled"})
                    continue
                stan = message.get("11")
                future = self.pending.pop(stan, None) if isinstance(stan, str) else None
                if future is not None and not future.done():
                    future.set_result(message)
                else:
                    self._link.unmatched(message)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, FrameError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(LinkLostError("connection closed with the request in flight"))
        self.pending.clear()
        with contextlib.suppress(Exception):
            self._writer.close()

    async def request(self, message: Message, timeout: float) -> Message:
        stan = message["11"]
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.pending[stan] = future
        try:
            try:
                frame = self._link.framing.frame(self._link.framing.encode(message))
            except Exception as exc:
                raise LinkDownError(f"the message cannot be encoded: {type(exc).__name__}") from exc
            if not self.usable:
                raise LinkDownError("connection closed")
            self._writer.write(frame)
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if self.pending.get(stan) is future:
                del self.pending[stan]

    def send_only(self, message: Message) -> None:
        if self.usable:
            self._writer.write(self._link.framing.frame(self._link.framing.encode(message)))


class Link:
    def __init__(
        self,
        host: str,
        port: int,
        framing: Framing,
        *,
        next_stan: Callable[[], str],
        connections: int = 2,
        timeout: float = 5.0,
        echo_interval: float = 30.0,
        connect_wait: float = 1.0,
        terminal_id: str = "TESS0001",
    ) -> None:
        self.host, self.port, self.framing = host, port, framing
        self._next_stan = next_stan
        self._size = max(1, connections)
        self.timeout = timeout
        self._echo_interval = echo_interval
        self._connect_wait = connect_wait
        self._terminal_id = terminal_id
        self._ready: list[_Connection] = []
        self._any_ready = asyncio.Event()
        self._turn = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.late_answers = 0

    # ---------------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.create_task(self._supervise(), name=f"iso8583-link-{i}") for i in range(self._size)]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout):
                await self._any_ready.wait()
        if not self._any_ready.is_set():
            logger.warning("iso8583 link to %s:%d is not up yet; retrying in the background", self.host, self.port)

    async def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout):
                await self._idle.wait()
        for conn in list(self._ready):
            with contextlib.suppress(Exception):
                conn.send_only(self._network(spec.SIGN_OFF))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    @property
    def up(self) -> bool:
        return bool(self._ready)

    # ---------------------------------------------------------------------------------- requests

    async def request(self, message: Message, *, timeout: float | None = None) -> Message:
        """Send `message` (its STAN in DE11) and return the host's answer with the same STAN."""
        if self._stopping:
            raise LinkDownError("the link is stopping")
        conn = await self._pick()
        self._in_flight += 1
        self._idle.clear()
        try:
            return await conn.request(message, self.timeout if timeout is None else timeout)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _pick(self) -> _Connection:
        if not self._ready:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._connect_wait):
                    await self._any_ready.wait()
        usable = [c for c in self._ready if c.usable]
        if not usable:
            raise LinkDownError(f"no connection to {self.host}:{self.port}")
        return usable[next(self._turn) % len(usable)]

    def unmatched(self, message: Message) -> None:
        """An answer nobody waits for: late (after its time-out) or a duplicate. Never an approval: the
        core queued the reversal of a timed-out authorisation when the time-out struck."""
        self.late_answers += 1
        logger.warning(
            "iso8583 late or duplicate answer mti=%s stan=%s code=%s dropped",
            message.get("t"),
            message.get("11"),
            message.get("39"),
            extra={"code": message.get("39"), "outcome": "late"},
        )

    def _network(self, code: str) -> Message:
        stan = self._next_stan()
        return {"t": spec.NETWORK, "7": transmission_time(), "11": stan, "41": self._terminal_id, "70": code}

    # ---------------------------------------------------------------------------------- supervision

    async def _supervise(self) -> None:
        delay = 0.05
        while not self._stopping:
            try:
                async with asyncio.timeout(self.timeout):
                    reader, writer = await asyncio.open_connection(self.host, self.port)
            except (OSError, TimeoutError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            conn = _Connection(self, reader, writer)
            reading = asyncio.create_task(conn.read_loop())
            try:
                answer = await conn.request(self._network(spec.SIGN_ON), self.timeout)
                if answer.get("39") != "00":
                    raise LinkLostError(f"sign-on refused with {answer.get('39')!r}")
                delay = 0.05
                self._ready.append(conn)
                self._any_ready.set()
                logger.info("iso8583 link signed on to %s:%d", self.host, self.port)
                await self._echo_until_closed(conn)
            except (LinkLostError, LinkDownError, TimeoutError, OSError) as exc:
                logger.warning("iso8583 connection to %s:%d lost: %s", self.host, self.port, type(exc).__name__)
            finally:
                if conn in self._ready:
                    self._ready.remove(conn)
                if not self._ready:
                    self._any_ready.clear()
                conn.close()
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reading
            if not self._stopping:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _echo_until_closed(self, conn: _Connection) -> None:
        while not conn.closed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._echo_interval):
                    await conn.closed.wait()
            if conn.closed.is_set() or self._stopping:
                # A stopping link keeps the connection until `stop` has drained and cancels this task.
                await conn.closed.wait()
                return
            await conn.request(self._network(spec.ECHO), self.timeout)  # no answer: TimeoutError closes it
