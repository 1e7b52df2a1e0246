"""Jobs any instance can finish, idempotency claims with a lease: an import job's owner (the
process that works on it) and its lease, the upload's size once it is stored in the database,
the ``mapping`` field as sent (a job taken over reads the file the same way), the upload
itself in bounded chunks (``import_uploads``), and an ``Idempotency-Key`` claim's
lease (``claimed_until``).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0009"
down_revision = "0007"  # re-chained after 0007 (w/hooks) at the merge
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("import_jobs", sa.Column("owner", sa.String(64), nullable=True))
    op.add_column("import_jobs", sa.Column("lease_until", UTCDateTime, nullable=True))
    op.add_column("import_jobs", sa.Column("upload_size", sa.BigInteger, nullable=True))
    op.add_column("import_jobs", sa.Column("requested_mapping", sa.Text, nullable=True))
    op.add_column(
        "import_jobs", sa.Column("attempts", sa.Integer, nullable=False, server_default="0")
    )
    op.create_index("ix_import_jobs_status", "import_jobs", ["status", "lease_until"])
    op.create_table(
        "import_uploads",
        sa.Column("project_id", Id, nullable=False),
        sa.Column("job_id", Id, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "job_id", "seq"),
        sa.ForeignKeyConstraint(
            ["project_id", "job_id"],
            ["import_jobs.project_id", "import_jobs.id"],
            ondelete="CASCADE",
            name="fk_import_uploads_job",
        ),
    )
    op.add_column("idempotency_keys", sa.Column("claimed_until", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("claimed_until")
    op.drop_table("import_uploads")
    op.drop_index("ix_import_jobs_status", table_name="import_jobs")
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("attempts")
        batch.drop_column("requested_mapping")
        batch.drop_column("upload_size")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
