"""The vault in SQL: saved cards, single-use card tokens, and the wrapped data keys that seal them.

One mapping per table (see `storage.rows`). Card data lives only in `*_ciphertext` columns; re-encryption
after a key rotation finds and replaces ciphertexts across both card tables here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tessera.core.ports import StoredCiphertext
from tessera.core.vault.brands import Brand
from tessera.core.vault.cards import CardStatus, CardType, SavedCard, pan_context
from tessera.core.vault.crypto import WrappedKey
from tessera.core.vault.tokens import CardToken, token_context
from tessera.storage import tables as t
from tessera.storage.engine import Conn
from tessera.storage.rows import attributes, columns, picked, update_by_key

# ---------------------------------------------------------------------------------------------- tokens

# Columns holding the token's attribute of the same name, unchanged.
_TOKEN_PLAIN = (
    "id",
    "merchant_id",
    "mode",
    "pan_ciphertext",
    "cvv_ciphertext",
    "bin",
    "last4",
    "brand",
    "exp_month",
    "exp_year",
    "holder_name",
    "created_at",
    "expires_at",
    "used_at",
    "payment_id",
)
_TOKEN_MUTABLE = ("used_at", "cvv_ciphertext", "payment_id")  # what using a token changes


def _token_row(token: CardToken) -> dict[str, Any]:
    return attributes(token, _TOKEN_PLAIN) | {"key_version": token.key_version}


def _token(row: Row[Any]) -> CardToken:
    return CardToken(**columns(row, _TOKEN_PLAIN))  # the key version is read from the ciphertext itself


_INSERT_TOKEN = insert(t.card_tokens)
_MARK_TOKEN_USED = update_by_key(t.card_tokens, _TOKEN_MUTABLE)
_TOKEN_SCOPED = select(t.card_tokens).where(
    t.card_tokens.c.id == bindparam("token_id"),
    t.card_tokens.c.merchant_id == bindparam("merchant_id"),
    t.card_tokens.c.mode == bindparam("mode"),
)
_TOKEN_SCOPED_LOCKED = _TOKEN_SCOPED.with_for_update()


class SqlTokenRepository:
    def __init__(self, conn: Conn, *, for_update: bool) -> None:
        self._conn = conn
        self._for_update = for_update

    # A token is made and redeemed on every token-then-payment: these three run by the driver
    # (`storage.prepared`), as a payment's own statements do.
    async def add(self, token: CardToken) -> None:
        await self._conn.write(_INSERT_TOKEN, _token_row(token))

    async def get_for_update(self, merchant_id: str, mode: str, token_id: str) -> CardToken | None:
        query = _TOKEN_SCOPED_LOCKED if self._for_update else _TOKEN_SCOPED
        params = {"token_id": token_id, "merchant_id": merchant_id, "mode": mode}
        rows = await self._conn.read(query, params)
        return _token(rows[0]) if rows else None

    async def mark_used(self, token: CardToken) -> None:
        await self._conn.write(_MARK_TOKEN_USED, picked(_token_row(token), _TOKEN_MUTABLE) | {"w_key": token.id})

    async def erase_expired_secrets(self, now: datetime) -> int:
        c = t.card_tokens.c
        result = await self._conn.execute(
            update(t.card_tokens).where(c.expires_at <= now, c.cvv_ciphertext.is_not(None)).values(cvv_ciphertext=None)
        )
        return int(result.rowcount)


# ----------------------------------------------------------------------------------------------- cards

# Columns holding the card's attribute of the same name, unchanged.
_CARD_PLAIN = (
    "id",
    "card_token",
    "merchant_id",
    "mode",
    "identifier",
    "bin",
    "last4",
    "exp_month",
    "exp_year",
    "holder_name",
    "nickname",
    "label",
    "key_version",
    "fingerprint",
    "network_token",
    "consent_at",
    "consent_ip",
    "consent_credential",
    "created_at",
    "deleted_at",
)
_CARD_MUTABLE = ("status", "deleted_at", "pan_ciphertext")  # what deleting a card changes


def _card_row(card: SavedCard) -> dict[str, Any]:
    return attributes(card, _CARD_PLAIN) | {
        "brand": card.brand.value,
        "card_type": card.card_type.value if card.card_type else None,
        "status": card.status.value,
        # A deleted card keeps no PAN: it can never be used again.
        "pan_ciphertext": (card.pan_ciphertext or None) if card.status is CardStatus.ACTIVE else None,
    }


def _card(row: Row[Any]) -> SavedCard:
    return SavedCard(
        **columns(row, _CARD_PLAIN),
        brand=Brand(row.brand),
        card_type=CardType(row.card_type) if row.card_type else None,
        status=CardStatus(row.status),
        pan_ciphertext=row.pan_ciphertext or b"",
    )


_INSERT_CARD = insert(t.cards)
_MARK_CARD_DELETED = update_by_key(t.cards, _CARD_MUTABLE)
_CARD_BY_TOKEN = select(t.cards).where(
    t.cards.c.card_token == bindparam("card_token"),
    t.cards.c.merchant_id == bindparam("merchant_id"),
    t.cards.c.mode == bindparam("mode"),
)


class SqlCardRepository:
    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    # A card is saved, and read back for every payment with it: these two run by the driver
    # (`storage.prepared`), as a payment's own statements do.
    async def add(self, card: SavedCard) -> None:
        await self._conn.write(_INSERT_CARD, _card_row(card))

    async def get(self, merchant_id: str, mode: str, card_token: str) -> SavedCard | None:
        params = {"card_token": card_token, "merchant_id": merchant_id, "mode": mode}
        rows = await self._conn.read(_CARD_BY_TOKEN, params)
        return _card(rows[0]) if rows else None

    async def find_active(self, merchant_id: str, mode: str, identifier: str, fingerprint: str) -> SavedCard | None:
        c = t.cards.c
        row = (
            await self._conn.execute(
                select(t.cards).where(
                    c.merchant_id == merchant_id,
                    c.mode == mode,
                    c.identifier == identifier,
                    c.fingerprint == fingerprint,
                    c.status == CardStatus.ACTIVE.value,
                )
            )
        ).first()
        return _card(row) if row else None

    async def list_active(self, merchant_id: str, mode: str, identifier: str) -> list[SavedCard]:
        c = t.cards.c
        rows = await self._conn.execute(
            select(t.cards)
            .where(
                c.merchant_id == merchant_id,
                c.mode == mode,
                c.identifier == identifier,
                c.status == CardStatus.ACTIVE.value,
            )
            .order_by(c.id.desc())
        )
        return [_card(r) for r in rows]

    async def mark_deleted(self, card: SavedCard) -> None:
        await self._conn.execute(_MARK_CARD_DELETED, picked(_card_row(card), _CARD_MUTABLE) | {"w_key": card.id})


# ------------------------------------------------------------------------------------------ vault keys

_VAULT_KEY_MUTABLE = ("kek_version", "wrapped_key")  # what re-wrapping under a new KEK changes


def _vault_key_row(key: WrappedKey, created_at: datetime | None) -> dict[str, Any]:
    """The key's row; `created_at` is not part of the key, so an update passes None (it never changes)."""
    return {
        "version": key.version,
        "kek_version": key.kek_version,
        "wrapped_key": key.wrapped,
        "created_at": created_at,
    }


