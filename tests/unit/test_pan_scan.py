"""The card-number scanner (tessera.pan_scan): planted numbers are found in every form it claims,
hits are masked, look-alikes are not reported, and `tessera scan-pans` exits 0 clean, 1 on a hit."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tessera.pan_scan import FORMS, scan, scan_pans
from tessera.pan_scan.scanner import CHUNK_SIZE, _scan_batch


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder outside pytest's basetemp, removed after the test: the numbers planted here must not
    reach the card-number scan that ends the session (tests/faults/test_card_data_scan.py)."""
    with tempfile.TemporaryDirectory(prefix="pan-scan-") as folder:
        yield Path(folder)


VISA = "4242424242424242"
AMEX = "378282246310005"
DINERS = "36227206271667"


def _wide(text: str, digits: str) -> str:
    return text.translate({ord("0") + i: ord(digits[i]) for i in range(10)})


FULLWIDTH = "０１２３４５６７８９"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
DEVANAGARI = "०१२३४५६७८९"

# Each form the scanner claims, as a file's bytes, and the form name a hit reports.
PLANTED: dict[str, tuple[bytes, str, str]] = {
    "plain": (b"card=4242424242424242;", VISA, "plain"),
    "spaced": (b"card 4242 4242 4242 4242 exp 12/30", VISA, "spaced"),
    "dashed": (b'"4242-4242-4242-4242"', VISA, "dashed"),
    "dotted": (b"(4242.4242.4242.4242)", VISA, "dotted"),
    "amex grouping": (b"amex 3782 822463 10005 ok", AMEX, "spaced"),
    "diners grouping": (b"3622 720627 1667", DINERS, "spaced"),
    "irregular groups": (b"x 42424 2424242 4242 x", VISA, "spaced"),
    "space-dash-space": (b"4242 - 4242 - 4242 - 4242", VISA, "separated"),
    "fullwidth": (_wide(VISA, FULLWIDTH).encode(), VISA, "fullwidth"),
    "fullwidth spaced": (_wide("4242 4242 4242 4242", FULLWIDTH).encode(), VISA, "fullwidth spaced"),
    "arabic-indic": (("رقم " + _wide(VISA, ARABIC_INDIC)).encode(), VISA, "arabic-indic"),
    "devanagari": (_wide(VISA, DEVANAGARI).encode(), VISA, "devanagari"),
    "utf-16le": ('{"n": "4242424242424242"}'.encode("utf-16le"), VISA, "utf-16le"),
    "utf-16be": ('{"n": "4242 4242 4242 4242"}'.encode("utf-16be"), VISA, "utf-16be spaced"),
    "utf-32le": ("n=4242424242424242".encode("utf-32-le"), VISA, "utf-32le"),
    "utf-32be": ("n=4242424242424242".encode("utf-32-be"), VISA, "utf-32be"),
    "json-escaped": (json.dumps({"n": VISA}).replace("4", "\\u0034").replace("2", "\\u0032").encode(), VISA, "escaped"),
    "c-escaped": ("".join(f"\\x{ord(c):02x}" for c in VISA).encode(), VISA, "escaped"),
    "html entities": ("".join(f"&#{ord(c)};" for c in VISA).encode(), VISA, "escaped"),
    "hex (bytea)": (b"\\x" + b'{"card":"4242424242424242"}'.hex().encode(), VISA, "hex"),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_a_planted_number_is_found_in_each_form(tmp_path: Path, name: str) -> None:
    content, pan, form = PLANTED[name]
    path = tmp_path / "file"
    path.write_bytes(content)
    for pans in (None, [pan]):
        report = scan([path], pans=pans)
        assert [(h.form, h.masked) for h in report.hits] == [(form, f"{pan[:6]}{'*' * (len(pan) - 10)}{pan[-4:]}")]


def test_the_offset_points_at_the_first_digit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"0123456789 card: 4242 4242 4242 4242")
    (hit,) = scan([path]).hits
    assert hit.offset == path.read_bytes().index(b"4242 ") and hit.path == path and hit.brand == "visa"


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open], ids=["gzip", "bzip2", "xz"])
def test_compressed_files_are_read_decompressed(tmp_path: Path, opener: object) -> None:
    path = tmp_path / "tessera.log.1"
    with opener(path, "wb") as out:  # type: ignore[operator]
        out.write(b'{"msg": "x"}\n' * 10_000 + b'{"msg": "card 4242-4242-4242-4242"}\n')
    (hit,) = scan([path]).hits
    assert hit.masked == "424242******4242" and hit.form.startswith("dashed in ")


