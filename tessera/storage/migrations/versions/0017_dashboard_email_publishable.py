"""the dashboard: the payment list's customer-email filter through an index, and publishable keys shown

A payment's customer email (lower-cased, from its `customer`, which never changes) gets a column of its
own and an index beside the other filters', so the filter is a range read on a million payments rather
than a walk of the merchant's; existing payments are filled in. The reference index gains the id. A
publishable key is public by design (it goes into the shopper's browser): it is now kept whole, beside
its hash, so API Access can show it; secret keys stay hashes only. Keys made before this have none and
show their prefix.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("customer_email", sa.String(254), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("public_value", sa.String(80), nullable=True))
    email = (
        "json_extract(customer, '$.email')"
        if op.get_bind().dialect.name == "sqlite"
        else "(customer::json ->> 'email')"
    )
    op.execute(
        f"UPDATE payments SET customer_email = lower(trim({email})) "
        f"WHERE customer IS NOT NULL AND length(trim({email})) BETWEEN 3 AND 254"
    )
    op.create_index("ix_payments_dash_email", "payments", ["merchant_id", "mode", "customer_email", "id"])
    # The reference index ends in the id too, so the list filtered by reference is read newest first from it
    # (SQLite otherwise walks the merchant's whole list to skip the sort): the same index, one column longer.
    op.drop_index("ix_payments_reference", table_name="payments")
    op.create_index("ix_payments_reference", "payments", ["merchant_id", "mode", "reference", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_reference", table_name="payments")
    op.create_index("ix_payments_reference", "payments", ["merchant_id", "mode", "reference"])
    op.drop_index("ix_payments_dash_email", table_name="payments")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("public_value")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("customer_email")
