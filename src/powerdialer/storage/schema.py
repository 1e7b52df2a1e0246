"""Tables.  Every table holding a project's data carries ``project_id`` and its unique keys and
indexes lead with it (but for the two indexes on ``row_id`` that a row's deletion cascades
through), so the data can later be distributed by project (Citus); what would still change —
the ``id`` primary keys and the ``row_id`` foreign keys — is listed in docs/deployment.md
("After one primary: Citus").
Rows carry the dialer's working columns (status, attempts, next attempt, lease) from day one.

Past 300 lines on purpose: every table is here, so the whole schema reads in one file (and
``metadata`` is complete wherever it is imported).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)

# SQLite only aliases rowid (and so auto-increments) for exactly ``INTEGER PRIMARY KEY``.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

projects = Table(
    "projects",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("project_id", "key_id"),
    sqlite_autoincrement=True,
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("state", String(16), nullable=False, server_default="active"),
    # skip | update | keep: what a number already in the campaign does (see campaigns.py).
    Column("duplicate_policy", String(16), nullable=False, server_default="skip"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The dialer (migration 0005): running | paused; when its last row became final (once);
    # its rules as JSON (``dialer.rules.Rules``; NULL: the defaults); rows without consent
    # fields refused when set.
    Column("dialer_state", String(16), nullable=False, server_default="running"),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("rules", Text, nullable=True),
    Column("require_consent", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("project_id", "id"),
    Index(None, "project_id", "created_at"),
    sqlite_autoincrement=True,
)

campaign_rows = Table(
    "campaign_rows",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("campaign_id", Id, nullable=False),
    Column("fio", String(255), nullable=True),
    Column("phone_raw", String(64), nullable=False),
    Column("phone_e164", String(16), nullable=False),
    # 0 for the first row of a number; 1, 2… only under the campaign policy "keep both".
    Column("duplicate_no", Integer, nullable=False, server_default="0"),
    Column("source", String(16), nullable=False),  # api | import | ui
    Column("external_id", String(128), nullable=True),
    Column("extra", Text, nullable=True),  # JSON object of strings
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # What the row brings for the dialer (migration 0005): its place in the queue, its own
    # IANA zone, its consent.
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("call_next", Boolean, nullable=False, server_default=false()),
    Column("tz", String(64), nullable=True),
    Column("consent_basis", String(64), nullable=True),
    Column("consent_at", UTCDateTime, nullable=True),
    Column("consent_source", String(255), nullable=True),
    # The dialer's working state (docs/dialer.md): pending | leased | final.  Every insert
    # sets next_attempt_at (the due time) to created_at; a retry or a callback moves it.
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),  # unused since 0005 (lease_operator_id)
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("last_outcome", String(32), nullable=True),
    Column("final_state", String(24), nullable=True),
    Column("lease_id", Id, nullable=True),
    Column("lease_operator_id", Id, nullable=True),
    Column("callback_operator_id", Id, nullable=True),  # a personal callback's operator
    # Set at lease time when the row may not be called before a time for a reason other than
    # its due time (hours | no_window | cap | gap): the scan does not look at it again until.
    Column("held_until", UTCDateTime, nullable=True),
    Column("hold_reason", String(16), nullable=True),
    ForeignKeyConstraint(
        ["project_id", "campaign_id"],
        ["campaigns.project_id", "campaigns.id"],
        ondelete="CASCADE",
    ),
    # The duplicate rule lives in the database, not in a check-then-insert race.
    UniqueConstraint("project_id", "campaign_id", "phone_e164", "duplicate_no"),
    Index(None, "project_id", "campaign_id", "id"),
    # The queue's order (docs/dialer.md): call next, priority, due time, insertion.
    Index(
        "ix_campaign_rows_queue",
        "project_id",
        "campaign_id",
        "status",
        text("call_next DESC"),
        text("priority DESC"),
        "next_attempt_at",
        "id",
    ),
    # The rows whose lease ran out, found without walking every leased row (migration
    # 0010); partial, so a row inserted (pending) costs it nothing.
    Index(
        "ix_campaign_rows_expiry",
        "project_id",
        "campaign_id",
        "lease_expires_at",
        sqlite_where=text("status = 'leased'"),
        postgresql_where=text("status = 'leased'"),
    ),
    # A CRM finds its record's row by its own id: partial, so rows without one (the vendor's
    # endpoint never sets it) cost no index entry.
    Index(
        None,
        "project_id",
        "campaign_id",
        "external_id",
        sqlite_where=text("external_id IS NOT NULL"),
        postgresql_where=text("external_id IS NOT NULL"),
    ),
    sqlite_autoincrement=True,
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False),
    # SHA-256 of method, path, query and body: the same key with another request is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),  # NULL while the first request runs
    Column("response_headers", Text, nullable=True),  # JSON list of [name, value]
    Column("response_body", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # Until when a first request still running holds the key (renewed while it runs); past
    # it, the claim is taken over (migration 0009).  NULL: claimed before 0009.
    Column("claimed_until", UTCDateTime, nullable=True),
    UniqueConstraint("project_id", "key"),
    Index(None, "project_id", "expires_at"),
    sqlite_autoincrement=True,
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("campaign_id", Id, nullable=False),
    Column(
        "status", String(16), nullable=False, server_default="queued"
    ),  # queued|running|done|failed
    Column("source", String(16), nullable=False, server_default="import"),  # import | ui
    Column("filename", String(255), nullable=False, server_default=""),
    Column("file_path", String(1024), nullable=True),  # the upload on this instance's disk
    Column("format", String(16), nullable=True),
    Column("encoding", String(32), nullable=True),
    Column("delimiter", String(4), nullable=True),
    Column("mapping", Text, nullable=True),  # JSON: the resolved column mapping
    Column("keep_valid", Boolean, nullable=False, server_default=false()),
    Column("total", Integer, nullable=True),  # records in the file, once counted
    Column("supplied", Integer, nullable=False, server_default="0"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("duplicates", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # Migration 0009: the process working on the job and until when it holds it (renewed by
    # its heartbeat; past it, another instance takes the job over), the upload's size once it
    # is stored whole in import_uploads, the ``mapping`` field as sent, and how many times
    # the job was claimed.
    Column("owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("upload_size", BigInteger, nullable=True),
    Column("requested_mapping", Text, nullable=True),  # the upload's ``mapping`` field
    Column("attempts", Integer, nullable=False, server_default="0"),
    ForeignKeyConstraint(
        ["project_id", "campaign_id"], ["campaigns.project_id", "campaigns.id"], ondelete="CASCADE"
    ),
    UniqueConstraint("project_id", "id"),
    Index(None, "project_id", "campaign_id", "created_at"),
    Index("ix_import_jobs_status", "status", "lease_until"),
    sqlite_autoincrement=True,
)

# An import job's upload, in chunks of ``importing.uploads.BLOB_CHUNK`` bytes (migration
# 0009): every instance reads it, so any can finish the job.  Deleted when the job ends.
import_uploads = Table(
    "import_uploads",
    metadata,
    Column("project_id", Id, primary_key=True),
    Column("job_id", Id, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "job_id"],
        ["import_jobs.project_id", "import_jobs.id"],
        ondelete="CASCADE",
        name="fk_import_uploads_job",
    ),
)

import_rejects = Table(
    "import_rejects",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("job_id", Id, nullable=False),
    Column("line", Integer, nullable=False),
    Column("phone_raw", Text, nullable=True),
    Column("fio", Text, nullable=True),
    Column("code", String(64), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("message", Text, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "job_id"], ["import_jobs.project_id", "import_jobs.id"], ondelete="CASCADE"
    ),
    Index(None, "project_id", "job_id", "line"),
    sqlite_autoincrement=True,
)

# Web accounts (migration 0003).  Users are global (one person, several projects); what a
# user may do in a project is a membership with a role.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("email", String(320), nullable=False),  # stored lower-cased
    Column("password_hash", String(255), nullable=False),  # argon2id
    Column("name", String(200), nullable=False, server_default=""),
    Column("locale", String(8), nullable=False, server_default="uk"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    UniqueConstraint("email"),
    sqlite_autoincrement=True,
)

memberships = Table(
    "memberships",
    metadata,
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner | operator
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
)

sessions = Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie's random token: a stolen database yields no usable session.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Id, nullable=True),  # the project chosen in the switcher
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "user_id"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(400), primary_key=True),  # e.g. "email:a@b.c" or "ip:1.2.3.4"
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
)

# How a project places its calls (migration 0006, telephony/settings.py): the method and the
# fields of each.  ``*_secret`` columns hold Fernet tokens (telephony/secrets.py), never the
# secret itself.
telephony_settings = Table(
    "telephony_settings",
    metadata,
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("method", String(16), nullable=False, server_default="link"),
    Column("link_template", String(500), nullable=False, server_default="tel:{e164}"),
    Column("softphone_ws_url", String(500), nullable=True),
    Column("softphone_domain", String(255), nullable=True),
    Column("http_url", String(2000), nullable=True),
    Column("http_shape", String(16), nullable=True),  # vendor | generic
    Column("http_method", String(8), nullable=True),  # POST | PUT | GET
    Column("http_content_type", String(8), nullable=True),  # form | json
    Column("http_body", Text, nullable=True),  # the generic body template
    Column("http_headers", Text, nullable=True),  # JSON object: header → value
    Column("http_secret_header", String(100), nullable=True),
    Column("http_secret", Text, nullable=True),
    Column("pbx_host", String(255), nullable=True),  # AMI / ESL
    Column("pbx_port", Integer, nullable=True),
    Column("pbx_username", String(200), nullable=True),
    Column("pbx_secret", Text, nullable=True),
    Column("pbx_context", String(80), nullable=True),
    Column("pbx_channel", String(200), nullable=True),  # e.g. PJSIP/{extension}
    Column("caller_id", String(64), nullable=True),
    Column("kamailio_url", String(500), nullable=True),
    Column("timeout_seconds", Integer, nullable=False, server_default="10"),
    Column("updated_at", UTCDateTime, nullable=False),
)

# A member's own phone for server-side originate: the extension or SIP URI their phone
# answers on, which the PBX rings first.  Goes with the membership.
operator_telephony = Table(
    "operator_telephony",
    metadata,
    Column("project_id", Id, primary_key=True),
    Column("user_id", Id, primary_key=True),
    Column("extension", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "user_id"],
        ["memberships.project_id", "memberships.user_id"],
        ondelete="CASCADE",
    ),
)


# The dialer (migration 0005).  A lease is one operator's hold on one row; the partial unique
# index is the database's promise that a row has at most one open lease at a time.
leases = Table(
    "leases",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("campaign_id", Id, nullable=False),
    Column("row_id", Id, ForeignKey("campaign_rows.id", ondelete="CASCADE"), nullable=False),
    Column("operator_id", Id, nullable=False),
    Column("phone_e164", String(16), nullable=False),  # a number is on one call at a time
    Column("leased_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_reason", String(16), nullable=True),  # outcome | released | skipped | expired
    Index(
        "uq_leases_open_row",
        "project_id",
        "row_id",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
    Index(None, "row_id"),  # deleting a row deletes its leases (ON DELETE CASCADE)
    # Whether a number is on a call now, in any campaign of the project (one lease at a time).
    Index(
        "ix_leases_open_phone",
        "project_id",
        "phone_e164",
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
    # An operator's open lease in a campaign ("next" again answers it): partial, so the
    # ended leases, nearly all of them, cost no entry.
    Index(
        "ix_leases_open_operator",
        "project_id",
        "campaign_id",
        "operator_id",
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
    sqlite_autoincrement=True,
)

# Every attempt's outcome, written once and never changed (no UPDATE of it anywhere; on
# PostgreSQL a trigger refuses one).
attempts = Table(
    "attempts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, nullable=False),
    Column("campaign_id", Id, nullable=False),
    Column("row_id", Id, ForeignKey("campaign_rows.id", ondelete="CASCADE"), nullable=False),
    Column("lease_id", Id, nullable=True),
    Column("operator_id", Id, nullable=False),
    Column("phone_e164", String(16), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("note", Text, nullable=True),
    Column("duration_seconds", Integer, nullable=True),
    Column("counted", Boolean, nullable=False),  # counts as an attempt
    Column("reached", Boolean, nullable=False),  # the contact was reached
    Column("refusal", Boolean, nullable=False),  # the contact refused (cool-down rules)
    Column("final_state", String(24), nullable=True),  # the state it made the row final in
    Column("callback_at", UTCDateTime, nullable=True),
    Column("leased_at", UTCDateTime, nullable=True),
    Column("recorded_at", UTCDateTime, nullable=False),
    # Leads with row_id, not project_id: it is also what deleting a row looks up to delete
    # its history (ON DELETE CASCADE), on both databases.
    Index(None, "row_id", "id"),
    Index(None, "project_id", "phone_e164", "recorded_at"),
    Index(None, "project_id", "campaign_id", "id"),
    # A day's attempts of a project, for the supervisor's live view (migration 0008).
    Index(None, "project_id", "recorded_at"),
    sqlite_autoincrement=True,
)

# A project's own outcomes, beside the built-in ones (dialer.outcomes.BUILT_IN).
outcomes = Table(
    "outcomes",
    metadata,
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("label", String(200), nullable=False),
    Column("final_state", String(24), nullable=True),
    Column("reached", Boolean, nullable=False, server_default=false()),
    Column("counts_as_attempt", Boolean, nullable=False, server_default=true()),
    Column("refusal", Boolean, nullable=False, server_default=false()),
    Column("retry_seconds", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# A project's do-not-call list: one entry a number, with who, when and why.
dnc_numbers = Table(
    "dnc_numbers",
    metadata,
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("phone_e164", String(16), primary_key=True),
    Column("reason", Text, nullable=True),
    Column("source", String(16), nullable=False),  # api | cli | import | outcome | ui
    Column("added_by", String(320), nullable=True),  # a user's e-mail, a key's id
    Column("attempt_id", Id, nullable=True),  # the call whose outcome listed it
    Column("added_at", UTCDateTime, nullable=False),
)

# Operator presence (migration 0008): each member's state on the operator screen, one row a
# member of a project.  ``since``: when this state began; ``seen_at``: the last heartbeat (a
# state not heard of for a minute is shown ``offline``: dialer/presence.py).  Removing the
# member removes the row.
operator_states = Table(
    "operator_states",
    metadata,
    Column("project_id", Id, primary_key=True),
    Column("user_id", Id, primary_key=True),
    Column("campaign_id", Id, nullable=True),
    Column("state", String(16), nullable=False),  # ready | on_call | wrap_up | paused | offline
    Column("reason", String(16), nullable=True),  # a pause's reason code
    Column("since", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "user_id"],
        ["memberships.project_id", "memberships.user_id"],
        ondelete="CASCADE",
    ),
)
# Webhooks out (docs/webhooks.md, migration 0007).  Their indexes on subscription_id, event_id
# (migration 0012) and delivery_id lead with them because deleting a subscription, or an old
# event (retention), cascades through them, and the sender's scan of what is due
# (``ix_webhook_deliveries_due``) spans every project.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("event_types", Text, nullable=False),  # comma-separated, sorted
    Column("per_row", Boolean, nullable=False, server_default=false()),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("disabled_reason", Text, nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("failing_since", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_webhook_subscriptions_project_id", "project_id", "id"),
    sqlite_autoincrement=True,
)

# A subscription's signing secrets: the current one (expires_at NULL) and, after a rotation,
# the previous one until it expires; a delivery is signed with every one not yet expired.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscription_id",
        Id,
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("secret", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Index("ix_webhook_secrets_subscription_id", "subscription_id", "id"),
    sqlite_autoincrement=True,
)

# The outbox: an event, written in the transaction of the change it reports.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_webhook_events_project_id", "project_id", "created_at"),
)

# One event for one subscription: sent in id order per subscription (the next only after
# the previous was delivered or given up), under a lease while a sender posts it.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscription_id",
        Id,
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "event_id",
        String(40),
        ForeignKey("webhook_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("first_attempt_at", UTCDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_queue", "subscription_id", "status", "id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_event_id", "event_id", "project_id"),
    sqlite_autoincrement=True,
)

# Every attempt of a delivery, as the delivery log shows it.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("project_id", Id, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "delivery_id",
        Id,
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_ms", Integer, nullable=True),
    Column("response_head", Text, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_webhook_attempts_delivery_id", "delivery_id", "id"),
    sqlite_autoincrement=True,
)
