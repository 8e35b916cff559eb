"""The demo merchant's sandbox fixtures: the saved card seed 000's examples pay with.

Seed 000's saved-card order names the token `1e6709282a21e83f43a020` for the owner `EX0001`, the card
its new-card order saved (4895 3801 1000 0003, John Doe, 05/2030). So that body runs as written against
a fresh `tessera serve`, the demo merchant starts with that card saved under that token, in test mode
only, as Stripe's test mode offers fixed test payment methods. Saving the same card for `EX0001` again
(seed 000's `save_card: true`) finds it, and answers with the same token.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from tessera.core.ports import Cipher, UnitOfWorkFactory
from tessera.core.vault.cards import CardType
from tessera.core.vault.pan import PAN, CardData, Expiry
from tessera.core.vault.service import SaveCard, build_card

SEED_CARD_TOKEN = "1e6709282a21e83f43a020"
DEMO_DASHBOARD_EMAIL = "demo@tessera.test"
SEED_IDENTIFIER = "EX0001"


async def save_seed_card(merchant_id: str, *, uow: UnitOfWorkFactory, cipher: Cipher, now: datetime) -> str:
    card = CardData(
        pan=PAN.parse("4895380110000003"),
        expiry=Expiry.parse("05", "2030", now=now),
        cvv=None,
        holder_name="John Doe",
    )
    cmd = SaveCard(
        merchant_id=merchant_id,
        mode="test",
        identifier=SEED_IDENTIFIER,
        card=card,
        card_type=CardType.DEBIT,
        consent=True,  # a sandbox fixture: no cardholder exists to consent
        consent_ip=None,
        credential="sandbox-fixture",
        nickname="VISA Debit",
    )
    saved = dataclasses.replace(build_card(cmd, cipher=cipher, now=now), card_token=SEED_CARD_TOKEN)
    async with uow() as tx:
        await tx.cards.add(saved)
        await tx.commit()
    return saved.card_token


def demo_password() -> str:
    """The demo merchant's dashboard password: random per data folder, kept with its credentials."""
    import secrets

    return secrets.token_urlsafe(12)
