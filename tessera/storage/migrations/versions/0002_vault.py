"""vault

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "vault_keys",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_vault_keys")),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("card_token", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("card_type", sa.String(length=10), nullable=True),
        sa.Column("bin", sa.String(length=8), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=True),
        sa.Column("nickname", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("pan_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("network_token", sa.String(length=19), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_ip", sa.String(length=45), nullable=True),
        sa.Column("consent_credential", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_cards_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("card_token", name=op.f("uq_cards_card_token")),
    )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cards_fingerprint", ["merchant_id", "mode", "identifier", "fingerprint"], unique=False
        )
        batch_op.create_index("ix_cards_key_version", ["key_version"], unique=False)
        batch_op.create_index("ix_cards_owner", ["merchant_id", "mode", "identifier", "status"], unique=False)

    with op.batch_alter_table("card_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index("ix_card_tokens_key_version", ["key_version"], unique=False)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_token", sa.String(length=40), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("card_token")

    with op.batch_alter_table("card_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_card_tokens_key_version")
        batch_op.drop_column("key_version")

    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index("ix_cards_owner")
        batch_op.drop_index("ix_cards_key_version")
        batch_op.drop_index("ix_cards_fingerprint")

    op.drop_table("cards")
    op.drop_table("vault_keys")
