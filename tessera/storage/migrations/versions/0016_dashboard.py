"""the dashboard: users, sessions, failed sign-ins, the audit log, and the payment list's indexes

Users sign in for one merchant (password as an argon2id hash); a session row is found by the SHA-256 of
its cookie; failed sign-ins are counted per account and per address to throttle guessing; the audit log
records every action. The payment list filters by status, card last 4, dialect, amount and date within a
merchant and mode, newest first by id: one index per filter keeps each a range read. A payment's page
reads its events and webhook deliveries by payment id.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_PAYMENT_INDEXES = {
    "ix_payments_dash_status": ["merchant_id", "mode", "status", "id"],
    "ix_payments_dash_last4": ["merchant_id", "mode", "card_last4", "id"],
    "ix_payments_dash_channel": ["merchant_id", "mode", "channel", "id"],
    "ix_payments_dash_amount": ["merchant_id", "mode", "amount", "id"],
    "ix_payments_dash_created": ["merchant_id", "mode", "created_at"],
}


def upgrade() -> None:
    op.create_table(
        "dashboard_users",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name="fk_dashboard_users_merchant_id_merchants"),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_users"),
        sa.UniqueConstraint("email", name="uq_dashboard_users_email"),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["dashboard_users.id"], name="fk_dashboard_sessions_user_id_dashboard_users"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_dashboard_sessions"),
    )
    op.create_index("ix_dashboard_sessions_user", "dashboard_sessions", ["user_id"])
    op.create_index("ix_dashboard_sessions_expiry", "dashboard_sessions", ["expires_at"])
    op.create_table(
        "dashboard_signin_failures",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dashboard_signin_failures"),
    )
    op.create_index("ix_dashboard_signin_failures_key", "dashboard_signin_failures", ["key", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=True),
        sa.Column("user_email", sa.String(254), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_merchant", "audit_log", ["merchant_id", "id"])
    for name, columns in _PAYMENT_INDEXES.items():
        op.create_index(name, "payments", columns)
    op.create_index("ix_events_payment", "events", ["payment_id"])
    op.create_index("ix_webhook_deliveries_payment", "webhook_deliveries", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_payment", table_name="webhook_deliveries")
    op.drop_index("ix_events_payment", table_name="events")
    for name in _PAYMENT_INDEXES:
        op.drop_index(name, table_name="payments")
    op.drop_index("ix_audit_log_merchant", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_dashboard_signin_failures_key", table_name="dashboard_signin_failures")
    op.drop_table("dashboard_signin_failures")
    op.drop_index("ix_dashboard_sessions_expiry", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_user", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_table("dashboard_users")
