"""rate counters: a dialect's request rate limits, counted in the database

`rate_counters` holds one counter per key and fixed window (OPPWA's status calls per payment), raised
atomically like a velocity counter and purged by the worker once `ends_at` has passed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_counters"),
    )


def downgrade() -> None:
    op.drop_table("rate_counters")
