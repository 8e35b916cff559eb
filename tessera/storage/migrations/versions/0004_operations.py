"""operations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_processor_ref", ["processor_ref"], unique=False)
        batch_op.create_index("ix_payments_status_age", ["status", "created_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_age")
        batch_op.drop_index("ix_payments_processor_ref")

    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
