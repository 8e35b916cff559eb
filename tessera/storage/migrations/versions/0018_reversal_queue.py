"""the queue of ISO 8583 time-out reversals

A reversal is queued in the transaction that fails its payment with NETWORK_ERROR, and the worker sends
it until the acquirer acknowledges it; due reversals are read by (acknowledged_at, next_attempt_at).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reversal_queue",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("payment_id", sa.String(40), nullable=False),
        sa.Column("operation_id", sa.String(40), nullable=False),
        sa.Column("processor", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("original_data", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_response", sa.String(12)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name="fk_reversal_queue_payment_id_payments"),
        sa.PrimaryKeyConstraint("id", name="pk_reversal_queue"),
    )
    op.create_index("ix_reversal_queue_due", "reversal_queue", ["acknowledged_at", "next_attempt_at"])
    op.create_index("ix_reversal_queue_payment", "reversal_queue", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_reversal_queue_payment", table_name="reversal_queue")
    op.drop_index("ix_reversal_queue_due", table_name="reversal_queue")
    op.drop_table("reversal_queue")
