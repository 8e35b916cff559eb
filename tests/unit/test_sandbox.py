"""The sandbox acquirer answers every test card as the table says."""

from __future__ import annotations

import asyncio

import pytest

from tessera.core.errors import ErrorCode
from tessera.core.ports import (
    NO_PROCESSOR_DATA,
    AuthorizeRequest,
    FollowUpRequest,
    InquireRequest,
    OriginalAuthorisation,
    Outcome,
    ReverseRequest,
)
from tessera.core.vault.pan import CVV, PAN, Expiry
from tessera.processors.sandbox.cards import TEST_CARDS, Behaviour
from tessera.processors.sandbox.processor import SandboxProcessor


def _request(number: str, op: str = "op_1") -> AuthorizeRequest:
    pan = PAN.parse(number)
    return AuthorizeRequest(
        op,
        "pay_1",
        "mer_1",
        1000,
        "INR",
        pan,
        Expiry(12, 2030),
        CVV("1234" if pan.brand.value == "amex" else "123"),
        None,
        True,
    )


@pytest.mark.parametrize("number", [n for n, c in TEST_CARDS.items() if c.behaviour is Behaviour.APPROVE])
async def test_approved_cards_get_an_auth_code_and_retrieval_reference(number: str) -> None:
    result = await SandboxProcessor().authorize(_request(number))
    assert result.outcome is Outcome.APPROVED and result.response_code == "00"
    assert result.auth_code and len(result.auth_code) == 6 and result.auth_code.isdigit()
    assert result.retrieval_ref and len(result.retrieval_ref) == 12


@pytest.mark.parametrize(
    ("number", "code", "iso"),
    [
        ("4000000000000002", ErrorCode.CARD_DECLINED, "05"),
        ("4000000000009995", ErrorCode.INSUFFICIENT_FUNDS, "51"),
        ("4000000000000069", ErrorCode.EXPIRED_CARD, "54"),
        ("4000000000000127", ErrorCode.INVALID_CVV, "82"),
    ],
)
async def test_declines_carry_their_error_and_iso_8583_code(number: str, code: ErrorCode, iso: str) -> None:
    result = await SandboxProcessor().authorize(_request(number))
    assert (result.outcome, result.error_code, result.response_code) == (Outcome.DECLINED, code, iso)


async def test_refused_connection_is_unavailable() -> None:
    result = await SandboxProcessor().authorize(_request("4000000000000119"))
    assert result.outcome is Outcome.UNAVAILABLE


def _original(processor_ref: str) -> OriginalAuthorisation:
    return OriginalAuthorisation("op_auth", processor_ref, 1000)


async def test_the_silent_acquirer_never_answers_but_holds_the_approval() -> None:
    sandbox = SandboxProcessor()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sandbox.authorize(_request("4000000000000259", "op_t")), 0.05)
    found = await sandbox.inquire(InquireRequest("op_t", "pay_1"))
    assert found.outcome is Outcome.APPROVED
    reversed_ = await sandbox.reverse(
        ReverseRequest("op_t", "pay_1", 1000, "INR", original_data=NO_PROCESSOR_DATA, processor_ref=found.processor_ref)
    )
    assert reversed_.outcome is Outcome.APPROVED
    after = await sandbox.capture(FollowUpRequest("op_cp", "pay_1", 1000, "INR", _original(found.processor_ref or "")))
    assert after.outcome is Outcome.DECLINED


async def test_an_operation_the_acquirer_never_saw_inquires_as_declined() -> None:
    found = await SandboxProcessor().inquire(InquireRequest("op_never", "pay_1"))
    assert found.outcome is Outcome.DECLINED


async def test_follow_ups_on_a_reference_from_before_a_restart_are_honoured() -> None:
    result = await SandboxProcessor().capture(
        FollowUpRequest("op_2", "pay_1", 500, "INR", _original("sbx_0123456789abcdef"))
    )
    assert result.outcome is Outcome.APPROVED


async def test_the_ledger_stays_bounded() -> None:
    from tessera.processors.sandbox import processor as module

    sandbox = SandboxProcessor()
    for i in range(module.LEDGER_SIZE + 10):
        sandbox._remember(f"op_{i}", (await sandbox.authorize(_request("4242424242424242", "x"))))
    assert len(sandbox._ledger) <= module.LEDGER_SIZE and len(sandbox._by_ref) <= module.LEDGER_SIZE


async def test_a_network_token_is_accepted_in_place_of_the_pan() -> None:
    from tessera.core.vault.cards import new_network_token

    token = new_network_token(PAN.parse("5506900480000008"))
    result = await SandboxProcessor().authorize(_request(token))
    assert result.outcome is Outcome.APPROVED


async def test_an_authenticated_authorisation_needs_its_eci_and_a_genuine_cavv() -> None:
    from dataclasses import replace

    from tessera.core.ports import AuthenticationData
    from tessera.sandbox.directory import authentication_value

    key = b"k" * 32
    sandbox = SandboxProcessor(key)
    genuine = AuthenticationData("Y", "05", authentication_value(key, "acs-1"), "ds-1", "acs-1", "2.2.0")
    ok = await sandbox.authorize(replace(_request("4242424242424242", "op_a"), authentication=genuine))
    assert ok.outcome is Outcome.APPROVED
    for proof in (
        replace(genuine, authentication_value=None),
        replace(genuine, eci=None),
        replace(genuine, authentication_value=authentication_value(b"x" * 32, "acs-1")),
    ):
        refused = await sandbox.authorize(replace(_request("4242424242424242", "op_b"), authentication=proof))
        assert (refused.outcome, refused.error_code) == (Outcome.DECLINED, ErrorCode.THREEDS_FAILED)
    unauthenticated = replace(genuine, status="U", eci="07", authentication_value=None)
    assert (
        await sandbox.authorize(replace(_request("4242424242424242", "op_c"), authentication=unauthenticated))
    ).outcome is Outcome.APPROVED  # U proceeds without liability shift
