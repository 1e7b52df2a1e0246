"""The article's journey in a real browser against a real server process: sign in, add a
campaign, open its number list through the three-dots menu and read both ids from the URL,
upload a Windows-1251 ``;``-separated CSV and see the counts, create a key on the API page,
send a row with it over HTTP and see it in the list, switch the language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from powerdialer import campaigns
from powerdialer.storage import Store
from tests.conftest import Persona
from tests.e2e.conftest import Server
from tests.ui.browser import chromium
from tests.ui.conftest import User

pytestmark = pytest.mark.e2e

CP1251_CSV = (
    "ПІБ;Телефон\n"
    "Іван Петренко;093-000-00-01\n"
    "Марія Коваль;+380 93 000 00 02\n"
    "Дубль;380930000001\n"
    "Без номера;12\n"
).encode("cp1251")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="en-US",  # the UI must still start in Ukrainian
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert errors == [], f"the page logged errors: {errors}"


@pytest.fixture
def server(start_server: Callable[..., Server], tmp_path: Path, anna: User) -> Server:
    return start_server(POWERDIALER_DATA_DIR=str(tmp_path / "server-data"))


def sign_in(page: Any, server: Server, user: User) -> None:
    page.goto(server.url + "/")
    assert "/login" in page.url
    page.get_by_label("Електронна пошта").fill(user.email)
    page.get_by_label("Пароль").fill(user.password)
    page.get_by_role("button", name="Увійти").click()
    page.wait_for_url(re.compile(r"/settings/softphone/power-dialer"))


def test_the_articles_journey(
    page: Any, server: Server, anna: User, store: Store, tmp_path: Path
) -> None:
    sign_in(page, server, anna)
    assert page.locator("html").get_attribute("lang") == "uk"
    expect(page.get_by_role("heading", name="Power Dialer")).to_be_visible()

    # "+ Додати кампанію": a dialog with a name and "Зберегти".
    page.get_by_role("link", name="+ Додати кампанію").click()
    dialog = page.get_by_role("dialog", name="Нова кампанія")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Назва кампанії").fill("Весняні ліди")
    dialog.get_by_role("button", name="Зберегти").click()
    page.wait_for_url(re.compile(r"notice=campaign_created"))
    row = page.get_by_role("row").filter(has_text="Весняні ліди")
    expect(row).to_be_visible()
    created = next(
        c for c in campaigns.list_campaigns(store, anna.project_id) if c.name == "Весняні ліди"
    )

    # The three vertical dots → "Редагувати список номерів кампанії".
    row.get_by_label("Дії з «Весняні ліди»").click()
    row.get_by_role("menuitem", name="Редагувати список номерів кампанії").click()
    page.wait_for_url(re.compile(r"/campaign/edit\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["projectId"] == [str(anna.project_id)]
    assert query["editCampaign"] == [str(created.id)]
    assert query["campaignName"] == ["Весняні ліди"]
    assert page.locator("#project-id").inner_text() == str(anna.project_id)
    assert page.locator("#campaign-id").inner_text() == str(created.id)

    # Copy button → clipboard.
    page.get_by_role("button", name="Копіювати ідентифікатор кампанії").click()
    assert page.evaluate("navigator.clipboard.readText()") == str(created.id)

    # Upload a cp1251 ;-separated CSV: preview, columns, progress, counts.
    leads = tmp_path / "ліди.csv"
    leads.write_bytes(CP1251_CSV)
    page.locator("#upload-file").set_input_files(str(leads))
    preview = page.locator("#preview-table")
    preview.get_by_text("Іван Петренко").wait_for()
    assert "windows-1251" in page.locator("#preview-detected").inner_text().lower() or (
        "cp1251" in page.locator("#preview-detected").inner_text().lower()
    )
    phone_column = page.get_by_label("Номер телефону", exact=True).first
    assert phone_column.locator("option:checked").inner_text() == "Телефон"
    page.get_by_role("button", name="Імпортувати").click()
    page.locator("#import-result").wait_for(state="visible")
    assert page.locator("#result-inserted").inner_text() == "2"
    assert page.locator("#result-duplicates").inner_text() == "1"
    assert page.locator("#result-rejected").inner_text() == "1"
    assert page.locator("#import-progress").evaluate("p => p.value") == 100
    expect(page.get_by_role("link", name="Завантажити відхилені рядки (CSV)")).to_be_visible()
    page.locator("#rows").get_by_text("Марія Коваль").wait_for()

    # Settings → Integration → API: create a key (shown once).
    page.get_by_role("navigation", name="Налаштування").get_by_role("link", name="API").click()
    page.get_by_role("button", name="Створити ключ").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("pd_")
    assert key in page.locator("#snippet-curl").inner_text()
    # Post/Redirect/Get: the page's address is the page's, and a reload re-sends nothing.
    assert urlsplit(page.url).path == "/settings/integration/api"
    rows_before = page.locator("table.keys tbody tr").count()
    reloaded = page.reload()
    assert reloaded is not None
    assert reloaded.status == 200
    assert page.locator("#new-key").count() == 0  # shown once
    assert page.locator("table.keys tbody tr").count() == rows_before

    # The article's request with that key, over HTTP, then the row is in the list.
    answer = httpx.post(
        server.compat_url,
        headers={"x-project-id": query["projectId"][0], "Auth-key": key},
        json={
            "campaignId": int(query["editCampaign"][0]),
            "fio": "Олена з CRM",
            "phone_number": "380930000099",
        },
        trust_env=False,
    )
    assert answer.json() == {"result": True}
    page.goto(
        f"{server.url}/campaign/edit?projectId={anna.project_id}&editCampaign={created.id}"
        "&campaignName=x"
    )
    listed = page.locator("#rows").get_by_role("row").filter(has_text="Олена з CRM")
    expect(listed).to_be_visible()
    assert "+380930000099" in listed.inner_text()

    # Switch the language.
    page.get_by_role("link", name="English").click()
    page.get_by_role("heading", name="Edit the campaign's number list").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Power Dialer").click()
    expect(page.get_by_role("link", name="+ Add campaign")).to_be_visible()


def test_the_menu_and_dialogs_work_from_the_keyboard(page: Any, server: Server, anna: User) -> None:
    sign_in(page, server, anna)
    summary = page.get_by_label("Дії з «Owner leads»")
    summary.focus()
    page.keyboard.press("Enter")
    first = page.get_by_role("menuitem", name="Редагувати список номерів кампанії")
    # expect() waits for the focus the menu's script moves: no race with the page's JS.
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Огляд")).to_be_focused()
    page.keyboard.press("Escape")
    expect(first).to_be_hidden()
    # The rename dialog: the field is focused with the name selected; Escape closes it.
    summary.focus()
    page.keyboard.press("Enter")
    page.get_by_role("menuitem", name="Перейменувати").click()
    field = page.get_by_role("dialog", name="Перейменувати кампанію").get_by_label("Назва кампанії")
    expect(field).to_be_focused()
    page.keyboard.press("Escape")
    expect(field).to_be_hidden()


def test_a_script_in_a_contacts_name_never_runs(
    page: Any, server: Server, anna: User, owner: Persona
) -> None:
    fired: list[str] = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    answer = httpx.post(
        server.compat_url,
        headers=owner.headers,
        json=owner.row(fio="<script>alert(1)</script><img src=x onerror=alert(2)>"),
        trust_env=False,
    )
    assert answer.json() == {"result": True}
    sign_in(page, server, anna)
    page.goto(
        f"{server.url}/campaign/edit?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    )
    cell = page.locator("#rows td.fio").first
    assert cell.inner_text() == "<script>alert(1)</script><img src=x onerror=alert(2)>"
    page.wait_for_timeout(300)
    assert fired == []


def test_pages_work_with_scripts_off(browser: Any, server: Server, anna: User) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, server, anna)
        page.get_by_role("link", name="+ Додати кампанію").click()
        dialog = page.get_by_role("dialog", name="Нова кампанія")
        dialog.get_by_label("Назва кампанії").fill("Без скриптів")
        dialog.get_by_role("button", name="Зберегти").click()
        page.wait_for_url(re.compile(r"notice=campaign_created"))
        expect(page.get_by_role("row").filter(has_text="Без скриптів")).to_be_visible()
    finally:
        context.close()
