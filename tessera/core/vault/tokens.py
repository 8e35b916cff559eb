"""Single-use card tokens (seed 002's `tok_`): card data held encrypted for thirty minutes.

The CVV inside a token is erased when the token is used or expires; the PAN ciphertext stays with the
used token only as long as storage keeps the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tessera.core.errors import ErrorCode, NotFoundError, ValidationError
from tessera.core.ids import new_id
from tessera.core.ports import Cipher, UnitOfWork, UnitOfWorkFactory
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry


@dataclass(slots=True)
class CardToken:
    id: str
    merchant_id: str
    mode: str
    pan_ciphertext: bytes
    cvv_ciphertext: bytes | None
    bin: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int
    holder_name: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    payment_id: str | None = None

    @property
    def key_version(self) -> int:
        return int.from_bytes(self.pan_ciphertext[1:3], "big")

    def __repr__(self) -> str:
        return f"CardToken(id={self.id!r}, card={self.bin}…{self.last4}, used={self.used_at is not None})"


def token_context(token_id: str, field: str) -> bytes:
    return f"token:{token_id}:{field}".encode()


async def create_token(
    merchant_id: str,
    mode: str,
    card: CardData,
    *,
    uow: UnitOfWorkFactory,
    cipher: Cipher,
    ttl: timedelta,
    now: datetime,
) -> CardToken:
    # A token carries a card the shopper is entering now: seed 000 requires the CVV for every new card
    # transaction. Payments that may go without one (saved cards, merchant-initiated rebills) never
    # pass through a token.
    if card.cvv is None:
        raise ValidationError(
            "card.cvc is required to tokenize a card", code=ErrorCode.PARAMETER_MISSING, field="card.cvc"
        )
    token_id = new_id("tok")
    token = CardToken(
        id=token_id,
        merchant_id=merchant_id,
        mode=mode,
        pan_ciphertext=cipher.encrypt(card.pan.reveal().encode(), context=token_context(token_id, "pan")),
        cvv_ciphertext=cipher.encrypt(card.cvv.reveal().encode(), context=token_context(token_id, "cvv")),
        bin=card.pan.bin,
        last4=card.pan.last4,
        brand=card.pan.brand.value,
        exp_month=card.expiry.month,
        exp_year=card.expiry.year,
        holder_name=card.holder_name,
        created_at=now,
        expires_at=now + ttl,
    )
    async with uow() as tx:
        await tx.tokens.add(token)
        await tx.commit()
    return token


async def redeem_token(
    tx: UnitOfWork,
    merchant_id: str,
    mode: str,
    token_id: str,
    *,
    cipher: Cipher,
    now: datetime,
    payment_id: str,
) -> CardData:
    """Use a token once, inside the caller's transaction: its CVV is erased as it is read."""
    token = await tx.tokens.get_for_update(merchant_id, mode, token_id)
    if token is None:
        raise NotFoundError("no such token", field="token")
    if token.used_at is not None:
        raise ValidationError("this token has already been used", code=ErrorCode.TOKEN_ALREADY_USED, field="token")
    if token.expires_at <= now:
        raise ValidationError("this token has expired", code=ErrorCode.TOKEN_EXPIRED, field="token")
    pan_digits = await cipher.decrypt(token.pan_ciphertext, context=token_context(token.id, "pan"))
    pan = PAN.parse(pan_digits.decode(), field="token")
    cvv = None
    if token.cvv_ciphertext is not None:
        raw = (await cipher.decrypt(token.cvv_ciphertext, context=token_context(token.id, "cvv"))).decode()
        cvv = CVV.parse(raw, pan.brand, field="token")
    expiry = Expiry.parse(token.exp_month, token.exp_year, month_field="token", year_field="token", now=now)
    token.used_at = now
    token.cvv_ciphertext = None
    token.payment_id = payment_id
    await tx.tokens.mark_used(token)
    return CardData(pan=pan, expiry=expiry, cvv=cvv, holder_name=token.holder_name)
