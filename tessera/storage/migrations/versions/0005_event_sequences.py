"""event sequences

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_sequences",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "mode", name=op.f("pk_event_sequences")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), server_default="0", nullable=False))
    # Number the events already written, per merchant and mode, in the order they were committed.
    conn = op.get_bind()
    last: dict[tuple[str, str], int] = {}
    for seq, merchant_id, mode in conn.execute(sa.text("SELECT seq, merchant_id, mode FROM events ORDER BY seq")):
        number = last.get((merchant_id, mode), 0) + 1
        last[(merchant_id, mode)] = number
        conn.execute(sa.text("UPDATE events SET sequence = :n WHERE seq = :s"), {"n": number, "s": seq})
    for (merchant_id, mode), number in last.items():
        conn.execute(
            sa.text("INSERT INTO event_sequences (merchant_id, mode, last_sequence) VALUES (:m, :o, :n)"),
            {"m": merchant_id, "o": mode, "n": number},
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_sequence", ["merchant_id", "mode", "sequence"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_sequence")
        batch_op.drop_column("sequence")
    op.drop_table("event_sequences")
