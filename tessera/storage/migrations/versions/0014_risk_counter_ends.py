"""velocity counters say when their window ends, indexed, so the worker's purge reads only ended ones

The worker's purge found ended counters by joining each counter to its rule's window: a scan of the whole
table, every second, in a write transaction, that grew with every shopper of the windows (one row per key
per rule). `ends_at` (epoch seconds: the window's start plus the rule's window) is set when a counter is
made and indexed, so the purge is a range read of the ended rows. A rule's counters go with the rule.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_counters") as batch:
        batch.add_column(sa.Column("ends_at", sa.BigInteger(), nullable=True))
    # A counter whose rule is gone ends at once (the purge takes it).
    op.execute(
        "UPDATE risk_counters SET ends_at = window_start + COALESCE("
        "(SELECT window_seconds FROM risk_rules WHERE risk_rules.id = risk_counters.rule_id), 0)"
    )
    with op.batch_alter_table("risk_counters") as batch:
        batch.alter_column("ends_at", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_risk_counters_ends", "risk_counters", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_risk_counters_ends", table_name="risk_counters")
    with op.batch_alter_table("risk_counters") as batch:
        batch.drop_column("ends_at")
