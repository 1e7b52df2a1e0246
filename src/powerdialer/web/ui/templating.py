"""Jinja2 with autoescaping everywhere (a contact named ``<script>`` is text, never markup) and
gettext through the i18n extension, bound per request to the request's language."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from powerdialer import __version__
from powerdialer.web.ui.i18n import LANGUAGE_NAMES, I18n

STATIC_DIR = Path(__file__).resolve().parent / "static"


@pass_context
def _gettext(context: Context, message: str) -> str:
    i18n: I18n = context["i18n"]
    return i18n.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    i18n: I18n = context["i18n"]
    return i18n.ngettext(singular, plural, n)


def _static_version() -> str:
    """Changes whenever a static file does, so browsers can cache them for long."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("powerdialer.web.ui", "templates"),
        autoescape=select_autoescape(["html", "svg", "xml"], default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # newstyle: %-formatting happens inside _(), and its arguments are escaped.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    version = _static_version()
    env.globals["static"] = lambda path: f"/static/{path}?v={version}"
    env.globals["language_names"] = LANGUAGE_NAMES
    return env


class Templates:
    def __init__(self) -> None:
        self.env = build_environment()

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        html = self.env.get_template(name).render({"request": request, **context})
        return HTMLResponse(html, status_code=status_code)
