"""idempotency keys carry a lease, its holder and a recovery point

A key claimed by a request that then crashed no longer stays locked until it expires: `locked_until`
is the holder's lease, `claim` names the holder (a retry that takes the key over after the lease
gets a new one, and the old holder's writes under the key are refused), and `resource_id` is the
payment the request created or changed, recorded in the same transaction, so a retry returns that
payment's outcome instead of charging again. Keys already in flight before this revision have no
recovery point: their lease is their expiry, as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("claim", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resource_id", sa.String(length=40), nullable=True))
    op.execute(sa.text("UPDATE idempotency_keys SET locked_until = expires_at"))
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("locked_until", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("resource_id")
        batch.drop_column("locked_until")
        batch.drop_column("claim")
