"""The leased rows of a campaign by when their lease runs out: a lease looks for run-out
leases among the campaign's rows on every request, and walked every leased row to find none
(one table read each: with 200 operators on a call, most of a lease's SQL).  Partial, on
``status = 'leased'`` only, so an inserted row (pending) costs it nothing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHERE = sa.text("status = 'leased'")


def upgrade() -> None:
    op.create_index(
        "ix_campaign_rows_expiry",
        "campaign_rows",
        ["project_id", "campaign_id", "lease_expires_at"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_rows_expiry", table_name="campaign_rows")
