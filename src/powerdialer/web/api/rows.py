"""Routes: a campaign's rows — list with filters and cursor, read one, delete one, empty the
campaign, export as CSV or XLSX.

Every query is scoped by the authenticated project and the campaign in the path: another
project's campaign answers 404 ``campaign_not_found``, a row of another campaign 404
``row_not_found``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from powerdialer.rows import editing, exporting, listing
from powerdialer.rows.models import RowFilter
from powerdialer.web.api.deps import Authed, CampaignId, RowId, ServicesDep, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.error_codes import error_responses
from powerdialer.web.api.schemas.rows import ClearResult, RowPage, RowPublic, RowUpdate
from powerdialer.web.exports import busy_response, export_response

router = APIRouter(
    prefix="/power-dialer/campaigns/{campaign_id}", tags=["rows"], route_class=ApiRoute
)


def row_filter(
    services: ServicesDep,
    phone: Annotated[
        str | None, Query(description="One number in any spelling (380930000000, 093-000-00-00 …).")
    ] = None,
    phone_prefix: Annotated[
        str | None,
        Query(description="The first digits of the international number, e.g. 38093."),
    ] = None,
    q: Annotated[
        str | None, Query(description="Text in the contact's name (fio), any letter case.")
    ] = None,
    external_id: Annotated[
        str | None, Query(description="Exactly this CRM id (the rows' external_id).")
    ] = None,
    source: Annotated[str | None, Query(description="api, import or ui.")] = None,
    row_status: Annotated[
        str | None, Query(alias="status", description="The dialer status, e.g. pending.")
    ] = None,
    created_from: Annotated[
        str | None, Query(description="ISO 8601; rows created at or after (UTC if no offset).")
    ] = None,
    created_to: Annotated[
        str | None, Query(description="ISO 8601; rows created before (UTC if no offset).")
    ] = None,
) -> RowFilter:
    return listing.build_filter(
        phone=phone,
        phone_prefix=phone_prefix,
        q=q,
        external_id=external_id,
        source=source,
        status=row_status,
        created_from=created_from,
        created_to=created_to,
        region=services.settings.default_region,
    )


Filters = Annotated[RowFilter, Depends(row_filter)]


@router.get(
    "/rows",
    summary="List a campaign's rows",
    response_model=RowPage,
    responses=error_responses("campaign_not_found", "invalid_field", "invalid_cursor"),
)
def list_rows(
    campaign_id: CampaignId,
    auth: Authed,
    filters: Filters,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT, description="Rows a page.")] = (
        listing.DEFAULT_LIMIT
    ),
    cursor: Annotated[
        str | None,
        Query(description="An answer's next_cursor or prev_cursor; leave out at first."),
    ] = None,
) -> RowPage:
    """Rows oldest first, one page at a time: repeat the call with `cursor` set to the
    answer's `next_cursor`, and the same filters, until `next_cursor` is null; `prev_cursor`
    goes back a page (null on the first). Pages are keyset-paginated, so the last page of a
    million rows is as fast as the first."""
    found = listing.list_rows(
        store, auth.project_id, campaign_id, filters, limit=limit, cursor=cursor
    )
    return RowPage(
        items=[RowPublic.of(r) for r in found.items],
        next_cursor=found.next_cursor,
        prev_cursor=found.prev_cursor,
    )


@router.delete(
    "/rows",
    summary="Empty a campaign (delete all its rows)",
    response_model=ClearResult,
    responses=error_responses("campaign_not_found", "confirmation_required"),
)
def clear_rows(
    campaign_id: CampaignId,
    auth: Authed,
    store: StoreDep,
    confirm: Annotated[
        str | None, Query(description="Must repeat the campaign's id: a safety catch.")
    ] = None,
) -> ClearResult:
    """Delete every row the campaign has when the request arrives; the campaign stays.
    `confirm` must repeat the campaign id (`?confirm=456`), otherwise 422
    `confirmation_required` and nothing is deleted."""
    deleted = listing.clear_rows(store, auth.project_id, campaign_id, confirm)
    return ClearResult(deleted=deleted)


@router.get(
    "/rows/{row_id}",
    summary="Read one row",
    response_model=RowPublic,
    responses=error_responses("campaign_not_found", "row_not_found", "invalid_field"),
)
def get_row(campaign_id: CampaignId, row_id: RowId, auth: Authed, store: StoreDep) -> RowPublic:
    """One row of the campaign."""
    return RowPublic.of(listing.get_row(store, auth.project_id, campaign_id, row_id))


@router.patch(
    "/rows/{row_id}",
    summary="Change a row's priority or call-next flag",
    response_model=RowPublic,
    responses=error_responses("campaign_not_found", "row_not_found", "invalid_field"),
)
def update_row(
    campaign_id: CampaignId, row_id: RowId, body: RowUpdate, auth: Authed, store: StoreDep
) -> RowPublic:
    """Send `priority` (-1000 to 1000) and/or `call_next` (true/false); the row's place in
    the dialer's queue changes from its next lease. The answer is the row as it is now."""
    changed = editing.update_row(
        store,
        auth.project_id,
        campaign_id,
        row_id,
        priority=body.priority,
        call_next=body.call_next,
    )
    return RowPublic.of(changed)


@router.delete(
    "/rows/{row_id}",
    summary="Delete one row",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses("campaign_not_found", "row_not_found", "invalid_field"),
)
def delete_row(campaign_id: CampaignId, row_id: RowId, auth: Authed, store: StoreDep) -> Response:
    """Delete one row; the number may then be added to the campaign again."""
    listing.delete_row(store, auth.project_id, campaign_id, row_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/export",
    summary="Export a campaign's rows as CSV or XLSX",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, as an attachment.",
            "content": {
                "text/csv": {"example": "\ufeffid,fio,phone_number,phone_e164,…\r\n"},
                exporting.XLSX_TYPE: {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(an .xlsx workbook with the same columns: binary)",
                },
            },
        },
        **error_responses("campaign_not_found", "invalid_field", "too_many_exports"),
    },
)
async def export_rows(
    campaign_id: CampaignId,
    auth: Authed,
    filters: Filters,
    services: ServicesDep,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
) -> Response:
    """Every row of the campaign (or those the filters of the row list select), oldest
    first. Columns: id, fio, phone_number, phone_e164, source, status, attempts,
    external_id, created_at, updated_at (UTC, ISO 8601), priority, call_next, tz,
    consent_basis, consent_at, consent_source, final_state, due_at, then one column per
    custom field.
    CSV is UTF-8 with a byte-order mark, comma-separated; XLSX has a bold, frozen header
    and continues on a new sheet past Excel's 1,048,576 rows. Both are streamed as they are
    read (no Content-Length): the first bytes leave at once. A key may have
    `POWERDIALER_MAX_EXPORTS_PER_KEY` downloads open at once (4 by default); past that, or
    past the server's `POWERDIALER_MAX_EXPORTS`, 429 `too_many_exports` with Retry-After."""
    store = services.store
    plan = await run_in_threadpool(
        exporting.plan_export, store, auth.project_id, campaign_id, filters
    )
    slots = services.exports
    holder = ("key", auth.project_id, auth.key_id)
    slot = slots.take(holder)
    if slot is None:
        return busy_response(slots, holder)
    return export_response(store, plan, file_format, slot)
