"""The sandbox ACS's challenges in SQL (`sandbox.ports.ChallengeStore`): a simulated issuer's own
state, kept in Tessera's database for convenience. Each call is its own short transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update

from tessera.sandbox.ports import Challenge, ChallengeState
from tessera.storage import tables as t
from tessera.storage.engine import Database
from tessera.storage.rows import attributes, columns

_C = t.sandbox_challenges
# Columns holding the challenge's attribute of the same name, unchanged.
_CHALLENGE_PLAIN = (
    "acs_trans_id",
    "three_ds_server_trans_id",
    "ds_trans_id",
    "message_version",
    "notification_url",
    "merchant_name",
    "amount",
    "currency_numeric",
    "exponent",
    "masked_card",
    "brand",
    "form_token_hash",
    "expires_at",
    "created_at",
)


def _challenge_row(challenge: Challenge) -> dict[str, Any]:
    return attributes(challenge, _CHALLENGE_PLAIN) | {"state": challenge.state.value}


def _challenge(row: Row[Any]) -> Challenge:
    return Challenge(**columns(row, _CHALLENGE_PLAIN), state=ChallengeState(row.state))


_INSERT = insert(_C)
_BY_ID = select(_C).where(_C.c.acs_trans_id == bindparam("acs_trans_id"))
_WAITING = update(_C).where(_C.c.acs_trans_id == bindparam("w_key"), _C.c.state == ChallengeState.WAITING.value)
_ISSUE_FORM_TOKEN = _WAITING.values(form_token_hash=bindparam("form_token_hash"))
_CLAIM_ANSWER = _WAITING.values(state=ChallengeState.ANSWERED.value)


class SqlChallengeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, challenge: Challenge) -> None:
        async with self._db.begin() as conn:
            await conn.write(_INSERT, _challenge_row(challenge))

    async def get(self, acs_trans_id: str) -> Challenge | None:
        async with self._db.connect() as conn:
            rows = await conn.read(_BY_ID, {"acs_trans_id": acs_trans_id})
        return _challenge(rows[0]) if rows else None

    async def issue_form_token(self, acs_trans_id: str, form_token_hash: str) -> None:
        async with self._db.begin() as conn:
            await conn.write(_ISSUE_FORM_TOKEN, {"w_key": acs_trans_id, "form_token_hash": form_token_hash})

    async def claim_answer(self, acs_trans_id: str) -> bool:
        async with self._db.begin() as conn:  # exactly one answer: only the first post moves `waiting` on
            claimed = await conn.write(_CLAIM_ANSWER, {"w_key": acs_trans_id})
        return claimed == 1
