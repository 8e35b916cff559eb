"""webhook endpoints name their format; the callback endpoint is the only home of the callback URL

Each endpoint records the dialect-provided webhook format its deliveries are rendered in: "native" for
every endpoint made through the API, "eximpe" (seed 000's callback) for the merchants' callback
endpoints. `merchants.callback_url` goes: the callback endpoint was already what deliveries used, and
two copies could disagree after an update.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("format", sa.String(length=40), nullable=False, server_default="native"))
    op.execute(sa.text("UPDATE webhook_endpoints SET format = 'eximpe' WHERE kind = 'callback'"))
    # Other tables point at these two: recreating either (batch's default on SQLite) would break their
    # foreign keys, so columns are dropped in place (SQLite 3.35 and later can).
    with op.batch_alter_table("merchants", recreate="never") as batch:
        batch.drop_column("callback_url")


def downgrade() -> None:
    with op.batch_alter_table("merchants") as batch:
        batch.add_column(sa.Column("callback_url", sa.Text(), nullable=True))
    # The URL comes back from the merchant's live-enabled callback endpoint, else its test one.
    op.execute(
        sa.text(
            "UPDATE merchants SET callback_url = ("
            "SELECT e.url FROM webhook_endpoints e WHERE e.merchant_id = merchants.id AND e.kind = 'callback' "
            "AND e.status != 'deleted' ORDER BY e.status = 'enabled' DESC, e.mode ASC LIMIT 1)"
        )
    )
    with op.batch_alter_table("webhook_endpoints", recreate="never") as batch:
        batch.drop_column("format")
