"""Routes: campaigns — list, create, read, rename / archive / set policy, delete.

Handlers are plain ``def``: FastAPI runs them in its thread pool, where the blocking
database calls belong.  Every call is scoped by the authenticated project, so another
project's campaign answers exactly like a missing one (404 ``campaign_not_found``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from powerdialer import campaigns
from powerdialer.models import CampaignState
from powerdialer.web.api.deps import Authed, CampaignId, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.campaigns import (
    CampaignCreate,
    CampaignList,
    CampaignPublic,
    CampaignStateName,
    CampaignUpdate,
)
from powerdialer.web.api.schemas.error_codes import error_responses

router = APIRouter(prefix="/power-dialer/campaigns", tags=["campaigns"], route_class=ApiRoute)


@router.get(
    "",
    summary="List the project's campaigns",
    response_model=CampaignList,
    responses=error_responses("invalid_field"),
)
def list_campaigns(
    auth: Authed,
    store: StoreDep,
    state: Annotated[
        CampaignStateName | None, Query(description="Only active or only archived campaigns.")
    ] = None,
) -> CampaignList:
    """Every campaign of the project, oldest first, each with its row counts (in total and
    per dialer status). This is how a client finds a `campaignId` without the web UI."""
    wanted = CampaignState(state) if state else None
    found = campaigns.list_summaries(store, auth.project_id, wanted)
    return CampaignList(items=[CampaignPublic.of(s) for s in found])


@router.post(
    "",
    summary="Create a campaign",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignPublic,
    responses=error_responses("invalid_field"),
)
def create_campaign(
    body: CampaignCreate, auth: Authed, store: StoreDep, response: Response
) -> CampaignPublic:
    """Create an active, empty campaign. Its `id` is the `campaignId` that
    `POST /power-dialer/campaigns/campaign-rows` takes. `Location` names the new campaign."""
    campaign = campaigns.create_campaign(
        store, auth.project_id, body.name, body.duplicate_policy, body.require_consent
    )
    response.headers["Location"] = f"{router.prefix}/{campaign.id}"
    return CampaignPublic.of(campaigns.CampaignSummary(campaign, campaigns.RowCounts()))


@router.get(
    "/{campaign_id}",
    summary="Read a campaign",
    response_model=CampaignPublic,
    responses=error_responses("campaign_not_found", "invalid_field"),
)
def get_campaign(campaign_id: CampaignId, auth: Authed, store: StoreDep) -> CampaignPublic:
    """One campaign with its row counts."""
    return CampaignPublic.of(campaigns.campaign_summary(store, auth.project_id, campaign_id))


@router.patch(
    "/{campaign_id}",
    summary="Rename, archive or unarchive a campaign, or set its duplicate policy",
    response_model=CampaignPublic,
    responses=error_responses("campaign_not_found", "invalid_field"),
)
def update_campaign(
    campaign_id: CampaignId, body: CampaignUpdate, auth: Authed, store: StoreDep
) -> CampaignPublic:
    """Send any of `name`, `state` (`active` | `archived`), `duplicate_policy`
    (`skip` | `update` | `keep`) and `require_consent` (true: rows without `consent_basis`
    and `consent_at` are refused with `consent_required`); fields left out keep their
    values. An archived campaign
    keeps its rows and refuses new ones (409 `campaign_archived` on the compatible
    endpoint) until it is made active again."""
    changes = campaigns.CampaignChanges(
        body.name, body.state, body.duplicate_policy, body.require_consent
    )
    return CampaignPublic.of(
        campaigns.update_campaign(store, auth.project_id, campaign_id, changes)
    )


@router.delete(
    "/{campaign_id}",
    summary="Delete a campaign and all its rows",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses("campaign_not_found", "invalid_field"),
)
def delete_campaign(campaign_id: CampaignId, auth: Authed, store: StoreDep) -> Response:
    """Delete the campaign, its rows and its import jobs; this cannot be undone. Rows are
    deleted in batches so the service keeps taking rows for other campaigns meanwhile; if
    the request is interrupted, the campaign is left archived and deleting it again
    finishes the job."""
    campaigns.delete_campaign(store, auth.project_id, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
