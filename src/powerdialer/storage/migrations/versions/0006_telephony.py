"""Telephony: how each project places its calls (the method and its fields, secrets
encrypted) and each member's own extension for server-side originate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "telephony_settings",
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey(
                "projects.id", ondelete="CASCADE", name="fk_telephony_settings_project_id"
            ),
            nullable=False,
        ),
        sa.Column("method", sa.String(16), nullable=False, server_default="link"),
        sa.Column("link_template", sa.String(500), nullable=False, server_default="tel:{e164}"),
        sa.Column("softphone_ws_url", sa.String(500), nullable=True),
        sa.Column("softphone_domain", sa.String(255), nullable=True),
        sa.Column("http_url", sa.String(2000), nullable=True),
        sa.Column("http_shape", sa.String(16), nullable=True),
        sa.Column("http_method", sa.String(8), nullable=True),
        sa.Column("http_content_type", sa.String(8), nullable=True),
        sa.Column("http_body", sa.Text, nullable=True),
        sa.Column("http_headers", sa.Text, nullable=True),
        sa.Column("http_secret_header", sa.String(100), nullable=True),
        sa.Column("http_secret", sa.Text, nullable=True),
        sa.Column("pbx_host", sa.String(255), nullable=True),
        sa.Column("pbx_port", sa.Integer, nullable=True),
        sa.Column("pbx_username", sa.String(200), nullable=True),
        sa.Column("pbx_secret", sa.Text, nullable=True),
        sa.Column("pbx_context", sa.String(80), nullable=True),
        sa.Column("pbx_channel", sa.String(200), nullable=True),
        sa.Column("caller_id", sa.String(64), nullable=True),
        sa.Column("kamailio_url", sa.String(500), nullable=True),
        sa.Column("timeout_seconds", sa.Integer, nullable=False, server_default="10"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_telephony_settings"),
    )
    op.create_table(
        "operator_telephony",
        sa.Column("project_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("extension", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_operator_telephony"),
        sa.ForeignKeyConstraint(
            ["project_id", "user_id"],
            ["memberships.project_id", "memberships.user_id"],
            ondelete="CASCADE",
            name="fk_operator_telephony_project_id_user_id",
        ),
    )


def downgrade() -> None:
    op.drop_table("operator_telephony")
    op.drop_table("telephony_settings")
