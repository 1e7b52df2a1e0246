"""The pages and what they do, in process: the campaign list and its menu, the number list,
the API page, the overview, escaping, headers and offline assets."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from openpyxl import load_workbook

from powerdialer import campaigns, projects
from powerdialer.accounts import users
from powerdialer.accounts.models import Role
from powerdialer.storage import Store, schema
from powerdialer.storage.schema import memberships
from powerdialer.web.app import PowerDialerApp
from tests.conftest import COMPAT, Persona, stored_rows
from tests.ui.conftest import (
    API_PAGE,
    LIST,
    PASSWORD,
    User,
    browser_for,
    csrf_of,
    edit_url,
    form_post,
    sign_in,
    text_of,
)

pytestmark = pytest.mark.anyio

XSS = "<script>alert(1)</script>"


async def test_home_leads_to_the_campaign_list_in_ukrainian(as_anna: httpx.AsyncClient) -> None:
    answer = await as_anna.get("/", follow_redirects=True)
    assert answer.url.path == LIST
    text = text_of(answer.text)
    assert '<html lang="uk">' in answer.text
    for words in ("Налаштування", "Налаштування софтфону", "Power Dialer", "Інтеграція", "API"):
        assert words in text
    assert "+ Додати кампанію" in text
    assert "Owner leads" in text


async def test_the_settings_page_follows_the_articles_navigation(
    as_anna: httpx.AsyncClient,
) -> None:
    page = await as_anna.get("/settings")
    assert 'href="/settings/softphone/power-dialer">Power Dialer</a>' in page.text
    assert 'href="/settings/integration/api">API</a>' in page.text
    assert "Налаштування софтфону" in page.text
    assert "Інтеграція" in page.text


async def test_a_campaign_is_added_with_a_name(
    as_anna: httpx.AsyncClient, store: Store, anna: User
) -> None:
    dialog = await as_anna.get(f"{LIST}?dialog=new")
    assert '<dialog id="dialog-new" aria-labelledby="dialog-new-title" open' in dialog.text
    answer = await form_post(as_anna, LIST, f"{LIST}/campaigns", {"name": "  Весняні   ліди "})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{LIST}?notice=campaign_created"
    page = await as_anna.get(answer.headers["location"])
    assert "Кампанію створено." in page.text
    assert [c.name for c in campaigns.list_campaigns(store, anna.project_id)] == [
        "Owner leads",
        "Весняні ліди",
    ]


async def test_an_empty_campaign_name_keeps_the_dialog_open_with_the_reason(
    as_anna: httpx.AsyncClient,
) -> None:
    answer = await form_post(as_anna, LIST, f"{LIST}/campaigns", {"name": "   "})
    assert answer.status_code == 422
    assert "Введіть назву." in answer.text
    assert '<dialog id="dialog-new" aria-labelledby="dialog-new-title" open' in answer.text


async def test_the_three_dots_menu_has_the_articles_item_and_the_actions(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    page = await as_anna.get(LIST)
    menu = page.text.split(f'data-campaign-id="{anna.campaign_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Редагувати список номерів кампанії" in menu
    href = re.search(r'href="(/campaign/edit\?[^"]+)"', menu)
    assert href
    query = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query)
    assert query == {
        "projectId": [str(anna.project_id)],
        "editCampaign": [str(anna.campaign_id)],
        "campaignName": ["Owner leads"],
    }
    for item in ("Перейменувати", "Експорт CSV", "Експорт XLSX", "Архівувати", "Видалити"):
        assert item in menu


async def test_rename_archive_unarchive_and_delete(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    base = f"{LIST}/campaigns/{anna.campaign_id}"
    assert (await form_post(as_anna, LIST, f"{base}/rename", {"name": "Осінь"})).status_code == 303
    assert campaigns.campaign_summary(store, anna.project_id, anna.campaign_id).campaign.name == (
        "Осінь"
    )
    assert (await form_post(as_anna, LIST, f"{base}/archive")).status_code == 303
    page = await as_anna.get(LIST)
    assert "В архіві" in page.text
    assert "Повернути з архіву" in page.text
    assert (await form_post(as_anna, LIST, f"{base}/unarchive")).status_code == 303
    confirm = await as_anna.get(f"{LIST}?dialog=delete-{anna.campaign_id}")
    assert "Видалити кампанію?" in confirm.text
    deleted = await form_post(as_anna, LIST, f"{base}/delete")
    assert deleted.headers["location"] == f"{LIST}?notice=campaign_deleted"
    assert campaigns.list_campaigns(store, anna.project_id) == []


async def test_export_downloads_the_rows_as_csv_and_xlsx(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User
) -> None:
    await client.post(COMPAT, json=owner.row(), headers=owner.headers)
    base = f"{LIST}/campaigns/{anna.campaign_id}"
    exported = await as_anna.get(f"{base}/export.csv")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[1][1:4] == ["Іван Петренко", "380930000000", "+380930000000"]
    workbook = await as_anna.get(f"{base}/export.xlsx")
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    assert sheet.cell(2, 2).value == "Іван Петренко"


async def test_the_edit_page_shows_both_ids_with_copy_buttons(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    page = await as_anna.get(edit_url(anna))
    assert page.status_code == 200
    assert f'<code id="project-id">{anna.project_id}</code>' in page.text
    assert f'<code id="campaign-id">{anna.campaign_id}</code>' in page.text
    assert f'data-copy="{anna.project_id}"' in page.text
    assert f'data-copy="{anna.campaign_id}"' in page.text
    assert "Редагувати список номерів кампанії" in page.text
    assert 'type="file"' in page.text


async def test_a_number_added_by_hand_is_stored_once(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    url = edit_url(anna)
    action = f"/campaign/rows/add?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    first = await form_post(
        as_anna, url, action, {"fio": "Марія Коваль", "phone_number": "093-000-00-01"}
    )
    assert first.status_code == 303
    assert "notice=row_added" in first.headers["location"]
    again = await form_post(as_anna, url, action, {"fio": "", "phone_number": "+380 93 000 00 01"})
    assert "notice=row_duplicate" in again.headers["location"]
    assert stored_rows(store, owner) == [("Марія Коваль", "093-000-00-01", "+380930000001")]
    page = await as_anna.get(edit_url(anna))
    assert "Марія Коваль" in page.text
    assert "Додано вручну" in page.text


async def test_a_bad_number_is_explained_and_kept_in_the_form(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    action = f"/campaign/rows/add?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    answer = await form_post(as_anna, edit_url(anna), action, {"fio": "Ян", "phone_number": "12"})
    assert answer.status_code == 422
    assert "У номері замало цифр" in answer.text
    assert 'value="12"' in answer.text


async def test_a_number_with_two_readings_is_explained_with_both(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    action = f"/campaign/rows/add?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    typed = {"fio": "Ян", "phone_number": "8 (495) 123-45-67"}
    answer = await form_post(as_anna, edit_url(anna), action, typed)
    assert answer.status_code == 422
    text = text_of(answer.text)
    assert "Незрозуміло, з якої країни цей номер" in text
    assert "+74951234567 (RU) або +84951234567 (VN)" in text
    assert stored_rows(store, owner) == []


async def test_rows_can_be_searched_paged_and_deleted(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User, store: Store
) -> None:
    for n in range(60):
        row = owner.row(f"3809300001{n:02d}", fio=f"Контакт {n:02d}")
        await client.post(COMPAT, json=row, headers=owner.headers)
    first = await as_anna.get(edit_url(anna))
    assert first.text.count('name="row_id"') == 50
    next_link = re.search(r'href="([^"]+)#rows" rel="next"', first.text)
    assert next_link
    assert 'rel="prev"' not in first.text
    second = await as_anna.get(next_link.group(1).replace("&amp;", "&"))
    assert second.text.count('name="row_id"') == 10
    prev_link = re.search(r'href="([^"]+)#rows" rel="prev"', second.text)
    assert prev_link
    back = await as_anna.get(prev_link.group(1).replace("&amp;", "&"))
    assert re.findall(r'name="row_id" value="(\d+)"', back.text) == re.findall(
        r'name="row_id" value="(\d+)"', first.text
    )
    by_name = await as_anna.get(edit_url(anna) + "&q=контакт 07")
    assert by_name.text.count('name="row_id"') == 1
    by_prefix = await as_anna.get(edit_url(anna) + "&q=093000012")
    assert by_prefix.text.count('name="row_id"') == 10
    ids = re.findall(r'name="row_id" value="(\d+)"', by_prefix.text)
    deleted = await as_anna.post(
        f"/campaign/rows/delete?projectId={anna.project_id}&editCampaign={anna.campaign_id}",
        data={"csrf_token": csrf_of(by_prefix.text), "row_id": ids},
    )
    assert deleted.status_code == 303
    assert len(stored_rows(store, owner)) == 50
    one = await as_anna.post(
        f"/campaign/rows/delete?projectId={anna.project_id}&editCampaign={anna.campaign_id}",
        data={"csrf_token": csrf_of(by_prefix.text), "delete_one": ids[0], "row_id": ids},
    )
    assert one.status_code == 303
    assert len(stored_rows(store, owner)) == 50  # already gone: same result


async def add_bulk(client: httpx.AsyncClient, owner: Persona, rows: list[dict[str, Any]]) -> None:
    """Rows through the bulk API, which carries CRM ids and custom fields."""
    answer = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows",
        json={"rows": rows},
        headers=owner.headers,
    )
    assert answer.status_code == 200, answer.text


async def test_the_number_list_shows_crm_ids_and_custom_fields(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User
) -> None:
    plain = await as_anna.get(edit_url(anna))
    await client.post(
        COMPAT, json=owner.row("380930000001", fio="Без полів"), headers=owner.headers
    )
    before = await as_anna.get(edit_url(anna))
    # Campaigns filled through the vendor's endpoint alone keep the article's columns.
    headers = re.compile(r'<th scope="col">(ID у CRM|Додаткові поля)</th>')
    assert not headers.findall(before.text)
    assert plain.status_code == before.status_code == 200
    rows = [
        {
            "phone_number": "380930000002",
            "fio": "Іван Петренко",
            "external_id": "crm-1042",
            "fields": {"Місто": "Київ", "note": XSS, "Коментар": "дуже " * 30},
        },
        {"phone_number": "380930000003", "fio": "Олена", "external_id": "7731"},
    ]
    await add_bulk(client, owner, rows)
    page = await as_anna.get(edit_url(anna))
    assert headers.findall(page.text) == ["ID у CRM", "Додаткові поля"]
    row = re.search(
        r'<tr data-row-id="\d+">(?:(?!</tr>).)*Іван Петренко(?:(?!</tr>).)*</tr>', page.text, re.S
    )
    assert row, page.text
    cells = text_of(row.group(0))
    assert "crm-1042" in cells
    assert "<dt>Місто</dt><dd>Київ</dd>" in row.group(0)
    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row.group(0)
    # A long value is cut to 80 characters on the page, the whole of it in the title.
    long_value = "дуже " * 30
    assert f'title="{long_value}"' in row.group(0)
    assert (long_value[:79] + "…") in row.group(0)
    english = await as_anna.get(edit_url(anna) + "&lang=en")
    assert '<th scope="col">CRM id</th>' in english.text
    assert '<th scope="col">Custom fields</th>' in english.text


async def test_the_search_box_finds_a_crm_id_even_one_made_of_digits(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User
) -> None:
    rows = [
        {"phone_number": "380930000011", "fio": "Перший", "external_id": "crm-1042"},
        {"phone_number": "380930000012", "fio": "Другий", "external_id": "7731"},
        {"phone_number": "380930000013", "fio": "Третій crm-1042 у імені"},
        {"phone_number": "380930000014", "fio": "Четвертий", "external_id": "crm-10420"},
    ]
    await add_bulk(client, owner, rows)

    async def found(q: str) -> list[str]:
        page = await as_anna.get(edit_url(anna) + "&" + urlencode({"q": q}))
        return re.findall(r'<td class="fio">([^<]*)</td>', page.text)

    assert await found("crm-1042") == ["Перший", "Третій crm-1042 у імені"]
    assert await found("7731") == ["Другий"]  # digits: a CRM id, not a number's start
    assert await found("093 000 00 12") == ["Другий"]  # still a number
    assert await found("09300000") == ["Перший", "Другий", "Третій crm-1042 у імені", "Четвертий"]
    # A CRM id is matched whole (only the name that holds the text is found).
    assert await found("crm-104") == ["Третій crm-1042 у імені"]


async def test_a_contact_named_like_a_script_is_shown_not_run(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User
) -> None:
    await client.post(COMPAT, json=owner.row(fio=XSS), headers=owner.headers)
    await form_post(as_anna, LIST, f"{LIST}/campaigns/{anna.campaign_id}/rename", {"name": XSS})
    for url in (
        edit_url(anna),
        LIST,
        f"/campaign/overview?projectId={anna.project_id}&editCampaign={anna.campaign_id}",
        API_PAGE,
    ):
        page = await as_anna.get(url)
        assert XSS not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, url
    # Even if markup slipped through, the policy runs no inline script.
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_every_page_sends_the_security_headers(
    as_anna: httpx.AsyncClient, anonymous: httpx.AsyncClient, anna: User
) -> None:
    for client, url in (
        (anonymous, "/login"),
        (as_anna, LIST),
        (as_anna, edit_url(anna)),
        (as_anna, "/static/app.js"),
    ):
        answer = await client.get(url)
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], url
        assert "'unsafe-inline'" not in headers["content-security-policy"], url
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"
    assert (await as_anna.get(LIST)).headers["cache-control"] == "no-store"


async def test_pages_load_nothing_from_other_sites(as_anna: httpx.AsyncClient, anna: User) -> None:
    for url in (LIST, edit_url(anna), API_PAGE, "/settings", "/account"):
        page = await as_anna.get(url)
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        assert all(s.startswith(("/", "#")) for s in sources), (url, sources)
        assert "<script>" not in page.text  # no inline scripts at all
        assert " style=" not in page.text  # nor inline styles


async def test_static_assets_are_served_from_the_package(anonymous: httpx.AsyncClient) -> None:
    for name in ("app.css", "app.js", "upload.js", "favicon.svg"):
        answer = await anonymous.get(f"/static/{name}")
        assert answer.status_code == 200, name


async def test_a_new_key_is_shown_once_and_then_only_by_prefix(
    as_anna: httpx.AsyncClient, anna: User, client: httpx.AsyncClient
) -> None:
    created = await form_post(as_anna, API_PAGE, f"{API_PAGE}/keys", {"name": "CRM sync"})
    # Post/Redirect/Get: the answer to the POST is a redirect to the page, which shows the key.
    assert created.status_code == 303
    assert created.headers["location"] == f"{API_PAGE}#keys"
    shown = await as_anna.get(created.headers["location"])
    key = re.search(r'<code id="new-key">(pd_[^<]+)</code>', shown.text)
    assert key
    assert f"'Auth-key': '{key.group(1)}'" in text_of(shown.text)  # the examples, filled in
    assert shown.headers["cache-control"] == "no-store"
    answer = await client.post(
        COMPAT,
        json={"campaignId": anna.campaign_id, "phone_number": "380930000077"},
        headers={"x-project-id": str(anna.project_id), "Auth-key": key.group(1)},
    )
    assert answer.json() == {"result": True}
    later = await as_anna.get(API_PAGE)  # a reload of the page
    assert key.group(1) not in later.text
    assert "your_unique_auth_key" in later.text
    key_id = key.group(1).split("_")[1]
    assert f"pd_{key_id}_…" in later.text


async def test_reloading_after_creating_a_key_creates_no_other_and_is_no_405(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    before = len(projects.list_keys(store, anna.project_id))
    other = campaigns.create_campaign(store, anna.project_id, "Друга")
    page = await as_anna.get(f"{API_PAGE}?campaign={other.id}")
    created = await as_anna.post(
        f"{API_PAGE}/keys",
        data={"csrf_token": csrf_of(page.text), "campaign": str(other.id)},
    )
    assert created.status_code == 303
    target = created.headers["location"]
    assert target == f"{API_PAGE}?campaign={other.id}#keys"  # the examples' campaign is kept
    for _ in range(2):  # the redirect, then a reload: GETs, nothing is created
        assert (await as_anna.get(target)).status_code == 200
    assert len(projects.list_keys(store, anna.project_id)) == before + 1
    # The form's address typed into the address bar (or an old history entry) is the page.
    typed = await as_anna.get(f"{API_PAGE}/keys")
    assert typed.status_code == 303
    assert typed.headers["location"] == f"{API_PAGE}#keys"
    assert len(projects.list_keys(store, anna.project_id)) == before + 1


async def test_a_new_key_is_shown_only_to_the_session_that_created_it(
    as_anna: httpx.AsyncClient, as_oleh: httpx.AsyncClient
) -> None:
    created = await form_post(as_anna, API_PAGE, f"{API_PAGE}/keys")
    carried = as_anna.cookies.get("pd_new_key")
    assert carried
    assert "httponly" in created.headers["set-cookie"].lower()
    assert "path=/settings/integration/api" in created.headers["set-cookie"].lower()
    # Another user of the same browser (the cookie left behind) sees no key.
    as_oleh.cookies.set("pd_new_key", carried, path="/settings/integration/api")
    page = await as_oleh.get(API_PAGE)
    assert 'id="new-key"' not in page.text
    assert 'id="new-key"' in (await as_anna.get(API_PAGE)).text


async def test_a_revoked_key_stops_working(
    as_anna: httpx.AsyncClient, anna: User, owner: Persona, client: httpx.AsyncClient, store: Store
) -> None:
    key_id = owner.key.split("_")[1]
    answer = await form_post(as_anna, API_PAGE, f"{API_PAGE}/keys/{key_id}/revoke")
    assert answer.headers["location"] == f"{API_PAGE}?notice=key_revoked"
    refused = await client.post(COMPAT, json=owner.row(), headers=owner.headers)
    assert refused.status_code == 401
    page = await as_anna.get(API_PAGE)
    assert "відкликано" in page.text
    again = await form_post(as_anna, API_PAGE, f"{API_PAGE}/keys/{key_id}/revoke")
    assert again.status_code == 404


async def test_the_examples_are_the_articles_filled_in_for_this_project(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    other = campaigns.create_campaign(store, anna.project_id, "Друга")
    page = await as_anna.get(f"{API_PAGE}?campaign={other.id}")
    text = text_of(page.text)
    assert 'curl -X POST "http://testserver/power-dialer/campaigns/campaign-rows"' in text
    assert f"x-project-id: {anna.project_id}" in text
    assert f'"campaignId": {other.id},' in text
    assert "require('http')" in text
    assert "const axios = require('axios');" in text
    assert "import urllib.request" in text
    assert text.count("your_unique_auth_key") == 5  # four examples and the hint


async def test_the_overview_draws_counts_and_growth_as_svg(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User
) -> None:
    for n in range(3):
        await client.post(COMPAT, json=owner.row(f"38093000010{n}"), headers=owner.headers)
    page = await as_anna.get(
        f"/campaign/overview?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    )
    assert page.status_code == 200
    assert page.text.count('<svg class="chart"') == 3
    assert "<code" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert '<span class="stat-value" id="total-rows">3</span>' in page.text
    assert "Очікують" in page.text  # "pending", by its Ukrainian name
    assert 'class="series-api"' in page.text


async def test_numbers_and_dates_follow_the_language(
    as_anna: httpx.AsyncClient, client: httpx.AsyncClient, owner: Persona, anna: User, store: Store
) -> None:
    rows = [{"phone_number": f"3809310{n:05d}"} for n in range(1234)]
    await add_bulk(client, owner, rows)
    uk = await as_anna.get(LIST)
    assert "1\xa0234" in uk.text
    en = await as_anna.get(f"{LIST}?lang=en")
    assert "1,234" in en.text


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        # As docs/ui.md shows them: the medium date and the short time, in the browser's zone.
        ("uk", "26 лист. 2026 р., 14:05"),
        ("en", "Nov 26, 2026, 2:05 PM"),
        ("ru", "26 нояб. 2026 г., 14:05"),
    ],
)
async def test_dates_look_as_the_docs_promise_in_every_language(
    as_anna: httpx.AsyncClient, anna: User, store: Store, lang: str, shown: str
) -> None:
    moment = dt.datetime(2026, 11, 26, 12, 5, tzinfo=dt.UTC)
    store.write(lambda conn: conn.execute(schema.campaigns.update().values(created_at=moment)))
    as_anna.cookies.set("pd_tz", "Europe/Kyiv")
    overview = f"/campaign/overview?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    for url in (f"{LIST}?lang={lang}", f"{overview}&lang={lang}"):
        page = await as_anna.get(url)
        assert page.status_code == 200, url
        # Babel puts (narrow) no-break spaces where the docs have spaces.
        assert shown in page.text.replace("\u202f", " ").replace("\xa0", " "), url
    docs = (Path(__file__).parents[2] / "docs" / "ui.md").read_text(encoding="utf-8")
    assert f"`{shown}`" in docs


async def test_a_number_is_shown_beside_its_spelling_without_doubled_brackets(
    as_anna: httpx.AsyncClient, anna: User
) -> None:
    action = f"/campaign/rows/add?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    added = await form_post(
        as_anna, edit_url(anna), action, {"phone_number": "(093) 000-00-05", "fio": "Ольга"}
    )
    assert added.status_code == 303, added.text
    page = await as_anna.get(edit_url(anna))
    text = text_of(page.text)
    assert "+380930000005" in text
    assert "(093) 000-00-05" in text
    assert "((" not in text
    assert "))" not in text


async def test_the_language_switch_is_remembered_on_the_user(
    app: PowerDialerApp, anna: User, as_anna: httpx.AsyncClient
) -> None:
    english = await as_anna.get(f"{LIST}?lang=en")
    assert '<html lang="en">' in english.text
    assert "+ Add campaign" in english.text
    assert "pd_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in (await as_anna.get(LIST)).text
    russian = await as_anna.get(f"{LIST}?lang=ru")
    assert "Добавить кампанию" in russian.text
    async with browser_for(app, anna) as elsewhere:  # a new device, no cookie yet
        assert '<html lang="ru">' in (await elsewhere.get(LIST)).text


async def test_the_sign_in_page_language_becomes_the_users(
    app: PowerDialerApp, anna: User, anonymous: httpx.AsyncClient
) -> None:
    page = await anonymous.get("/login?lang=en")
    assert "Sign in" in page.text
    await sign_in(anonymous, anna.email, anna.password)
    assert '<html lang="en">' in (await anonymous.get(LIST)).text


async def test_a_user_without_a_project_is_told_so(app: PowerDialerApp, store: Store) -> None:
    project = projects.create_project(store, "Temp")
    users.create_user(
        store, "lonely@example.com", PASSWORD, project_id=project.id, role=Role.OPERATOR
    )
    store.write(lambda conn: conn.execute(memberships.delete()))
    user = User("lonely@example.com", PASSWORD, Persona(project.id, "", 0))
    async with browser_for(app, user) as client:
        page = await client.get(LIST)
        assert page.status_code == 403
        assert "Ще немає проєкту" in page.text
