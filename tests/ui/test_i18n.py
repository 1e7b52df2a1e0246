"""The catalogs: current with the code, fully translated, placeholders intact, read at
startup from the .po files (no compile step)."""

from __future__ import annotations

import re

import httpx
import pytest
from babel.messages.pofile import read_po

from powerdialer.accounts.users import LOCALES
from powerdialer.web.ui import extract
from powerdialer.web.ui.i18n import Catalogs, catalog_path
from tests.ui.conftest import API_PAGE, LIST, User, edit_url

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def test_the_catalogs_have_every_message_of_the_code_translated() -> None:
    problems = extract.stale()
    assert problems == {}, "run `.venv/bin/python scripts/i18n.py` and translate: " + repr(problems)


@pytest.mark.parametrize("locale", extract.TRANSLATED)
def test_translations_keep_every_placeholder(locale: str) -> None:
    with catalog_path(locale).open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (locale, message.id, string)


def test_ukrainian_plurals_take_their_three_forms() -> None:
    uk = Catalogs().get("uk")
    forms = [
        uk.ngettext(
            "Too many failed attempts. Try again in %(num)d minute.",
            "Too many failed attempts. Try again in %(num)d minutes.",
            n,
        )
        % {"num": n}
        for n in (1, 3, 5, 21)
    ]
    assert [f.rsplit(" ", 1)[1] for f in forms] == ["хвилину.", "хвилини.", "хвилин.", "хвилину."]


def test_an_unknown_language_falls_back_to_ukrainian() -> None:
    assert Catalogs().get("de").locale == "uk"
    assert Catalogs().get(None).gettext("Settings") == "Налаштування"
    assert Catalogs().get("en").gettext("Settings") == "Settings"


@pytest.mark.anyio
@pytest.mark.parametrize("locale", LOCALES)
async def test_every_page_renders_in_every_language(
    as_anna: httpx.AsyncClient, anna: User, locale: str
) -> None:
    overview = f"/campaign/overview?projectId={anna.project_id}&editCampaign={anna.campaign_id}"
    for url in (LIST, "/settings", "/account", API_PAGE, edit_url(anna), overview):
        joiner = "&" if "?" in url else "?"
        page = await as_anna.get(f"{url}{joiner}lang={locale}")
        assert page.status_code == 200, (url, locale)
        assert f'<html lang="{locale}">' in page.text
    settings_words = {"uk": "Налаштування", "en": "Settings", "ru": "Настройки"}
    assert settings_words[locale] in page.text
