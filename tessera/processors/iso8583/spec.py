"""Tessera's ISO 8583 field specification and its TCP framing: the one page an acquirer's integration team
checks (README "ISO 8583 acquirer link" prints the same facts).

Messages are ISO 8583:1987 in ASCII: a 4-digit ASCII MTI, the primary (and, when a field past 64 is
present, secondary) bitmap as 8 binary bytes, and every data element in ASCII with ASCII length prefixes
(LL / LLL) — the common "ASCII with binary bitmap" host format (jPOS `ISO87BPackager`; `iso8583sim`'s
default). `bitmap=hex` sends the bitmaps as 16 hexadecimal ASCII characters instead (jPOS
`ISO87APackager`; `pyiso8583`'s `default_ascii`). Field formats are `pyiso8583`'s 1987 definitions,
unchanged. What we put in the private field is ours:

DE48 (additional data, private, ans..999 LLLVAR) holds tag-length-value sub-elements, each a 2-character
tag, a 3-digit length and the value:

| tag | content | in |
|---|---|---|
| `EC` | 3-D Secure ECI (2 digits) | 0100/0200 when authenticated |
| `CV` | 3-D Secure authentication value (CAVV / AAV, base64, 28 characters) | 0100/0200 when authenticated |
| `DS` | 3-D Secure directory server transaction id | 0100/0200 when known |
| `VR` | 3-D Secure protocol version (`2.2.0`) | 0100/0200 when authenticated |
| `IN` | initiator: `C` cardholder, `M` merchant (a rebill on a stored credential) | 0100/0200 |
| `NT` | network transaction id: the first payment's on a rebill; the host's in answers | 0100/0200, 0110/0210 |
| `C2` | CVV2 (never stored, never logged) | 0100/0200 when the shopper gave one |

Framing: each message is preceded by its length, not counting the length itself: by default 2 bytes,
binary, big-endian (jPOS `NACChannel`); `header=4` takes 4 bytes, and `length=ascii` writes the length as
decimal ASCII digits (4 ASCII digits: jPOS `ASCIIChannel`). An optional TPDU (`tpdu=6000010000`, 5 bytes
in hex) follows the length in every message, its source and destination swapped in answers.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from typing import Any

import iso8583
from iso8583.specs import default_ascii

SPEC: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)  # hexadecimal ASCII bitmaps
BINARY_BITMAP_SPEC: dict[str, dict[str, Any]] = copy.deepcopy(default_ascii)
for _bitmap in ("p", "1"):
    BINARY_BITMAP_SPEC[_bitmap] = BINARY_BITMAP_SPEC[_bitmap] | {"data_enc": "b", "max_len": 8}

# Message types (MTI) this link sends and expects back.
AUTH, AUTH_RESPONSE = "0100", "0110"
FINANCIAL, FINANCIAL_RESPONSE = "0200", "0210"
COMPLETION, COMPLETION_RESPONSE = "0220", "0230"
REVERSAL, REVERSAL_RESPONSE = "0400", "0410"
REVERSAL_ADVICE, REVERSAL_ADVICE_RESPONSE = "0420", "0430"
REVERSAL_ADVICE_REPEAT = "0421"
# Administrative request: a status inquiry, naming the original in DE90; DE39 of the 0610 is the original's
# answer, or 25 when the host has no record of it. Tessera uses it only for captures and refunds whose
# answer was lost (an authorisation whose answer was lost is reversed, never inquired).
INQUIRY, INQUIRY_RESPONSE = "0600", "0610"
NETWORK, NETWORK_RESPONSE = "0800", "0810"

RESPONSE_OF = {
    AUTH: AUTH_RESPONSE,
    FINANCIAL: FINANCIAL_RESPONSE,
    COMPLETION: COMPLETION_RESPONSE,
    REVERSAL: REVERSAL_RESPONSE,
    REVERSAL_ADVICE: REVERSAL_ADVICE_RESPONSE,
    REVERSAL_ADVICE_REPEAT: REVERSAL_ADVICE_RESPONSE,
    INQUIRY: INQUIRY_RESPONSE,
    NETWORK: NETWORK_RESPONSE,
    "0401": REVERSAL_RESPONSE,
    "0221": COMPLETION_RESPONSE,
}

# Processing codes (DE3).
PURCHASE, REFUND = "000000", "200000"
# Network management codes (DE70).
SIGN_ON, SIGN_OFF, ECHO = "001", "002", "301"
# POS entry mode (DE22): 81x e-commerce, 10x credential on file (merchant-initiated); POS condition (DE25) 59.
ENTRY_ECOMMERCE, ENTRY_ON_FILE, CONDITION_ECOMMERCE = "812", "102", "59"

Message = dict[str, Any]


class FrameError(ValueError):
    """A frame or message that cannot be read: the peer speaks something else, or garbled it."""


def encode(message: Message, spec: dict[str, dict[str, Any]] = BINARY_BITMAP_SPEC) -> bytes:
    """The message's bytes (without framing). pyiso8583 mutates its input, so it gets a copy."""
    raw, _ = iso8583.encode(dict(message), spec)
    return bytes(raw)


