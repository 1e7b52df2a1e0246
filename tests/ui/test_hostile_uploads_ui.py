"""The edit page's preview of hostile workbooks: the UI's own error (422, a sentence in the
user's language), and the app goes on.  The API's side is in tests/test_hostile_files."""

from __future__ import annotations

import httpx
import pytest

from tests.hostile import HOSTILE
from tests.ui.conftest import User, csrf_of, edit_url

pytestmark = pytest.mark.anyio


async def _preview(
    client: httpx.AsyncClient, user: User, name: str, content: bytes
) -> httpx.Response:
    token = csrf_of((await client.get(edit_url(user))).text)
    return await client.post(
        f"/ui/campaigns/{user.campaign_id}/imports/preview?projectId={user.project_id}",
        files={"file": (name, content)},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_the_ui_preview_refuses_a_hostile_workbook_in_the_users_language(
    as_anna: httpx.AsyncClient, anna: User, name: str
) -> None:
    build, _code = HOSTILE[name]
    answer = await _preview(as_anna, anna, name, build())
    assert answer.status_code == 422, answer.text
    assert "збережіть її як CSV" in answer.json()["error"]
    assert (await as_anna.get("/healthz")).status_code == 200
    fine = await _preview(as_anna, anna, "ok.csv", b"phone\n380931234567\n")
    assert fine.status_code == 200, fine.text
    assert fine.json()["rows"][0]["phone_e164"] == "+380931234567"
