"""The UI's error answers: text that cannot be stored in any field of any form is never a
5xx; and for what is no fault of the form: a malformed upload (422
``invalid_upload``), a full disk under an upload, a database that takes no writes (503
``storage_unavailable`` with ``Retry-After``) — JSON for app.js, a page for a browser."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from powerdialer.settings import Settings
from tests.error_shapes import ui_error
from tests.failures import BrokenDatabase, broken_database, database_url
from tests.mounts import tmpfs
from tests.test_error_shape import MALFORMED, big_csv, left_on_disk
from tests.ui.conftest import LIST, User, csrf_of, edit_url, text_of

__all__ = ["broken_database", "database_url"]  # fixtures

pytestmark = pytest.mark.anyio


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "data-disk", "1m") as disk:
        yield disk


@pytest.fixture
def settings(database_url: str, small_disk: Path) -> Settings:
    return Settings(
        database_url=database_url, rate_limit_per_second=0, data_dir=str(small_disk / "data")
    )


def upload_urls(user: User) -> list[str]:
    base = f"/ui/campaigns/{user.campaign_id}/imports"
    return [f"{base}/preview?projectId={user.project_id}", f"{base}?projectId={user.project_id}"]


async def app_js_headers(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    token = csrf_of((await client.get(edit_url(user))).text)
    return {"X-CSRF-Token": token, "Accept": "application/json"}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_upload_is_422_invalid_upload_in_the_uis_words(
    as_anna: httpx.AsyncClient, anna: User, settings: Settings, case: str
) -> None:
    content_type, body = MALFORMED[case]
    headers = {**await app_js_headers(as_anna, anna), "content-type": content_type}
    for url in upload_urls(anna):
        answer = await as_anna.post(url, headers=headers, content=body)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["code"] == "invalid_upload"
        ui_error(answer, 422, "invalid_upload")
        assert answer.json()["error"]  # a sentence in the user's language
    assert left_on_disk(settings) == []


async def test_a_full_disk_under_a_ui_upload_is_503_and_leaves_no_partial_file(
    as_anna: httpx.AsyncClient, anna: User, settings: Settings
) -> None:
    headers = await app_js_headers(as_anna, anna)
    for url in upload_urls(anna):
        answer = await as_anna.post(
            url, headers=headers, files={"file": ("big.csv", big_csv(80_000))}
        )
        assert answer.status_code == 503, (url, answer.text)
        assert answer.headers["retry-after"] == "1"
        assert answer.json()["code"] == "storage_unavailable"
        ui_error(answer, 503, "storage_unavailable")  # the whole shape
        assert left_on_disk(settings) == []


async def test_ui_forms_answer_a_503_page_while_the_database_takes_no_writes(
    as_anna: httpx.AsyncClient, anna: User, broken_database: BrokenDatabase
) -> None:
    page = await as_anna.get(edit_url(anna))
    token = csrf_of(page.text)
    broken_database.break_()
    ids = f"projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    for action, data in [
        (f"/campaign/rows/add?{ids}", {"phone_number": "380930000001", "fio": "Іван"}),
        (f"{LIST}/campaigns?projectId={anna.project_id}", {"name": "Autumn"}),
    ]:
        answer = await as_anna.post(action, data={"csrf_token": token, **data})
        assert answer.status_code == 503, (action, answer.text[:300])
        assert answer.headers["retry-after"] == "1"
        assert "Спробуйте ще раз за мить" in text_of(answer.text)  # Ukrainian by default


NOT_UTF8 = "%ED%A0%80"  # a surrogate as CESU-8 bytes: not UTF-8
NUL = "%00"


# --- text that cannot be stored, in every form of the UI's pages ----------------------


class _Forms(HTMLParser):
    """Every ``<form method="post">`` of a page: its action and the names of its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form" and found.get("method", "get").lower() == "post":
            self._current = {}
            self.forms.append((found.get("action", ""), self._current))
        elif (
            tag in ("input", "select", "textarea")
            and self._current is not None
            and found.get("name")
            and found.get("type") != "file"
        ):
            self._current[found["name"]] = found.get("value", "x")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


async def test_unstorable_text_in_any_ui_form_field_is_never_a_5xx(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    pages = [
        f"{LIST}?projectId={anna.project_id}",
        f"/campaign/edit?projectId={anna.project_id}&editCampaign={anna.campaign_id}",
        "/settings/integration/api",
        "/settings/team",
        "/account",
    ]
    walked = 0
    for page in pages:
        html = (await as_anna.get(page)).text
        parser = _Forms()
        parser.feed(html)
        for action, fields in parser.forms:
            if action in ("/logout", "/session/project") or "/delete" in action:
                continue  # they end the session or the data the other forms need
            for name in [n for n in fields if n != "csrf_token"]:
                for bad in (NOT_UTF8, NUL):
                    token = csrf_of((await as_anna.get(page)).text)
                    data = "&".join(
                        f"{k}={bad if k == name else v}"
                        for k, v in {**fields, "csrf_token": token}.items()
                    )
                    answer = await as_anna.post(
                        action.replace("&amp;", "&"),
                        content=data.encode(),
                        headers={"content-type": "application/x-www-form-urlencoded"},
                    )
                    assert answer.status_code < 500, (page, action, name, answer.text[:300])
                    walked += 1
    assert walked >= 12, walked
