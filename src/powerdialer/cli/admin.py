"""Commands that manage projects, keys, campaigns and rows directly in the database."""

from __future__ import annotations

import click

from powerdialer import campaigns, projects
from powerdialer.cli.common import (
    database_option,
    emit_json,
    emit_table,
    friendly_errors,
    json_option,
    project_option,
    store_for,
)
from powerdialer.models import ApiKey, CampaignState
from powerdialer.rows import exporting, listing
from powerdialer.rows.models import RowRecord
from powerdialer.storage import Store


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "strftime") else ""


@click.group("project")
def project_group() -> None:
    """Projects: what x-project-id names."""


@project_group.command("create")
@click.argument("name")
@database_option
@json_option
@friendly_errors
def project_create(name: str, database_url: str, as_json: bool) -> None:
    """Create a project and print its id."""
    project = projects.create_project(store_for(database_url), name)
    if as_json:
        emit_json(project)
    else:
        click.echo(
            f"Created project {project.id} ({project.name}). Next: "
            f"powerdialer key create --project {project.id}"
        )


@project_group.command("list")
@database_option
@json_option
@friendly_errors
def project_list(database_url: str, as_json: bool) -> None:
    """List projects."""
    found = projects.list_projects(store_for(database_url))
    if as_json:
        emit_json(found)
    else:
        emit_table(["id", "name", "created"], [(p.id, p.name, _when(p.created_at)) for p in found])


@click.group("key")
def key_group() -> None:
    """API keys (the Auth-key header)."""


@key_group.command("create")
@project_option
@click.option("--name", default="", help="A label to tell keys apart, e.g. 'CRM sync'.")
@database_option
@json_option
@friendly_errors
def key_create(project_id: int, name: str, database_url: str, as_json: bool) -> None:
    """Create an API key and print it ONCE (only its hash is stored)."""
    created = projects.create_key(store_for(database_url), project_id, name)
    if as_json:
        emit_json({**emit_key(created.key), "key": created.plaintext})
        return
    click.echo(f"Auth-key for project {project_id} (shown once, store it now):")
    click.echo(created.plaintext)


