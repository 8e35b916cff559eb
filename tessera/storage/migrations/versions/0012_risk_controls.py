"""risk controls: blocklists, velocity rules and their counters, the API IP allowlist, fees

`risk_blocklist` holds one row per listed value, found by its `match_key` (a card's is its keyed
fingerprint, never its number); `risk_rules` the velocity rules; `risk_counters` a counter per rule,
key and fixed window. Merchants gain their API IP allowlist, charges and a summary of their entries and
rules (so a merchant with none is screened without a query), payments their fee.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("allowed_ips", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("charges", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("risk_summary", sa.JSON(), nullable=True))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("fee", sa.BigInteger(), nullable=True))
    op.create_table(
        "risk_blocklist",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("value", sa.String(260), nullable=False),
        sa.Column("match_key", sa.String(280), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name="fk_risk_blocklist_merchant_id_merchants"),
        sa.PrimaryKeyConstraint("id", name="pk_risk_blocklist"),
    )
    op.create_index("ix_risk_blocklist_match", "risk_blocklist", ["merchant_id", "mode", "match_key"], unique=True)
    op.create_index("ix_risk_blocklist_list", "risk_blocklist", ["merchant_id", "mode", "id"])
    op.create_table(
        "risk_rules",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("key", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(10), nullable=False),
        sa.Column("limit", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name="fk_risk_rules_merchant_id_merchants"),
        sa.PrimaryKeyConstraint("id", name="pk_risk_rules"),
    )
    op.create_index("ix_risk_rules_merchant", "risk_rules", ["merchant_id", "mode", "id"])
    op.create_table(
        "risk_counters",
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "key", "window_start", name="pk_risk_counters"),
    )


def downgrade() -> None:
    op.drop_table("risk_counters")
    op.drop_index("ix_risk_rules_merchant", table_name="risk_rules")
    op.drop_table("risk_rules")
    op.drop_index("ix_risk_blocklist_list", table_name="risk_blocklist")
    op.drop_index("ix_risk_blocklist_match", table_name="risk_blocklist")
    op.drop_table("risk_blocklist")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("fee")
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("risk_summary")
        batch.drop_column("charges")
        batch.drop_column("allowed_ips")
