"""Webhooks out: subscriptions, their signing secrets, the outbox of events, one delivery per
event and subscription, and every attempt of a delivery (docs/webhooks.md).

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _project() -> sa.Column[int]:
    return sa.Column(
        "project_id", Id, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", Id, primary_key=True),
        _project(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event_types", sa.Text, nullable=False),  # comma-separated, sorted
        sa.Column("per_row", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text, nullable=True),
        sa.Column("disabled_at", UTCDateTime, nullable=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failing_since", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_webhook_subscriptions_project_id", "webhook_subscriptions", ["project_id", "id"]
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("id", Id, primary_key=True),
        _project(),
        sa.Column(
            "subscription_id",
            Id,
            sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("secret", sa.String(64), nullable=False),  # whsec_…: HMAC needs it as is
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),  # NULL: the current secret
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_webhook_secrets_subscription_id", "webhook_secrets", ["subscription_id", "id"]
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(40), primary_key=True),  # evt_…: the receiver's dedup key
        _project(),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("body", sa.Text, nullable=False),  # the JSON sent, byte for byte
    )
    op.create_index("ix_webhook_events_project_id", "webhook_events", ["project_id", "created_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", Id, primary_key=True),
        _project(),
        sa.Column(
            "subscription_id",
            Id,
            sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "event_id",
            sa.String(40),
            sa.ForeignKey("webhook_events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("first_attempt_at", UTCDateTime, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    # The head of each subscription's queue (its oldest pending delivery), and what is due.
    op.create_index(
        "ix_webhook_deliveries_queue",
        "webhook_deliveries",
        ["subscription_id", "status", "id"],
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_event_id", "webhook_deliveries", ["project_id", "event_id"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", Id, primary_key=True),
        _project(),
        sa.Column(
            "delivery_id",
            Id,
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempted_at", UTCDateTime, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_ms", sa.Integer, nullable=True),
        sa.Column("response_head", sa.Text, nullable=True),  # the answer's first 1 KiB
        sa.Column("error", sa.Text, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_secrets")
    op.drop_table("webhook_subscriptions")
