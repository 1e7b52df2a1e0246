"""Idempotency keys, import jobs and their rejected lines (the richer API).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey("projects.id", ondelete="CASCADE", name="fk_idempotency_keys_project_id"),
            nullable=False,
        ),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_headers", sa.Text, nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("project_id", "key", name="uq_idempotency_keys_project_id_key"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_idempotency_keys_project_id_expires_at",
        "idempotency_keys",
        ["project_id", "expires_at"],
    )
    op.create_table(
        "import_jobs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("source", sa.String(16), nullable=False, server_default="import"),
        sa.Column("filename", sa.String(255), nullable=False, server_default=""),
        sa.Column("file_path", sa.String(1024), nullable=True),
        sa.Column("format", sa.String(16), nullable=True),
        sa.Column("encoding", sa.String(32), nullable=True),
        sa.Column("delimiter", sa.String(4), nullable=True),
        sa.Column("mapping", sa.Text, nullable=True),
        sa.Column("keep_valid", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("total", sa.Integer, nullable=True),
        sa.Column("supplied", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id", "campaign_id"],
            ["campaigns.project_id", "campaigns.id"],
            ondelete="CASCADE",
            name="fk_import_jobs_project_id_campaign_id",
        ),
        sa.UniqueConstraint("project_id", "id", name="uq_import_jobs_project_id_id"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_import_jobs_project_id_campaign_id_created_at",
        "import_jobs",
        ["project_id", "campaign_id", "created_at"],
    )
    op.create_table(
        "import_rejects",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("job_id", Id, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("phone_raw", sa.Text, nullable=True),
        sa.Column("fio", sa.Text, nullable=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "job_id"],
            ["import_jobs.project_id", "import_jobs.id"],
            ondelete="CASCADE",
            name="fk_import_rejects_project_id_job_id",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_import_rejects_project_id_job_id_line",
        "import_rejects",
        ["project_id", "job_id", "line"],
    )


def downgrade() -> None:
    op.drop_table("import_rejects")
    op.drop_table("import_jobs")
    op.drop_table("idempotency_keys")
