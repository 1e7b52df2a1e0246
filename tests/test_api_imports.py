"""The import routes over HTTP: the job's shape, auth, isolation between projects on every
endpoint, upload errors (413, 422), the preview, and the rejected-rows CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from powerdialer import campaigns
from powerdialer.models import CampaignState
from powerdialer.settings import Settings
from powerdialer.storage import Store
from tests.conftest import Persona, StartApp, client_of, stored_rows
from tests.test_import_jobs import (
    UA_CSV,
    rejected_rows,
    run_import,
    start_import,
    uploads_left,
    xlsx,
)
from tests.test_import_jobs import settings as settings  # the fixture, with a temp data_dir

pytestmark = pytest.mark.anyio

JOB_KEYS = {
    "id",
    "campaign_id",
    "status",
    "filename",
    "format",
    "encoding",
    "delimiter",
    "mapping",
    "left_out",
    "keep_valid",
    "total",
    "progress",
    "supplied",
    "inserted",
    "duplicates",
    "updated",
    "rejected",
    "error",
    "created_at",
    "started_at",
    "finished_at",
}


def imports_of(persona: Persona, campaign_id: int | None = None) -> str:
    return f"/power-dialer/campaigns={campaign_id or persona.campaign_id}/imports".replace("=", "/")


def job_count(store: Store) -> int:
    return int(store.read(lambda c: c.execute(text("SELECT COUNT(*) FROM import_jobs")).scalar()))


async def test_an_upload_answers_202_with_the_queued_job_and_its_location(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.post(
        imports_of(owner),
        headers=owner.headers,
        files={"file": ("Клієнти.csv", UA_CSV.encode("cp1251"))},
    )
    assert answer.status_code == 202
    job = answer.json()
    assert set(job) == JOB_KEYS
    assert answer.headers["location"] == f"/power-dialer/imports/{job['id']}"
    assert (job["status"], job["filename"], job["campaign_id"]) == (
        "queued",
        "Клієнти.csv",
        owner.campaign_id,
    )
    assert (job["progress"], job["total"], job["error"], job["keep_valid"]) == (
        0,
        None,
        None,
        False,
    )


async def test_the_campaign_lists_its_imports_newest_first(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    first = await run_import(client, owner, UA_CSV.encode(), "first.csv")
    second = await run_import(client, owner, UA_CSV.encode(), "second.csv")
    answer = await client.get(imports_of(owner), headers=owner.headers)
    assert answer.status_code == 200
    assert [j["id"] for j in answer.json()["items"]] == [second["id"], first["id"]]
    assert answer.json()["items"][0]["duplicates"] == 2
    limited = await client.get(imports_of(owner), headers=owner.headers, params={"limit": 1})
    assert [j["id"] for j in limited.json()["items"]] == [second["id"]]


async def test_every_import_route_wants_a_key(client: httpx.AsyncClient, owner: Persona) -> None:
    job = await run_import(client, owner, UA_CSV.encode())
    calls = [
        client.post(imports_of(owner), files={"file": ("a.csv", b"380931234567\n")}),
        client.get(imports_of(owner)),
        client.get(f"/power-dialer/imports/{job['id']}"),
        client.get(f"/power-dialer/imports/{job['id']}/rejected.csv"),
        client.post("/power-dialer/imports/preview", files={"file": ("a.csv", b"380931234567\n")}),
    ]
    for call in calls:
        answer = await call
        assert answer.status_code == 401, answer.text
        assert answer.json()["result"] is False


async def test_another_project_can_neither_see_nor_start_nor_download_imports(
    client: httpx.AsyncClient,
    owner: Persona,
    stranger: Persona,
    store: Store,
    settings: Settings,
) -> None:
    content = "Телефон;ПІБ\n380931234567;Іван\n12;Погана\n".encode()
    job = await run_import(client, owner, content)
    # The stranger's key on the owner's campaign: as if it did not exist.
    answer = await client.post(
        imports_of(owner), headers=stranger.headers, files={"file": ("a.csv", content)}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "campaign_not_found")
    answer = await client.get(imports_of(owner), headers=stranger.headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "campaign_not_found")
    # The owner's job with the stranger's key.
    for path in (
        f"/power-dialer/imports/{job['id']}",
        f"/power-dialer/imports/{job['id']}/rejected.csv",
    ):
        answer = await client.get(path, headers=stranger.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "import_not_found")
    # And the stranger's own list does not show it.
    answer = await client.get(imports_of(stranger), headers=stranger.headers)
    assert answer.json()["items"] == []
    assert stored_rows(store, stranger) == []
    assert job_count(store) == 1
    assert uploads_left(settings) == []


async def test_a_missing_job_or_campaign_answers_404(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.get("/power-dialer/imports/999", headers=owner.headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "import_not_found")
    answer = await client.post(
        imports_of(owner, 999), headers=owner.headers, files={"file": ("a.csv", b"1\n")}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "campaign_not_found")


async def test_an_archived_campaign_refuses_uploads(
    client: httpx.AsyncClient, owner: Persona, store: Store, settings: Settings
) -> None:
    campaigns.set_campaign_state(store, owner.project_id, owner.campaign_id, CampaignState.ARCHIVED)
    answer = await client.post(
        imports_of(owner), headers=owner.headers, files={"file": ("a.csv", UA_CSV.encode())}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "campaign_archived")
    assert job_count(store) == 0
    assert uploads_left(settings) == []


FILE = {"file": ("a.csv", b"1\n")}


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"data": {"mapping": "{}"}}, "invalid_upload", "file"),
        ({"content": b"380931234567\n"}, "invalid_upload", "file"),
        ({"files": FILE, "data": {"mapping": "{not json"}}, "invalid_mapping", "mapping"),
        ({"files": FILE, "data": {"mapping": '{"tel": 1}'}}, "invalid_mapping", "mapping"),
        ({"files": FILE, "data": {"mapping": '{"phone": null}'}}, "invalid_mapping", "mapping"),
        ({"files": FILE, "data": {"keep_valid": "maybe"}}, "invalid_field", "keep_valid"),
    ],
    ids=["no-file", "not-multipart", "not-json", "unknown-key", "phone-null", "keep-valid"],
)
async def test_a_malformed_upload_answers_422_and_leaves_nothing_behind(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    settings: Settings,
    kwargs: dict[str, object],
    code: str,
    field: str,
) -> None:
    answer = await client.post(imports_of(owner), headers=owner.headers, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["field"] == field
    assert job_count(store) == 0
    assert uploads_left(settings) == []


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_an_upload_over_the_limit_answers_413_and_leaves_nothing_behind(
    started_app: StartApp, settings: Settings, owner: Persona, store: Store, declared: bool
) -> None:
    async with started_app(max_upload_bytes=4096) as app, client_of(app) as client:
        body = UA_CSV.encode() * 200
        if declared:
            answer = await client.post(
                imports_of(owner), headers=owner.headers, files={"file": ("a.csv", body)}
            )
        else:
            boundary = "b0undary"
            head = (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            )

            async def stream() -> AsyncIterator[bytes]:
                yield head.encode()
                for _ in range(200):
                    yield UA_CSV.encode()
                yield f"\r\n--{boundary}--\r\n".encode()

            headers = {
                **owner.headers,
                "content-type": f"multipart/form-data; boundary={boundary}",
            }
            answer = await client.post(imports_of(owner), headers=headers, content=stream())
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "body_too_large"
    assert job_count(store) == 0
    assert uploads_left(settings) == []


async def test_the_rejected_rows_download_is_excel_friendly_csv(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    content = 'Телефон;ПІБ\n=1+1;=HYPERLINK("x")\n+380 93;Коротка\n'.encode()
    job = await run_import(client, owner, content)
    answer = await client.get(
        f"/power-dialer/imports/{job['id']}/rejected.csv", headers=owner.headers
    )
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "phone_number", "fio", "code", "reason", "message"]
    assert [row[:3] for row in rows[1:]] == [
        ["2", "'=1+1", '\'=HYPERLINK("x")'],  # never a formula when opened in Excel
        ["3", "+380 93", "Коротка"],  # a number is left as written
    ]


async def test_a_job_without_rejects_downloads_just_the_header(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    job = await run_import(client, owner, UA_CSV.encode())
    assert await rejected_rows(client, owner, job["id"]) == []


# --- preview --------------------------------------------------------------------------------


async def test_the_preview_shows_detection_and_the_first_rows_and_stores_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store, settings: Settings
) -> None:
    lines = ["Телефон;ПІБ;Місто"] + [f"38093{i:07d};Контакт {i};Київ" for i in range(30)]
    lines[3] = "12;Погана;Львів"
    answer = await client.post(
        "/power-dialer/imports/preview",
        headers=owner.headers,
        files={"file": ("leads.csv", "\r\n".join(lines).encode("cp1251"))},
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert (preview["format"], preview["encoding"], preview["delimiter"]) == ("csv", "cp1251", ";")
    assert preview["headers"] == ["Телефон", "ПІБ", "Місто"]
    assert preview["mapping"] == {"phone": "Телефон", "fio": "ПІБ", "external_id": None}
    rows = preview["rows"]
    assert len(rows) == 20
    assert rows[0] == {
        "line": 2,
        "phone": "380930000000",
        "fio": "Контакт 0",
        "external_id": None,
        "fields": {"Місто": "Київ"},
        "phone_e164": "+380930000000",
        "error": None,
    }
    assert rows[2]["line"] == 4
    assert rows[2]["phone_e164"] is None
    assert rows[2]["error"]["code"] == "invalid_phone_number"
    assert job_count(store) == 0
    assert stored_rows(store, owner) == []
    assert uploads_left(settings) == []


async def test_the_preview_takes_a_mapping_and_reads_workbooks(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    content = xlsx([["Робочий", "Мобільний", "Клієнт"], ["0441234567", 380931234567, "Іван"]])
    answer = await client.post(
        "/power-dialer/imports/preview",
        headers=owner.headers,
        files={"file": ("leads.xlsx", content)},
        data={"mapping": json.dumps({"phone": 1, "fio": "Клієнт"})},
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["format"] == "xlsx"
    assert preview["mapping"] == {"phone": "Мобільний", "fio": "Клієнт", "external_id": None}
    assert preview["rows"][0]["phone_e164"] == "+380931234567"


async def test_the_preview_of_a_file_without_a_phone_column_answers_422(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.post(
        "/power-dialer/imports/preview",
        headers=owner.headers,
        files={"file": ("leads.csv", "Ім'я;Місто\nІван;Київ\n".encode())},
    )
    assert answer.status_code == 422
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == (
        "no_phone_column",
        "file",
    )


async def test_the_openapi_document_describes_the_upload_form(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    upload = spec["paths"]["/power-dialer/campaigns/{campaign_id}/imports"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert {"file", "mapping", "keep_valid"} <= set(form["properties"])
    assert "202" in upload["responses"]
    assert "413" in upload["responses"]
    assert "/power-dialer/imports/{job_id}/rejected.csv" in spec["paths"]
    assert "/power-dialer/imports/preview" in spec["paths"]


async def test_a_job_keeps_the_filename_but_never_the_client_path(
    client: httpx.AsyncClient, owner: Persona, tmp_path: Path
) -> None:
    job = await start_import(client, owner, UA_CSV.encode(), filename="C:\\Users\\op\\leads.csv")
    assert job["filename"] == "leads.csv"
