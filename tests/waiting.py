"""Waiting in tests for something another task, thread or process does: always with a deadline, so a
test whose awaited thing never happens fails, saying what it waited for, instead of hanging the run.

The deadline is a guard against hangs, never an assertion about speed: it is set far above what the
awaited thing takes on a loaded machine.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

DEADLINE_SECONDS = 30.0


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    what: str,
    within: float = DEADLINE_SECONDS,
    every: float = 0.01,
) -> None:
    """Poll `condition` (sync or async) until it is true; fail the test with `what` after `within` s."""
    deadline = time.monotonic() + within
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:g} s waiting for {what}")
        await asyncio.sleep(every)


def wait_until_sync(
    condition: Callable[[], bool], *, what: str, within: float = DEADLINE_SECONDS, every: float = 0.05
) -> None:
    """`wait_until` for tests that drive other processes from plain threads."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {within:g} s waiting for {what}")
        time.sleep(every)
