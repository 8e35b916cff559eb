"""The in-memory unit of work behaves as the SQL one does for the core's services: commits apply,
leaving without a commit discards, reads are copies, and a stale payment cannot be saved."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from tessera.core.clock import utcnow
from tessera.core.errors import ErrorCode, ValidationError
from tessera.core.merchants import authenticate_key, create_merchant
from tessera.core.payments.events import PAYMENT_COMPLETED, Event
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.core.ports import ConcurrentUpdateError, Outcome, ProcessorResult, UnitOfWorkFactory
from tessera.core.vault.crypto import KeyEncryptionKeys, Keyring, new_data_key
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry
from tessera.core.vault.service import CARD_SAVED, SaveCard, delete_card, list_cards, save_card
from tessera.core.vault.tokens import create_token, redeem_token
from tessera.storage.webhooks import CALLBACK_ALIAS
from tests.fakes import InMemoryStore, InMemoryUnitOfWorkFactory

TTL = timedelta(minutes=30)


def _keyring() -> Keyring:
    keks = KeyEncryptionKeys({1: secrets.token_bytes(32)}, 1)
    ring = Keyring(keks, secrets.token_bytes(32))
    ring.install([keks.wrap(1, new_data_key())])
    return ring


def _card(number: str = "4242424242424242") -> CardData:
    pan = PAN.parse(number)
    return CardData(pan, Expiry.parse(12, 2030, now=utcnow()), CVV.parse("737", pan.brand), "A Shopper")


def _payment(merchant_id: str = "mer_1") -> Payment:
    payment, _ = Payment.start(
        merchant_id=merchant_id,
        mode="test",
        amount=1000,
        currency="INR",
        capture_method=CaptureMethod.AUTOMATIC,
        card=CardSnapshot("424242", "4242", "visa", 12, 2030),
        processor="sandbox",
        now=utcnow(),
    )
    return payment


def test_the_fake_factory_fills_the_core_port() -> None:
    factory: UnitOfWorkFactory = InMemoryUnitOfWorkFactory()  # what mypy would check, were tests checked
    assert callable(factory)


async def test_a_token_made_on_the_fake_is_redeemed_once_and_its_cvv_erased() -> None:
    uow, cipher = InMemoryUnitOfWorkFactory(), _keyring()
    token = await create_token("mer_1", "test", _card(), uow=uow, cipher=cipher, ttl=TTL, now=utcnow())

    async with uow() as tx:
        card = await redeem_token(tx, "mer_1", "test", token.id, cipher=cipher, now=utcnow(), payment_id="pay_1")
        await tx.commit()

    assert card.pan.reveal() == "4242424242424242" and card.cvv is not None
    stored = uow.store.tokens[token.id]
    assert stored.used_at is not None and stored.payment_id == "pay_1" and stored.cvv_ciphertext is None
    async with uow() as tx:
        with pytest.raises(ValidationError) as refused:
            await redeem_token(tx, "mer_1", "test", token.id, cipher=cipher, now=utcnow(), payment_id="pay_2")
    assert refused.value.code is ErrorCode.TOKEN_ALREADY_USED


async def test_a_token_of_another_merchant_is_not_found() -> None:
    uow, cipher = InMemoryUnitOfWorkFactory(), _keyring()
    token = await create_token("mer_1", "test", _card(), uow=uow, cipher=cipher, ttl=TTL, now=utcnow())

    async with uow() as tx:
        assert await tx.tokens.get_for_update("mer_2", "test", token.id) is None
        assert await tx.tokens.get_for_update("mer_1", "live", token.id) is None


async def test_a_merchant_made_on_the_fake_is_found_by_its_key_with_its_callback_endpoint() -> None:
    uow = InMemoryUnitOfWorkFactory()
    merchant, credentials = await create_merchant("Shop", uow=uow, callback_url="https://shop.example/cb")

    ctx = await authenticate_key(credentials[0].secret_key, uow=uow)

    assert ctx.merchant_id == merchant.id and ctx.mode == "test"
    async with uow(read_only=True) as tx:
        callback = await tx.webhooks.get_endpoint(merchant.id, "test", CALLBACK_ALIAS)
        assert await tx.merchants.count() == 1
    assert callback is not None and callback.url == "https://shop.example/cb"


async def test_a_saved_card_is_listed_until_deleted_and_its_events_are_kept() -> None:
    uow, cipher = InMemoryUnitOfWorkFactory(), _keyring()
    save = SaveCard("mer_1", "test", "shopper-1", _card(), None, True, None, "cl_test_1")
    card = await save_card(save, uow=uow, cipher=cipher, now=utcnow())

    assert [c.card_token for c in await list_cards("mer_1", "test", "shopper-1", uow=uow)] == [card.card_token]
    await delete_card("mer_1", "test", card.card_token, uow=uow, now=utcnow())

    assert await list_cards("mer_1", "test", "shopper-1", uow=uow) == []
    assert uow.store.cards[card.id].pan_ciphertext == b""
    assert [e.type for e in uow.store.events][0] == CARD_SAVED


async def test_leaving_without_commit_discards_every_write() -> None:
    store = InMemoryStore()
    uow = InMemoryUnitOfWorkFactory(store)
    payment = _payment()

    async with uow() as tx:
        await tx.payments.add(payment)
        await tx.events.add(Event("mer_1", "test", PAYMENT_COMPLETED, payment.id, {}, utcnow()))
        assert await tx.payments.get_by_id(payment.id) is not None  # the transaction sees its own write
    async with uow() as tx:
        await tx.payments.add(_payment())
        await tx.rollback()
        await tx.commit()  # nothing left to apply

    assert store.payments == {} and store.events == []


async def test_reads_are_copies_that_never_share_objects_with_the_store() -> None:
    uow = InMemoryUnitOfWorkFactory()
    payment = _payment()
    async with uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()

    async with uow() as tx:
        read = await tx.payments.get("mer_1", "test", payment.id)
        assert read is not None
        read.amount_captured = 999  # changed, never saved

    async with uow() as tx:
        again = await tx.payments.get("mer_1", "test", payment.id)
    assert again is not None and again.amount_captured == 0 and again is not read
    assert await _get(uow, "mer_2", payment.id) is None


async def _get(uow: InMemoryUnitOfWorkFactory, merchant_id: str, payment_id: str) -> Payment | None:
    async with uow(read_only=True) as tx:
        return await tx.payments.get(merchant_id, "test", payment_id)


async def test_saving_a_payment_read_before_another_committed_save_is_a_concurrent_update() -> None:
    uow = InMemoryUnitOfWorkFactory()
    payment = _payment()
    async with uow() as tx:
        await tx.payments.add(payment)
        await tx.commit()

    async with uow() as first, uow() as second:
        mine = await first.payments.get_by_id_for_update(payment.id)
        theirs = await second.payments.get_by_id_for_update(payment.id)
        assert mine is not None and theirs is not None
        mine.record(mine.operations[0].id, ProcessorResult(Outcome.APPROVED, processor_ref="ref-1"), utcnow())
        await first.payments.save(mine)
        await first.commit()
        with pytest.raises(ConcurrentUpdateError):
            await second.payments.save(theirs)

    stored = await _get(uow, "mer_1", payment.id)
    assert stored is not None and stored.version == 1 and stored.processor_ref == "ref-1"
    assert stored.new_operations == [] and stored.events == []  # flushed, as a fresh read from SQL would be
    assert [e.type for e in uow.store.events] == [PAYMENT_COMPLETED]