def _vault_key(row: Row[Any]) -> WrappedKey:
    return WrappedKey(row.version, row.kek_version, row.wrapped_key)


_REWRAP = update_by_key(t.vault_keys, _VAULT_KEY_MUTABLE, key="version")


class SqlVaultKeyRepository:
    def __init__(self, conn: Conn, *, sqlite: bool) -> None:
        self._conn = conn
        self._insert = sqlite_insert if sqlite else pg_insert

    async def data_keys(self) -> list[WrappedKey]:
        rows = await self._conn.execute(select(t.vault_keys).order_by(t.vault_keys.c.version))
        return [_vault_key(r) for r in rows]

    async def add_data_key(self, key: WrappedKey, created_at: datetime) -> bool:
        statement = self._insert(t.vault_keys).values(_vault_key_row(key, created_at)).on_conflict_do_nothing()
        return bool((await self._conn.execute(statement)).rowcount == 1)

    async def rewrap(self, key: WrappedKey) -> None:
        row = picked(_vault_key_row(key, None), _VAULT_KEY_MUTABLE)
        await self._conn.execute(_REWRAP, row | {"w_key": key.version})

    async def count_stale(self, current: int) -> int:
        cards = (
            await self._conn.execute(
                select(func.count())
                .select_from(t.cards)
                .where(t.cards.c.key_version != current, t.cards.c.pan_ciphertext.is_not(None))
            )
        ).scalar_one()
        k = t.card_tokens.c
        tokens = (
            await self._conn.execute(
                select(func.count() + func.count(k.cvv_ciphertext)).where(k.key_version != current)
            )
        ).scalar_one()
        return int(cards) + int(tokens)  # fields, as re-encryption counts them

    async def stale_ciphertexts(self, current: int, limit: int) -> list[StoredCiphertext]:
        found: list[StoredCiphertext] = []
        c = t.cards.c
        for row in await self._conn.execute(
            select(c.id, c.pan_ciphertext, c.key_version)
            .where(c.key_version != current, c.pan_ciphertext.is_not(None))
            .order_by(c.id)
            .limit(limit)
        ):
            found.append(
                StoredCiphertext(
                    "cards", row.id, "pan_ciphertext", pan_context(row.id), row.pan_ciphertext, row.key_version
                )
            )
        if len(found) >= limit:
            return found
        k = t.card_tokens.c
        for row in await self._conn.execute(
            select(k.id, k.pan_ciphertext, k.cvv_ciphertext, k.key_version)
            .where(k.key_version != current)
            .order_by(k.id)
            .limit(limit - len(found))
        ):
            found.append(
                StoredCiphertext(
                    "card_tokens",
                    row.id,
                    "pan_ciphertext",
                    token_context(row.id, "pan"),
                    row.pan_ciphertext,
                    row.key_version,
                )
            )
            if row.cvv_ciphertext is not None:
                found.append(
                    StoredCiphertext(
                        "card_tokens",
                        row.id,
                        "cvv_ciphertext",
                        token_context(row.id, "cvv"),
                        row.cvv_ciphertext,
                        row.key_version,
                    )
                )
        return found

    async def replace_ciphertexts(self, updates: Sequence[StoredCiphertext]) -> None:
        by_table: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in updates:
            by_table.setdefault((item.table, item.field), []).append(
                {"w_id": item.row_id, "w_value": item.ciphertext, "w_version": item.key_version}
            )
        for (table_name, field), rows in by_table.items():
            table = t.metadata.tables[table_name]
            statement = (
                update(table)
                .where(table.c.id == bindparam("w_id"))
                .values({field: bindparam("w_value"), "key_version": bindparam("w_version")})
            )
            await self._conn.execute(statement, rows)
