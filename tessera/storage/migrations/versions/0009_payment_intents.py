"""payment intents and the dialect seam: a channel and its data instead of seed 000's columns, a
unique reference, attempts and their budget, initiator and network transaction id, processor data
committed with each operation, processor references unique per processor

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_CARD_COLUMNS = (
    ("card_bin", sa.String(length=8)),
    ("card_last4", sa.String(length=4)),
    ("card_brand", sa.String(length=20)),
    ("card_exp_month", sa.Integer()),
    ("card_exp_year", sa.Integer()),
)

# The payments columns the data moves touch, as both directions see them (a migration keeps its own copy).
_PAYMENTS = sa.table(
    "payments",
    sa.column("id", sa.String()),
    sa.column("mop_type", sa.String()),
    sa.column("order_reference", sa.String()),
    sa.column("order_details", sa.JSON()),
    sa.column("channel", sa.String()),
    sa.column("channel_data", sa.JSON()),
    sa.column("unique_reference", sa.String()),
    sa.column("original_payment_id", sa.String()),
    sa.column("initiator", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("attempt_budget", sa.Integer(), nullable=False, server_default="3"))
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("processor_data", sa.JSON(), nullable=True))
    with op.batch_alter_table("payments") as batch:
        for name, kind in _CARD_COLUMNS:  # an intent has no card until its first attempt
            batch.alter_column(name, existing_type=kind, nullable=True)
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default="native"))
        batch.add_column(sa.Column("channel_data", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("unique_reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("initiator", sa.String(length=12), nullable=False, server_default="cardholder"))
        batch.add_column(sa.Column("network_transaction_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("attempt_budget", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("attempts", sa.JSON(), nullable=True))
    # Seed 000's orders become the EximPe channel's data; their reference stays unique.
    payments = _PAYMENTS
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(payments.c.id, payments.c.mop_type, payments.c.order_reference, payments.c.order_details).where(
            payments.c.order_reference.is_not(None)
        )
    ).all()
    for row in rows:
        data = {"mop_type": row.mop_type, "order_details": row.order_details}
        conn.execute(
            payments.update()
            .where(payments.c.id == row.id)
            .values(channel="eximpe", channel_data=data, unique_reference=row.order_reference)
        )
    conn.execute(payments.update().where(payments.c.original_payment_id.is_not(None)).values(initiator="merchant"))
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_order_reference")
        batch.drop_index("ix_payments_processor_ref")
        batch.drop_column("order_details")
        batch.drop_column("order_reference")
        batch.drop_column("mop_type")
        batch.create_index("ix_payments_unique_reference", ["merchant_id", "mode", "unique_reference"], unique=True)
        # A reference means something only to the processor that issued it.
        batch.create_index("ix_payments_processor_ref", ["processor", "processor_ref"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_processor_ref")
        batch.drop_index("ix_payments_unique_reference")
        batch.add_column(sa.Column("mop_type", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("order_reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("order_details", sa.JSON(), nullable=True))
    payments = _PAYMENTS
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(payments.c.id, payments.c.channel_data, payments.c.unique_reference).where(
            payments.c.channel == "eximpe"
        )
    ).all()
    for row in rows:
        data = row.channel_data or {}
        conn.execute(
            payments.update()
            .where(payments.c.id == row.id)
            .values(
                mop_type=data.get("mop_type"),
                order_details=data.get("order_details"),
                order_reference=row.unique_reference,
            )
        )
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("attempts")
        batch.drop_column("attempt_budget")
        batch.drop_column("network_transaction_id")
        batch.drop_column("initiator")
        batch.drop_column("unique_reference")
        batch.drop_column("channel_data")
        batch.drop_column("channel")
        batch.create_index("ix_payments_order_reference", ["merchant_id", "mode", "order_reference"], unique=True)
        batch.create_index("ix_payments_processor_ref", ["processor_ref"])
        # Payments made as intents have no card: they cannot go back to a schema that needs one.
        for name, kind in _CARD_COLUMNS:
            batch.alter_column(name, existing_type=kind, nullable=False)
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("processor_data")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("attempt_budget")
