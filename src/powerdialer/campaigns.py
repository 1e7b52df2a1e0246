"""Campaigns: a project's named lists of numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection

from powerdialer.errors import Conflict, NotFound, ValidationError
from powerdialer.models import DUPLICATE_POLICIES, Campaign, CampaignState, utcnow
from powerdialer.projects import clean_name, require_project
from powerdialer.storage import Store, rows_read
from powerdialer.storage import campaigns as sql

# Rows deleted per transaction when a campaign is deleted or cleared: the single SQLite
# writer (and the compatible endpoint's group commit behind it) waits at most one batch.
DELETE_BATCH = 5000


def campaign_not_found(campaign_id: object) -> NotFound:
    return NotFound(
        f"campaignId {campaign_id} is not a campaign of this project: copy the id "
        "from the campaign list (editCampaign in the edit page's URL).",
        code="campaign_not_found",
        field="campaignId",
    )


def campaign_archived(campaign_id: object) -> Conflict:
    return Conflict(
        f"campaign {campaign_id} is archived and takes no new rows: "
        "unarchive it or choose another campaign.",
        code="campaign_archived",
        field="campaignId",
    )


class Target(Protocol):
    """What ``refusal`` reads of a campaign: a ``Campaign``, or the
    ``storage.campaigns.WriteTarget`` that the group-commit writer reads."""

    @property
    def project_id(self) -> int: ...

    @property
    def state(self) -> str: ...


def refusal(project_id: int, campaign_id: int, target: Target | None) -> NotFound | Conflict | None:
    """Why campaign ``campaign_id`` (``target`` as stored, ``None`` if there is none) takes no
    rows from project ``project_id``: ``campaign_not_found`` (also when it is another
    project's), ``campaign_archived``; ``None`` when it takes them.  The one rule for every way
    rows arrive: the compatible endpoint, bulk requests, the UI, imports."""
    if target is None or target.project_id != project_id:
        return campaign_not_found(campaign_id)
    if target.state != CampaignState.ACTIVE:
        return campaign_archived(campaign_id)
    return None


@dataclass(frozen=True, slots=True)
class RowCounts:
    rows: int = 0
    by_status: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, by_status: Mapping[str, int]) -> RowCounts:
        return cls(rows=sum(by_status.values()), by_status=dict(sorted(by_status.items())))


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """A campaign with the number of its rows, in total and by status."""

    campaign: Campaign
    counts: RowCounts


@dataclass(frozen=True, slots=True)
class CampaignChanges:
    """A partial update; ``None`` leaves the attribute as it is."""

    name: str | None = None
    state: str | None = None
    duplicate_policy: str | None = None
    require_consent: bool | None = None


def check_policy(policy: str) -> str:
    if policy not in DUPLICATE_POLICIES:
        raise ValidationError(
            f"duplicate_policy must be one of {', '.join(DUPLICATE_POLICIES)}, got {policy!r:.40}.",
            code="invalid_duplicate_policy",
            field="duplicate_policy",
            reason="not_allowed",
        )
    return policy


def check_state(state: str) -> CampaignState:
    try:
        return CampaignState(state)
    except ValueError:
        raise ValidationError(
            f"state must be active or archived, got {state!r:.40}.",
            code="invalid_state",
            field="state",
            reason="not_allowed",
        ) from None


def create_campaign(
    store: Store,
    project_id: int,
    name: str,
    duplicate_policy: str = "skip",
    require_consent: bool = False,
) -> Campaign:
    name = clean_name(name)
    policy = check_policy(duplicate_policy)

    def run(conn: Connection) -> Campaign:
        require_project(conn, project_id)
        return sql.insert_campaign(conn, project_id, name, utcnow(), policy, require_consent)

    return store.write(run)


def get_campaign(conn: Connection, project_id: int, campaign_id: int) -> Campaign:
    campaign = sql.get_campaign(conn, project_id, campaign_id)
    if campaign is None:
        raise campaign_not_found(campaign_id)
    return campaign


def project_of(store: Store, campaign_id: int) -> int:
    """The project a campaign belongs to: the admin CLI names a campaign by its id alone."""
    project_id = store.read(lambda conn: sql.project_of(conn, campaign_id))
    if project_id is None:
        raise campaign_not_found(campaign_id)
    return project_id


def list_campaigns(
    store: Store, project_id: int, state: CampaignState | None = None
) -> list[Campaign]:
    def run(conn: Connection) -> list[Campaign]:
        require_project(conn, project_id)
        return sql.list_campaigns(conn, project_id, state)

    return store.read(run)


def summarize(conn: Connection, project_id: int, campaign_id: int) -> CampaignSummary:
    campaign = get_campaign(conn, project_id, campaign_id)
    counts = sql.row_counts(conn, project_id, campaign_id).get(campaign_id, {})
    return CampaignSummary(campaign, RowCounts.of(counts))


def campaign_summary(store: Store, project_id: int, campaign_id: int) -> CampaignSummary:
    return store.read(lambda conn: summarize(conn, project_id, campaign_id))


def list_summaries(
    store: Store, project_id: int, state: CampaignState | None = None
) -> list[CampaignSummary]:
    """Every campaign of the project with its counts: two queries whatever their number."""

    def run(conn: Connection) -> list[CampaignSummary]:
        found = sql.list_campaigns(conn, project_id, state)
        counts = sql.row_counts(conn, project_id) if found else {}
        return [CampaignSummary(c, RowCounts.of(counts.get(c.id, {}))) for c in found]

    return store.read(run)


def update_campaign(
    store: Store, project_id: int, campaign_id: int, changes: CampaignChanges
) -> CampaignSummary:
    """Rename, archive or unarchive, set the duplicate policy or whether rows need consent;
    an empty change returns the campaign as it is."""
    values: dict[str, object] = {}
    if changes.name is not None:
        values["name"] = clean_name(changes.name)
    if changes.state is not None:
        values["state"] = check_state(changes.state).value
    if changes.duplicate_policy is not None:
        values["duplicate_policy"] = check_policy(changes.duplicate_policy)
    if changes.require_consent is not None:
        values["require_consent"] = bool(changes.require_consent)

    def run(conn: Connection) -> CampaignSummary:
        if values and sql.update_campaign(conn, project_id, campaign_id, values, utcnow()) is None:
            raise campaign_not_found(campaign_id)
        return summarize(conn, project_id, campaign_id)

    return store.write(run)


def set_campaign_state(
    store: Store, project_id: int, campaign_id: int, state: CampaignState
) -> Campaign:
    def run(conn: Connection) -> Campaign:
        campaign = sql.set_state(conn, project_id, campaign_id, state, utcnow())
        if campaign is None:
            raise campaign_not_found(campaign_id)
        return campaign

    return store.write(run)


def delete_rows_in_batches(store: Store, project_id: int, campaign_id: int) -> int:
    """Delete the rows the campaign has now (ids up to the current largest), ``DELETE_BATCH``
    per transaction, so a million-row campaign never holds the write lock for seconds.
    Rows added meanwhile (a higher id) stay.  Returns how many were deleted."""
    top = store.read(lambda conn: rows_read.max_row_id(conn, project_id, campaign_id))
    deleted = 0
    while top is not None:
        done = store.write(
            lambda conn: rows_read.delete_batch(
                conn, project_id, campaign_id, up_to_id=top, batch=DELETE_BATCH
            )
        )
        deleted += done
        if done < DELETE_BATCH:
            break
    return deleted


def delete_campaign(store: Store, project_id: int, campaign_id: int) -> None:
    """Delete a campaign with its rows and import jobs.

    The campaign is archived first (so it takes no new rows), its rows go in batches, and the
    campaign itself last; ``ON DELETE CASCADE`` takes whatever is left.  Interrupted midway,
    the campaign is left archived and partly emptied, and deleting it again finishes the job.
    """
    if store.read(lambda conn: sql.get_campaign(conn, project_id, campaign_id)) is None:
        raise campaign_not_found(campaign_id)
    set_campaign_state(store, project_id, campaign_id, CampaignState.ARCHIVED)
    delete_rows_in_batches(store, project_id, campaign_id)
    if not store.write(lambda conn: sql.delete_campaign(conn, project_id, campaign_id)):
        raise campaign_not_found(campaign_id)  # deleted concurrently
