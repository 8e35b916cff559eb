"""Each table's row mapping writes every column, and each update writes only names of that row, so a
column added to a table without its line in the mapping fails here, not in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Table

from tessera.core.clock import utcnow
from tessera.core.merchants import ApiKey, KeyKind, Merchant, MerchantStatus
from tessera.core.payments.events import PAYMENT_COMPLETED, Event
from tessera.core.payments.model import CaptureMethod, CardSnapshot, Payment
from tessera.core.threeds.records import Authentication
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import SavedCard
from tessera.core.vault.crypto import WrappedKey
from tessera.core.vault.tokens import CardToken
from tessera.sandbox.ports import Challenge
from tessera.storage import events, merchants, payments, sandbox, tables, threeds, vault

NOW = utcnow()
PAYMENT, OPERATION = Payment.start(
    merchant_id="mer_1",
    mode="test",
    amount=1000,
    currency="INR",
    capture_method=CaptureMethod.AUTOMATIC,
    card=CardSnapshot("424242", "4242", "visa", 12, 2030),
    processor="sandbox",
    now=NOW,
)
CIPHERTEXT = b"\x01\x00\x01" + b"x" * 40  # a ciphertext header names its data key version
TOKEN = CardToken("tok_1", "mer_1", "test", CIPHERTEXT, None, "424242", "4242", "visa", 12, 2030, None, NOW, NOW)
CARD = SavedCard(
    id="card_1",
    card_token="c0ffee",
    merchant_id="mer_1",
    mode="test",
    identifier="shopper",
    brand=Brand.VISA,
    card_type=None,
    bin="424242",
    last4="4242",
    exp_month=12,
    exp_year=2030,
    holder_name=None,
    nickname=None,
    label="Visa 4242",
    pan_ciphertext=CIPHERTEXT,
    key_version=1,
    fingerprint="f" * 64,
    network_token="4000000000000002",
    consent_at=NOW,
    consent_ip=None,
    consent_credential="cl_1",
    created_at=NOW,
)
MERCHANT = Merchant("mer_1", "Shop", MerchantStatus.ACTIVE, NOW)
KEY = ApiKey("key_1", "mer_1", "test", KeyKind.SECRET, "cl_1", "h" * 64, "sk_test_abcd", NOW)
AUTHENTICATION = Authentication("au_1", PAYMENT.id, "mer_1", "test", "3ds-1", "2.2.0", "auto", NOW, NOW, NOW)
CHALLENGE = Challenge(
    acs_trans_id="acs-1",
    three_ds_server_trans_id="3ds-1",
    ds_trans_id="ds-1",
    message_version="2.2.0",
    notification_url="https://shop.example/notify",
    merchant_name="Shop",
    amount=1000,
    currency_numeric="356",
    exponent=2,
    masked_card="424242******4242",
    brand="visa",
    created_at=NOW,
    expires_at=NOW + timedelta(minutes=10),
)

MAPPINGS: list[tuple[Table, dict[str, object], tuple[str, ...], set[str]]] = [
    # table, its full row, the names an update writes, columns the store keeps itself
    (tables.payments, payments._payment_row(PAYMENT), payments._PAYMENT_MUTABLE, set()),
    (tables.operations, payments._operation_row(OPERATION, "mer_1"), payments._OPERATION_MUTABLE, set()),
    (
        tables.events,
        events.event_row(Event("mer_1", "test", PAYMENT_COMPLETED, None, {}, NOW)),
        (),
        {"seq", "sequence", "dispatched_at"},
    ),
    (tables.card_tokens, vault._token_row(TOKEN), vault._TOKEN_MUTABLE, set()),
    (tables.cards, vault._card_row(CARD), vault._CARD_MUTABLE, set()),
    (tables.vault_keys, vault._vault_key_row(WrappedKey(1, 1, b"k"), NOW), vault._VAULT_KEY_MUTABLE, set()),
    (tables.merchants, merchants._merchant_row(MERCHANT), (), set()),
    (tables.api_keys, merchants._key_row(KEY), (), {"revoked_at"}),
    (tables.authentications, threeds._authentication_row(AUTHENTICATION), threeds._AUTHENTICATION_MUTABLE, set()),
    (tables.sandbox_challenges, sandbox._challenge_row(CHALLENGE), (), set()),
]


@pytest.mark.parametrize(("table", "row", "mutable", "kept_by_store"), MAPPINGS, ids=[m[0].name for m in MAPPINGS])
def test_a_tables_mapping_writes_every_column_and_updates_only_its_own_names(
    table: Table, row: dict[str, object], mutable: tuple[str, ...], kept_by_store: set[str]
) -> None:
    assert set(row) == set(table.c.keys()) - kept_by_store
    assert set(mutable) <= set(row)
    assert not {"id", "merchant_id", "mode", "created_at"} & set(mutable)  # who and when never change
