"""Trace numbers (STAN, DE11) and retrieval references (RRN, DE37) for one ISO 8583 link.

A STAN must be unique per link (terminal) over a day, across every `tessera serve` and `tessera worker`
process that shares the link. The processes share a counter file (in the system's temporary folder,
named for the host, port and terminal, by default; `stan_file=` puts it elsewhere), locked with
`flock` while a process takes a block of `BLOCK` numbers: each
process then numbers from its own block without touching the file again until the block is used up, so
two processes never hand out the same STAN, and a restarted process never reuses one of a block it had.
Numbers run from 000001 to 999999 and wrap, as ISO 8583 trace numbers do: a link sending more than a
million messages a day needs several terminal ids (DE41). Processes on several machines must each have
their own counter file and `node=` digit, which then takes the STAN's first digit.

The RRN is the ISO convention YDDDhh + STAN: the last digit of the year, the day of the year, the UTC
hour and the STAN, which makes it unique for ten years as long as the STAN is unique within the hour.
"""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import datetime
from pathlib import Path

BLOCK = 1000
_SPACE = 999_999


class TraceNumbers:
    def __init__(self, path: Path, *, node: int | None = None) -> None:
        self._path = path
        self._node = node
        self._lock = threading.Lock()
        self._next = 0
        self._end = 0  # exclusive

    @property
    def _space(self) -> int:
        return 99_999 if self._node is not None else _SPACE

    def _take_block(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            start = int(raw) if raw.isdigit() else 0
            if start + BLOCK > self._space:
                start = 0  # wrap, as STANs do
            end = start + BLOCK
            os.pwrite(fd, f"{end:<20d}".encode("ascii"), 0)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock
        self._next, self._end = start, end

    def next(self) -> str:
        """The next STAN: six digits, never 000000."""
        with self._lock:
            if self._next >= self._end:
                self._take_block()
            value = self._next + 1
            self._next += 1
        if self._node is not None:
            return f"{self._node}{value:05d}"
        return f"{value:06d}"


def retrieval_ref(stan: str, at: datetime) -> str:
    return f"{at.year % 10}{at.timetuple().tm_yday:03d}{at.hour:02d}{stan}"