def decode(raw: bytes, spec: dict[str, dict[str, Any]] = BINARY_BITMAP_SPEC) -> Message:
    try:
        decoded, _ = iso8583.decode(raw, spec)
    except (iso8583.DecodeError, ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"unreadable ISO 8583 message: {type(exc).__name__}") from exc
    return dict(decoded)


# ----------------------------------------------------------------------------------------- DE48 TLV


def tlv(items: dict[str, str]) -> str:
    return "".join(f"{tag}{len(value):03d}{value}" for tag, value in items.items() if value)


def parse_tlv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i + 5 <= len(text):
        tag, size = text[i : i + 2], text[i + 2 : i + 5]
        if not size.isdigit():
            raise FrameError("DE48: a sub-element length is not numeric")
        n = int(size)
        out[tag] = text[i + 5 : i + 5 + n]
        i += 5 + n
    if i != len(text):
        raise FrameError("DE48: trailing bytes after the last sub-element")
    return out


# ----------------------------------------------------------------------------------------- framing


@dataclass(frozen=True, slots=True)
class Framing:
    """How a message is delimited and encoded on the wire: the length prefix, an optional TPDU, and
    whether the bitmaps are binary (default) or hexadecimal ASCII."""

    header: int = 2  # bytes of length prefix: 2 or 4
    ascii_length: bool = False
    tpdu: bytes = b""
    hex_bitmap: bool = False

    @property
    def spec(self) -> dict[str, dict[str, Any]]:
        return SPEC if self.hex_bitmap else BINARY_BITMAP_SPEC

    def encode(self, message: Message) -> bytes:
        return encode(message, self.spec)

    def decode(self, raw: bytes) -> Message:
        return decode(raw, self.spec)

    @classmethod
    def from_options(cls, options: dict[str, str] | Any) -> Framing:
        header = int(options.get("header", "2"))
        if header not in (2, 4):
            raise ValueError("iso8583: header must be 2 or 4 (bytes of length prefix)")
        length = options.get("length", "binary")
        if length not in ("binary", "ascii"):
            raise ValueError("iso8583: length must be binary or ascii")
        tpdu = bytes.fromhex(options.get("tpdu", ""))
        if tpdu and len(tpdu) != 5:
            raise ValueError("iso8583: tpdu must be 5 bytes in hex (10 hex digits)")
        bitmap = options.get("bitmap", "binary")
        if bitmap not in ("binary", "hex"):
            raise ValueError("iso8583: bitmap must be binary or hex")
        return cls(header, length == "ascii", tpdu, bitmap == "hex")

    @property
    def max_length(self) -> int:
        digits: int = 10**self.header
        return digits - 1 if self.ascii_length else (1 << (8 * self.header)) - 1

    def frame(self, body: bytes) -> bytes:
        payload = self.tpdu + body
        if len(payload) > self.max_length:
            raise FrameError("message longer than the length header can say")
        if self.ascii_length:
            prefix = f"{len(payload):0{self.header}d}".encode("ascii")
        else:
            prefix = len(payload).to_bytes(self.header, "big")
        return prefix + payload

    def length_of(self, prefix: bytes) -> int:
        if self.ascii_length:
            text = prefix.decode("ascii", "replace")
            if not text.isdigit():
                raise FrameError("the length prefix is not ASCII digits")
            return int(text)
        return int.from_bytes(bytes(prefix), "big")

    def unwrap(self, payload: bytes) -> bytes:
        """The message inside a frame's payload (the TPDU, if any, taken off)."""
        if self.tpdu:
            if len(payload) < len(self.tpdu):
                raise FrameError("frame shorter than its TPDU")
            return payload[len(self.tpdu) :]
        return payload

    def answering(self) -> Framing:
        """The framing of answers: a TPDU's source and destination addresses swapped."""
        if not self.tpdu:
            return self
        t = self.tpdu
        return Framing(self.header, self.ascii_length, t[:1] + t[3:5] + t[1:3], self.hex_bitmap)


async def read_frame(reader: asyncio.StreamReader, framing: Framing) -> bytes:
    """One message from a stream (`asyncio.StreamReader`); zero-length frames (keep-alives) are skipped.
    Raises `asyncio.IncompleteReadError` when the peer closes."""
    while True:
        prefix = await reader.readexactly(framing.header)
        n = framing.length_of(prefix)
        if n == 0:
            continue
        return framing.unwrap(await reader.readexactly(n))
