"""Where digit runs hide in raw bytes: the finders that turn one buffer into `Run`s of digits and
separators, each with the byte offset of every character and the name of its encoding.

A finder knows nothing of card numbers (`cards`) or files (`scanner`); it only decodes. Four families,
each one pass of a compiled bytes regex over the buffer:
- ASCII (also UTF-8 and Latin-1 text, SQL dumps, page files): searched in a translated copy of the
  buffer (`TRANSLATION`: digits `0`, separators `-`, NUL `z`, the first byte of another script's digit
  `L`, other bytes from 0x80 `h`, anything else `x`), so that each regex starts from a literal and
  skips non-digits at memchr speed instead of testing a class at every byte.
  A long digit group made of `3X` pairs is hex-encoded ASCII (a bytea column in `pg_dump`) and is
  decoded as a run of its own.
- UTF-16 and UTF-32, either byte order: digits interleaved with NUL bytes, found in the same translated
  copy and confirmed by walking the code units.
- other digit scripts in UTF-8: every character `unicodedata.digit` maps (fullwidth, Arabic-Indic,
  Devanagari, mathematical, superscript, ...).
- escapes: `\\u0034` (JSON), `\\x34` (C, Python) and `&#52;` / `&#x34;` (HTML, XML).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Separators people and programs put between digit groups. Tab and comma are left out on purpose:
# they separate columns (pg_dump COPY lines, CSV), and joining numeric columns only makes false hits.
SEPARATORS = " -./_"
_SEP_BYTES = SEPARATORS.encode()
# Other scripts' spaces and dashes, normalised to their ASCII separator.
_WIDE_SEPARATORS = {"\u00a0": " ", "\u3000": " ", "\u2007": " ", "\u202f": " ", "\uff0d": "-", "\u2010": "-",
                    "\u2011": "-", "\u2012": "-", "\u2013": "-", "\uff0e": "."}  # fmt: skip

MIN_DIGITS = 13


@dataclass(frozen=True, slots=True)
class Run:
    """Digits (ASCII `0-9`) and separators found together; `offsets[i]` is where `chars[i]` starts in
    the buffer. `start` is where the finder's match began: the chunk that holds it owns the run."""

    start: int
    encoding: str  # "" for ASCII text, else "utf-16le", "fullwidth", "escaped", "hex", ...
    chars: str
    offsets: Sequence[int]


def _translation() -> bytes:
    table = bytearray(b"x" * 256)
    for b in b"0123456789":
        table[b] = ord("0")
    for b in _SEP_BYTES:
        table[b] = ord("-")
    table[0] = ord("z")
    table[ord("\\")] = table[ord("&")] = ord("e")
    for b in range(0x80, 0x100):
        table[b] = ord("h")
    for b in _OTHER_DIGIT_LEADS:
        table[b] = ord("L")
    return bytes(table)


# Runs of at least 13 digits with at most three separators between two of them, the first two digits
# together (no card layout starts with a group of one). Each starts with a literal of two digits or
# more, which is what lets the regex engine skip ahead fast through binary pages.
_ASCII_RUN = re.compile(rb"00(?:-{0,3}0){%d,}" % (MIN_DIGITS - 2))
_WIDE_RUNS = (
    re.compile(rb"0z0(?:z(?:-z){0,3}0){%d,}" % (MIN_DIGITS - 2)),
    re.compile(rb"0zzz0(?:zzz(?:-zzz){0,3}0){%d,}" % (MIN_DIGITS - 2)),
)
# Where another script's digits could be: from the first byte of such a digit (`L`), 26 bytes or more at
# 0x80 and above (13 digits of two bytes or more) with ASCII separators between them. Only those
# stretches meet the costly regex.
_NON_ASCII_STRETCH = re.compile(rb"Lh[Lh\-]{%d,}" % (2 * MIN_DIGITS - 2))
_DIGITS = frozenset(b"0123456789")
_DIGITS_AND_SEPS = frozenset(b"0123456789" + _SEP_BYTES)


def ascii_runs(buf: bytes, tr: bytes) -> Iterator[Run]:
    for match in _ASCII_RUN.finditer(tr):
        start, end = match.span()
        chars = buf[start:end].decode("ascii").rstrip(SEPARATORS)
        yield Run(start, "", chars, range(start, start + len(chars)))
        if len(chars) < 2 * MIN_DIGITS:
            continue
        for group in re.finditer(f"[0-9]{{{2 * MIN_DIGITS},}}", chars):
            yield from _hex_runs(start + group.start(), group.group())


