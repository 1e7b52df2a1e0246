"""The one error shape, pinned: built by one function, and answered so by the real routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from powerdialer.errors import ValidationError
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.web.responses import SUCCESS_BODY, body_for, error_body
from tests.conftest import Persona, stored_rows
from tests.error_shapes import api_error
from tests.failures import BrokenDatabase, broken_database, database_url
from tests.mounts import tmpfs

__all__ = ["broken_database", "database_url"]  # fixtures

pytestmark = pytest.mark.anyio


def test_success_body_is_exactly_result_true() -> None:
    assert orjson.loads(SUCCESS_BODY) == {"result": True}


def test_error_body_keeps_result_false_and_adds_code_and_message() -> None:
    assert orjson.loads(error_body("rate_limited", "slow down")) == {
        "result": False,
        "error": {"code": "rate_limited", "message": "slow down"},
    }


def test_a_field_error_names_the_field_and_reason() -> None:
    exc = ValidationError(
        "phone_number is bad", code="invalid_phone_number", field="phone_number", reason="too_short"
    )
    assert orjson.loads(body_for(exc)) == {
        "result": False,
        "error": {
            "code": "invalid_phone_number",
            "message": "phone_number is bad",
            "field": "phone_number",
            "reason": "too_short",
        },
    }


# --- real answers -------------------------------------------------------------------------
# The shape above, as every route answers it: a malformed upload, a full disk under an
# upload, a database that takes no writes.

BOUNDARY = "pd-test-boundary"
PART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="leads.csv"\r\n'
    "Content-Type: text/csv\r\n\r\n"
    "phone;fio\r\n380930000001;Іван\r\n"
).encode()
MALFORMED = {
    # The boundary in Content-Type is not the body's.
    "wrong boundary": (
        f"multipart/form-data; boundary={BOUNDARY}",
        PART.replace(b"pd-test", b"xx"),
    ),
    # The closing boundary never comes: a client cut off mid-upload.
    "truncated": (f"multipart/form-data; boundary={BOUNDARY}", PART),
    "no boundary": ("multipart/form-data", PART + f"--{BOUNDARY}--\r\n".encode()),
    "garbage": (f"multipart/form-data; boundary={BOUNDARY}", b"\x00\xff garbage \r\n\r\n--"),
    "bad part header": (
        f"multipart/form-data; boundary={BOUNDARY}",
        f"--{BOUNDARY}\r\nno colon here\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
    ),
    "filename not UTF-8": (
        f"multipart/form-data; boundary={BOUNDARY}",
        PART.replace(b"leads.csv", b"\xed\xa0\x80.csv") + f"--{BOUNDARY}--\r\n".encode(),
    ),
}


def upload_routes(persona: Persona) -> list[str]:
    return [
        f"/power-dialer/campaigns/{persona.campaign_id}/imports",
        "/power-dialer/imports/preview",
    ]


def left_on_disk(settings: Settings) -> list[Path]:
    return [
        p for p in Path(settings.data_dir).rglob("*") if p.is_file() and p.name != "instance-id"
    ]


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_multipart_body_is_422_invalid_upload_on_every_upload_route(
    client: httpx.AsyncClient, owner: Persona, settings: Settings, case: str
) -> None:
    content_type, body = MALFORMED[case]
    for url in upload_routes(owner):
        answer = await client.post(
            url, headers={**owner.headers, "content-type": content_type}, content=body
        )
        assert answer.status_code == 422, (url, answer.text)
        api_error(answer, 422, "invalid_upload")
        error = answer.json()["error"]
        assert answer.json()["result"] is False
        assert (error["code"], error["field"]) == ("invalid_upload", "file"), error
        assert "multipart" in error["message"] or "UTF-8" in error["message"]
    assert left_on_disk(settings) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "data-disk", "1m") as disk:
        yield disk


@pytest.fixture
def settings(database_url: str, small_disk: Path) -> Settings:
    return Settings(
        database_url=database_url, rate_limit_per_second=0, data_dir=str(small_disk / "data")
    )


def big_csv(rows: int) -> bytes:
    return ("phone;fio\n" + "".join(f"38093{i:07d};Контакт {i}\n" for i in range(rows))).encode()


async def test_a_full_disk_under_an_upload_is_503_and_leaves_no_partial_file(
    client: httpx.AsyncClient, owner: Persona, settings: Settings, store: Store
) -> None:
    data = big_csv(80_000)  # 2.4 MB onto a 1 MiB disk
    for url in upload_routes(owner):
        answer = await client.post(url, headers=owner.headers, files={"file": ("big.csv", data)})
        assert answer.status_code == 503, (url, answer.text)
        assert answer.headers["retry-after"] == "1"
        api_error(answer, 503, "storage_unavailable")
        error = answer.json()["error"]
        assert error["code"] == "storage_unavailable"
        assert "No space left on device" in error["message"]
        assert left_on_disk(settings) == [], "the partial upload was left on the disk"
    jobs = store.read(lambda c: c.execute(text("SELECT COUNT(*) FROM import_jobs")).scalar())
    assert jobs == 0
    # Space again: the same upload (smaller) goes through.
    small = await client.post(
        upload_routes(owner)[1], headers=owner.headers, files={"file": ("s.csv", big_csv(3))}
    )
    assert small.status_code == 200, small.text


def _write_calls(persona: Persona) -> list[tuple[str, str, dict[str, Any]]]:
    """Routes that write, each as (method, url, httpx keyword arguments)."""
    campaign = f"/power-dialer/campaigns/{persona.campaign_id}"
    return [
        ("POST", "/power-dialer/campaigns/campaign-rows", {"json": persona.row("380930000011")}),
        (
            "POST",
            "/power-dialer/campaigns/campaign-rows",
            {"json": persona.row("380930000012"), "headers": {"Idempotency-Key": "k-1"}},
        ),
        ("POST", f"{campaign}/rows", {"json": {"rows": [{"phone_number": "380930000013"}]}}),
        ("POST", "/power-dialer/campaigns", {"json": {"name": "Autumn"}}),
        ("PATCH", campaign, {"json": {"name": "Renamed"}}),
        ("POST", f"{campaign}/imports", {"files": {"file": ("a.csv", big_csv(2))}}),
    ]


async def test_every_write_answers_503_with_retry_after_while_the_database_takes_none(
    client: httpx.AsyncClient, owner: Persona, store: Store, broken_database: BrokenDatabase
) -> None:
    broken_database.break_()
    for method, url, extra in _write_calls(owner):
        headers = {**owner.headers, **extra.pop("headers", {})}
        answer = await client.request(method, url, headers=headers, **extra)
        assert answer.status_code == 503, (method, url, answer.text)
        assert answer.headers["retry-after"] == "1", (method, url)
        api_error(answer, 503, "storage_unavailable")  # the whole shape, on every surface
        body = answer.json()
        assert body["result"] is False
        assert body["error"]["code"] == "storage_unavailable", (method, url)
        assert "retry" in body["error"]["message"]
    broken_database.fix()
    assert stored_rows(store, owner) == []
    # Fixed: the retry Retry-After asks for is stored (on PostgreSQL the first write may
    # still meet the writer's session that the fix cut, and answer 503 once more).
    for _attempt in range(2):
        again = await client.post(
            "/power-dialer/campaigns/campaign-rows", json=owner.row(), headers=owner.headers
        )
        if again.status_code != 503:
            break
    assert again.status_code == 200, again.text
