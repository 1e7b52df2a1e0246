"""The web UI's JSON answers to app.js, one real request per error status, each checked whole
(tests/error_shapes.py): ``{"code", "error"}``, the error a sentence in the user's language.
503 ``storage_unavailable`` is in test_ui_error_shape.py, with a disk or a database that
really takes no writes."""

from __future__ import annotations

import httpx
import pytest

from powerdialer.web.app import PowerDialerApp
from tests.conftest import StartApp
from tests.error_shapes import api_error, ui_error
from tests.test_error_shape import MALFORMED
from tests.ui.conftest import User, browser_for, csrf_of, edit_url

pytestmark = pytest.mark.anyio

APP_JS = {"Accept": "application/json"}


def preview_url(user: User) -> str:
    return f"/ui/campaigns/{user.campaign_id}/imports/preview?projectId={user.project_id}"


async def app_js(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """What app.js sends with an unsafe request: the page's CSRF token, asking for JSON."""
    token = csrf_of((await client.get(edit_url(user))).text)
    return {**APP_JS, "X-CSRF-Token": token}


async def test_the_uis_answers_to_app_js_have_one_shape_in_the_users_language(
    app: PowerDialerApp, anna: User, oleh: User
) -> None:
    job = f"/ui/imports/999999?projectId={anna.project_id}"
    async with browser_for(app, None) as anonymous:
        ui_error(await anonymous.get(job, headers=APP_JS), 401, "signed_out")
    async with browser_for(app, anna) as browser:
        ui_error(await browser.get(job, headers=APP_JS), 404, "not_found")
        unsigned = await browser.post(
            preview_url(anna), headers=APP_JS, files={"file": ("a.csv", b"phone\n1\n")}
        )
        ui_error(unsigned, 403, "csrf")
        headers = await app_js(browser, anna)
        content_type, body = MALFORMED["truncated"]
        malformed = await browser.post(
            preview_url(anna), headers={**headers, "content-type": content_type}, content=body
        )
        ui_error(malformed, 422, "invalid_upload")
        no_phone = await browser.post(
            preview_url(anna), headers=headers, files={"file": ("a.csv", "Ім'я\nІван\n".encode())}
        )
        assert "Телефон" in ui_error(no_phone, 422, "no_phone_column")  # Ukrainian first
        english = await browser.get(f"{job}&lang=en", headers=APP_JS)
        assert ui_error(english, 404, "not_found") == "Not found"
    async with browser_for(app, oleh) as operator:  # the team is the owner's to manage
        headers = await app_js(operator, oleh)
        added = await operator.post(
            f"/settings/team?projectId={oleh.project_id}",
            headers=headers,
            data={"csrf_token": headers["X-CSRF-Token"], "email": "new@example.com"},
        )
        ui_error(added, 403, "forbidden")


async def test_too_many_open_downloads_is_429_in_the_uis_shape(
    started_app: StartApp, anna: User
) -> None:
    async with started_app(max_exports=1) as app, browser_for(app, anna) as browser:
        held = app.services.exports.take("another download")  # the process's only slot
        assert held is not None
        base = "/settings/softphone/power-dialer/campaigns"
        url = f"{base}/{anna.campaign_id}/export.xlsx?projectId={anna.project_id}"
        busy = await browser.get(url, headers=APP_JS)
        ui_error(busy, 429, "too_many_exports")
        assert busy.headers["retry-after"]
        held.release()
        assert (await browser.get(url)).status_code == 200


async def test_an_upload_past_the_limit_is_413_from_the_body_limit_in_the_apis_shape(
    started_app: StartApp, anna: User
) -> None:
    # The body limit answers before any UI route runs, so in the API's shape (upload.js
    # reads both: ``error.message`` or ``error``), and in English.
    async with started_app(max_upload_bytes=4096) as app, browser_for(app, anna) as browser:
        headers = await app_js(browser, anna)
        big = await browser.post(
            preview_url(anna), headers=headers, files={"file": ("a.csv", b"380930000000\n" * 800)}
        )
        api_error(big, 413, "body_too_large")