def test_a_cut_short_gzip_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "rotating.log.gz"
    path.write_bytes(gzip.compress(os.urandom(1000) + b" 4242424242424242 " + os.urandom(100_000))[:-5000])
    assert [h.masked for h in scan([path], pans=[VISA]).hits] == ["424242******4242"]


@pytest.mark.parametrize("shift", range(-20, 21, 3))
def test_a_number_across_a_chunk_boundary_is_found_once(tmp_path: Path, shift: int) -> None:
    chunk = 128 * 1024
    noise = bytearray(random.Random(shift).randbytes(3 * chunk))
    for encoded in (b"4242 4242 4242 4242", "4242424242424242".encode("utf-16le")):
        data = bytearray(noise)
        # Just before where the first chunk's own part ends, so the number straddles the overlap.
        at = chunk - 64 * 1024 + shift
        data[at - 1 : at + len(encoded) + 1] = b"|" + encoded + b"|"
        path = tmp_path / "big.bin"
        path.write_bytes(bytes(data))
        hits = [h for h in scan([path], pans=[VISA], chunk_size=chunk).hits]
        assert [h.offset for h in hits] == [at]


def test_a_large_file_is_streamed_across_many_chunks(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "heap.bin"
    places = []
    with open(path, "wb") as out:
        for i in range(40):
            out.write(rng.randbytes(100_000))
            places.append(out.tell() + 1)
            out.write(b"|" + (VISA if i % 2 else AMEX).encode() + b"|")
    report = scan([path], chunk_size=64 * 1024)
    assert [h.offset for h in report.hits] == places
    assert report.bytes_scanned == path.stat().st_size and report.files_scanned == 1


def test_numbers_in_binary_noise_are_found(tmp_path: Path) -> None:
    # SQLite and PostgreSQL pages: a record header byte before, other columns after.
    page = bytearray(random.Random(1).randbytes(8192))
    page[1000:1018] = b"\x2d" + VISA.encode() + b"\x01"
    page[5000:5032] = VISA.encode("utf-16le")
    page[7000:7015] = AMEX.encode()
    page[6999] = page[7015] = 0
    path = tmp_path / "16384"
    path.write_bytes(bytes(page))
    hits = scan([path]).hits
    assert [(h.offset, h.masked) for h in hits] == [
        (1001, "424242******4242"),
        (5000, "424242******4242"),
        (7000, "378282*****0005"),
    ]


def test_the_full_number_is_never_in_the_output(tmp_path: Path) -> None:
    for name, (content, _, _) in PLANTED.items():
        (tmp_path / name).write_bytes(content)
    report = scan([tmp_path])
    text = "\n".join(str(h) + repr(h) for h in report.hits) + repr(report)
    assert len(report.hits) == len(PLANTED)
    # BIN + last 4 at most: never seven digits in a row (the offsets here are small).
    assert not re.search(r"[0-9]{7,}", text.replace(str(tmp_path), ""))
    result = CliRunner().invoke(scan_pans, [str(tmp_path)])
    assert result.exit_code == 1 and VISA not in result.output and "424242******4242" in result.output


@pytest.mark.parametrize(
    "content",
    [
        b"4242424242424241",  # fails Luhn
        b"1234567812345670",  # passes Luhn, no card brand starts with 1
        b"0000000000000000",
        b"4242 4242 4242 4241",
        b"id 42424242424242424242",  # 20 digits: an id, not a card number
        b"v 9223372036854775808 ts 20261121123456789",
        b"41 200 1234567 2026",  # a count, a status and a timestamp on one log line
        b"4242-4242 4242.4242",  # mixed separators: not a card number's layout
    ],
)
def test_look_alikes_are_not_reported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    assert scan([path]).hits == []


def test_with_a_list_only_those_numbers_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(b"4242424242424242 5555555555554444 " + AMEX.encode("utf-16le"))
    (tmp_path / "b.log").write_bytes(b"glued 942424242424242421")
    report = scan([tmp_path], pans=["4242 4242 4242 4242", AMEX])
    assert sorted((h.path.name, h.masked) for h in report.hits) == [
        ("a.log", "378282*****0005"),
        ("a.log", "424242******4242"),
        ("b.log", "424242******4242"),
    ]
    assert report.files_scanned == 2


def test_a_bad_number_in_the_list_is_refused() -> None:
    with pytest.raises(ValueError):
        scan([], pans=["4242abcd"])


def test_folders_are_walked_and_special_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "pg" / "pg_wal").mkdir(parents=True)
    (tmp_path / "pg" / "pg_wal" / "000000010000000000000001").write_bytes(b"\0" * 100 + VISA.encode())
    (tmp_path / "pg" / "loop").symlink_to(tmp_path)
    os.mkfifo(tmp_path / "pg" / "fifo")
    report = scan([tmp_path])
    assert [h.path.name for h in report.hits] == ["000000010000000000000001"] and report.errors == []


