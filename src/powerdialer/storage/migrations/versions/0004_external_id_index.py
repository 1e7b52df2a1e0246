"""A partial index on a row's CRM id (external_id), per project and campaign.

A CRM maps its records back to rows by its own id (``GET …/rows?external_id=``, the web UI's
search box); without an index every such lookup scanned the campaign (0.2-0.9 s at a million
rows).  Partial (``external_id IS NOT NULL``): rows without a CRM id, such as everything the
vendor's endpoint sends, cost no entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NAME = "ix_campaign_rows_project_id_campaign_id_external_id"
WHERE = sa.text("external_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        NAME,
        "campaign_rows",
        ["project_id", "campaign_id", "external_id"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="campaign_rows")
