"""Campaigns: a project's named lists of numbers."""

from __future__ import annotations

from sqlalchemy import Connection

from powerdialer.errors import NotFound
from powerdialer.models import Campaign, CampaignState, utcnow
from powerdialer.projects import clean_name, require_project
from powerdialer.storage import Store
from powerdialer.storage import campaigns as sql


def campaign_not_found(campaign_id: object) -> NotFound:
    return NotFound(
        f"campaignId {campaign_id} is not a campaign of this project: copy the id "
        "from the campaign list (editCampaign in the edit page's URL).",
        code="campaign_not_found",
        field="campaignId",
    )


def create_campaign(store: Store, project_id: int, name: str) -> Campaign:
    name = clean_name(name)

    def run(conn: Connection) -> Campaign:
        require_project(conn, project_id)
        return sql.insert_campaign(conn, project_id, name, utcnow())

    return store.write(run)


def get_campaign(conn: Connection, project_id: int, campaign_id: int) -> Campaign:
    campaign = sql.get_campaign(conn, project_id, campaign_id)
    if campaign is None:
        raise campaign_not_found(campaign_id)
    return campaign


def list_campaigns(store: Store, project_id: int) -> list[Campaign]:
    def run(conn: Connection) -> list[Campaign]:
        require_project(conn, project_id)
        return sql.list_campaigns(conn, project_id)

    return store.read(run)


def set_campaign_state(
    store: Store, project_id: int, campaign_id: int, state: CampaignState
) -> Campaign:
    def run(conn: Connection) -> Campaign:
        campaign = sql.set_state(conn, project_id, campaign_id, state, utcnow())
        if campaign is None:
            raise campaign_not_found(campaign_id)
        return campaign

    return store.write(run)
