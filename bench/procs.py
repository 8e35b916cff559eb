"""Processes the harness starts: launched in their own session, waited for, stopped, and measured (RSS)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchError

_START = time.monotonic()


def log(message: str) -> None:
    """A progress line, prefixed with the time since the harness started."""
    elapsed = int(time.monotonic() - _START)
    print(f"[bench {elapsed // 60:02d}:{elapsed % 60:02d}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Managed:
    """A child process in its own session, so that stopping it also stops the processes it forked."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, name: str, argv: list[str], cwd: Path, env: dict[str, str]) -> Managed:
        log_path = cwd / f"{name}.log"
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return cls(name, proc, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop within {grace:.0f}s; killing it")
        self._signal_group(signal.SIGKILL)  # stragglers in the group (forked workers)
        self.proc.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def wait_ready(self, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        """Poll `url` until it answers 200; fail loudly if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise BenchError(
                    f"{self.name} exited with code {code} before getting ready; last log lines "
                    f"({self.log_path}):\n{tail(self.log_path)}"
                )
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} was not ready at {url} after {timeout:.0f}s ({last}); last log lines "
            f"({self.log_path}):\n{tail(self.log_path)}"
        )


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    children = _children_map()
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return sorted(found)


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 if it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss_kb(pid: int, workers: int) -> tuple[int, dict[int, int]]:
    """The server's RSS: the process itself with one worker, the sum of its children (the HTTP worker
    processes, plus any helper multiprocessing starts) with several. Returns the total and each pid's."""
    pids = [pid] if workers == 1 else descendants(pid)
    each = {p: rss_kb(p) for p in pids}
    return sum(each.values()), each


OWN_ROOTS: set[int] = set()  # processes outside the harness's tree that are ours (PostgreSQL's postmaster)
_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int:
    """Machine-wide user + nice + system CPU time from /proc/stat, in clock ticks."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return sum(int(f) for f in fields[1:4])


def _own_pids() -> set[int]:
    roots = {os.getpid(), *OWN_ROOTS}
    return roots.union(*(descendants(root) for root in roots))


def _ticks(pids: set[int]) -> dict[int, int]:
    """CPU time of each of `pids` (user + system, plus that of children they reaped), in clock ticks."""
    ticks: dict[int, int] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks


def _own_ticks() -> dict[int, int]:
    """CPU time of the harness's processes (such as wrk, the servers and PostgreSQL's backends)."""
    return _ticks(_own_pids())


class TreeCpu:
    """CPU time used by process trees (each root and its descendants) from now until `seconds()`: the
    sum over the processes alive at the end of their time then minus their time now (0 for those that
    started since). Time of processes that ended and were reaped is counted in their parent's."""

    def __init__(self, roots: list[int]) -> None:
        self._roots = roots
        self._start = _ticks(self._pids())

    def _pids(self) -> set[int]:
        return set(self._roots).union(*(descendants(root) for root in self._roots))

    def seconds(self) -> float:
        end = _ticks(self._pids())
        return sum(t - self._start.get(pid, 0) for pid, t in end.items()) / _TICKS


class CpuWatch:
    """How busy the machine's *other* processes were during a run: the machine's CPU time minus that of
    the harness, what it started and PostgreSQL's cluster. The benchmark shares the machine with whatever
    else runs, so this says how clean a number is."""

    def __init__(self) -> None:
        self._busy = _busy_ticks()
        self._own = _own_ticks()
        self._started = time.monotonic()

    def other_cpu_pct(self) -> float:
        """Other processes' CPU time over the wall time, in % of one core (200% = both cores)."""
        wall = time.monotonic() - self._started
        own = sum(t - self._own.get(pid, 0) for pid, t in _own_ticks().items())
        other = _busy_ticks() - self._busy - own
        return round(max(other, 0) / _TICKS / wall * 100, 1) if wall > 0 else 0.0
