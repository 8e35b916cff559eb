"""The home page's charts, drawn on the server as SVG: volume and count by day, approval rate, decline
reasons, 3-D Secure results and payments by dialect. Every bar carries its number as text (and a title),
so nothing is told by colour alone; each chart also has a table for screen readers."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tessera.core.money import to_major_string

APPROVED = {"authorized", "captured", "partially_refunded", "refunded", "voided", "charged_back"}
THREEDS = {"Y": "Y authenticated", "A": "A attempted", "N": "N refused", "U": "U unavailable", "R": "R rejected"}
WIDTH, BAR_AREA = 560, 150


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # what is written on the bar
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    bars: list[Bar]
    horizontal: bool
    height: int


def _columns(title: str, items: list[tuple[str, float, str]]) -> Chart:
    top = max((v for _, v, _ in items), default=0) or 1
    slot = WIDTH / max(len(items), 1)
    bars = [
        Bar(label, value, text, i * slot + 4, 20 + BAR_AREA - value / top * BAR_AREA, slot - 8, value / top * BAR_AREA)
        for i, (label, value, text) in enumerate(items)
    ]
    return Chart(title, bars, horizontal=False, height=BAR_AREA + 60)


def _rows(title: str, items: list[tuple[str, float, str]]) -> Chart:
    top = max((v for _, v, _ in items), default=0) or 1
    bars = [
        Bar(label, value, text, 170, i * 26 + 4, max(value / top * (WIDTH - 260), 2), 20)
        for i, (label, value, text) in enumerate(items)
    ]
    return Chart(title, bars, horizontal=True, height=max(len(items), 1) * 26 + 8)


def build(rows: list[dict[str, Any]], today: date, days: int = 14) -> dict[str, Any]:
    """The charts of the last `days` days, from `DashboardServices.summary` rows."""
    span = [(today - timedelta(days=days - 1 - n)).isoformat() for n in range(days)]
    count: Counter[str] = Counter()
    volume: dict[str, Counter[str]] = defaultdict(Counter)  # currency -> day -> approved amount
    approved = failed = 0
    declines: Counter[str] = Counter()
    threeds: Counter[str] = Counter()
    dialects: Counter[str] = Counter()
    for r in rows:
        n = int(r["n"])
        count[r["day"]] += n
        dialects[r["channel"]] += n
        threeds[THREEDS.get(r["auth_status"] or "", "none")] += n
        if r["status"] in APPROVED:
            approved += n
            volume[r["currency"]][r["day"]] += int(r["volume"] or 0)
        elif r["status"] == "failed":
            failed += n
            declines[r["error_code"] or "unknown"] += n
    currency = max(volume, key=lambda cur: sum(volume[cur].values()), default="INR")
    short = [d[5:] for d in span]
    per_day = volume.get(currency, Counter())
    charts = [
        _columns(
            f"Approved volume by day ({currency})",
            [(s, per_day[d], to_major_string(per_day[d], currency)) for s, d in zip(short, span, strict=True)],
        ),
        _columns("Payments by day", [(s, count[d], str(count[d])) for s, d in zip(short, span, strict=True)]),
        _rows("Decline reasons", [(k, v, str(v)) for k, v in declines.most_common(8)]),
        _rows("3-D Secure results", [(k, v, str(v)) for k, v in threeds.most_common()]),
        _rows("Payments by dialect", [(k, v, str(v)) for k, v in dialects.most_common()]),
    ]
    decided = approved + failed
    rate = f"{approved * 100 / decided:.1f}%" if decided else "no decided payments yet"
    return {"charts": charts, "approval_rate": rate, "approved": approved, "failed": failed, "days": days}
