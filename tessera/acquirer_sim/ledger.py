"""The acquirer host simulator's ledger: what the host has applied, durable in a SQLite file.

One row per request the host acted on (authorisation, sale, capture, refund, reversal), keyed by the
duplicate key ISO 8583 hosts use (terminal DE41, STAN DE11, local date and time DE13/DE12), so a
repeated request gets the first answer again and is never applied twice. A reversal marks its original
`reversed`. No card number is kept: BIN and last four only. The end-of-day settlement file lists the
cleared transactions: approved sales, captures and refunds whose authorisation was not reversed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal TEXT NOT NULL, stan TEXT NOT NULL, local TEXT NOT NULL,
    mti TEXT NOT NULL, kind TEXT NOT NULL, rrn TEXT, card TEXT,
    amount INTEGER NOT NULL, currency TEXT NOT NULL,
    response_code TEXT NOT NULL, approval_code TEXT, network_id TEXT,
    original_rrn TEXT, original_stan TEXT, original_dt TEXT, dt TEXT,
    reversed INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    UNIQUE (terminal, stan, local, kind)
);
CREATE INDEX IF NOT EXISTS ix_ledger_rrn ON ledger (rrn);
CREATE INDEX IF NOT EXISTS ix_ledger_original ON ledger (terminal, stan, dt);
"""

AUTHORISING = ("auth", "sale")


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    kind: str
    rrn: str | None
    amount: int
    currency: str
    response_code: str
    approval_code: str | None
    network_id: str | None
    reversed: bool
    stan: str
    terminal: str

    @property
    def approved(self) -> bool:
        return self.response_code == "00"


_COLUMNS = "id, kind, rrn, amount, currency, response_code, approval_code, network_id, reversed, stan, terminal"


def _entry(row: Any) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9], row[10])


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an answered request is on disk before its answer goes
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def find_duplicate(self, terminal: str, stan: str, local: str, kind: str) -> Entry | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE terminal=? AND stan=? AND local=? AND kind=?",
            (terminal, stan, local, kind),
        ).fetchone()
        return _entry(row) if row else None

    def record(self, **values: Any) -> Entry:
        values.setdefault("created_at", datetime.now(UTC).isoformat())
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = self._db.execute(f"INSERT INTO ledger ({names}) VALUES ({marks})", tuple(values.values()))
        row = self._db.execute(f"SELECT {_COLUMNS} FROM ledger WHERE id=?", (cur.lastrowid,)).fetchone()
        return _entry(row)

    def original(self, terminal: str, *, rrn: str | None, stan: str | None, dt: str | None) -> Entry | None:
        """The authorisation or sale a follow-up names: by its original STAN and transmission time (DE90),
        else by RRN."""
        if stan and dt:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM ledger WHERE terminal=? AND stan=? AND dt=? AND kind IN ('auth', 'sale') "
                "ORDER BY id LIMIT 1",
                (terminal, stan, dt),
            ).fetchone()
            if row:
                return _entry(row)
        if rrn:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM ledger WHERE rrn=? AND kind IN ('auth', 'sale') ORDER BY id LIMIT 1", (rrn,)
            ).fetchone()
            if row:
                return _entry(row)
        return None

    def any_by_original(self, terminal: str, stan: str, dt: str) -> Entry | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM ledger WHERE terminal=? AND stan=? AND dt=? ORDER BY id LIMIT 1",
            (terminal, stan, dt),
        ).fetchone()
        return _entry(row) if row else None

    def mark_reversed(self, entry_id: int) -> None:
        self._db.execute("UPDATE ledger SET reversed=1 WHERE id=?", (entry_id,))

    def rows(self) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT * FROM ledger ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def write_settlement(self, path: Path) -> int:
        """The end-of-day settlement file: one line per cleared transaction (approved sale, capture or
        refund whose authorisation stands), `kind|rrn|original_rrn|amount|currency|approval|terminal|stan`."""
        cleared = self._db.execute(
            "SELECT kind, rrn, original_rrn, amount, currency, approval_code, terminal, stan FROM ledger "
            "WHERE response_code='00' AND reversed=0 AND kind IN ('sale', 'capture', 'refund') ORDER BY id"
        ).fetchall()
        lines = ["|".join("" if v is None else str(v) for v in row) for row in cleared]
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text("".join(line + "\n" for line in lines))
        tmp.replace(path)
        return len(lines)
