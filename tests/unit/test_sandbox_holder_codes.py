"""A rejection code written as the card holder makes the sandbox acquirer decline with it, in test mode only
(OPPWA's test-system convention, oppwa.md 5.3), through the processor and through the payments service."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest

from tessera.core.errors import ErrorCode
from tessera.core.merchants import Merchant, MerchantStatus
from tessera.core.payments import service
from tessera.core.payments.commands import CardSource, CreatePayment
from tessera.core.payments.model import CaptureMethod, OperationStatus, OperationType, PaymentStatus
from tessera.core.payments.settle import PaymentDeps
from tessera.core.ports import AuthorizeRequest, InquireRequest, Outcome, Processor
from tessera.core.risk.model import Charge
from tessera.core.vault.crypto import KeyEncryptionKeys, Keyring, new_data_key
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.processors.sandbox.holder_codes import rejection
from tessera.processors.sandbox.processor import SandboxProcessor
from tests.fakes import InMemoryUnitOfWorkFactory

NOW = datetime(2026, 11, 28, tzinfo=UTC)
BROWSER = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("800.100.152", ErrorCode.CARD_DECLINED),  # declined by authorization system
        ("800.100.151", ErrorCode.CARD_DECLINED),  # invalid card
        ("800.100.159", ErrorCode.CARD_DECLINED),  # stolen card
        ("800.100.153", ErrorCode.INVALID_CVV),
        ("800.100.192", ErrorCode.INVALID_CVV),
        ("100.100.601", ErrorCode.INVALID_CVV),
        ("800.100.157", ErrorCode.EXPIRED_CARD),
        ("100.100.303", ErrorCode.EXPIRED_CARD),
        ("800.100.155", ErrorCode.INSUFFICIENT_FUNDS),
        ("800.100.203", ErrorCode.INSUFFICIENT_FUNDS),
        ("100.550.311", ErrorCode.INSUFFICIENT_FUNDS),
        ("100.380.401", ErrorCode.THREEDS_FAILED),  # 3-D Secure, before external risk's 100.38
        ("100.390.112", ErrorCode.THREEDS_FAILED),
        ("000.400.102", ErrorCode.THREEDS_FAILED),  # 000.* rejections are forcible, unlike 000.* successes
        ("800.400.200", ErrorCode.THREEDS_FAILED),
        ("100.380.501", ErrorCode.RISK_DECLINED),  # risk management time-out
        ("100.400.319", ErrorCode.RISK_DECLINED),
        ("800.110.100", ErrorCode.RISK_DECLINED),  # duplicate transaction
        ("800.120.100", ErrorCode.RISK_DECLINED),  # throttling
        ("100.100.701", ErrorCode.CARD_BLOCKED),
        ("800.300.401", ErrorCode.CARD_BLOCKED),  # bin blacklisted
        ("800.300.200", ErrorCode.CUSTOMER_BLOCKED),  # email blacklisted
        ("800.300.301", ErrorCode.RISK_DECLINED),  # ip blacklisted
        ("900.100.300", ErrorCode.NETWORK_ERROR),
        ("900.100.600", ErrorCode.NETWORK_ERROR),
        ("999.999.999", ErrorCode.NETWORK_ERROR),
        ("800.800.400", ErrorCode.NETWORK_ERROR),
        ("100.396.103", ErrorCode.CARD_DECLINED),
        ("300.100.100", ErrorCode.CARD_DECLINED),
        ("800.400.100", ErrorCode.CARD_DECLINED),  # AVS
        ("600.200.500", ErrorCode.CARD_DECLINED),
        ("700.400.580", ErrorCode.CARD_DECLINED),
        ("200.300.404", ErrorCode.CARD_DECLINED),
        ("100.100.101", ErrorCode.CARD_DECLINED),
        ("100.550.300", ErrorCode.CARD_DECLINED),
    ],
)
def test_each_rejection_class_means_its_core_error(code: str, error: ErrorCode) -> None:
    assert rejection(code) is error


@pytest.mark.parametrize(
    "holder",
    [
        "000.000.000",  # success
        "000.100.110",  # test-mode success
        "000.100.112",
        "000.300.000",
        "000.600.000",
        "000.400.000",  # success, review manually
        "000.400.100",
        "000.400.110",  # frictionless authentication
        "000.200.000",  # pending
        "000.200.100",
        "800.400.500",  # long pending
        "100.400.500",
        "000.100.201",  # chargeback notice
        "123.456.789",  # no class
        "Jane Jones",
        "800.100.152 ",  # a code must stand alone, exactly
        " 800.100.152",
        "800.100.1520",
        "800-100-152",
        "८००.१००.१५२",  # other scripts' digits are not digits here
        "",
        None,
    ],
)
def test_success_pending_and_anything_else_is_not_a_rejection(holder: str | None) -> None:
    assert rejection(holder) is None


def _request(holder: str | None, *, mode: str = "test", number: str = "4200000000000000") -> AuthorizeRequest:
    pan = PAN.parse(number)
    return AuthorizeRequest(
        "op_1", "pay_1", "mer_1", 9200, "EUR", pan, Expiry(5, 2034), CVV("123"), holder, True, mode=mode
    )


async def test_the_acquirer_declines_with_the_holders_code_in_test_mode() -> None:
    result = await SandboxProcessor().authorize(_request("800.100.152"))
    assert (result.outcome, result.response_code, result.error_code) == (
        Outcome.DECLINED,
        "800.100.152",
        ErrorCode.CARD_DECLINED,
    )
    assert result.processor_ref and result.processor_ref.startswith("sbx_")


async def test_the_holders_code_wins_over_the_cards_own_behaviour() -> None:
    result = await SandboxProcessor().authorize(_request("800.100.153", number="4000000000000119"))
    assert (result.outcome, result.response_code, result.error_code) == (
        Outcome.DECLINED,
        "800.100.153",
        ErrorCode.INVALID_CVV,
    )


async def test_a_declined_holder_code_is_what_an_inquiry_finds() -> None:
    sandbox = SandboxProcessor()
    await sandbox.authorize(_request("800.100.155"))
    found = await sandbox.inquire(InquireRequest("op_1", "pay_1"))
    assert (found.outcome, found.response_code) == (Outcome.DECLINED, "800.100.155")


async def test_outside_test_mode_the_holder_is_only_a_name() -> None:
    unsaid = _request("800.100.152")
    unsaid = AuthorizeRequest(
        *(
            getattr(unsaid, f)
            for f in (
                "operation_id",
                "payment_id",
                "merchant_id",
                "amount",
                "currency",
                "pan",
                "expiry",
                "cvv",
                "holder_name",
                "capture",
            )
        )
    )  # a request that does not say its mode
    for request in (_request("800.100.152", mode="live"), unsaid):
        result = await SandboxProcessor().authorize(request)
        assert (result.outcome, result.response_code) == (Outcome.APPROVED, "00")


async def test_a_success_code_as_holder_is_approved_as_usual() -> None:
    result = await SandboxProcessor().authorize(_request("000.100.110"))
    assert (result.outcome, result.response_code) == (Outcome.APPROVED, "00")


# ------------------------------------------------------------------------- through the payments service


class _Sandbox:
    def __init__(self) -> None:
        self.processor = SandboxProcessor()

    def for_mode(self, mode: str) -> Processor:
        return self.processor

    def by_name(self, name: str) -> Processor:
        return self.processor


def _keyring() -> Keyring:
    keks = KeyEncryptionKeys({1: secrets.token_bytes(32)}, 1)
    ring = Keyring(keks, secrets.token_bytes(32))
    ring.install([keks.wrap(1, new_data_key())])
    return ring


@pytest.fixture
async def deps() -> PaymentDeps:
    uow = InMemoryUnitOfWorkFactory()
    merchant = Merchant(
        id="mer_1",
        name="Shop",
        status=MerchantStatus.ACTIVE,
        created_at=NOW,
        allowed_domains=["shop.example"],
        attempt_budget=1,
        charges=[Charge("*", "*", 0, 0)],  # live payments need the merchant's charges
    )
    async with uow() as tx:
        await tx.merchants.add(merchant, [])
        await tx.commit()
    return PaymentDeps(uow=uow, processors=_Sandbox(), cipher=_keyring())


def _create(holder: str, mode: str, *, capture: str = "automatic") -> CreatePayment:
    pan = PAN.parse("4200000000000000")
    card = CardData(pan=pan, expiry=Expiry.parse(5, 2034, now=NOW), cvv=CVV.parse("123", pan.brand), holder_name=holder)
    return CreatePayment(
        merchant_id="mer_1",
        mode=mode,
        amount=9200,
        currency="EUR",
        source=CardSource(card),
        browser=BROWSER,
        capture_method=CaptureMethod(capture),
    )


@pytest.mark.parametrize(
    ("holder", "error", "capture", "kind"),
    [
        ("800.100.152", ErrorCode.CARD_DECLINED, "automatic", OperationType.DB),
        ("800.100.155", ErrorCode.INSUFFICIENT_FUNDS, "manual", OperationType.PA),
        ("100.380.401", ErrorCode.THREEDS_FAILED, "automatic", OperationType.DB),
    ],
)
async def test_a_test_payment_fails_with_the_holders_code_kept_on_its_attempt(
    deps: PaymentDeps, holder: str, error: ErrorCode, capture: str, kind: OperationType
) -> None:
    payment = await service.create_payment(_create(holder, "test", capture=capture), deps=deps)
    assert payment.status is PaymentStatus.FAILED and payment.error_code is error
    async with deps.uow(read_only=True) as tx:
        stored = await tx.payments.get_by_id(payment.id)
    assert stored is not None and stored.error_code is error
    (op,) = stored.operations
    assert (op.type, op.status, op.response_code, op.error_code) == (kind, OperationStatus.FAILED, holder, error)


async def test_a_live_payment_with_a_code_as_holder_is_approved(deps: PaymentDeps) -> None:
    payment = await service.create_payment(_create("800.100.152", "live"), deps=deps)
    assert payment.status is PaymentStatus.CAPTURED and payment.error_code is None
    assert [op.response_code for op in payment.operations] == ["00"]
