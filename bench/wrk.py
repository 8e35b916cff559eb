"""Running wrk with the Lua scripts in bench/lua and reading the JSON line their done() prints."""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.config import BenchError, wrk_threads
from bench.flows import Flow

LUA_DIR = Path(__file__).resolve().parent / "lua"
JSON_PREFIX = "BENCH_JSON "
THREAD_DONE = "BENCH_THREAD_DONE"
WRK = "wrk"


@dataclass
class WrkResult:
    """One wrk run: wrk's own summary plus the scripts' per-thread counters. `success_counter` names the
    counter of successes: `payments` for the payment flows, `successes` for unique.lua's, `chains` (finished
    3-D Secure challenges, 5 requests each) for challenge.lua's."""

    concurrency: int
    threads: int
    requests: int
    duration_s: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    counters: dict[str, list[int]]
    success_counter: str = "payments"

    def total(self, counter: str) -> int:
        return sum(self.counters.get(counter, []))

    @property
    def successes(self) -> int:
        return self.total(self.success_counter)

    @property
    def successes_per_s(self) -> float:
        return self.successes / self.duration_s if self.duration_s else 0.0

    @property
    def payments(self) -> int:
        return self.total("payments")

    @property
    def payments_per_s(self) -> float:
        return self.payments / self.duration_s if self.duration_s else 0.0

    @property
    def non_2xx(self) -> int:
        return self.total("non_2xx")

    @property
    def failures(self) -> int:
        """Chains the challenge flow could not finish (0 for the other flows, which keep no such counter)."""
        return self.total("failures")

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")

    def as_dict(self) -> dict[str, Any]:
        """The raw numbers; `payments` and `payments_per_s` only for a flow whose successes are payments."""
        out = {**asdict(self), "successes": self.successes, "successes_per_s": round(self.successes_per_s, 1)}
        if self.success_counter == "payments":
            out |= {"payments": self.payments, "payments_per_s": round(self.payments_per_s, 1)}
        return out


def _argv(flow: Flow, url: str, concurrency: int, duration_s: int, timeout_s: int, stop_after: int) -> list[str]:
    return [
        WRK, f"-t{wrk_threads(concurrency)}", f"-c{concurrency}", f"-d{duration_s}s", "--timeout", f"{timeout_s}s",
        "-s", str(LUA_DIR / flow.wrk_script()), url, "--", *flow.wrk_args(stop_after),
    ]  # fmt: skip


def _parse(stdout: str, stderr: str, concurrency: int, success_counter: str) -> WrkResult:
    lines = [line[len(JSON_PREFIX) :] for line in stdout.splitlines() if line.startswith(JSON_PREFIX)]
    if not lines:
        raise BenchError(f"wrk printed no result line.\nstdout:\n{stdout[-3000:]}\nstderr:\n{stderr[-3000:]}")
    raw = json.loads(lines[-1])
    return WrkResult(
        concurrency=concurrency,
        threads=wrk_threads(concurrency),
        requests=raw["requests"],
        duration_s=raw["duration_us"] / 1e6,
        errors=raw["errors"],
        latency_ms={k: round(v / 1000, 3) for k, v in raw["latency_us"].items()},
        counters=raw["counters"],
        success_counter=success_counter,
    )


def run(flow: Flow, url: str, concurrency: int, duration_s: int, timeout_s: int) -> WrkResult:
    """Drive `flow` at `concurrency` connections for `duration_s` seconds."""
    argv = _argv(flow, url, concurrency, duration_s, timeout_s, 0)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + timeout_s + 60)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {' '.join(argv[:8])}") from exc
    if done.returncode:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return _parse(done.stdout, done.stderr, concurrency, flow.success_counter)


def run_count(flow: Flow, url: str, concurrency: int, per_thread: int, timeout_s: int, limit_s: int) -> WrkResult:
    """Drive `flow` until every wrk thread has had `per_thread` responses (finished challenges for the
    challenge flow), or `limit_s` passed.

    wrk's main thread sleeps for the whole -d even when every thread has stopped itself, so the scripts
    announce each stop on stdout and the run is ended with SIGINT (wrk's own way to end early) once all
    have; wrk then reports as usual. Requests still in flight when a thread stops are not counted.
    """
    argv = _argv(flow, url, concurrency, limit_s, timeout_s, per_thread)
    threads = wrk_threads(concurrency)
    out: list[str] = []
    stopped = 0
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for line in proc.stdout:
                out.append(line)
                if line.strip() == THREAD_DONE:
                    stopped += 1
                    if stopped == threads:
                        proc.send_signal(signal.SIGINT)
            err = proc.stderr.read()
            code = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: do not leave wrk running for its long -d
                proc.kill()
    if code:
        raise BenchError(f"wrk failed ({code}):\n{''.join(out)[-3000:]}\n{err[-3000:]}")
    if stopped < threads:
        raise BenchError(f"wrk ran for its whole {limit_s}s before reaching {per_thread} per thread")
    return _parse("".join(out), err, concurrency, flow.success_counter)