def _hex_runs(start: int, digits: str) -> Iterator[Run]:
    # Either alignment: the run of digits may begin with the second nibble of a byte such as 0x22.
    for shift in (0, 1):
        high, low = digits[shift::2], digits[shift + 1 :: 2]
        for pairs in re.finditer(f"3{{{MIN_DIGITS},}}", high[: len(low)]):
            first = start + shift + 2 * pairs.start()
            text = low[pairs.start() : pairs.end()]
            yield Run(first, "hex", text, range(first, first + 2 * len(text), 2))


# (name, code unit width, index of the character's byte in a unit)
_WIDE = (("utf-16le", 2, 0), ("utf-16be", 2, 1), ("utf-32le", 4, 0), ("utf-32be", 4, 3))


def wide_runs(buf: bytes, tr: bytes) -> Iterator[Run]:
    for pattern in _WIDE_RUNS:
        yield from _wide_runs(buf, tr, pattern)


def _wide_runs(buf: bytes, tr: bytes, pattern: re.Pattern[bytes]) -> Iterator[Run]:
    resume = 0
    for match in pattern.finditer(tr):
        start = match.start()
        if start < resume:
            continue
        # ASCII text in UTF-16 reads the same in both byte orders between NULs; the tie goes to the
        # order whose code units are aligned, as they are in files (the buffer starts at a multiple of 4).
        best: tuple[int, bool, str, str, range] | None = None
        for name, width, at in _WIDE:
            first = start - at
            if buf[first : first + width].count(0) != width - 1:
                continue
            chars, offsets = _units(buf, first, match.end() + 2 * width, width, at)
            digits = sum(c.isdigit() for c in chars)
            candidate = (digits, first % width == 0, name, chars, offsets)
            if digits >= MIN_DIGITS and (best is None or candidate[:2] > best[:2]):
                best = candidate
        if best is not None:
            _, _, name, chars, offsets = best
            resume = offsets[-1] + 1
            yield Run(start, name, chars, offsets)


_VALID_UNITS = re.compile(rb"[0-9 \-./_]*")


def _units(buf: bytes, first: int, limit: int, width: int, at: int) -> tuple[str, range]:
    """The digits and separators encoded in `width`-byte units from `first`, the character's byte at
    `at` in each unit and NUL in the others, as far as they go."""
    if first < 0:
        return "", range(0)
    codes = buf[first + at : limit : width]
    count = _VALID_UNITS.match(codes).end()  # type: ignore[union-attr]
    for k in range(width):
        if k != at:
            padding = buf[first + k : limit : width][:count]
            count = min(count, len(padding) - len(padding.lstrip(b"\0")))
    chars = codes[:count].decode("ascii").rstrip(SEPARATORS)
    return chars, range(first, first + width * len(chars), width)


