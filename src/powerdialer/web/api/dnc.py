"""Routes: the project's do-not-call list under ``/power-dialer/dnc`` — list, add (one or a
list), check one number, remove one, import a CSV file, export the list as CSV.

Every call is scoped by the authenticated project: another project's entries are never
seen, changed or counted.  Numbers in paths may be spelled any usual way (``+380930000000``,
``380930000000``); answers name them in E.164.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from powerdialer import dnc, dnc_csv
from powerdialer.errors import ValidationError
from powerdialer.web.api.deps import Authed, ServicesDep, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas import dnc as schemas
from powerdialer.web.api.schemas.error_codes import error_responses
from powerdialer.web.middleware.textguard import json_error
from powerdialer.web.uploads import UploadForm

router = APIRouter(prefix="/power-dialer/dnc", tags=["dnc"], route_class=ApiRoute)

Number = Annotated[
    str,
    Path(
        description="The number in any usual spelling (+380930000000, 380930000000).",
        examples=["+380930000000"],
    ),
]


def added_by(auth: Authed) -> str:
    """Who an API call acts as: its key (``key:<key id>``; keys have no owner)."""
    return f"key:{auth.key_id}"


def _invalid_body(reason: str, message: str) -> ValidationError:
    return ValidationError(message, code="invalid_body", field="numbers", reason=reason)


def parse_add_body(raw: bytes) -> list[tuple[object, object]]:
    """``{"number", "reason"?}`` or ``{"numbers": [{"number", "reason"?}, …]}``."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise json_error(raw, exc) from None
    if isinstance(body, dict) and "numbers" in body:
        items = body["numbers"]
        if not isinstance(items, list) or not items:
            raise _invalid_body("wrong_type", "numbers must be a non-empty list of objects.")
        if len(items) > dnc.MAX_ADD:
            raise _invalid_body(
                "too_many",
                f"numbers has {len(items)} entries; the limit is {dnc.MAX_ADD}: split them "
                "or import a CSV file (POST /power-dialer/dnc/import).",
            )
    elif isinstance(body, dict):
        items = [body]
    else:
        raise _invalid_body(
            "wrong_type",
            'the body must be {"number": "380930000000", "reason": "…"} or {"numbers": [...]}.',
        )
    pairs: list[tuple[object, object]] = []
    for item in items:
        if isinstance(item, dict):
            pairs.append((item.get("number"), item.get("reason")))
        else:
            pairs.append((item if isinstance(item, str | int) else None, None))
    return pairs


@router.get(
    "",
    summary="List the do-not-call numbers",
    response_model=schemas.DncPagePublic,
    responses=error_responses("invalid_field"),
)
def list_numbers(
    auth: Authed,
    store: StoreDep,
    prefix: Annotated[
        str | None, Query(description="The first digits of the number, e.g. 38093.")
    ] = None,
    cursor: Annotated[str | None, Query(description="The answer's next_cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=dnc.MAX_LIMIT, description="Entries a page.")] = (
        dnc.DEFAULT_LIMIT
    ),
) -> schemas.DncPagePublic:
    """Entries in number order, a page at a time: repeat with `cursor` set to the answer's
    `next_cursor` until it is null."""
    page = dnc.list_numbers(store, auth.project_id, prefix=prefix, cursor=cursor, limit=limit)
    return schemas.DncPagePublic(
        items=[schemas.DncEntryPublic.of(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    summary="Add numbers to the do-not-call list",
    response_model=schemas.DncAddOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": schemas.add_request_schema(),
                    "example": schemas.ADD_EXAMPLE,
                }
            },
        }
    },
    responses=error_responses("invalid_field"),
)
async def add_numbers(request: Request, auth: Authed, services: ServicesDep) -> schemas.DncAddOut:
    """List one number (`{"number", "reason"?}`) or up to 10,000 (`{"numbers": [...]}`). Each
    is read on its own: a bad number is `rejected` in `results`, the others are listed, in
    one transaction. A number already listed is `listed` and keeps its first entry. From
    then on, a row of a listed number is refused on every surface with `do_not_call`."""
    pairs = parse_add_body(await request.body())
    outcomes = await run_in_threadpool(
        lambda: dnc.add_numbers(
            services.store,
            auth.project_id,
            pairs,
            source="api",
            region=services.settings.default_region,
            added_by=added_by(auth),
        )
    )
    return schemas.DncAddOut.of(outcomes)


@router.get(
    "/export",
    summary="Export the do-not-call list as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The list as a CSV attachment.",
            "content": {
                "text/csv": {
                    "example": "\ufeffnumber,reason,source,added_by,added_at\r\n"
                    "+380930000000,asked not to be called,api,key:ab12cd34,"
                    "2026-11-26T09:30:00.123456+00:00\r\n"
                }
            },
        },
        **error_responses(),
    },
)
def export_numbers(auth: Authed, store: StoreDep) -> StreamingResponse:
    """Every entry in number order: number, reason, source, added_by, added_at (UTC, ISO
    8601). UTF-8 with a byte-order mark, comma-separated; the file `POST /import` reads."""
    chunks = dnc_csv.export_csv(store, auth.project_id)
    name = f"dnc-project-{auth.project_id}.csv"
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/import",
    summary="Import do-not-call numbers from a CSV file",
    response_model=schemas.DncImportOut,
    openapi_extra=schemas.DNC_UPLOAD_BODY,
    responses=error_responses("invalid_field"),
)
async def import_numbers(
    request: Request, auth: Authed, services: ServicesDep
) -> schemas.DncImportOut:
    """List every number of a CSV file (at most 32 MiB) in the form field `file`: a column of
    numbers and an optional reason column, with or without a header. Each line is read on
    its own; the answer counts the numbers added, already listed and rejected, and names
    the first 1,000 rejected lines. Numbers are stored in batches of 5,000, each committed
    on its own: if the request fails midway, import the file again (listed numbers count
    as `listed`)."""
    limit = min(services.settings.max_upload_bytes, dnc_csv.MAX_IMPORT_BYTES)
    received = await UploadForm(services.imports.new_upload, limit).receive(request)

    def listed() -> dnc_csv.ImportReport:
        with received.upload.path.open("rb") as file:
            return dnc_csv.import_csv(
                services.store,
                auth.project_id,
                file,
                source="import",
                region=services.settings.default_region,
                added_by=added_by(auth),
            )

    try:
        report = await run_in_threadpool(listed)
    finally:
        received.upload.release()
    return schemas.DncImportOut.of(report)


@router.get(
    "/{number}",
    summary="Is a number on the do-not-call list?",
    response_model=schemas.DncCheck,
    responses=error_responses("invalid_field"),
)
def check_number(
    number: Number, auth: Authed, store: StoreDep, services: ServicesDep
) -> schemas.DncCheck:
    """Whether the number is listed and, if so, by whom, when and why. A number of another
    project's list answers `listed: false` here."""
    e164, entry = dnc.check_number(
        store, auth.project_id, number, region=services.settings.default_region
    )
    return schemas.DncCheck(
        number=e164,
        listed=entry is not None,
        entry=schemas.DncEntryPublic.of(entry) if entry else None,
    )


@router.delete(
    "/{number}",
    summary="Remove a number from the do-not-call list",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses("dnc_not_found", "invalid_field"),
)
def remove_number(number: Number, auth: Authed, store: StoreDep, services: ServicesDep) -> Response:
    """Take the number off the list: rows of it are accepted again, and the dialer may call
    it. 404 `dnc_not_found` if it is not listed (also when another project listed it)."""
    dnc.remove_number(store, auth.project_id, number, region=services.settings.default_region)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
