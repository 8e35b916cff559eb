"""merchant identities: per merchant and mode, the identifiers and key material a dialect registers
(Paysecure's brand_id and signing key pair), the secret part sealed with the vault's keys

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_identities",
        sa.Column("merchant_id", sa.String(length=40), sa.ForeignKey("merchants.id"), primary_key=True),
        sa.Column("mode", sa.String(length=4), primary_key=True),
        sa.Column("kind", sa.String(length=40), primary_key=True),
        sa.Column("public_id", sa.String(length=100), nullable=False),
        sa.Column("public_data", sa.Text(), nullable=True),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_merchant_identities_public_id", "merchant_identities", ["kind", "public_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_merchant_identities_public_id", table_name="merchant_identities")
    op.drop_table("merchant_identities")