def test_an_unreadable_path_is_reported_not_skipped(tmp_path: Path) -> None:
    report = scan([tmp_path / "missing"])
    assert report.errors == [(tmp_path / "missing", "not found")]
    result = CliRunner().invoke(scan_pans, [str(tmp_path / "missing")])
    assert result.exit_code == 2


def test_a_file_deleted_between_listing_and_reading_is_counted_apart_not_as_unreadable(tmp_path: Path) -> None:
    # A live PostgreSQL deletes files such as pg_internal.init while the folder is being scanned.
    kept, gone = tmp_path / "kept.log", tmp_path / "pg_internal.init"
    kept.write_text(VISA)
    report = _scan_batch([gone, kept], targets=[VISA], chunk_size=CHUNK_SIZE)
    assert report.vanished == [gone] and report.errors == []
    assert [h.path for h in report.hits] == [kept]


def test_the_command_exits_0_when_clean_and_1_on_a_hit(tmp_path: Path) -> None:
    clean = tmp_path / "clean.log"
    clean.write_text("nothing here 4242424242424241\n")
    result = CliRunner().invoke(scan_pans, [str(clean)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"scanned 1 files, {clean.stat().st_size} bytes: 0 hits"

    dirty = tmp_path / "dirty.log"
    dirty.write_text("5555 5555 5555 4444 and 4242424242424242\n")
    pans_file = tmp_path / "pans.txt"
    pans_file.write_text("# the sandbox's\n5555555555554444\n")
    result = CliRunner().invoke(scan_pans, [str(tmp_path), "--pans-file", str(pans_file)])
    assert result.exit_code == 1
    assert f"{dirty}:0: 555555******4444 (spaced)" in result.output and "424242" not in result.output
    result = CliRunner().invoke(scan_pans, [str(tmp_path), "--pan", "4242-4242-4242-4242"])
    assert result.exit_code == 1 and "424242******4242" in result.output and "555555" not in result.output
    assert CliRunner().invoke(scan_pans, [str(tmp_path), "--pan", "12"]).exit_code == 2


def test_the_command_runs_as_a_process(tmp_path: Path) -> None:
    (tmp_path / "dump.sql").write_bytes(gzip.compress(b"COPY cards FROM stdin;\n1\t4242424242424242\n\\.\n"))
    argv = [sys.executable, "-c", "from tessera.pan_scan import scan_pans; scan_pans()", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    found = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert found.returncode == 1 and "424242******4242 (plain in gzip)" in found.stdout
    assert VISA not in found.stdout + found.stderr
    clean = subprocess.run([*argv, "--pan", AMEX], capture_output=True, text=True, env=env, timeout=60)
    assert clean.returncode == 0 and clean.stdout.endswith("0 hits\n")


def test_the_forms_list_names_what_is_searched() -> None:
    assert "UTF-16LE" in FORMS and any("digit scripts" in f for f in FORMS)


def test_worker_processes_find_what_one_process_finds(tmp_path: Path) -> None:
    for name, (content, _, _) in PLANTED.items():
        (tmp_path / name).write_bytes(content)
    alone, shared = scan([tmp_path]), scan([tmp_path], workers=2)
    assert shared.hits == alone.hits and len(shared.hits) == len(PLANTED)
    assert (shared.files_scanned, shared.bytes_scanned) == (alone.files_scanned, alone.bytes_scanned)
