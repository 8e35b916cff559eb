"""webhook endpoints, deliveries and attempts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from tessera.core.ids import new_id

# The seed 000 callback's event types as this release defines them (a migration keeps its own copy).
CALLBACK_EVENT_TYPES = ("payment.authorized", "payment.completed", "payment.expired", "payment.failed")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")
_UNDISPATCHED = sa.text("dispatched_at IS NULL")
_FINISHED = sa.text("status <> 'pending'")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("enabled_events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("previous_secret", sa.String(length=100), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_webhook_endpoints_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index("ix_webhook_endpoints_merchant", "webhook_endpoints", ["merchant_id", "mode", "status"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("claim_token", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        sqlite_where=_PENDING,
        postgresql_where=_PENDING,
    )
    op.create_index("ix_webhook_deliveries_order", "webhook_deliveries", ["endpoint_id", "payment_id", "sequence"])
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "sequence"])
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["endpoint_id", "event_id"], unique=True)
    op.create_index(
        "ix_webhook_deliveries_finished",
        "webhook_deliveries",
        ["completed_at"],
        sqlite_where=_FINISHED,
        postgresql_where=_FINISHED,
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("response_excerpt", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "attempted_at"])
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    # Events written before webhooks existed have nowhere to go: mark them dispatched.
    op.execute(sa.text("UPDATE events SET dispatched_at = created_at"))
    op.create_index(
        "ix_events_undispatched", "events", ["seq"], sqlite_where=_UNDISPATCHED, postgresql_where=_UNDISPATCHED
    )
    # Webhook secrets are Standard Webhooks secrets: `whsec_` and standard Base64. Earlier merchants
    # were given URL-safe Base64; the same bytes in the standard alphabet keep their secret unchanged.
    op.execute(
        sa.text(
            "UPDATE merchants SET webhook_secret = "
            "'whsec_' || REPLACE(REPLACE(SUBSTR(webhook_secret, 7), '-', '+'), '_', '/') "
            "WHERE webhook_secret LIKE 'whsec%'"
        )
    )
    _callback_endpoints_for_existing_merchants()


def _callback_endpoints_for_existing_merchants() -> None:
    """A merchant made with a callback URL before webhooks existed gets its callback endpoint, per mode it
    has keys for, so its seed 000 callbacks start with this release."""
    conn = op.get_bind()
    now = datetime.now(UTC)
    merchants = conn.execute(
        sa.text("SELECT id, callback_url, webhook_secret FROM merchants WHERE callback_url IS NOT NULL")
    ).all()
    endpoints = sa.table(
        "webhook_endpoints",
        *(sa.column(name) for name in ("id", "merchant_id", "mode", "kind", "url", "description", "status")),
        sa.column("enabled_events", sa.JSON()),
        sa.column("secret"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    for merchant_id, url, secret in merchants:
        modes = conn.execute(
            sa.text("SELECT DISTINCT mode FROM api_keys WHERE merchant_id = :m ORDER BY mode"), {"m": merchant_id}
        ).scalars()
        for mode in modes:
            conn.execute(
                endpoints.insert().values(
                    id=new_id("we"),
                    merchant_id=merchant_id,
                    mode=mode,
                    kind="callback",
                    url=url,
                    description="seed 000 callback",
                    status="enabled",
                    enabled_events=sorted(CALLBACK_EVENT_TYPES),
                    secret=secret,
                    created_at=now if conn.dialect.name != "sqlite" else now.replace(tzinfo=None),
                    updated_at=now if conn.dialect.name != "sqlite" else now.replace(tzinfo=None),
                )
            )


def downgrade() -> None:
    op.drop_index("ix_events_undispatched", table_name="events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
