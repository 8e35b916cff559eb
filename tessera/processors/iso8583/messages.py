"""Building Tessera's ISO 8583 requests from the core's requests, and reading the host's answers.

Pure functions: no sockets. `spec.py` says what each field holds; this module fills them. Follow-ups
(capture, void, refund, reversal, inquiry) carry no card number: the host finds the original by its
RRN (DE37) and its original data elements (DE90: MTI, STAN, transmission time, acquirer id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tessera.core.money import numeric_code
from tessera.core.ports import (
    AuthorizeRequest,
    FollowUpRequest,
    Initiator,
    Outcome,
    ProcessorData,
    ProcessorResult,
    ReverseRequest,
)
from tessera.processors.iso8583 import spec
from tessera.processors.iso8583.codes import outcome_of
from tessera.processors.iso8583.spec import Message

# The MTI each core operation type is sent as: what prepare() records for DE90 of a later reversal.
MTI_OF_OPERATION = {"PA": spec.AUTH, "DB": spec.FINANCIAL, "RB": spec.FINANCIAL, "CP": spec.COMPLETION}
MTI_OF_OPERATION |= {"RV": spec.REVERSAL, "RF": spec.FINANCIAL}


@dataclass(frozen=True, slots=True)
class Acceptor:
    """Who Tessera is to the host: acquirer id (DE32), terminal (DE41), merchant (DE42), name (DE43)."""

    acquirer_id: str = "400000"
    terminal_id: str = "TESS0001"
    merchant_id: str = "TESSERA00000001"
    name: str = "TESSERA GATEWAY"

    def fields(self) -> Message:
        return {
            "32": self.acquirer_id,
            "41": f"{self.terminal_id:<8.8}",
            "42": f"{self.merchant_id:<15.15}",
            "43": f"{self.name:<40.40}",
        }


def now_dt() -> str:
    return datetime.now(UTC).strftime("%m%d%H%M%S")


def _extra(data: ProcessorData, key: str) -> str | None:
    return dict(data.extra).get(key)


def original_elements(data: ProcessorData, acceptor: Acceptor, *, mti: str | None = None) -> str:
    """DE90: original MTI (4), STAN (6), transmission date and time (10), acquirer id (11), forwarding
    institution (11, zeros: none)."""
    original_mti = mti or _extra(data, "mti") or spec.AUTH
    stan = data.trace_number or "000000"
    dt = _extra(data, "dt") or "0000000000"
    return f"{original_mti}{stan}{dt}{acceptor.acquirer_id:0>11.11}{'':0>11}"


def parse_original_elements(value: str) -> tuple[str, str, str]:
    """(MTI, STAN, DE7) of DE90."""
    return value[0:4], value[4:10], value[10:20]


def authorisation(req: AuthorizeRequest, acceptor: Acceptor) -> Message:
    dt = _extra(req.data, "dt") or now_dt()
    merchant_initiated = req.initiator is Initiator.MERCHANT
    private = {"IN": "M" if merchant_initiated else "C"}
    auth = req.authentication
    if auth is not None and auth.authentication_value:
        private |= {"EC": auth.eci or "", "CV": auth.authentication_value, "VR": auth.version}
        private |= {"DS": auth.ds_trans_id or ""}
    elif auth is not None and auth.eci:
        private["EC"] = auth.eci
    if merchant_initiated and req.network_transaction_id:
        private["NT"] = req.network_transaction_id
    if req.cvv is not None:
        private["C2"] = req.cvv.reveal()
    message: Message = {
        "t": spec.FINANCIAL if req.capture else spec.AUTH,
        "2": req.pan.reveal(),
        "3": spec.PURCHASE,
        "4": f"{req.amount:012d}",
        "7": dt,
        "11": req.data.trace_number or "000000",
        "12": dt[4:10],
        "13": dt[0:4],
        "14": f"{req.expiry.year % 100:02d}{req.expiry.month:02d}",
        "22": spec.ENTRY_ON_FILE if merchant_initiated else spec.ENTRY_ECOMMERCE,
        "25": spec.CONDITION_ECOMMERCE,
        "37": req.data.retrieval_ref or "",
        "48": spec.tlv(private),
        "49": numeric_code(req.currency),
    }
    return message | acceptor.fields()


def _follow_up_base(mti: str, amount: int, currency: str, data: ProcessorData, acceptor: Acceptor) -> Message:
    dt = _extra(data, "dt") or now_dt()
    return {
        "t": mti,
        "4": f"{amount:012d}",
        "7": dt,
        "11": data.trace_number or "000000",
        "12": dt[4:10],
        "13": dt[0:4],
        "49": numeric_code(currency),
    } | acceptor.fields()


def follow_up(kind: str, req: FollowUpRequest, acceptor: Acceptor) -> Message:
    """A capture (0220), void (0400) or refund (0200, processing code 20) of an approved authorisation."""
    original = req.original
    mti = {"CP": spec.COMPLETION, "RV": spec.REVERSAL, "RF": spec.FINANCIAL}[kind]
    message = _follow_up_base(mti, req.amount, req.currency, req.data, acceptor)
    message["3"] = spec.REFUND if kind == "RF" else spec.PURCHASE
    original_rrn = original.data.retrieval_ref or original.processor_ref
    # A refund is a transaction of its own with its own RRN; a capture and a void name the original's.
    message["37"] = (req.data.retrieval_ref or original_rrn) if kind == "RF" else original_rrn
    if original.data.approval_code:
        message["38"] = original.data.approval_code
    message["90"] = original_elements(original.data, acceptor)
    return message


def reversal(req: ReverseRequest, acceptor: Acceptor, *, attempt: int) -> Message:
    """A time-out reversal: 0400 first, then 0420 advice, then 0421 repeats, all with the same STAN."""
    mti = spec.REVERSAL if attempt == 0 else spec.REVERSAL_ADVICE if attempt == 1 else spec.REVERSAL_ADVICE_REPEAT
    message = _follow_up_base(mti, req.amount, req.currency, req.data, acceptor)
    message["3"] = spec.PURCHASE
    message["7"] = now_dt()  # the transmission time changes on every transmission; the STAN does not
    message["37"] = req.original_data.retrieval_ref or req.processor_ref or ""
    message["90"] = original_elements(req.original_data, acceptor)
    return message


def inquiry(data: ProcessorData, stan: str, acceptor: Acceptor) -> Message:
    message: Message = {"t": spec.INQUIRY, "7": now_dt(), "11": stan, "90": original_elements(data, acceptor)}
    if data.retrieval_ref:
        message["37"] = data.retrieval_ref
    return message | acceptor.fields()


def result_of(answer: Message, expected_mti: str, data: ProcessorData) -> ProcessorResult:
    """The core's result for the host's answer: UNKNOWN for a wrong MTI, or a code the table lacks."""
    if answer.get("t") != expected_mti:
        return ProcessorResult(Outcome.UNKNOWN, response_code=f"MTI{answer.get('t')}")
    code = answer.get("39")
    outcome, error = outcome_of(code)
    if outcome is Outcome.UNKNOWN:
        return ProcessorResult(Outcome.UNKNOWN, response_code=code if isinstance(code, str) else None)
    try:
        private = spec.parse_tlv(answer.get("48", ""))
    except spec.FrameError:
        private = {}
    rrn = answer.get("37") or data.retrieval_ref
    return ProcessorResult(
        outcome,
        processor_ref=rrn if outcome is Outcome.APPROVED or rrn else None,
        response_code=code if isinstance(code, str) else None,
        error_code=error,
        auth_code=answer.get("38") if outcome is Outcome.APPROVED else None,
        retrieval_ref=rrn,
        network_transaction_id=private.get("NT"),
    )
