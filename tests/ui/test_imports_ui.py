"""The edit page's upload, in process: preview, job, progress, rejected rows — with the session
and its CSRF token, never an API key."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx
import pytest

from powerdialer.storage import Store
from tests.conftest import Persona, stored_rows
from tests.ui.conftest import User, csrf_of, edit_url

pytestmark = pytest.mark.anyio

CP1251_CSV = (
    "ПІБ;Телефон\nІван Петренко;093-000-00-01\nМарія Коваль;+380 93 000 00 02\n"
    "Дубль;380930000001\nБез номера;12\n".encode("cp1251")
)


async def _token(client: httpx.AsyncClient, user: User) -> str:
    return csrf_of((await client.get(edit_url(user))).text)


def _headers(token: str) -> dict[str, str]:
    return {"X-CSRF-Token": token, "Accept": "application/json"}


async def _wait(client: httpx.AsyncClient, user: User, job: dict[str, Any]) -> dict[str, Any]:
    for _ in range(200):
        answer = await client.get(
            f"/ui/imports/{job['id']}?projectId={user.project_id}",
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        job = answer.json()
        if job["finished"]:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import did not finish: {job}")


async def test_a_preview_shows_the_detected_columns_and_first_rows(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    token = await _token(as_anna, anna)
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports/preview?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        headers=_headers(token),
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["format"] == "csv"
    assert found["delimiter"] == ";"
    assert found["encoding"].lower() in ("cp1251", "windows-1251")
    assert found["headers"] == ["ПІБ", "Телефон"]
    assert found["mapping"]["phone"] == "Телефон"
    assert found["mapping"]["fio"] == "ПІБ"
    assert found["rows"][0]["fio"] == "Іван Петренко"
    assert found["rows"][0]["phone_e164"] == "+380930000001"
    assert "замало цифр" in found["rows"][3]["problem"]


async def test_a_preview_can_use_another_mapping(as_anna: httpx.AsyncClient, anna: User) -> None:
    token = await _token(as_anna, anna)
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports/preview?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        data={"mapping": '{"phone": 1, "fio": null, "has_header": true}'},
        headers=_headers(token),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"][0]["fio"] is None


async def test_a_file_without_a_phone_column_is_explained(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    token = await _token(as_anna, anna)
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports/preview?projectId={anna.project_id}",
        files={"file": ("x.csv", "Назва;Місто\nА;Київ\n".encode(), "text/csv")},
        headers=_headers(token),
    )
    assert answer.status_code == 422
    assert "Не знайдено стовпця з номерами" in answer.json()["error"]


async def test_an_import_runs_to_the_end_with_counts_and_rejected_rows(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    token = await _token(as_anna, anna)
    started = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        headers=_headers(token),
    )
    assert started.status_code == 202, started.text
    job = await _wait(as_anna, anna, started.json())
    assert (job["status"], job["inserted"], job["duplicates"], job["rejected"]) == (
        "done",
        2,
        1,
        1,
    )
    assert job["text"] == "Готово."
    assert {r[2] for r in stored_rows(store, owner)} == {"+380930000001", "+380930000002"}
    rejected = await as_anna.get(job["rejected_url"])
    assert rejected.status_code == 200
    lines = list(csv.DictReader(io.StringIO(rejected.content.decode("utf-8-sig"))))
    assert [(r["fio"], r["phone_number"]) for r in lines] == [("Без номера", "12")]


async def test_without_scripts_the_upload_redirects_to_the_page_with_the_jobs_progress(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    token = await _token(as_anna, anna)
    started = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        data={"csrf_token": token},
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert "&job=" in location
    job_id = int(location.rsplit("job=", 1)[1])
    await _wait(as_anna, anna, {"id": job_id})
    page = await as_anna.get(location)
    assert 'id="result-inserted">2<' in page.text
    assert 'id="result-rejected">1<' in page.text
    assert "rejected.csv" in page.text
    assert 'http-equiv="refresh"' not in page.text  # done: no more reloading


async def test_an_upload_without_the_csrf_token_is_refused_and_not_kept(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        data={"csrf_token": "forged"},
    )
    assert answer.status_code == 403
    assert stored_rows(store, owner) == []


async def test_an_archived_campaign_takes_no_upload(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    from powerdialer import campaigns
    from powerdialer.models import CampaignState

    token = await _token(as_anna, anna)
    campaigns.set_campaign_state(store, anna.project_id, anna.campaign_id, CampaignState.ARCHIVED)
    page = await as_anna.get(edit_url(anna))
    assert 'id="upload-form"' not in page.text
    assert "Кампанія в архіві" in page.text
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("leads.csv", CP1251_CSV, "text/csv")},
        headers=_headers(token),
    )
    assert answer.status_code == 409
    assert "в архіві" in answer.json()["error"]


async def test_a_wide_crm_export_says_in_the_preview_and_the_job_which_columns_it_left_out(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    from tests.crm_exports import LONG_TITLE, bitrix24

    export = bitrix24()
    token = await _token(as_anna, anna)
    answer = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports/preview?projectId={anna.project_id}",
        files={"file": ("contacts.csv", export.csv(), "text/csv")},
        headers=_headers(token),
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert len(found["fields"]) == 50
    assert f"Стовпчик «{LONG_TITLE[:80]}» не імпортовано" in found["left_out"][0]
    assert any("UF_CRM_1600000092" in text and "50" in text for text in found["left_out"])
    started = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("contacts.csv", export.csv(), "text/csv")},
        data={"mapping": f'{{"fields": {found["fields"][:3]}}}'},
        headers=_headers(token),
    )
    assert started.status_code == 202, started.text
    job = await _wait(as_anna, anna, started.json())
    assert (job["status"], job["inserted"], job["rejected"], job["left_out"]) == ("done", 30, 0, [])
    assert len(stored_rows(store, anna.persona)) == 30
    started = await as_anna.post(
        f"/ui/campaigns/{anna.campaign_id}/imports?projectId={anna.project_id}",
        files={"file": ("contacts.csv", export.csv(), "text/csv")},
        headers=_headers(token),
    )
    job = await _wait(as_anna, anna, started.json())
    assert job["left_out"] == found["left_out"]
    page = (await as_anna.get(edit_url(anna) + f"&job={job['id']}")).text
    notices = page.split('id="result-left-out"', 1)[1].split("</ul>", 1)[0]
    assert notices.count("<li>") == len(found["left_out"])
    assert "UF_CRM_1600000092" in notices
