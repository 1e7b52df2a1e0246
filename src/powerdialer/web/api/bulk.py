"""``POST /power-dialer/campaigns/{campaign_id}/rows``: up to 10,000 rows in one request, with
one result per row (its id, or why it was rejected) so a CRM can map its ids back.

The body is read and validated off the event loop (a 16 MiB body is ~50 ms of parsing), then
the valid rows go to the group-commit writer as ONE write (``rows.write.add_rows``): they
are committed in one transaction or not at all, and a 200 means they are on disk.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from powerdialer.errors import PowerDialerError, ValidationError
from powerdialer.rows import write
from powerdialer.rows.models import NewRow
from powerdialer.rows.validate import parse_rows
from powerdialer.rows.write import RowOutcome
from powerdialer.telemetry import hooks
from powerdialer.web.api.deps import Authed, CampaignId, ServicesDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas import bulk as schemas
from powerdialer.web.middleware.idempotency_rows import SCOPE_CLAIM, KeyedBulk, found_answer
from powerdialer.web.middleware.textguard import json_error
from powerdialer.web.services import Services

router = APIRouter(tags=["bulk"], route_class=ApiRoute)

_JSON = "application/json"


def _invalid_rows(reason: str, message: str) -> ValidationError:
    return ValidationError(message, code="invalid_rows", field="rows", reason=reason)


def parse_body(raw: bytes, max_rows: int, region: str) -> list[NewRow | ValidationError]:
    """The body's rows, each parsed or rejected; raises for a body that is not
    ``{"rows": [...]}`` with 1 to ``max_rows`` rows."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise json_error(raw, exc) from None
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise _invalid_rows(
            "missing" if isinstance(body, dict) and "rows" not in body else "wrong_type",
            'the body must be a JSON object {"rows": [...]} with a list of rows such as '
            '{"phone_number": "380930000000", "fio": "Іван Петренко"}.',
        )
    if not rows:
        raise _invalid_rows("empty", "rows is empty: send at least one row.")
    if len(rows) > max_rows:
        raise _invalid_rows(
            "too_many",
            f"rows has {len(rows)} rows; the limit is {max_rows} a request: split them.",
        )
    return parse_rows(rows, region)


def _error_of(error: PowerDialerError) -> dict[str, Any]:
    return {
        "code": error.code,
        "message": error.message,
        "field": error.field,
        "reason": error.reason,
    }


def answer(parsed: list[NewRow | ValidationError], outcomes: list[RowOutcome]) -> bytes:
    results: list[dict[str, Any]] = []
    stored = iter(outcomes)
    for index, item in enumerate(parsed):
        if isinstance(item, ValidationError):
            error = _error_of(item)
            results.append({"index": index, "status": "rejected", "id": None, "error": error})
        else:
            outcome = next(stored)
            if outcome.error is not None:  # refused in the writer: do_not_call, consent
                results.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "id": None,
                        "error": _error_of(outcome.error),
                    }
                )
                continue
            results.append(
                {"index": index, "status": outcome.status, "id": outcome.id, "error": None}
            )
    counts = Counter(result["status"] for result in results)
    return orjson.dumps(
        {
            "inserted": counts["inserted"],
            "duplicates": counts["duplicate"],
            "updated": counts["updated"],
            "rejected": counts["rejected"],
            "results": results,
        }
    )


def _error(description: str, code: str, message: str, **extra: str) -> dict[str, Any]:
    example = {"result": False, "error": {"code": code, "message": message, **extra}}
    # The one error shape, registered by web/api/openapi.py for every route.
    schema = {"$ref": "#/components/schemas/ErrorAnswer"}
    return {"description": description, "content": {_JSON: {"schema": schema, "example": example}}}


_EXAMPLE_BODY = {
    "rows": [
        {"phone_number": "380930000001", "fio": "Іван Петренко", "external_id": "crm-1"},
        {"phone_number": "+380 93 000 00 02", "fields": {"city": "Київ"}, "priority": 5},
        {"phone_number": "380930000001"},
        {"phone_number": "12"},
    ]
}
_EXAMPLE_ANSWER = {
    "inserted": 2,
    "duplicates": 1,
    "updated": 0,
    "rejected": 1,
    "results": [
        {"index": 0, "status": "inserted", "id": 1001, "error": None},
        {"index": 1, "status": "inserted", "id": 1002, "error": None},
        {"index": 2, "status": "duplicate", "id": 1001, "error": None},
        {
            "index": 3,
            "status": "rejected",
            "id": None,
            "error": {
                "code": "invalid_phone_number",
                "message": "phone_number '12' is not a valid phone number: the number has "
                "too few digits; send the full number, e.g. 380930000000.",
                "field": "phone_number",
                "reason": "too_short",
            },
        },
    ],
}
DESCRIPTION = """Add up to `bulk_max_rows` rows (10,000 by default; see `GET /power-dialer/limits`)
to a campaign in one request. Each row is validated on its own, with the compatible endpoint's
codes (`invalid_phone_number` with a `reason`, `invalid_fio`) plus `invalid_external_id`,
`invalid_fields`, `invalid_row` and the dialer fields' (`invalid_priority`, `invalid_tz`, …); a
number on the project's do-not-call list is rejected with `do_not_call`, and in a campaign
that requires consent a row without `consent_basis` and `consent_at` with `consent_required`.
A bad row is reported in `results` and does not fail the others.

The answer has one result per row, in order: `inserted`, `duplicate` (the number is already in
the campaign, or earlier in this request: `id` is the existing row's), `updated` (campaign
policy `update`), or `rejected` with its `error`. What happens to a number already present is
the campaign's `duplicate_policy`: `skip` (default), `update` (merge fio, external_id, fields
into the existing row) or `keep` (store another row).

All valid rows are committed in one transaction, and a 200 is sent only once they are on
disk; on any other answer nothing was stored. Send an `Idempotency-Key` header to retry
safely: the first answer is replayed."""