def emit_key(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "key_id": key.key_id,
        "prefix": key.prefix,
        "name": key.name,
        "project_id": key.project_id,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@key_group.command("list")
@project_option
@database_option
@json_option
@friendly_errors
def key_list(project_id: int, database_url: str, as_json: bool) -> None:
    """List a project's keys by prefix (secrets are never shown again)."""
    found = projects.list_keys(store_for(database_url), project_id)
    if as_json:
        emit_json([emit_key(k) for k in found])
        return
    emit_table(
        ["key id", "prefix", "name", "created", "revoked"],
        [(k.key_id, k.prefix, k.name, _when(k.created_at), _when(k.revoked_at)) for k in found],
        empty="No keys. Create one with `powerdialer key create`.",
    )


@key_group.command("revoke")
@project_option
@click.argument("key_id")
@database_option
@json_option
@friendly_errors
def key_revoke(project_id: int, key_id: str, database_url: str, as_json: bool) -> None:
    """Revoke a key by its key id (from `key list`) or the whole key; it stops working at once."""
    projects.revoke_key(store_for(database_url), project_id, key_id)
    if as_json:
        emit_json({"revoked": key_id})
    else:
        click.echo(f"Revoked key {key_id}.")


@click.group("campaign")
def campaign_group() -> None:
    """Campaigns: lists of numbers to dial (campaignId)."""


@campaign_group.command("create")
@project_option
@click.argument("name")
@database_option
@json_option
@friendly_errors
def campaign_create(project_id: int, name: str, database_url: str, as_json: bool) -> None:
    """Create a campaign and print its id."""
    campaign = campaigns.create_campaign(store_for(database_url), project_id, name)
    if as_json:
        emit_json(campaign)
    else:
        click.echo(f"Created campaign {campaign.id} ({campaign.name}) in project {project_id}.")


@campaign_group.command("list")
@project_option
@database_option
@json_option
@friendly_errors
def campaign_list(project_id: int, database_url: str, as_json: bool) -> None:
    """List a project's campaigns."""
    found = campaigns.list_campaigns(store_for(database_url), project_id)
    if as_json:
        emit_json(found)
        return
    emit_table(
        ["id", "name", "state", "created"],
        [(c.id, c.name, c.state.value, _when(c.created_at)) for c in found],
        empty="No campaigns. Create one with `powerdialer campaign create`.",
    )


def _set_state(
    project_id: int, campaign_id: int, database_url: str, as_json: bool, state: CampaignState
) -> None:
    campaign = campaigns.set_campaign_state(store_for(database_url), project_id, campaign_id, state)
    if as_json:
        emit_json(campaign)
    else:
        click.echo(f"Campaign {campaign.id} is now {campaign.state.value}.")


@campaign_group.command("archive")
@project_option
@click.argument("campaign_id", type=int)
@database_option
@json_option
@friendly_errors
def campaign_archive(project_id: int, campaign_id: int, database_url: str, as_json: bool) -> None:
    """Archive a campaign: it keeps its rows and refuses new ones."""
    _set_state(project_id, campaign_id, database_url, as_json, CampaignState.ARCHIVED)


@campaign_group.command("unarchive")
@project_option
@click.argument("campaign_id", type=int)
@database_option
@json_option
@friendly_errors
def campaign_unarchive(project_id: int, campaign_id: int, database_url: str, as_json: bool) -> None:
    """Make an archived campaign active again."""
    _set_state(project_id, campaign_id, database_url, as_json, CampaignState.ACTIVE)


@click.group("rows")
def rows_group() -> None:
    """A campaign's rows (contacts)."""


def _owner(database_url: str, campaign_id: int) -> tuple[Store, int]:
    store = store_for(database_url)
    return store, campaigns.project_of(store, campaign_id)


@rows_group.command("list")
@click.option("--campaign", "campaign_id", type=int, required=True, help="The campaign's id.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--after", "after_id", type=int, default=0, help="Show rows after this row id.")
@database_option
@json_option
@friendly_errors
def rows_list(
    campaign_id: int, limit: int, after_id: int, database_url: str, as_json: bool
) -> None:
    """List a campaign's rows, oldest first."""
    store, project_id = _owner(database_url, campaign_id)
    found = listing.rows_after(store, project_id, campaign_id, after_id=after_id, limit=limit)
    if as_json:
        emit_json([_row_json(project_id, r) for r in found])
        return
    emit_table(
        ["id", "fio", "phone", "source", "status", "created"],
        [(r.id, r.fio, r.phone_e164, r.source, r.status, _when(r.created_at)) for r in found],
        empty="No rows.",
    )


def _row_json(project_id: int, row: RowRecord) -> dict[str, object]:
    """A row as ``rows list --json`` has always shown it (scripts read these keys)."""
    return {
        "id": row.id,
        "project_id": project_id,
        "campaign_id": row.campaign_id,
        "fio": row.fio,
        "phone_raw": row.phone_raw,
        "phone_e164": row.phone_e164,
        "source": row.source,
        "created_at": row.created_at,
        "status": row.status,
        "attempts": row.attempts,
        "external_id": row.external_id,
        "extra": dict(row.fields),
    }


@rows_group.command("export")
@click.option("--campaign", "campaign_id", type=int, required=True, help="The campaign's id.")
@database_option
@friendly_errors
def rows_export(campaign_id: int, database_url: str) -> None:
    """Write a campaign's rows as CSV (UTF-8 with BOM, as the API's export) to stdout."""
    store, project_id = _owner(database_url, campaign_id)
    plan = exporting.plan_export(store, project_id, campaign_id, listing.build_filter())
    for chunk in exporting.csv_chunks(store, plan):
        click.echo(chunk, nl=False)
