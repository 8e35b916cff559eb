"""events are numbered after they commit, not in the writing transaction

The per-merchant counter row (`event_sequences`) was taken by every transaction that wrote an event and
held until it committed, which made a merchant's payments commit one at a time on PostgreSQL. Events are
now written without a number and numbered once committed (storage.events.number_events): `sequence`
becomes nullable (NULL until numbered) with a partial index of the events still to be numbered.
Existing events keep their numbers. Going back numbers any event still without one first.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("sequence", existing_type=sa.BigInteger(), nullable=True, server_default=None)
    op.create_index(
        "ix_events_unnumbered",
        "events",
        ["seq"],
        sqlite_where=sa.text("sequence IS NULL"),
        postgresql_where=sa.text("sequence IS NULL"),
    )


def downgrade() -> None:
    bind = op.get_bind()
    last: dict[tuple[str, str], int] = {
        (m, mode): int(n)
        for m, mode, n in bind.execute(sa.text("SELECT merchant_id, mode, last_sequence FROM event_sequences"))
    }
    for seq, merchant_id, mode in bind.execute(
        sa.text("SELECT seq, merchant_id, mode FROM events WHERE sequence IS NULL ORDER BY seq")
    ).all():
        number = last.get((merchant_id, mode), 0) + 1
        last[(merchant_id, mode)] = number
        bind.execute(sa.text("UPDATE events SET sequence = :n WHERE seq = :s"), {"n": number, "s": seq})
    for (merchant_id, mode), number in last.items():
        bind.execute(
            sa.text("DELETE FROM event_sequences WHERE merchant_id = :m AND mode = :mode"),
            {"m": merchant_id, "mode": mode},
        )
        bind.execute(
            sa.text("INSERT INTO event_sequences (merchant_id, mode, last_sequence) VALUES (:m, :mode, :n)"),
            {"m": merchant_id, "mode": mode, "n": number},
        )
    op.drop_index("ix_events_unnumbered", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("sequence", existing_type=sa.BigInteger(), nullable=False, server_default="0")
