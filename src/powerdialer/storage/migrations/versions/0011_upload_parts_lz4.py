"""PostgreSQL compresses the parts of a stored upload (``import_uploads.data``) with lz4
instead of its default pglz: a 1,000,000-row CSV (52.7 MB, 1 MiB parts) cost its backend
0.92 CPU-seconds to store with pglz and 0.26 with lz4, for 22 instead of 19 MB stored
(measured on this machine, docs/deployment.md).  The upload is stored while its job starts,
so this is time an import waits for.  A server built without lz4 keeps pglz; SQLite stores
the bytes as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DO $$ BEGIN "
        "ALTER TABLE import_uploads ALTER COLUMN data SET COMPRESSION lz4; "
        "EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; "
        "END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE import_uploads ALTER COLUMN data SET COMPRESSION default")
