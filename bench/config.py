"""The benchmark's settings, read from BENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

BACKENDS = ("sqlite", "postgresql")
CPU_CONCURRENCY = 16  # the matrix run whose server CPU per request is compared between flows
ONLY_GROWTH_PAYMENTS = 1_000_000  # BENCH_GROWTH_PAYMENTS's default with BENCH_ONLY_GROWTH=1 (issue 15's check)


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and why."""


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise BenchError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


def _list(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name, "").strip()
    return tuple(part.strip() for part in raw.split(",") if part.strip()) if raw else default


def wrk_threads(concurrency: int) -> int:
    """One wrk thread for a single connection, two (one per core) otherwise."""
    return 1 if concurrency == 1 else 2


@dataclass(frozen=True)
class Config:
    duration: int
    warmup: int
    timeout: int
    concurrencies: tuple[int, ...]
    growth_payments: int
    growth_segments: int
    growth_concurrency: int
    rotation_cards: int
    backends: tuple[str, ...]
    localstripe: bool
    pg_durable: bool
    flows: tuple[str, ...] = ()  # BENCH_FLOWS: only these flow keys in the matrix; empty runs them all
    only_growth: bool = False  # BENCH_ONLY_GROWTH: the growth check alone (`make bench-growth`)

    @classmethod
    def from_env(cls) -> Config:
        concurrencies = tuple(int(c) for c in _list("BENCH_CONCURRENCY", ("1", "16", "64")))
        only_growth = _flag("BENCH_ONLY_GROWTH", False)
        config = cls(
            duration=_int("BENCH_DURATION", 10),
            warmup=_int("BENCH_WARMUP", 2, minimum=0),
            timeout=_int("BENCH_TIMEOUT", 5),
            concurrencies=concurrencies,
            growth_payments=_int("BENCH_GROWTH_PAYMENTS", ONLY_GROWTH_PAYMENTS if only_growth else 100_000, minimum=0),
            growth_segments=_int("BENCH_GROWTH_SEGMENTS", 10),
            growth_concurrency=64,
            rotation_cards=_int("BENCH_ROTATION_CARDS", 20_000, minimum=0),
            backends=_list("BENCH_BACKENDS", BACKENDS),
            localstripe=_flag("BENCH_LOCALSTRIPE", True),
            pg_durable=_flag("BENCH_PG_DURABLE", True),
            flows=_list("BENCH_FLOWS", ()),
            only_growth=only_growth,
        )
        config.validate()
        return config

    @property
    def segment_payments(self) -> int:
        return self.growth_payments // self.growth_segments

    @property
    def segment_payments_per_thread(self) -> int:
        return self.segment_payments // wrk_threads(self.growth_concurrency)

    def validate(self) -> None:
        unknown = set(self.backends) - set(BACKENDS)
        if unknown:
            raise BenchError(f"BENCH_BACKENDS: unknown backend(s) {sorted(unknown)}; choose from {BACKENDS}")
        step = self.growth_segments * wrk_threads(self.growth_concurrency)
        if self.growth_payments % step:
            raise BenchError(f"BENCH_GROWTH_PAYMENTS ({self.growth_payments}) must be a multiple of {step}")
        if self.only_growth and not self.growth_payments:
            raise BenchError("BENCH_ONLY_GROWTH=1 runs only the growth check: BENCH_GROWTH_PAYMENTS cannot be 0")
        if any(c < 1 for c in self.concurrencies):
            raise BenchError("BENCH_CONCURRENCY values must be positive")
