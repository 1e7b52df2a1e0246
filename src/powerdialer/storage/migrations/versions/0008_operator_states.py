"""Operator presence: each member's state on the operator screen (ready, on a call, wrap-up,
paused with a reason, offline), when it began and when it was last heard of; and an index
on attempts by project and time, so the supervisor's live view reads one day's attempts.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operator_states",
        sa.Column("project_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=True),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_operator_states"),
        sa.ForeignKeyConstraint(
            ["project_id", "user_id"],
            ["memberships.project_id", "memberships.user_id"],
            ondelete="CASCADE",
            name="fk_operator_states_project_id_user_id",
        ),
    )
    op.create_index("ix_attempts_project_id_recorded_at", "attempts", ["project_id", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_project_id_recorded_at", table_name="attempts")
    op.drop_table("operator_states")
