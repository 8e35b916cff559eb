"""Structured logs: one JSON object a line, a request id on each, and a filter that masks card data.

The filter is the last line of defence: code never logs card data on purpose (PAN and CVV mask
themselves), but anything that looks like a card number (13 to 19 digits passing Luhn) is masked to
BIN + last 4, and any `extra` key named like a card field is replaced, before a line is written.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

import orjson

from tessera.core.vault.pan import luhn_valid, mask

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_SENSITIVE_KEYS = frozenset({"pan", "number", "card_number", "cvv", "cvc", "cvv2", "security_code"})
_ALLOWED_EXTRA = (
    "payment_id",
    "merchant_id",
    "operation",
    "outcome",
    "code",
    "latency_ms",
    "method",
    "path",
    "route",
    "status",
    "client",
)
_RESERVED = set(vars(logging.makeLogRecord({})))


def scrub_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group(0))
        return mask(digits) if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)

    return _DIGIT_RUN.sub(replace, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: ("***" if str(k).lower() in _SENSITIVE_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class CardDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_text(record.getMessage())
        record.args = None
        for key in list(vars(record)):
            if key in _RESERVED:
                continue
            value = getattr(record, key)
            setattr(record, key, "***" if key.lower() in _SENSITIVE_KEYS else _scrub(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            entry["request_id"] = rid
        for key in _ALLOWED_EXTRA:
            if key in record.__dict__ and record.__dict__[key] is not None:
                entry[key] = record.__dict__[key]
        if record.exc_text:
            entry["exc"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = request_id.get()
        extras = " ".join(f"{k}={record.__dict__[k]}" for k in _ALLOWED_EXTRA if record.__dict__.get(k) is not None)
        line = f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line += f" {extras}" if extras else ""
        line += f" request_id={rid}" if rid else ""
        return line + (f"\n{record.exc_text}" if record.exc_text else "")


def configure(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    import time

    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(CardDataFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG; never let that through.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
