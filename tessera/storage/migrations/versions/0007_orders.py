"""seed 000's orders on payments: mop_type, a unique order reference, order details, a card to save

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("mop_type", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("order_reference", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("order_details", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("card_to_save", sa.JSON(), nullable=True))
        # NULLs never collide, so only EximPe orders (which carry a reference_id) are held unique.
        batch.create_index("ix_payments_order_reference", ["merchant_id", "mode", "order_reference"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_order_reference")
        batch.drop_column("card_to_save")
        batch.drop_column("order_details")
        batch.drop_column("order_reference")
        batch.drop_column("mop_type")