def _script(char: str) -> str:
    """`FULLWIDTH DIGIT FOUR` -> `fullwidth`, `SUPERSCRIPT FOUR` -> `superscript`."""
    words = unicodedata.name(char, "OTHER").split()
    numbers = {"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "DIGIT"}
    return "-".join(w for w in words if w not in numbers).lower() or "other-digits"


def _other_digits() -> dict[str, str]:
    found: dict[str, str] = {}
    for code in range(128, sys.maxunicode + 1):
        char = chr(code)
        value = unicodedata.digit(char, None)
        if value is not None and not 0xD800 <= code <= 0xDFFF:
            found[char] = str(value)
    return found


OTHER_DIGITS = _other_digits()
SCRIPTS = frozenset(_script(c) for c in OTHER_DIGITS)
_OTHER_DIGIT_LEADS = frozenset(c.encode()[0] for c in OTHER_DIGITS)
TRANSLATION = _translation()


def _alternation(chars: Sequence[str]) -> bytes:
    """One regex alternative per UTF-8 prefix, with the last bytes as a class: a few dozen branches for
    seven hundred characters."""
    by_prefix: dict[bytes, list[int]] = {}
    for char in chars:
        encoded = char.encode()
        by_prefix.setdefault(encoded[:-1], []).append(encoded[-1])
    branches = [
        re.escape(prefix) + b"[" + b"".join(b"\\x%02x" % b for b in sorted(last)) + b"]"
        for prefix, last in sorted(by_prefix.items())
    ]
    return b"(?:" + b"|".join(branches) + b")"


_OTHER_DIGIT = _alternation(list(OTHER_DIGITS))
_OTHER_SEP = b"(?:[ \\-./_]|" + _alternation(list(_WIDE_SEPARATORS))[3:]
_OTHER_RUN = re.compile(_OTHER_DIGIT + b"(?:" + _OTHER_SEP + b"{0,3}" + _OTHER_DIGIT + b"){%d,}" % (MIN_DIGITS - 1))


def other_digit_runs(buf: bytes, tr: bytes) -> Iterator[Run]:
    for stretch in _NON_ASCII_STRETCH.finditer(tr):
        yield from _other_digit_runs(buf, *stretch.span())


def _other_digit_runs(buf: bytes, start: int, end: int) -> Iterator[Run]:
    for match in _OTHER_RUN.finditer(buf, start, end):
        chars: list[str] = []
        offsets: list[int] = []
        scripts: set[str] = set()
        offset = match.start()
        for char in match.group().decode("utf-8"):
            if char in OTHER_DIGITS:
                chars.append(OTHER_DIGITS[char])
                scripts.add(_script(char))
            else:
                chars.append(_WIDE_SEPARATORS.get(char, char))
            offsets.append(offset)
            offset += len(char.encode())
        yield Run(match.start(), scripts.pop() if len(scripts) == 1 else "mixed-digits", "".join(chars), offsets)


_ESCAPED_SEP = rb"[ \-./_]|\\(?:u00|x)(?:20|2[dDeEfF]|5[fF])|&#(?:32|4[56]|47|95);|&#[xX](?:20|2[dDeEfF]|5[fF]);"
# In the translated copy, an escaped digit or separator is `e` (a backslash or an ampersand), one
# letter or `#`, and its two to four hex or decimal digits and letters: `\u0034` is `ex0000`, `\x34`
# `ex00`, `&#52;` `ex00x`. One pass over the copy finds the stretches worth the three regexes below.
_ESCAPED_STRETCH = re.compile(rb"ex[0x]{2,5}-{0,3}(?:ex[0x]{2,5}-{0,3}){12,}")
# One regex per escape syntax, so that each starts with its literal (`\u003`, `\x3`, `&#`).
_ESCAPED_RUNS = tuple(
    re.compile(rb"%s(?:(?:%s){0,3}%s){%d,}" % (digit, _ESCAPED_SEP, digit, MIN_DIGITS - 1))
    for digit in (rb"\\u003[0-9]", rb"\\x3[0-9]", rb"&#(?:4[89]|5[0-7]|[xX]3[0-9]);")
)
_ESCAPED_UNIT = re.compile(rb"\\u00([0-9a-fA-F]{2})|\\x([0-9a-fA-F]{2})|&#([0-9]{2});|&#[xX]([0-9a-fA-F]{2});|(.)")


def escaped_runs(buf: bytes, tr: bytes) -> Iterator[Run]:
    for stretch in _ESCAPED_STRETCH.finditer(tr):
        for pattern in _ESCAPED_RUNS:
            yield from _escaped_runs(buf, pattern, *stretch.span())


def _escaped_runs(buf: bytes, pattern: re.Pattern[bytes], start: int, end: int) -> Iterator[Run]:
    for match in pattern.finditer(buf, start, end):
        chars: list[str] = []
        offsets: list[int] = []
        for unit in _ESCAPED_UNIT.finditer(match.group()):
            hex_code = unit.group(1) or unit.group(2) or unit.group(4)
            if hex_code is not None:
                char = chr(int(hex_code, 16))
            elif unit.group(3) is not None:
                char = chr(int(unit.group(3)))
            else:
                char = unit.group(5).decode("latin-1")
            chars.append(char)
            offsets.append(match.start() + unit.start())
        yield Run(match.start(), "escaped", "".join(chars), offsets)


def runs(buf: bytes) -> Iterator[Run]:
    """Every run of at least 13 digits in `buf`, in any of the forms above."""
    tr = buf.translate(TRANSLATION)
    yield from ascii_runs(buf, tr)
    yield from wide_runs(buf, tr)
    yield from other_digit_runs(buf, tr)
    yield from escaped_runs(buf, tr)
