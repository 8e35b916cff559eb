"""The vault's services: save a card, list, fetch and delete saved cards, and open one for a payment.

The PAN is encrypted before it is stored and decrypted only to pay; look-ups of "the same card" use
the keyed fingerprint. Saving writes the card and its `card.saved` event in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tessera.core.errors import ConflictError, ErrorCode, NotFoundError, ValidationError
from tessera.core.ids import new_id
from tessera.core.payments.events import Event
from tessera.core.ports import Cipher, UnitOfWork, UnitOfWorkFactory
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import (
    CardStatus,
    CardType,
    SavedCard,
    card_label,
    new_card_token,
    new_network_token,
    pan_context,
)
from tessera.core.vault.pan import PAN, CardData, Expiry

CARD_SAVED = "card.saved"
CARD_DELETED = "card.deleted"


@dataclass(frozen=True, slots=True)
class SaveCard:
    merchant_id: str
    mode: str
    identifier: str
    card: CardData
    card_type: CardType | None
    consent: bool
    consent_ip: str | None
    credential: str
    nickname: str | None = None
    network: Brand | None = None  # the brand the caller says the card is; must match the number


def fingerprint_of(pan: PAN, cipher: Cipher) -> str:
    return cipher.keyed_hash(b"pan:" + pan.reveal().encode())


def check_save(cmd: SaveCard) -> None:
    if not cmd.consent:
        raise ValidationError("the cardholder's consent is required to save a card", field="card_holder_consent")
    if cmd.network is not None and cmd.network is not cmd.card.pan.brand:
        raise ValidationError("network does not match the card number's brand", field="network")
    if not cmd.identifier.strip():
        raise ValidationError("identifier must not be empty", field="identifier")


def build_card(cmd: SaveCard, *, cipher: Cipher, now: datetime) -> SavedCard:
    card_id = new_id("card")
    pan = cmd.card.pan
    sealed = cipher.encrypt(pan.reveal().encode(), context=pan_context(card_id))
    return SavedCard(
        id=card_id,
        card_token=new_card_token(),
        merchant_id=cmd.merchant_id,
        mode=cmd.mode,
        identifier=cmd.identifier.strip(),
        brand=pan.brand,
        card_type=cmd.card_type,
        bin=pan.bin,
        last4=pan.last4,
        exp_month=cmd.card.expiry.month,
        exp_year=cmd.card.expiry.year,
        holder_name=cmd.card.holder_name,
        nickname=cmd.nickname.strip() if cmd.nickname and cmd.nickname.strip() else None,
        label=card_label(pan.brand, pan.last4, cmd.nickname),
        pan_ciphertext=sealed,
        key_version=int.from_bytes(sealed[1:3], "big"),
        fingerprint=fingerprint_of(pan, cipher),
        network_token=new_network_token(pan),
        consent_at=now,
        consent_ip=cmd.consent_ip,
        consent_credential=cmd.credential,
        created_at=now,
    )


def _saved_event(card: SavedCard, kind: str, now: datetime) -> Event:
    data = {
        "card_token": card.card_token,
        "identifier": card.identifier,
        "brand": card.brand.value,
        "bin": card.bin,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }
    return Event(card.merchant_id, card.mode, kind, None, data, now)


async def store_card(tx: UnitOfWork, cmd: SaveCard, *, cipher: Cipher, now: datetime) -> tuple[SavedCard, bool]:
    """Save inside the caller's transaction; (card, True) if new, (the existing card, False) if this
    identifier already holds this card."""
    check_save(cmd)
    existing = await tx.cards.find_active(
        cmd.merchant_id, cmd.mode, cmd.identifier.strip(), fingerprint_of(cmd.card.pan, cipher)
    )
    if existing is not None:
        return existing, False
    card = build_card(cmd, cipher=cipher, now=now)
    await tx.cards.add(card)
    await tx.events.add(_saved_event(card, CARD_SAVED, now))
    return card, True


async def save_card(cmd: SaveCard, *, uow: UnitOfWorkFactory, cipher: Cipher, now: datetime) -> SavedCard:
    check_save(cmd)
    async with uow() as tx:
        card, created = await store_card(tx, cmd, cipher=cipher, now=now)
        if not created:
            raise ConflictError(
                "this card is already saved for this identifier",
                code=ErrorCode.CARD_ALREADY_SAVED,
                field="card_number",
            )
        await tx.commit()
    return card


async def list_cards(merchant_id: str, mode: str, identifier: str, *, uow: UnitOfWorkFactory) -> Sequence[SavedCard]:
    async with uow(read_only=True) as tx:
        return await tx.cards.list_active(merchant_id, mode, identifier)


async def get_card(merchant_id: str, mode: str, card_token: str, *, uow: UnitOfWorkFactory) -> SavedCard:
    async with uow(read_only=True) as tx:
        card = await tx.cards.get(merchant_id, mode, card_token)
    if card is None or card.status is not CardStatus.ACTIVE:
        raise NotFoundError("no such saved card", field="card_token")
    return card


async def delete_card(
    merchant_id: str, mode: str, card_token: str, *, uow: UnitOfWorkFactory, now: datetime
) -> SavedCard:
    """Deleting erases the encrypted PAN: a deleted card can never be used again."""
    async with uow() as tx:
        card = await tx.cards.get(merchant_id, mode, card_token)
        if card is None or card.status is not CardStatus.ACTIVE:
            raise NotFoundError("no such saved card", field="card_token")
        card.status = CardStatus.DELETED
        card.deleted_at = now
        await tx.cards.mark_deleted(card)
        await tx.events.add(_saved_event(card, CARD_DELETED, now))
        await tx.commit()
    return card


async def open_saved_card(
    tx: UnitOfWork,
    merchant_id: str,
    mode: str,
    card_token: str,
    identifier: str | None,
    *,
    cipher: Cipher,
    now: datetime,
) -> tuple[SavedCard, CardData]:
    """The card behind a token, for a payment by its owner: another merchant's, another identifier's
    or a deleted card is not found."""
    card = await tx.cards.get(merchant_id, mode, card_token)
    if (
        card is None
        or card.status is not CardStatus.ACTIVE
        or (identifier is not None and card.identifier != identifier)
    ):
        raise NotFoundError("no such saved card for this identifier", field="saved_card")
    digits = (await cipher.decrypt(card.pan_ciphertext, context=pan_context(card.id))).decode()
    pan = PAN.parse(digits, field="saved_card")
    expiry = Expiry.parse(card.exp_month, card.exp_year, month_field="saved_card", year_field="saved_card", now=now)
    return card, CardData(pan=pan, expiry=expiry, cvv=None, holder_name=card.holder_name)
