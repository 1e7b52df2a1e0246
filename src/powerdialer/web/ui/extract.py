"""Keeping the catalogs current: extract every message from the UI's code and templates and
merge it into each ``.po`` file (``scripts/i18n.py``; a test runs :func:`stale` so a
forgotten string fails CI instead of showing up in English)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from powerdialer.accounts.users import LOCALES
from powerdialer.web.ui.i18n import DOMAIN, catalog_path

UI_DIR = Path(__file__).resolve().parent
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
HEADER = """\
# The powerdialer web UI in {language}.
# Updated by scripts/i18n.py from the templates and code; translate the empty entries.
#"""
LANGUAGES = {"uk": "Ukrainian", "en": "English (the source language)", "ru": "Russian"}
# Languages whose every message must be translated (English is the source language).
TRANSLATED = tuple(locale for locale in LOCALES if locale != "en")


def extract() -> Catalog:
    catalog = Catalog(project="powerdialer", domain=DOMAIN, charset="utf-8", fuzzy=False)
    found = extract_from_dir(
        str(UI_DIR), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        if filename.endswith("extract.py"):
            continue
        catalog.add(
            message, None, [(f"web/ui/{filename}", lineno)], auto_comments=comments, context=context
        )
    return catalog


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    return buffer.getvalue()


def merged(locale: str, template: Catalog) -> Catalog:
    path = catalog_path(locale)
    if path.is_file():
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=locale, domain=DOMAIN)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN, project="powerdialer", fuzzy=False)
    # No fuzzy matching: a changed English sentence must be translated again, not guessed.
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    catalog.header_comment = HEADER.format(language=LANGUAGES[locale])
    return catalog


def untranslated(catalog: Catalog) -> list[str]:
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def write_all() -> list[Path]:
    template = extract()
    written = []
    for locale in LOCALES:
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_po_bytes(merged(locale, template)))
        written.append(path)
    return written


def stale() -> dict[str, list[str]]:
    """What is wrong with the catalogs: per file, the messages missing, obsolete or
    untranslated; empty when they are current."""
    template = extract()
    problems: dict[str, list[str]] = {}
    for locale in LOCALES:
        path = catalog_path(locale)
        if not path.is_file():
            problems[locale] = ["the catalog does not exist"]
            continue
        with path.open("rb") as fp:
            current = read_po(fp, locale=locale, domain=DOMAIN)
        wanted = {m.id for m in template if m.id}
        have = {m.id for m in current if m.id}
        issues = [f"missing: {_text(i)}" for i in sorted(wanted - have, key=str)]
        issues += [f"not used: {_text(i)}" for i in sorted(have - wanted, key=str)]
        if locale in TRANSLATED:
            issues += [f"untranslated: {i}" for i in untranslated(current)]
        if issues:
            problems[locale] = issues
    return problems


def _text(message_id: str | Iterable[str]) -> str:
    return message_id if isinstance(message_id, str) else next(iter(message_id))
