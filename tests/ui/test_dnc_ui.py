"""The web UI's side of do-not-call and consent: the add-row form refuses a listed number
and, in a campaign that requires consent, a row without it; it takes priority and consent;
the campaign menu turns the consent rule on and off."""

from __future__ import annotations

import httpx
import pytest

from powerdialer import campaigns, dnc
from powerdialer.rows import listing
from powerdialer.rows.models import RowFilter
from powerdialer.storage import Store
from tests.conftest import Persona, stored_rows
from tests.ui.conftest import LIST, User, csrf_of, edit_url, form_post, text_of

pytestmark = pytest.mark.anyio


def add_action(user: User) -> str:
    return f"/campaign/rows/add?projectId={user.project_id}&editCampaign={user.campaign_id}"


async def test_a_listed_number_is_refused_by_the_add_row_form(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    dnc.add_numbers(store, owner.project_id, [("380930000001", None)], source="ui", region="UA")
    answer = await form_post(
        as_anna, edit_url(anna), add_action(anna), {"phone_number": "093 000 00 01"}
    )
    assert answer.status_code == 422
    assert "у списку «Не дзвонити»" in text_of(answer.text)
    assert stored_rows(store, owner) == []


async def test_the_form_takes_priority_call_next_and_consent(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    typed = {
        "phone_number": "380930000002",
        "priority": "12",
        "call_next": "yes",
        "consent_basis": "усна згода",
        "consent_at": "2026-11-20T10:15:00+02:00",
    }
    answer = await form_post(as_anna, edit_url(anna), add_action(anna), typed)
    assert answer.status_code == 303, text_of(answer.text)
    [row] = listing.list_rows(store, owner.project_id, owner.campaign_id, RowFilter()).items
    assert row.dialer is not None
    assert (row.dialer.priority, row.dialer.call_next) == (12, True)
    assert row.dialer.consent_basis == "усна згода"
    bad = await form_post(
        as_anna, edit_url(anna), add_action(anna), {"phone_number": "380930000003", "priority": "x"}
    )
    assert bad.status_code == 422
    assert 'value="x"' in bad.text


async def test_the_campaign_menu_turns_the_consent_rule_on_and_off(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    action = f"{LIST}/campaigns/{owner.campaign_id}/consent"
    answer = await form_post(as_anna, LIST, action, {"require": "yes"})
    assert answer.status_code == 303
    assert "notice=consent_required" in answer.headers["location"]
    campaign = campaigns.campaign_summary(store, owner.project_id, owner.campaign_id).campaign
    assert campaign.require_consent is True
    page = await as_anna.get(LIST)
    assert "Потрібна згода" in page.text
    assert "Не вимагати згоду" in page.text
    refused = await form_post(
        as_anna, edit_url(anna), add_action(anna), {"phone_number": "380930000004"}
    )
    assert refused.status_code == 422
    assert "вимагає згоди" in text_of(refused.text)
    assert stored_rows(store, owner) == []
    await form_post(as_anna, LIST, action, {"require": "no"})
    campaign = campaigns.campaign_summary(store, owner.project_id, owner.campaign_id).campaign
    assert campaign.require_consent is False


DNC_PAGE = "/settings/dnc"


async def test_the_do_not_call_page_adds_lists_imports_exports_and_removes(
    as_anna: httpx.AsyncClient, anna: User, store: Store, owner: Persona
) -> None:
    added = await form_post(
        as_anna, DNC_PAGE, DNC_PAGE, {"number": "093 000 00 10", "reason": "просив не дзвонити"}
    )
    assert added.status_code == 303
    assert "notice=dnc_added" in added.headers["location"]
    page = await as_anna.get(DNC_PAGE)
    text = text_of(page.text)
    assert "+380930000010" in text
    assert "просив не дзвонити" in text
    assert anna.email in text
    bad = await form_post(as_anna, DNC_PAGE, DNC_PAGE, {"number": "12"})
    assert bad.status_code == 422
    assert "У номері замало цифр" in text_of(bad.text)
    token = csrf_of(page.text)
    imported = await as_anna.post(
        f"{DNC_PAGE}/import",
        data={"csrf_token": token},
        files={"file": ("dnc.csv", b"phone\n380930000011\nnonsense\n")},
    )
    assert imported.status_code == 200, imported.text[:500]
    assert "Додано: 1. Уже у списку: 0. Відхилено рядків: 1." in text_of(imported.text)
    export = await as_anna.get(f"{DNC_PAGE}/export.csv")
    assert export.status_code == 200
    assert "+380930000011" in export.content.decode("utf-8-sig")
    found = await as_anna.get(DNC_PAGE, params={"q": "3809300000"})
    assert "+380930000011" in found.text
    removed = await form_post(as_anna, DNC_PAGE, f"{DNC_PAGE}/remove", {"number": "+380930000010"})
    assert removed.status_code == 303
    page = dnc.list_numbers(store, owner.project_id)
    assert [e.phone_e164 for e in page.items] == ["+380930000011"]
    assert {e.source for e in page.items} == {"import"}


async def test_a_stranger_sees_and_removes_nothing_of_the_owners_list(
    as_mallory: httpx.AsyncClient, store: Store, owner: Persona
) -> None:
    dnc.add_numbers(store, owner.project_id, [("380930000020", "owner")], source="ui", region="UA")
    page = await as_mallory.get(DNC_PAGE)
    assert "+380930000020" not in page.text
    export = await as_mallory.get(f"{DNC_PAGE}/export.csv")
    assert "+380930000020" not in export.text
    await form_post(as_mallory, DNC_PAGE, f"{DNC_PAGE}/remove", {"number": "+380930000020"})
    assert [e.phone_e164 for e in dnc.list_numbers(store, owner.project_id).items] == [
        "+380930000020"
    ]


async def test_a_broken_file_is_refused_on_the_page_and_lists_nothing(
    as_anna: httpx.AsyncClient, store: Store, owner: Persona
) -> None:
    page = await as_anna.get(DNC_PAGE)
    refused = await as_anna.post(
        f"{DNC_PAGE}/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("dnc.csv", b'380930000031\n380930000032,"moved\n' + b"x\n" * 70_000)},
    )
    assert refused.status_code == 422
    assert "Файл пошкоджено" in text_of(refused.text)
    assert dnc.list_numbers(store, owner.project_id).items == []
