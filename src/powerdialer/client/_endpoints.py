"""Every endpoint as a :class:`Call`: method, path, body and how to read the answer.  Both
clients send the same calls, so each endpoint is described once; ``Client.get_campaign`` is
``self._send(endpoints.get_campaign(...))`` and ``AsyncClient``'s the same with ``await``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Generic, TypeVar
from urllib.parse import quote, urlencode

import orjson

from powerdialer.client._errors import APIError
from powerdialer.client._models import (
    BulkResult,
    Campaign,
    ImportJob,
    Limits,
    NewRow,
    Page,
    Row,
)
from powerdialer.client._multipart import MultipartBody
from powerdialer.client._policy import api_error, json_object
from powerdialer.client._transport import Response

T = TypeVar("T")

COMPAT_PATH = "/power-dialer/campaigns/campaign-rows"
LIMITS_PATH = "/power-dialer/limits"
CAMPAIGNS = "/power-dialer/campaigns"
IMPORTS = "/power-dialer/imports"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Response], T]
    params: Mapping[str, str] = field(default_factory=dict)
    content: bytes | MultipartBody | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: bool = True
    stream_to: BinaryIO | None = None

    def url(self, base_url: str) -> str:
        query = f"?{urlencode(self.params)}" if self.params else ""
        return f"{base_url}{self.path}{query}"


def _json(body: object) -> bytes:
    return orjson.dumps(body)


def _post_headers(idempotency_key: str | None, auto: bool = False) -> dict[str, str]:
    """``Idempotency-Key``: the caller's, or (``auto``) a fresh one per call, reused by its
    retries, so that a create retried after a lost answer does not create twice."""
    key = idempotency_key or (uuid.uuid4().hex if auto else None)
    return {**JSON, "Idempotency-Key": key} if key else dict(JSON)


def _id(value: int | str) -> str:
    return quote(str(value), safe="")


def _none(_response: Response) -> None:
    return None


def _accepted(response: Response) -> None:
    """The compatible endpoint's success is exactly ``{"result": true}``; a 200 that says
    anything else (some gateways answer errors with 200) is an error, never success."""
    data = json_object(response)
    if data.get("result") is not True:
        raise api_error(response, 'the server did not confirm the row (no "result": true)')


def _campaign(response: Response) -> Campaign:
    return Campaign.from_json(json_object(response))


def _campaigns(response: Response) -> list[Campaign]:
    # Accept both a bare list and {"items": [...]}.
    try:
        data = orjson.loads(response.content or b"null")
    except orjson.JSONDecodeError:
        data = None
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise APIError("expected a list of campaigns", code="unexpected_response", status=200)
    return [Campaign.from_json(x) for x in items if isinstance(x, dict)]


def _row(response: Response) -> Row:
    return Row.from_json(json_object(response))


def _rows(response: Response) -> Page[Row]:
    return Page.parse(json_object(response), Row.from_json)


def _deleted(response: Response) -> int | None:
    if not response.content:
        return None
    data = json_object(response)
    value = data.get("deleted")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _job(response: Response) -> ImportJob:
    return ImportJob.from_json(json_object(response))


def add_row(
    campaign_id: int, phone_number: str, fio: str | None, idempotency_key: str | None
) -> Call[None]:
    body: dict[str, Any] = {"campaignId": campaign_id, "phone_number": phone_number}
    if fio is not None:
        body["fio"] = fio
    return Call(
        "POST", COMPAT_PATH, _accepted, content=_json(body), headers=_post_headers(idempotency_key)
    )


def add_rows(
    campaign_id: int, rows: Iterable[NewRow | Mapping[str, Any]], idempotency_key: str | None
) -> Call[BulkResult]:
    items = [r.to_json() if isinstance(r, NewRow) else dict(r) for r in rows]
    return Call(
        "POST",
        f"{CAMPAIGNS}/{_id(campaign_id)}/rows",
        lambda r: BulkResult.from_json(json_object(r)),
        content=_json({"rows": items}),
        headers=_post_headers(idempotency_key),
    )


def limits() -> Call[Limits]:
    return Call("GET", LIMITS_PATH, lambda r: Limits.from_json(json_object(r)), auth=False)


def list_campaigns() -> Call[list[Campaign]]:
    return Call("GET", CAMPAIGNS, _campaigns)


def create_campaign(
    name: str, duplicate_policy: str | None, idempotency_key: str | None
) -> Call[Campaign]:
    body: dict[str, Any] = {"name": name}
    if duplicate_policy is not None:
        body["duplicate_policy"] = duplicate_policy
    headers = _post_headers(idempotency_key, auto=True)
    return Call("POST", CAMPAIGNS, _campaign, content=_json(body), headers=headers)


def get_campaign(campaign_id: int) -> Call[Campaign]:
    return Call("GET", f"{CAMPAIGNS}/{_id(campaign_id)}", _campaign)


def update_campaign(campaign_id: int, changes: Mapping[str, Any]) -> Call[Campaign]:
    body = {k: v for k, v in changes.items() if v is not None}
    return Call(
        "PATCH", f"{CAMPAIGNS}/{_id(campaign_id)}", _campaign, content=_json(body), headers=JSON
    )


def delete_campaign(campaign_id: int) -> Call[None]:
    return Call("DELETE", f"{CAMPAIGNS}/{_id(campaign_id)}", _none)


def list_rows(campaign_id: int, filters: Mapping[str, object]) -> Call[Page[Row]]:
    params = {k: _param(v) for k, v in filters.items() if v is not None}
    return Call("GET", f"{CAMPAIGNS}/{_id(campaign_id)}/rows", _rows, params=params)


def _param(value: object) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def get_row(campaign_id: int, row_id: int) -> Call[Row]:
    return Call("GET", f"{CAMPAIGNS}/{_id(campaign_id)}/rows/{_id(row_id)}", _row)


def delete_row(campaign_id: int, row_id: int) -> Call[None]:
    return Call("DELETE", f"{CAMPAIGNS}/{_id(campaign_id)}/rows/{_id(row_id)}", _none)


def delete_rows(campaign_id: int) -> Call[int | None]:
    # confirm=<campaign id> guards against emptying the wrong campaign by a typo in the path.
    return Call(
        "DELETE",
        f"{CAMPAIGNS}/{_id(campaign_id)}/rows",
        _deleted,
        params={"confirm": str(campaign_id)},
    )


def export(campaign_id: int, format: str, dest: BinaryIO) -> Call[None]:
    return Call(
        "GET",
        f"{CAMPAIGNS}/{_id(campaign_id)}/export",
        _none,
        params={"format": format},
        stream_to=dest,
    )


def start_import(
    campaign_id: int,
    source: str | os.PathLike[str] | BinaryIO,
    *,
    filename: str | None,
    mapping: Mapping[str, Any] | None,
    keep_valid: bool,
    idempotency_key: str | None,
) -> Call[ImportJob]:
    fields = {"keep_valid": "true" if keep_valid else "false"}
    if mapping is not None:
        fields["mapping"] = orjson.dumps(dict(mapping)).decode()
    body = MultipartBody(fields, "file", source, filename)
    headers = {"Content-Type": body.content_type}
    key = idempotency_key or uuid.uuid4().hex
    headers["Idempotency-Key"] = key
    return Call(
        "POST", f"{CAMPAIGNS}/{_id(campaign_id)}/imports", _job, content=body, headers=headers
    )


def get_import(job_id: int | str) -> Call[ImportJob]:
    return Call("GET", f"{IMPORTS}/{_id(job_id)}", _job)


def rejected_csv(job_id: int | str, dest: BinaryIO) -> Call[None]:
    return Call("GET", f"{IMPORTS}/{_id(job_id)}/rejected.csv", _none, stream_to=dest)
