"""The scan itself: walk the paths, stream every regular file (decompressing gzip, bzip2 and xz) in
chunks that overlap, find digit runs in each chunk (`forms`), and keep the ones that are card numbers:
the operator's list when one is given, otherwise anything `cards.card_brand` accepts.

Memory stays at about two chunks whatever the file size. Chunks overlap by `OVERLAP` bytes, and a run
belongs to the chunk its match starts in (past the first `_CONTEXT` bytes, which only tell a
continuation from a start), so a number across a chunk boundary is found once. A run of digits and
separators longer than the overlap (64 KiB) that crosses a boundary may be cut there.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import multiprocessing
import os
import re
import stat
import zlib
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol

from tessera.pan_scan.cards import card_brand, mask
from tessera.pan_scan.forms import MIN_DIGITS, SEPARATORS, Run, runs

CHUNK_SIZE = 8 * 1024 * 1024
OVERLAP = 64 * 1024
_CONTEXT = 32  # longer than any gap inside a run (three escaped separators and an escaped digit)
_MAX_DIGITS = 19
_MAX_SEPARATOR = 3
_MIN_GROUP = 3  # digits in each group but the last, in the mode without a list
_COMPRESSED: tuple[tuple[bytes, str], ...] = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))
_SEPARATOR_NAMES = {" ": "spaced", "-": "dashed", ".": "dotted"}


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Hit:
    """A card number found: never the number itself, only BIN + last 4."""

    path: Path
    offset: int  # in the file, or in its decompressed content when `form` ends in "in gzip" and the like
    form: str  # "plain", "dashed", "utf-16le", "fullwidth spaced", "escaped", "hex", "plain in gzip", ...
    masked: str
    brand: str | None

    def __str__(self) -> str:
        return f"{self.path}:{self.offset}: {self.masked} ({self.form})"


@dataclass
class ScanReport:
    hits: list[Hit] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    errors: list[tuple[Path, str]] = field(default_factory=list)  # paths that could not be read
    # Files listed in a folder that were gone when their turn came: a live database deletes its
    # temporary and cache files (PostgreSQL's pg_internal.init, sort spills) all the time. A file that
    # no longer exists holds no card number, so this is not an unreadable path; it is reported apart.
    vanished: list[Path] = field(default_factory=list)


def normalize(pan: str) -> str:
    """A card number as the operator typed it, without spaces and dashes; ValueError if not 12-19 digits."""
    digits = re.sub(r"[\s\-]", "", pan)
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= _MAX_DIGITS):
        raise ValueError("a card number to look for must be 12 to 19 digits")
    return digits


def scan(
    paths: Iterable[Path],
    *,
    pans: Collection[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    workers: int = 1,
) -> ScanReport:
    """Search files and folders (recursively) for card numbers: those in `pans`, or, without a list,
    every Luhn-valid number in a card brand's range. With `workers` > 1, files are shared out among
    that many processes (a big file stays with one)."""
    targets = sorted({normalize(p) for p in pans}) if pans is not None else None
    report = ScanReport()
    files = list(_files(paths, report))
    if workers > 1 and len(files) > 1:
        # A few big batches, not a task per file: a PostgreSQL data directory has files by the
        # hundred thousand, and their results crossing between processes one by one cost more than
        # the second core gives. Interleaving spreads big and small files over the batches.
        batches = [files[i :: workers * 4] for i in range(workers * 4)]
        # spawn, not fork: the caller may be a threaded server or a test session.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for part in pool.map(partial(_scan_batch, targets=targets, chunk_size=chunk_size), batches):
                _merge(report, part)
    else:
        _merge(report, _scan_batch(files, targets=targets, chunk_size=chunk_size))
    report.hits.sort(key=lambda hit: (str(hit.path), hit.offset))
    return report


def _scan_batch(files: list[Path], *, targets: list[str] | None, chunk_size: int) -> ScanReport:
    report = ScanReport()
    for path in files:
        _merge(report, _scan_one(path, targets=targets, chunk_size=chunk_size))
    return report


def _scan_one(path: Path, *, targets: list[str] | None, chunk_size: int) -> ScanReport:
    report = ScanReport()
    try:
        _scan_file(path, targets, chunk_size, report)
    except FileNotFoundError:
        report.vanished.append(path)
    except OSError as exc:
        report.errors.append((path, exc.strerror or type(exc).__name__))
    return report


def _merge(into: ScanReport, part: ScanReport) -> None:
    into.hits += part.hits
    into.files_scanned += part.files_scanned
    into.bytes_scanned += part.bytes_scanned
    into.errors += part.errors
    into.vanished += part.vanished


def _files(paths: Iterable[Path], report: ScanReport) -> Iterator[Path]:
    def failed(exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError):
            report.vanished.append(Path(exc.filename or "?"))
            return
        report.errors.append((Path(exc.filename or "?"), exc.strerror or type(exc).__name__))

    for path in paths:
        path = Path(path)
        if path.is_dir():
            # Symbolic links are not followed inside a folder: no loops, no file counted twice.
            for root, dirs, names in os.walk(path, onerror=failed):
                dirs.sort()
                for name in sorted(names):
                    found = Path(root, name)
                    try:
                        if stat.S_ISREG(found.lstat().st_mode):
                            yield found
                    except OSError as exc:
                        failed(exc)
        elif path.is_file():
            yield path
        else:
            # Sockets and FIFOs would block or fail: only regular files are read.
            report.errors.append((path, "not found" if not path.exists() else "not a regular file"))


def _scan_file(path: Path, targets: list[str] | None, chunk_size: int, report: ScanReport) -> None:
    with open(path, "rb") as raw:
        head = raw.read(6)
        raw.seek(0)
        container = next((name for magic, name in _COMPRESSED if head.startswith(magic)), None)
        report.files_scanned += 1
        if container is not None:
            opened = _decompressed(container, raw)
            try:
                _scan_stream(opened, path, f" in {container}", targets, chunk_size, report)
                return
            except (OSError, EOFError, zlib.error, lzma.LZMAError):
                # Not really compressed, or cut short (a log being rotated): read the bytes as they are.
                raw.seek(0)
        _scan_stream(raw, path, "", targets, chunk_size, report)


def _decompressed(container: str, raw: BinaryIO) -> _Readable:
    if container == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if container == "bzip2":
        return bz2.BZ2File(raw)
    return lzma.LZMAFile(raw)


def _scan_stream(
    stream: _Readable, path: Path, container: str, targets: list[str] | None, chunk_size: int, report: ScanReport
) -> None:
    pending = b""
    base = 0  # offset of pending[0] in the stream
    own_from = 0  # runs starting before this offset in `pending` belong to the previous chunk
    while True:
        data = stream.read(chunk_size)
        report.bytes_scanned += len(data)
        if not data:
            _keep(pending, base, own_from, len(pending), path, container, targets, report)
            return
        pending += data
        if len(pending) < own_from + OVERLAP + _CONTEXT:
            continue
        own_to = len(pending) - OVERLAP
        _keep(pending, base, own_from, own_to, path, container, targets, report)
        cut = (own_to - _CONTEXT) // 4 * 4  # keeps UTF-16 and UTF-32 code units aligned in the buffer
        own_from = own_to - cut
        pending = pending[cut:]
        base += cut


def _keep(
    buf: bytes,
    base: int,
    own_from: int,
    own_to: int,
    path: Path,
    container: str,
    targets: list[str] | None,
    report: ScanReport,
) -> None:
    for run in runs(buf):
        if own_from <= run.start < own_to:
            found = _targets_in(run, targets) if targets is not None else _cards_in(run)
            for index, digits, separators in found:
                form = _form(run.encoding, separators) + container
                report.hits.append(Hit(path, base + run.offsets[index], form, mask(digits), card_brand(digits)))


def _form(encoding: str, separators: str) -> str:
    kinds = set(separators)
    named = _SEPARATOR_NAMES.get(separators[0], "separated") if len(kinds) == 1 else "separated"
    if not separators:
        return encoding or "plain"
    return f"{encoding} {named}" if encoding else named


def _digit_positions(chars: str) -> list[int]:
    return [i for i, c in enumerate(chars) if c.isdigit()]


def _targets_in(run: Run, targets: list[str]) -> Iterator[tuple[int, str, str]]:
    """Each listed number wherever its digits appear in a row in the run, whatever separates them."""
    positions = _digit_positions(run.chars)
    digits = "".join(run.chars[i] for i in positions)
    for target in targets:
        at = digits.find(target)
        while at != -1:
            first, last = positions[at], positions[at + len(target) - 1]
            yield first, target, "".join(c for c in run.chars[first : last + 1] if not c.isdigit())
            at = digits.find(target, at + 1)


def _cards_in(run: Run) -> Iterator[tuple[int, str, str]]:
    """Card numbers made of whole digit groups joined by one separator: `4242 4242 4242 4242`,
    `3782-822463-10005`, but not 16 digits taken from the middle of a longer group."""
    groups = [(m.start(), m.group()) for m in re.finditer(r"[0-9]+", run.chars)]
    for i, (first, _) in enumerate(groups):
        digits = ""
        separator: str | None = None
        for j in range(i, len(groups)):
            if j > i:
                gap = run.chars[groups[j - 1][0] + len(groups[j - 1][1]) : groups[j][0]]
                # Groups of one or two digits are counts and dates more often than parts of a card number.
                short = len(groups[j - 1][1]) < _MIN_GROUP
                if short or len(gap) > _MAX_SEPARATOR or (separator is not None and gap != separator):
                    break
                separator = gap
            digits += groups[j][1]
            if len(digits) > _MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and card_brand(digits):
                yield first, digits, (separator or "") * (j - i)


__all__ = ["CHUNK_SIZE", "OVERLAP", "SEPARATORS", "Hit", "ScanReport", "normalize", "scan"]
