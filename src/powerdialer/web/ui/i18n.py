"""Languages: gettext catalogs read from the ``.po`` files at startup and locale-aware
formatting with Babel.

The ``.po`` files under ``locales/<lang>/LC_MESSAGES/messages.po`` are the only source: they
are parsed with ``babel.messages.pofile.read_po`` and compiled in memory when the app is built,
so there is no compile step and no ``.mo`` file that could fall behind.  Message ids are the
English text; Ukrainian is the default language.  ``scripts/i18n.py`` extracts the ids from
the templates and code, and a test checks every catalog has them all, translated.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from powerdialer.accounts.users import DEFAULT_LOCALE, LOCALES

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# How each language names itself in the switcher.
LANGUAGE_NAMES = {"uk": "Українська", "en": "English", "ru": "Русский"}


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(locale: str) -> NullTranslations:
    path = catalog_path(locale)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class I18n:
    """One language: translations plus Babel's formatting for its locale, and the time zone
    the dates are shown in."""

    locale: str
    translations: NullTranslations
    tz: dt.tzinfo = dt.UTC
    babel_locale: Locale = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "babel_locale", Locale.parse(self.locale))

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.babel_locale)

    def datetime(self, value: dt.datetime | None) -> str:
        """A moment as docs/ui.md shows it: the locale's medium date and short time, in the
        browser's time zone (``26 лист. 2026 р., 14:05``; ``Nov 26, 2026, 2:05 PM``) — never
        the short date, whose two-digit year and month/day order mislead."""
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        date = format_date(local, "medium", locale=self.babel_locale)
        time = format_time(local, "short", locale=self.babel_locale)
        pattern = get_datetime_format("medium", locale=self.babel_locale)
        return str(pattern).replace("{1}", date).replace("{0}", time)

    def date(self, value: dt.date | dt.datetime, fmt: str = "medium") -> str:
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.tz).date()
        return format_date(value, fmt, locale=self.babel_locale)

    def with_tz(self, name: str | None) -> I18n:
        zone = time_zone(name)
        return self if zone is None else I18n(self.locale, self.translations, zone)


def time_zone(name: str | None) -> dt.tzinfo | None:
    """A valid IANA zone name (the browser reports it in a cookie, URL-encoded by app.js:
    ``Europe%2FKyiv``), else ``None``."""
    name = unquote(name) if name else name
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class Catalogs:
    """Every language's translations, loaded once when the app is built."""

    def __init__(self) -> None:
        self._translations = {locale: load_translations(locale) for locale in LOCALES}

    def get(self, locale: str | None) -> I18n:
        chosen = locale if locale in self._translations else DEFAULT_LOCALE
        return I18n(chosen, self._translations[chosen])
