"""Webhook retention (docs/webhooks.md "How long the log is kept"): the index of a delivery's
event leads with ``event_id``, so that deleting an old event (whose foreign key from
``webhook_deliveries`` is checked for each deleted event, on SQLite and PostgreSQL alike)
looks its deliveries up instead of scanning them.  Same columns as before, in the other order:
one index as before, so the outbox's inserts cost what they did.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_webhook_deliveries_event_id", "webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_event_id", "webhook_deliveries", ["event_id", "project_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_event_id", "webhook_deliveries")
    op.create_index(
        "ix_webhook_deliveries_event_id", "webhook_deliveries", ["project_id", "event_id"]
    )
