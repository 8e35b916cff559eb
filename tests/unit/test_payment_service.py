"""The payments service on in-memory fakes of its ports: no database, no HTTP, no dialect.

Every rule is refused by the service itself; every operation type reaches the processor with the
right flags and the data committed before the call; an operation the processor cannot do is refused
before anything is committed; an unknown outcome is inquired and explicitly reversed.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from tessera.core.errors import ConflictError, ErrorCode, NotSupportedError, ValidationError
from tessera.core.merchants import Merchant, MerchantStatus
from tessera.core.payments import service
from tessera.core.payments.commands import (
    CapturePayment,
    CardSource,
    ConfirmPayment,
    CreatePayment,
    RebillPayment,
    RefundPayment,
    SaveCardOnSuccess,
    VoidPayment,
)
from tessera.core.payments.model import CaptureMethod, OperationStatus, OperationType, Payment, PaymentStatus
from tessera.core.payments.settle import PaymentDeps
from tessera.core.ports import (
    AuthorizeRequest,
    Capability,
    FollowUpRequest,
    Initiator,
    InquireRequest,
    Outcome,
    ProcessorData,
    ProcessorResult,
    ReverseRequest,
)
from tessera.core.vault.crypto import KeyEncryptionKeys, Keyring, new_data_key
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tests.fakes import InMemoryUnitOfWorkFactory

NOW = datetime(2026, 11, 28, tzinfo=UTC)
BROWSER = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}


class RecordingProcessor:
    """A processor that records every call and answers as scripted (approved by default)."""

    name = "recording"
    queues_reversals = False

    def __init__(self, capabilities: frozenset[Capability] = frozenset(Capability)) -> None:
        self.capabilities = capabilities
        self.calls: list[tuple[str, Any]] = []
        self.answers: dict[str, list[ProcessorResult]] = {}
        self._numbers = 0

    def script(self, method: str, *results: ProcessorResult) -> None:
        self.answers.setdefault(method, []).extend(results)

    async def start(self) -> None:
        self.calls.append(("start", None))

    async def stop(self) -> None:
        self.calls.append(("stop", None))

    def prepare(self, operation_type: str) -> ProcessorData:
        self._numbers += 1
        return ProcessorData(trace_number=f"{self._numbers:06d}", retrieval_ref=f"rrn{operation_type}{self._numbers}")

    def _answer(self, method: str, request: Any) -> ProcessorResult:
        self.calls.append((method, request))
        queued = self.answers.get(method)
        if queued:
            return queued.pop(0)
        return ProcessorResult(
            Outcome.APPROVED,
            processor_ref=f"ref_{secrets.token_hex(4)}",
            response_code="00",
            auth_code="A1B2C3" if method == "authorize" else None,
            network_transaction_id="NTI-FIRST" if method == "authorize" else None,
        )

    async def authorize(self, req: AuthorizeRequest) -> ProcessorResult:
        return self._answer("authorize", req)

    async def capture(self, req: FollowUpRequest) -> ProcessorResult:
        return self._answer("capture", req)

    async def void(self, req: FollowUpRequest) -> ProcessorResult:
        return self._answer("void", req)

    async def refund(self, req: FollowUpRequest) -> ProcessorResult:
        return self._answer("refund", req)

    async def reverse(self, req: ReverseRequest) -> ProcessorResult:
        return self._answer("reverse", req)

    async def inquire(self, req: InquireRequest) -> ProcessorResult:
        return self._answer("inquire", req)

    def requests(self, method: str) -> list[Any]:
        return [req for name, req in self.calls if name == method]


class OneProcessor:
    def __init__(self, processor: RecordingProcessor) -> None:
        self.processor = processor

    def for_mode(self, mode: str) -> RecordingProcessor:
        return self.processor

    def by_name(self, name: str) -> RecordingProcessor:
        return self.processor


def _keyring() -> Keyring:
    keks = KeyEncryptionKeys({1: secrets.token_bytes(32)}, 1)
    ring = Keyring(keks, secrets.token_bytes(32))
    ring.install([keks.wrap(1, new_data_key())])
    return ring


MERCHANT = Merchant(
    id="mer_1",
    name="Shop",
    status=MerchantStatus.ACTIVE,
    created_at=NOW,
    allowed_domains=["shop.example"],
    attempt_budget=3,
)


class World:
    def __init__(self, processor: RecordingProcessor | None = None) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        self.processor = processor or RecordingProcessor()
        self.deps = PaymentDeps(uow=self.uow, processors=OneProcessor(self.processor), cipher=_keyring())

    async def add_merchant(self, merchant: Merchant = MERCHANT) -> None:
        async with self.uow() as tx:
            await tx.merchants.add(merchant, [])
            await tx.commit()

    async def stored(self, payment_id: str) -> Payment:
        async with self.uow(read_only=True) as tx:
            found = await tx.payments.get_by_id(payment_id)
        assert found is not None
        return found


@pytest.fixture
async def world() -> World:
    w = World()
    await w.add_merchant()
    return w


def _card(number: str = "4242424242424242", cvv: str | None = "123") -> CardData:
    pan = PAN.parse(number)
    return CardData(
        pan=pan,
        expiry=Expiry.parse(12, 2030, now=NOW),
        cvv=CVV.parse(cvv, pan.brand) if cvv else None,
        holder_name="Jane Doe",
    )


def _create(**overrides: Any) -> CreatePayment:
    values: dict[str, Any] = {
        "merchant_id": "mer_1",
        "mode": "test",
        "amount": 1000,
        "currency": "INR",
        "source": CardSource(_card()),
        "browser": BROWSER,
    }
    values.update(overrides)
    return CreatePayment(**values)


# ---------------------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"amount": 0}, "amount", ErrorCode.PARAMETER_INVALID),
        ({"amount": -100}, "amount", ErrorCode.PARAMETER_INVALID),
        ({"amount": 10**12}, "amount", ErrorCode.PARAMETER_INVALID),
        ({"currency": "ZZZ"}, "currency", ErrorCode.PARAMETER_INVALID),
        ({"currency": "XAU"}, "currency", ErrorCode.PARAMETER_INVALID),
        ({"return_url": "javascript:alert(1)"}, "return_url", ErrorCode.PARAMETER_INVALID),
        ({"return_url": "https://evil.example/back"}, "return_url", ErrorCode.RETURN_URL_NOT_ALLOWED),
        ({"return_url": "https://shop.example.evil.example/"}, "return_url", ErrorCode.RETURN_URL_NOT_ALLOWED),
        ({"source": CardSource(_card(cvv=None))}, "card.cvc", ErrorCode.PARAMETER_MISSING),
        ({"browser": None}, "browser.ip", ErrorCode.PARAMETER_MISSING),
        ({"browser": {"ip": "203.0.113.7"}}, "browser.user_agent", ErrorCode.PARAMETER_MISSING),
        ({"browser": {**BROWSER, "ip": "not-an-ip"}}, "browser.ip", ErrorCode.PARAMETER_INVALID),
        ({"browser": {**BROWSER, "color_depth": 7}}, "browser.color_depth", ErrorCode.PARAMETER_INVALID),
        ({"browser": {**BROWSER, "timezone_offset": 5000}}, "browser.timezone_offset", ErrorCode.PARAMETER_INVALID),
        (
            {"save_card": SaveCardOnSuccess(identifier=" ", credential="cl_1")},
            "identifier",
            ErrorCode.PARAMETER_INVALID,
        ),
    ],
)
async def test_the_service_refuses_a_command_that_breaks_a_rule_with_no_dialect_in_between(
    world: World, overrides: dict[str, Any], field: str, code: ErrorCode
) -> None:
    with pytest.raises(ValidationError) as refused:
        await service.create_payment(_create(**overrides), deps=world.deps)
    assert refused.value.field == field and refused.value.code is code
    assert world.processor.calls == []
    assert world.uow.store.payments == {}


async def test_the_merchants_3ds_policy_and_budget_come_from_the_merchant_it_loads(world: World) -> None:
    intent = await service.create_payment(_create(source=None, browser=None), deps=world.deps)
    assert intent.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and intent.attempt_budget == 3
    await world.add_merchant(replace(MERCHANT, id="mer_2", attempt_budget=1))
    other = await service.create_payment(_create(merchant_id="mer_2", source=None, browser=None), deps=world.deps)
    assert other.attempt_budget == 1


async def test_an_unknown_merchant_is_refused(world: World) -> None:
    with pytest.raises(Exception) as refused:
        await service.create_payment(_create(merchant_id="mer_nobody"), deps=world.deps)
    assert getattr(refused.value, "code", None) is ErrorCode.RESOURCE_MISSING


# ------------------------------------------------------------------------------------------ intents


async def test_declines_return_an_intent_for_another_card_until_the_budget_is_spent(world: World) -> None:
    intent = await service.create_payment(_create(source=None, browser=None), deps=world.deps)
    world.processor.script("authorize", *[ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.CARD_DECLINED)] * 3)
    confirm = ConfirmPayment("mer_1", "test", intent.id, CardSource(_card()), browser=BROWSER)
    first = await service.confirm_payment(confirm, deps=world.deps)
    assert first.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and first.error_code is ErrorCode.CARD_DECLINED
    second = await service.confirm_payment(confirm, deps=world.deps)
    assert second.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and second.attempts_left == 1
    third = await service.confirm_payment(confirm, deps=world.deps)
    assert third.status is PaymentStatus.FAILED and len(third.attempts) == 3
    with pytest.raises(ConflictError):
        await service.confirm_payment(confirm, deps=world.deps)
    assert len(world.processor.requests("authorize")) == 3


async def test_a_one_call_payment_fails_on_its_first_decline(world: World) -> None:
    world.processor.script("authorize", ProcessorResult(Outcome.DECLINED, error_code=ErrorCode.INSUFFICIENT_FUNDS))
    payment = await service.create_payment(_create(), deps=world.deps)
    assert payment.status is PaymentStatus.FAILED and payment.error_code is ErrorCode.INSUFFICIENT_FUNDS


# ------------------------------------------------------------------ every operation at the processor


async def test_every_operation_type_reaches_the_processor_with_its_flags_and_committed_data(world: World) -> None:
    rec = world.processor
    # PA, then CP and RF on it.
    manual = await service.create_payment(_create(capture_method=CaptureMethod.MANUAL), deps=world.deps)
    pa = rec.requests("authorize")[-1]
    assert pa.capture is False and pa.initiator is Initiator.CARDHOLDER and pa.cvv is not None
    stored_pa = (await world.stored(manual.id)).operations[0]
    assert stored_pa.type is OperationType.PA and pa.data == stored_pa.processor_data and pa.data.trace_number
    captured = await service.capture(CapturePayment("mer_1", "test", manual.id, 600), deps=world.deps)
    cp = rec.requests("capture")[-1]
    assert cp.amount == 600 and cp.original.processor_ref == manual.processor_ref
    assert cp.original.data.approval_code == "A1B2C3" and cp.original.data.trace_number == pa.data.trace_number
    assert cp.data.trace_number and cp.data != pa.data
    await service.refund(RefundPayment("mer_1", "test", captured.id, 100), deps=world.deps)
    rf = rec.requests("refund")[-1]
    assert rf.amount == 100 and rf.original.processor_ref == manual.processor_ref
    # PA then RV.
    voidable = await service.create_payment(_create(capture_method=CaptureMethod.MANUAL), deps=world.deps)
    voided = await service.void(VoidPayment("mer_1", "test", voidable.id), deps=world.deps)
    rv = rec.requests("void")[-1]
    assert voided.status is PaymentStatus.VOIDED and rv.original.processor_ref == voidable.processor_ref
    # DB with the card saved, then RB on it: a sale, merchant-initiated, with the first network id.
    save = SaveCardOnSuccess(identifier="cust_1", credential="cl_1")
    sale = await service.create_payment(_create(save_card=save), deps=world.deps)
    db = rec.requests("authorize")[-1]
    assert db.capture is True and sale.status is PaymentStatus.CAPTURED and sale.card_token
    assert sale.network_transaction_id == "NTI-FIRST"
    rebill = await service.rebill(RebillPayment("mer_1", "test", sale.id, 700), deps=world.deps)
    rb = rec.requests("authorize")[-1]
    assert rb.capture is True, "a rebill is a sale: its money is taken at once"
    assert rb.initiator is Initiator.MERCHANT and rb.network_transaction_id == "NTI-FIRST"
    assert rb.cvv is None and rb.authentication is None
    assert rebill.status is PaymentStatus.CAPTURED and rebill.operations[0].type is OperationType.RB
    assert rebill.initiator is Initiator.MERCHANT


async def test_an_operation_the_processor_cannot_do_is_refused_before_anything_is_committed() -> None:
    w = World(RecordingProcessor(frozenset(Capability) - {Capability.PARTIAL_REFUND, Capability.VOID}))
    await w.add_merchant()
    paid = await service.create_payment(_create(), deps=w.deps)
    with pytest.raises(NotSupportedError) as refused:
        await service.refund(RefundPayment("mer_1", "test", paid.id, 100), deps=w.deps)
    assert refused.value.code is ErrorCode.OPERATION_NOT_SUPPORTED
    after = await w.stored(paid.id)
    assert [op.type for op in after.operations] == [OperationType.DB] and after.status is PaymentStatus.CAPTURED
    assert w.processor.requests("refund") == []
    whole = await service.refund(RefundPayment("mer_1", "test", paid.id, None), deps=w.deps)
    assert whole.status is PaymentStatus.REFUNDED  # a full refund needs only REFUND
    held = await service.create_payment(_create(capture_method=CaptureMethod.MANUAL), deps=w.deps)
    with pytest.raises(NotSupportedError):
        await service.void(VoidPayment("mer_1", "test", held.id), deps=w.deps)
    assert (await w.stored(held.id)).status is PaymentStatus.AUTHORIZED
    sales_only = World(RecordingProcessor(frozenset({Capability.SALE})))
    await sales_only.add_merchant()
    with pytest.raises(NotSupportedError):
        await service.create_payment(_create(capture_method=CaptureMethod.MANUAL), deps=sales_only.deps)
    assert sales_only.uow.store.payments == {} and sales_only.processor.calls == []


async def test_an_unknown_authorisation_is_inquired_and_explicitly_reversed(world: World) -> None:
    rec = world.processor
    rec.script("authorize", ProcessorResult(Outcome.UNKNOWN))
    rec.script("inquire", ProcessorResult(Outcome.APPROVED, processor_ref="ref_lost"))
    payment = await service.create_payment(_create(), deps=world.deps)
    assert payment.status is PaymentStatus.FAILED and payment.error_code is ErrorCode.NETWORK_ERROR
    auth = payment.operations[0]
    reverse = rec.requests("reverse")[-1]
    assert reverse.operation_id == auth.id and reverse.original_data == auth.processor_data
    assert reverse.processor_ref == "ref_lost" and reverse.amount == 1000
    assert [(op.type, op.status) for op in payment.operations] == [
        (OperationType.DB, OperationStatus.FAILED),
        (OperationType.RV, OperationStatus.SUCCEEDED),
    ]


async def test_an_unknown_authorisation_the_acquirer_never_saw_fails_without_a_reversal(world: World) -> None:
    world.processor.script("authorize", ProcessorResult(Outcome.UNKNOWN))
    world.processor.script("inquire", ProcessorResult(Outcome.DECLINED))
    payment = await service.create_payment(_create(), deps=world.deps)
    assert payment.status is PaymentStatus.FAILED and world.processor.requests("reverse") == []


async def test_an_unknown_capture_takes_the_answer_the_inquiry_gives(world: World) -> None:
    held = await service.create_payment(_create(capture_method=CaptureMethod.MANUAL), deps=world.deps)
    world.processor.script("capture", ProcessorResult(Outcome.UNKNOWN))
    world.processor.script("inquire", ProcessorResult(Outcome.APPROVED, processor_ref="ref_cp"))
    captured = await service.capture(CapturePayment("mer_1", "test", held.id), deps=world.deps)
    assert captured.status is PaymentStatus.CAPTURED and captured.amount_captured == 1000


async def test_an_unanswered_inquiry_leaves_the_operation_open_for_recovery(world: World) -> None:
    world.processor.script("authorize", ProcessorResult(Outcome.UNKNOWN))
    world.processor.script("inquire", ProcessorResult(Outcome.UNKNOWN))
    payment = await service.create_payment(_create(), deps=world.deps)
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.operations[0].status is OperationStatus.UNKNOWN
