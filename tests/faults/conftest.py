"""The fault and fuzz suite's shared parts: its scale, the figures it publishes, and the folder every
test leaves its databases and logs in for the card-number scan that runs after them.

The same tests are the bounded suite in `make test` and the long one in `make soak`: `TESSERA_SOAK=1`
switches every test to its soak size (`scaled`). Each test reports what it tried and what it found with
the `figure` fixture; with `TESSERA_FIGURES_FILE` set (by `soak/run.py`), those figures and each
test's outcome are appended to that file as JSON lines, and `docs/reliability.md` is written from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SOAK = os.environ.get("TESSERA_SOAK") == "1"
FIGURES_FILE = os.environ.get("TESSERA_FIGURES_FILE")

# The scan (tests/faults/test_card_data_scan.py) runs after every other test of the session, so that
# it sees what they all left behind.
SCAN_LAST = "scan_last"


def scaled(bounded: int, soak: int) -> int:
    """`bounded` in `make test`, `soak` in `make soak`."""
    return soak if SOAK else bounded


def _append(record: dict[str, object]) -> None:
    if FIGURES_FILE:
        with open(FIGURES_FILE, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


Figure = Callable[..., None]


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Figure:
    """Record a published figure: `figure(check, tried=..., result=...)`, with any raw numbers the soak
    report totals as keyword counts. Call it before asserting, so a failing test still reports what it
    found."""

    def record(check: str, *, tried: str, result: str, **counts: int) -> None:
        _append(
            {
                "kind": "figure",
                "nodeid": request.node.nodeid,
                "check": check,
                "tried": tried,
                "result": result,
                "counts": counts,
            }
        )

    return record


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _append({"kind": "outcome", "nodeid": report.nodeid, "outcome": report.outcome})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(SCAN_LAST)]
    items[:] = [item for item in items if not item.get_closest_marker(SCAN_LAST)] + last


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where fault tests keep their SQLite files, server logs and other leftovers, all scanned for card
    numbers at the end of the session."""
    return tmp_path_factory.mktemp("fault-artifacts")


@pytest.fixture(scope="session")
def pans_used() -> Iterator[set[str]]:
    """Every card number a fault test sent in this session: the scan searches for each of them (and for
    every number of docs/test-cards)."""
    used: set[str] = set()
    yield used
