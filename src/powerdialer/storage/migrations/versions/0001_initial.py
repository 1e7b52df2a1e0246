"""Projects, API keys, campaigns and campaign rows (with the dialer's working columns).

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey("projects.id", ondelete="CASCADE", name="fk_api_keys_project_id"),
            nullable=False,
        ),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("project_id", "key_id", name="uq_api_keys_project_id_key_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "campaigns",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey("projects.id", ondelete="CASCADE", name="fk_campaigns_project_id"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("duplicate_policy", sa.String(16), nullable=False, server_default="skip"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("project_id", "id", name="uq_campaigns_project_id_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_campaigns_project_id_created_at", "campaigns", ["project_id", "created_at"])
    op.create_table(
        "campaign_rows",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("fio", sa.String(255), nullable=True),
        sa.Column("phone_raw", sa.String(64), nullable=False),
        sa.Column("phone_e164", sa.String(16), nullable=False),
        sa.Column("duplicate_no", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("extra", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("last_outcome", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id", "campaign_id"],
            ["campaigns.project_id", "campaigns.id"],
            ondelete="CASCADE",
            name="fk_campaign_rows_project_id_campaign_id",
        ),
        sa.UniqueConstraint(
            "project_id",
            "campaign_id",
            "phone_e164",
            "duplicate_no",
            name="uq_campaign_rows_project_id_campaign_id_phone_e164_duplicate_no",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_campaign_rows_project_id_campaign_id_id",
        "campaign_rows",
        ["project_id", "campaign_id", "id"],
    )
    op.create_index(
        "ix_campaign_rows_project_id_campaign_id_status_next_attempt_at",
        "campaign_rows",
        ["project_id", "campaign_id", "status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_table("campaign_rows")
    op.drop_table("campaigns")
    op.drop_table("api_keys")
    op.drop_table("projects")
