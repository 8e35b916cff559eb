"""The ISO 8583 field specification, framing, DE48 sub-elements, trace numbering and the DE39 table."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import iso8583
import pytest
from iso8583.specs import default_ascii

from tessera.core.errors import ErrorCode
from tessera.core.ports import AuthenticationData, AuthorizeRequest, Initiator, Outcome, ProcessorData, ReverseRequest
from tessera.core.vault.pan import PAN, Expiry
from tessera.processors.iso8583 import messages, spec
from tessera.processors.iso8583.codes import RESPONSE_CODES, outcome_of
from tessera.processors.iso8583.numbering import TraceNumbers, retrieval_ref
from tessera.processors.iso8583.spec import FrameError, Framing

ACCEPTOR = messages.Acceptor()
DATA = ProcessorData("000123", "633221000123", extra=(("dt", "1128211530"), ("mti", "0100")))


def _auth(**overrides: object) -> AuthorizeRequest:
    values: dict[str, object] = {
        "operation_id": "op_1",
        "payment_id": "pay_1",
        "merchant_id": "mer_1",
        "amount": 123450,
        "currency": "INR",
        "pan": PAN.parse("4242424242424242"),
        "expiry": Expiry(7, 2031),
        "cvv": None,
        "holder_name": "A Shopper",
        "capture": False,
        "data": DATA,
    }
    values.update(overrides)
    return AuthorizeRequest(**values)  # type: ignore[arg-type]


def test_an_authorisation_carries_the_documented_fields_and_3ds_data_in_de48() -> None:
    auth = AuthenticationData("Y", "05", "A" * 28, "ds-1", "acs-1", "2.2.0")
    message = messages.authorisation(_auth(authentication=auth), ACCEPTOR)
    decoded = spec.decode(spec.encode(message))
    assert decoded["t"] == "0100"
    assert decoded["2"] == "4242424242424242" and decoded["3"] == "000000" and decoded["4"] == "000000123450"
    assert (decoded["7"], decoded["11"], decoded["12"], decoded["13"]) == ("1128211530", "000123", "211530", "1128")
    assert decoded["14"] == "3107" and decoded["22"] == "812" and decoded["37"] == "633221000123"
    assert decoded["49"] == "356" and decoded["41"] == "TESS0001" and len(decoded["43"]) == 40
    assert spec.parse_tlv(decoded["48"]) == {"IN": "C", "EC": "05", "CV": "A" * 28, "VR": "2.2.0", "DS": "ds-1"}


def test_a_sale_is_a_0200_and_a_rebill_names_the_first_payments_network_id() -> None:
    message = messages.authorisation(
        _auth(capture=True, initiator=Initiator.MERCHANT, network_transaction_id="123456789012345"), ACCEPTOR
    )
    assert message["t"] == "0200" and message["22"] == "102"
    assert spec.parse_tlv(message["48"]) == {"IN": "M", "NT": "123456789012345"}


def test_a_timeout_reversal_names_the_original_in_de90_and_turns_into_an_advice_on_retries() -> None:
    own = ProcessorData("000200", "633221000200", extra=(("dt", "1128211531"), ("mti", "0400")))
    req = ReverseRequest("op_1", "pay_1", 123450, "INR", original_data=DATA, data=own)
    first, second, third = (messages.reversal(req, ACCEPTOR, attempt=n) for n in range(3))
    assert (first["t"], second["t"], third["t"]) == ("0400", "0420", "0421")
    assert first["11"] == second["11"] == third["11"] == "000200"  # a repeat keeps its STAN
    assert first["37"] == "633221000123"
    assert messages.parse_original_elements(first["90"]) == ("0100", "000123", "1128211530")
    assert len(first["90"]) == 42 and spec.decode(spec.encode(first))["90"] == first["90"]


def test_the_specification_is_iso_8583_1987_ascii_as_pyiso8583_defines_it() -> None:
    for field, definition in default_ascii.items():
        if field not in ("p", "1"):
            assert spec.BINARY_BITMAP_SPEC[field] == definition
    assert spec.SPEC == default_ascii
    message = messages.authorisation(_auth(), ACCEPTOR)
    raw = spec.encode(message)
    assert raw[:4] == b"0100" and len(raw) > 12
    # The hexadecimal-bitmap form is exactly what a stock pyiso8583 `default_ascii` peer reads.
    hex_raw = spec.encode(message, spec.SPEC)
    decoded, _ = iso8583.decode(hex_raw, default_ascii)
    assert decoded["2"] == "4242424242424242"


@pytest.mark.parametrize(
    ("options", "prefix"),
    [
        ({}, b"\x00\x05"),
        ({"header": "4"}, b"\x00\x00\x00\x05"),
        ({"header": "4", "length": "ascii"}, b"0005"),
        ({"length": "ascii"}, b"05"),
    ],
)
def test_framing_prefixes_the_length_as_configured(options: dict[str, str], prefix: bytes) -> None:
    framing = Framing.from_options(options)
    assert framing.frame(b"hello") == prefix + b"hello"

    async def read_back() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(framing.frame(b"") + framing.frame(b"hello"))  # a zero-length keep-alive first
        return await spec.read_frame(reader, framing)

    assert asyncio.run(read_back()) == b"hello"


def test_a_tpdu_follows_the_length_and_answers_swap_its_addresses() -> None:
    framing = Framing.from_options({"tpdu": "6000010002"})
    assert framing.frame(b"abc") == b"\x00\x08" + bytes.fromhex("6000010002") + b"abc"
    assert framing.unwrap(bytes.fromhex("6000010002") + b"abc") == b"abc"
    assert framing.answering().tpdu == bytes.fromhex("6000020001")


@pytest.mark.parametrize("options", [{"header": "3"}, {"length": "bcd"}, {"tpdu": "60"}, {"bitmap": "ebcdic"}])
def test_unknown_framing_options_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="iso8583"):
        Framing.from_options(options)


def test_an_unreadable_message_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        spec.decode(b"\x00\xffgarbage")
    with pytest.raises(FrameError):
        spec.parse_tlv("EC0")


def test_only_00_approves_and_unknown_or_unreadable_codes_are_unknown() -> None:
    approvals = [code for code, (outcome, _) in RESPONSE_CODES.items() if outcome is Outcome.APPROVED]
    assert approvals == ["00"]
    assert outcome_of("05") == (Outcome.DECLINED, ErrorCode.CARD_DECLINED)
    assert outcome_of("51") == (Outcome.DECLINED, ErrorCode.INSUFFICIENT_FUNDS)
    assert outcome_of("54") == (Outcome.DECLINED, ErrorCode.EXPIRED_CARD)
    assert outcome_of("14") == (Outcome.DECLINED, ErrorCode.CARD_DECLINED)
    assert outcome_of("57") == (Outcome.DECLINED, ErrorCode.CARD_DECLINED)
    assert outcome_of("91") == (Outcome.DECLINED, ErrorCode.NETWORK_ERROR)
    assert outcome_of("96") == (Outcome.DECLINED, ErrorCode.NETWORK_ERROR)
    for code in ("68", "94", "XX", "", "0", None, 0):
        assert outcome_of(code) == (Outcome.UNKNOWN, None)


def test_an_answer_of_the_wrong_type_or_with_an_unknown_code_is_unknown_never_approved() -> None:
    ok = {"t": "0110", "39": "00", "37": "633221000123", "38": "123456", "48": spec.tlv({"NT": "1" * 15})}
    result = messages.result_of(ok, "0110", DATA)
    assert result.outcome is Outcome.APPROVED and result.auth_code == "123456" and result.network_transaction_id
    assert messages.result_of(ok | {"t": "0210"}, "0110", DATA).outcome is Outcome.UNKNOWN
    assert messages.result_of(ok | {"39": "Z9"}, "0110", DATA).outcome is Outcome.UNKNOWN
    assert messages.result_of({k: v for k, v in ok.items() if k != "39"}, "0110", DATA).outcome is Outcome.UNKNOWN


def test_processes_sharing_a_counter_file_never_hand_out_the_same_stan(tmp_path: Path) -> None:
    path = tmp_path / "link.stan"
    first, second = TraceNumbers(path), TraceNumbers(path)
    seen: list[str] = []

    def take(numbers: TraceNumbers) -> None:
        for _ in range(2500):
            seen.append(numbers.next())

    threads = [threading.Thread(target=take, args=(n,)) for n in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == len(set(seen)) == 5000
    assert all(len(s) == 6 and s.isdigit() and s != "000000" for s in seen)
    restarted = TraceNumbers(path).next()
    assert restarted not in seen  # a restarted process starts a fresh block


def test_the_rrn_is_year_day_hour_and_stan() -> None:
    assert retrieval_ref("000123", datetime(2026, 11, 28, 21, 5, tzinfo=UTC)) == "633221000123"
