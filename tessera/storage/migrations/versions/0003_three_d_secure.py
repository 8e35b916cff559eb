"""three d secure

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sandbox_challenges",
        sa.Column("acs_trans_id", sa.String(length=36), nullable=False),
        sa.Column("three_ds_server_trans_id", sa.String(length=36), nullable=False),
        sa.Column("ds_trans_id", sa.String(length=36), nullable=False),
        sa.Column("message_version", sa.String(length=8), nullable=False),
        sa.Column("notification_url", sa.Text(), nullable=False),
        sa.Column("merchant_name", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency_numeric", sa.String(length=3), nullable=False),
        sa.Column("exponent", sa.Integer(), nullable=False),
        sa.Column("masked_card", sa.String(length=24), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("form_token_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("acs_trans_id", name=op.f("pk_sandbox_challenges")),
    )
    op.create_table(
        "authentications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("three_ds_server_trans_id", sa.String(length=36), nullable=False),
        sa.Column("acs_trans_id", sa.String(length=36), nullable=True),
        sa.Column("ds_trans_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("trans_status", sa.String(length=1), nullable=True),
        sa.Column("trans_status_reason", sa.String(length=2), nullable=True),
        sa.Column("eci", sa.String(length=2), nullable=True),
        sa.Column("cavv_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("acs_url", sa.Text(), nullable=True),
        sa.Column("challenge", sa.String(length=12), nullable=False),
        sa.Column("card_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("cvv_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=True),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=True),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_authentications_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authentications")),
        sa.UniqueConstraint("three_ds_server_trans_id", name=op.f("uq_authentications_three_ds_server_trans_id")),
    )
    with op.batch_alter_table("authentications", schema=None) as batch_op:
        batch_op.create_index("ix_authentications_challenge", ["challenge", "expires_at"], unique=False)
        batch_op.create_index("ix_authentications_payment", ["payment_id"], unique=False)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_status", sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column("auth_eci", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("auth_version", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("auth_liability_shift", sa.Boolean(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("auth_liability_shift")
        batch_op.drop_column("auth_version")
        batch_op.drop_column("auth_eci")
        batch_op.drop_column("auth_status")

    with op.batch_alter_table("authentications", schema=None) as batch_op:
        batch_op.drop_index("ix_authentications_payment")
        batch_op.drop_index("ix_authentications_challenge")

    op.drop_table("authentications")
    op.drop_table("sandbox_challenges")
