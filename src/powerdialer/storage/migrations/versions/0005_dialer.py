"""The power dialer: what rows bring for it (priority, call next, zone, consent), their working
state (final state, lease, callback owner, hold), campaign rules and state, leases, the
immutable attempt history, a project's own outcomes and its do-not-call list.

Every existing row gets its due time (``next_attempt_at``) from ``created_at``: a row is due
from the moment it is stored, and the queue orders by it (docs/dialer.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from powerdialer.storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("ended_at IS NULL")

_ROW_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("call_next", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("tz", sa.String(64), nullable=True),
    sa.Column("consent_basis", sa.String(64), nullable=True),
    sa.Column("consent_at", UTCDateTime, nullable=True),
    sa.Column("consent_source", sa.String(255), nullable=True),
    sa.Column("final_state", sa.String(24), nullable=True),
    sa.Column("lease_id", Id, nullable=True),
    sa.Column("lease_operator_id", Id, nullable=True),
    sa.Column("callback_operator_id", Id, nullable=True),
    sa.Column("held_until", UTCDateTime, nullable=True),
    sa.Column("hold_reason", sa.String(16), nullable=True),
]
_CAMPAIGN_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("dialer_state", sa.String(16), nullable=False, server_default="running"),
    sa.Column("completed_at", UTCDateTime, nullable=True),
    sa.Column("rules", sa.Text, nullable=True),
    sa.Column("require_consent", sa.Boolean, nullable=False, server_default=sa.false()),
]


def upgrade() -> None:
    for column in _ROW_COLUMNS:
        op.add_column("campaign_rows", column)
    for column in _CAMPAIGN_COLUMNS:
        op.add_column("campaigns", column)
    op.execute(
        "UPDATE campaign_rows SET next_attempt_at = created_at WHERE next_attempt_at IS NULL"
    )
    op.drop_index(
        "ix_campaign_rows_project_id_campaign_id_status_next_attempt_at",
        table_name="campaign_rows",
    )
    op.create_index(
        "ix_campaign_rows_queue",
        "campaign_rows",
        [
            "project_id",
            "campaign_id",
            "status",
            sa.text("call_next DESC"),
            sa.text("priority DESC"),
            "next_attempt_at",
            "id",
        ],
    )
    op.create_table(
        "leases",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column(
            "row_id",
            Id,
            sa.ForeignKey("campaign_rows.id", ondelete="CASCADE", name="fk_leases_row_id"),
            nullable=False,
        ),
        sa.Column("operator_id", Id, nullable=False),
        sa.Column("phone_e164", sa.String(16), nullable=False),
        sa.Column("leased_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_leases"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_leases_open_row",
        "leases",
        ["project_id", "row_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index("ix_leases_row_id", "leases", ["row_id"])
    op.create_index(
        "ix_leases_open_phone",
        "leases",
        ["project_id", "phone_e164"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_leases_open_operator",
        "leases",
        ["project_id", "campaign_id", "operator_id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "attempts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("project_id", Id, nullable=False),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column(
            "row_id",
            Id,
            sa.ForeignKey("campaign_rows.id", ondelete="CASCADE", name="fk_attempts_row_id"),
            nullable=False,
        ),
        sa.Column("lease_id", Id, nullable=True),
        sa.Column("operator_id", Id, nullable=False),
        sa.Column("phone_e164", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("duration_seconds", sa.Integer, nullable=True),
        sa.Column("counted", sa.Boolean, nullable=False),
        sa.Column("reached", sa.Boolean, nullable=False),
        sa.Column("refusal", sa.Boolean, nullable=False),
        sa.Column("final_state", sa.String(24), nullable=True),
        sa.Column("callback_at", UTCDateTime, nullable=True),
        sa.Column("leased_at", UTCDateTime, nullable=True),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_attempts_row_id_id", "attempts", ["row_id", "id"])
    op.create_index(
        "ix_attempts_project_id_phone_e164_recorded_at",
        "attempts",
        ["project_id", "phone_e164", "recorded_at"],
    )
    op.create_index(
        "ix_attempts_project_id_campaign_id_id", "attempts", ["project_id", "campaign_id", "id"]
    )
    if op.get_context().dialect.name == "postgresql":
        # History is immutable: the database refuses to change an attempt (deleting one with
        # its row, or its campaign, stays possible: erasure).
        op.execute(
            "CREATE FUNCTION attempts_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'attempts are immutable'; END $$"
        )
        op.execute(
            "CREATE TRIGGER attempts_immutable BEFORE UPDATE ON attempts "
            "FOR EACH ROW EXECUTE FUNCTION attempts_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER attempts_immutable BEFORE UPDATE ON attempts "
            "BEGIN SELECT RAISE(ABORT, 'attempts are immutable'); END"
        )
    op.create_table(
        "outcomes",
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey("projects.id", ondelete="CASCADE", name="fk_outcomes_project_id"),
            nullable=False,
        ),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("final_state", sa.String(24), nullable=True),
        sa.Column("reached", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("counts_as_attempt", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("refusal", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("retry_seconds", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "code", name="pk_outcomes"),
    )
    op.create_table(
        "dnc_numbers",
        sa.Column(
            "project_id",
            Id,
            sa.ForeignKey("projects.id", ondelete="CASCADE", name="fk_dnc_numbers_project_id"),
            nullable=False,
        ),
        sa.Column("phone_e164", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("added_by", sa.String(320), nullable=True),
        sa.Column("attempt_id", Id, nullable=True),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "phone_e164", name="pk_dnc_numbers"),
    )


def downgrade() -> None:
    op.drop_table("dnc_numbers")
    op.drop_table("outcomes")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER attempts_immutable ON attempts")
        op.execute("DROP FUNCTION attempts_immutable()")
    op.drop_table("attempts")
    op.drop_table("leases")
    op.drop_index("ix_campaign_rows_queue", table_name="campaign_rows")
    op.create_index(
        "ix_campaign_rows_project_id_campaign_id_status_next_attempt_at",
        "campaign_rows",
        ["project_id", "campaign_id", "status", "next_attempt_at"],
    )
    with op.batch_alter_table("campaigns") as batch:
        for column in _CAMPAIGN_COLUMNS:
            batch.drop_column(column.name)
    with op.batch_alter_table("campaign_rows") as batch:
        for column in _ROW_COLUMNS:
            batch.drop_column(column.name)