@router.post(
    "/power-dialer/campaigns/{campaign_id}/rows",
    summary="Add many rows to a campaign, with a result per row",
    description=DESCRIPTION,
    response_model=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {_JSON: {"schema": schemas.bulk_request_schema(), "example": _EXAMPLE_BODY}},
        },
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Any unique string (e.g. a UUID) per operation: a retry with "
                "the same key and body gets the first answer again, without acting twice.",
                "schema": {"type": "string", "maxLength": 255},
            }
        ],
    },
    responses={
        200: {
            "model": schemas.BulkRowsOut,
            "description": "The valid rows are committed; one result per row.",
            "content": {_JSON: {"example": _EXAMPLE_ANSWER}},
        },
        400: _error(
            "The body is not JSON.",
            "malformed_json",
            "the body is not valid JSON (unexpected character: line 1 column 2 (char 1)): "
            "send a JSON object.",
        ),
        404: _error(
            "No such campaign in this project (also another project's).",
            "campaign_not_found",
            "campaignId 456 is not a campaign of this project: copy the id from the campaign "
            "list (editCampaign in the edit page's URL).",
            field="campaignId",
        ),
        409: _error(
            "The campaign is archived (or the Idempotency-Key's first request still runs).",
            "campaign_archived",
            "campaign 456 is archived and takes no new rows: unarchive it or choose another "
            "campaign.",
            field="campaignId",
        ),
        413: _error(
            "The body is over bulk_max_bytes.",
            "body_too_large",
            "the body is larger than 16777216 bytes (the limit here): split the rows into "
            "several requests.",
        ),
        422: _error(
            'The body is not {"rows": [...]}, or has 0 or too many rows (or the '
            "Idempotency-Key was used for another request).",
            "invalid_rows",
            "rows has 10001 rows; the limit is 10000 a request: split them.",
            field="rows",
            reason="too_many",
        ),
        503: _error(
            "The database could not commit; nothing was stored; retry.",
            "storage_unavailable",
            "the database could not store the row: nothing was stored; retry in 1 s (Retry-After).",
        ),
    },
)
async def add_rows(
    campaign_id: CampaignId, request: Request, auth: Authed, services: ServicesDep
) -> Response:
    settings = services.settings
    raw = await request.body()
    parsed = await run_in_threadpool(
        parse_body, raw, settings.max_bulk_rows, settings.default_region
    )
    valid = [item for item in parsed if isinstance(item, NewRow)]
    claim = request.scope.get(SCOPE_CLAIM)
    if claim is not None:  # Idempotency-Key: claimed, stored and saved in one write
        return await _add_keyed(
            services,
            KeyedBulk(
                claim,
                write.BulkWrite(auth.project_id, campaign_id, valid),
                partial(answer, parsed),
            ),
        )
    # StorageUnavailable: the API's one 503 answer (web/api/errors.py).
    outcomes = await write.add_rows(services.writer, auth.project_id, campaign_id, valid)
    return Response(answer(parsed, outcomes), media_type=_JSON)


async def _add_keyed(services: Services, keyed: KeyedBulk) -> Response:
    """A keyed bulk request's one write; the answer is the saved one (replayed or new)."""
    found = await services.writer.submit(keyed)
    if found.found is not None:
        status, extra, body = found_answer(found.found, keyed.claim.fingerprint)
        headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in extra}
        headers.setdefault("content-type", _JSON)
        return Response(body, status_code=status, headers=headers)
    outcome = found.result
    if isinstance(outcome, PowerDialerError):
        raise outcome  # the API's error answer (web/api/errors.py), already saved or released
    assert outcome is not None
    if (m := hooks.active) is not None:  # metrics
        m.stored("api", sum(o.status in ("inserted", "updated") for o in outcome))
    return Response(keyed.render(outcome), media_type=_JSON)
