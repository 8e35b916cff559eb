"""the blocklist's match key carries its merchant and mode, and is unique on its own

Screening looks an attempt's possible matches up by match key. With the key unique only together with
(merchant_id, mode), the look-up shared its two leading equalities with the listing index (merchant_id,
mode, id), and PostgreSQL, before its statistics caught up with a freshly filled list, chose that index
and filtered the merchant's whole list on every payment (7 ms a payment with 10,000 entries). A match key
of `merchant_id:mode:type:value`, unique by itself, is looked up by `match_key IN (...)` alone, which only
its own index answers; the merchant and mode in it keep one merchant's entries from matching another's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_risk_blocklist_match", table_name="risk_blocklist")
    with op.batch_alter_table("risk_blocklist") as batch:
        batch.alter_column("match_key", type_=sa.String(320), existing_nullable=False)
    op.execute("UPDATE risk_blocklist SET match_key = merchant_id || ':' || mode || ':' || match_key")
    op.create_index("ix_risk_blocklist_match", "risk_blocklist", ["match_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_risk_blocklist_match", table_name="risk_blocklist")
    # What follows the second colon after the merchant id and mode (neither holds a colon).
    op.execute("UPDATE risk_blocklist SET match_key = substr(match_key, length(merchant_id) + length(mode) + 3)")
    with op.batch_alter_table("risk_blocklist") as batch:
        batch.alter_column("match_key", type_=sa.String(280), existing_nullable=False)
    op.create_index("ix_risk_blocklist_match", "risk_blocklist", ["merchant_id", "mode", "match_key"], unique=True)
