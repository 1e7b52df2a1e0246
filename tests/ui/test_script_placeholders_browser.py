"""The campaign script's placeholders on the operator screen, in a real browser against a real
server process: {name}, {phone}, {campaign} and {field:<name>} filled from the contact as
text (hostile values stay text: no element, no script run), {{ and }} as braces, a
placeholder the screen does not know or one the contact has no value for left as written and
marked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from powerdialer.rows.models import NewRow
from powerdialer.rows.write import write_rows
from powerdialer.storage import Store
from tests.conftest import Persona
from tests.e2e.conftest import Server
from tests.ui.browser import chromium
from tests.ui.conftest import User
from tests.ui.operator_pages import new_page, set_rules, sign_in, wait_for_contact

pytestmark = pytest.mark.e2e

NAME = '<img src=x onerror="window.pwned=1">Іван'
TARIFF = "<script>window.pwned=2</script>"
SCRIPT = (
    "Добрий день, {name}! Дзвонимо з кампанії «{campaign}» на {phone}.\n"
    "Тариф: {field:Тариф}, місто: { field:Місто }.\n"
    "{unknown} {field:Немає} {{name}} <b>жирний</b>"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(
    start_server: Callable[..., Server], tmp_path: Path, store: Store, owner: Persona, oleh: User
) -> Server:
    set_rules(store, owner, script=SCRIPT)
    row = NewRow("380930000001", "+380930000001", NAME, fields={"Тариф": TARIFF, "Місто": "Київ"})
    store.write(
        lambda conn: write_rows(
            conn,
            owner.project_id,
            owner.campaign_id,
            "skip",
            [row],
            source="api",
            now=dt.datetime.now(dt.UTC),
        )
    )
    return start_server(POWERDIALER_DATA_DIR=str(tmp_path / "server-data"))


def test_placeholders_are_filled_as_text_and_unknown_ones_are_marked(
    browser: Any, server: Server, oleh: User
) -> None:
    page, errors = new_page(browser)
    sign_in(page, server, oleh)
    campaign = page.locator("#op-campaign option:checked").inner_text()
    page.keyboard.press("n")
    wait_for_contact(page, "")
    script = page.locator("#op-script")
    expect(script).to_have_text(
        f"Добрий день, {NAME}! Дзвонимо з кампанії «{campaign}» на +380 93 000 0001.\n"
        f"Тариф: {TARIFF}, місто: Київ.\n"
        "{unknown} {field:Немає} {name} <b>жирний</b>"
    )
    assert script.locator("img, script, b").count() == 0
    assert page.evaluate("window.pwned") is None
    filled = script.locator(".op-filled")
    assert filled.all_inner_texts() == [NAME, campaign, "+380 93 000 0001", TARIFF, "Київ"]
    marked = script.locator(".op-placeholder")
    assert marked.all_inner_texts() == ["{unknown}", "{field:Немає}"]
    titles = [marked.nth(i).get_attribute("title") for i in range(2)]
    assert titles == [
        "Сценарій не знає такої підстановки: показано як написано.",
        "У цього контакту немає значення для цієї підстановки.",
    ]
    page.context.close()
    assert errors == [], f"the page logged errors: {errors}"
