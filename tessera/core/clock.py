"""The one source of the current time, so tests and services agree on aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """An aware UTC time as the APIs write it: ISO 8601 with a `Z`."""
    return moment.isoformat().replace("+00:00", "Z")
