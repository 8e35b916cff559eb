"""What the vault makes of a card: network tokens of saved cards, and the CVV a card token needs."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tessera.core.errors import ErrorCode, ValidationError
from tessera.core.vault.crypto import KeyEncryptionKeys, Keyring, new_data_key
from tessera.core.vault.pan import CVV, PAN, CardData, Expiry, luhn_valid
from tessera.core.vault.service import SaveCard, build_card
from tessera.core.vault.tokens import create_token

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IN_THE_VISA_TOKEN_RANGE = "4999990000000007"  # a card whose own BIN lies in the range Visa tokens come from


def _ring() -> Keyring:
    keks = KeyEncryptionKeys({1: secrets.token_bytes(32)}, 1)
    ring = Keyring(keks, secrets.token_bytes(32))
    ring.install([keks.wrap(1, new_data_key())])
    return ring


def _card(number: str, cvv: str | None = None) -> CardData:
    pan = PAN.parse(number)
    return CardData(
        pan=pan,
        expiry=Expiry.parse(12, 2030, now=NOW),
        cvv=CVV.parse(cvv, pan.brand) if cvv else None,
        holder_name=None,
    )


def _save(number: str, *, merchant_id: str = "mer_a", identifier: str = "cust_1") -> SaveCard:
    return SaveCard(
        merchant_id=merchant_id,
        mode="test",
        identifier=identifier,
        card=_card(number),
        card_type=None,
        consent=True,
        consent_ip=None,
        credential="cli_test",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"identifier": "cust_1"}, {"identifier": "cust_2"}),
        ({"merchant_id": "mer_a"}, {"merchant_id": "mer_b"}),
    ],
    ids=["two owners", "two merchants"],
)
def test_the_same_card_saved_twice_gets_two_network_tokens(first: dict[str, str], second: dict[str, str]) -> None:
    ring = _ring()
    one = build_card(_save("5506900480000008", **first), cipher=ring, now=NOW)
    other = build_card(_save("5506900480000008", **second), cipher=ring, now=NOW)
    assert one.fingerprint == other.fingerprint  # the vault still knows it is the same card
    assert one.network_token != other.network_token  # but nobody outside it can tell


@pytest.mark.parametrize(
    ("number", "length"),
    [
        ("4242424242424242", 16),
        ("4222222222222", 16),
        ("4999991234567890129", 16),
        ("5506900480000008", 16),
        ("2223003122003222", 16),
        ("378282246310005", 15),
        ("6011111111111117", 16),
        ("3530111333300000", 16),
        ("36227206271667", 16),
        ("6521123456789012", 16),
        ("6200000000000005", 16),
        ("6759649826438453", 16),
        (IN_THE_VISA_TOKEN_RANGE, 16),
    ],
)
def test_a_network_token_is_a_number_of_the_cards_brand_that_shares_nothing_else_with_it(
    number: str, length: int
) -> None:
    ring = _ring()
    pan = PAN.parse(number)
    for _ in range(300):  # drawn at random: enough draws that a token in the card's own BIN would show up
        token = build_card(_save(number), cipher=ring, now=NOW).network_token
        assert len(token) == length and luhn_valid(token)
        assert PAN.parse(token).brand is pan.brand
        assert not token.startswith(pan.bin)
        assert number not in token and token not in number


def test_network_tokens_of_one_card_never_repeat() -> None:
    ring = _ring()
    tokens = {build_card(_save("4242424242424242"), cipher=ring, now=NOW).network_token for _ in range(500)}
    assert len(tokens) == 500


async def test_a_card_token_is_refused_without_the_cvv() -> None:
    def no_storage(**_: object) -> object:
        raise AssertionError("nothing is stored for a refused card")

    with pytest.raises(ValidationError) as caught:
        await create_token(
            "mer_a",
            "test",
            _card("4242424242424242"),
            uow=no_storage,  # type: ignore[arg-type]
            cipher=_ring(),
            ttl=timedelta(minutes=30),
            now=NOW,
        )
    assert caught.value.code is ErrorCode.PARAMETER_MISSING and caught.value.field == "card.cvc"
