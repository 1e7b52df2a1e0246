"""What every UI route is handed: the ``Page`` (who is signed in, in which project, in which
language, and the app's ``services``), which renders templates with what every page shows.

Routes declare what they need as typed dependencies:

- ``PageDep``: a ``Page`` for a signed-in user (else a redirect to the sign-in page);
- ``FormDep``: the same, for an unsafe request whose CSRF token was checked;
- ``page.for_project(id)``: the user's membership of a project named in the URL, or 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Path, Request
from starlette.responses import Response

from powerdialer.accounts import sessions, users
from powerdialer.accounts.models import Membership, Role, WebSession
from powerdialer.models import MAX_ID
from powerdialer.storage import Store
from powerdialer.web.services import Services
from powerdialer.web.ui import labels, security
from powerdialer.web.ui.errors import CsrfRefused, Forbidden, LoginRequired, NoProject, PageNotFound
from powerdialer.web.ui.i18n import N_, Catalogs, I18n
from powerdialer.web.ui.templating import Templates

# A database id in a URL: anything else (letters, 0, 2^63) is "not found", like another
# project's id.
ObjectId = Annotated[int, Path(gt=0, le=MAX_ID)]


def parse_id(raw: str | None) -> int:
    """An id from a query string (``projectId``, ``editCampaign``): digits, else 404."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise PageNotFound
    return int(text)


# Messages a redirect may ask the next page to show (``?notice=``): only these codes are
# shown, so a link cannot make the page say anything else.
NOTICES = {
    "campaign_created": N_("The campaign was created."),
    "campaign_renamed": N_("The campaign was renamed."),
    "campaign_archived": N_("The campaign was archived."),
    "campaign_unarchived": N_("The campaign is active again."),
    "campaign_deleted": N_("The campaign was deleted."),
    "consent_required": N_("The campaign now refuses numbers without consent."),
    "consent_not_required": N_("The campaign takes numbers without consent again."),
    "row_added": N_("The number was added."),
    "dnc_added": N_("The number was added to the do-not-call list."),
    "dnc_listed": N_("This number is already on the do-not-call list."),
    "dnc_removed": N_("The number was removed from the do-not-call list."),
    "row_duplicate": N_("This number is already in the campaign."),
    "rows_deleted": N_("The rows were deleted."),
    "key_revoked": N_("The key was revoked."),
    "role_changed": N_("The role was changed."),
    "member_removed": N_("The member was removed from the project."),
    "password_changed": N_("The password was changed; your other sessions were signed out."),
    "project_switched": N_("The project was switched."),
    "signed_out": N_("You have signed out."),
    "telephony_saved": N_("The call settings were saved."),
    "screen_saved": N_("The operator screen's settings were saved."),
    "extension_saved": N_("The extension was saved."),
    "webhook_deleted": N_("The webhook was deleted."),
    "webhook_test_queued": N_("A test event is on its way: see the webhook's deliveries."),
    "webhook_enabled": N_("The webhook is enabled again: its queued events are being sent."),
    "webhook_resend_queued": N_("The delivery will be sent again."),
}


@dataclass
class UIState:
    templates: Templates
    catalogs: Catalogs
    services: Services


def ui_state(request: Request) -> UIState:
    state: UIState = request.app.state.ui
    return state


def ui_services(request: Request) -> Services:
    return ui_state(request).services


def resolve_i18n(request: Request, session: WebSession | None) -> I18n:
    """``?lang=`` (remembered in a cookie and on the user), else the cookie, else the user's
    stored language, else Ukrainian."""
    asked = users.normalize_locale(request.query_params.get("lang"))
    if asked is not None:
        request.state.set_lang = asked
    chosen = (
        asked
        or users.normalize_locale(request.cookies.get(security.LANG_COOKIE))
        or (session.user.locale if session else None)
    )
    i18n = ui_state(request).catalogs.get(chosen)
    return i18n.with_tz(request.cookies.get(security.TZ_COOKIE))


@dataclass
class Page:
    request: Request
    i18n: I18n
    session: WebSession
    membership: Membership | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return ui_services(self.request)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def project_id(self) -> int:
        if self.membership is None:
            raise NoProject
        return self.membership.project.id

    @property
    def is_owner(self) -> bool:
        return self.membership is not None and self.membership.role is Role.OWNER

    def _(self, message: str) -> str:
        return self.i18n.gettext(message)

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden

    def for_project(self, project_id: int | None) -> Page:
        """This page in the project named by the URL: 404 unless the user belongs to it,
        exactly as for a project that does not exist."""
        membership = self.session.membership(project_id) if project_id is not None else None
        if membership is None:
            raise PageNotFound
        return Page(self.request, self.i18n, self.session, membership, self.extra)

    def render(self, template: str, status_code: int = 200, **context: Any) -> Response:
        notice = NOTICES.get(self.request.query_params.get("notice", ""))
        base = {
            "i18n": self.i18n,
            "page": self,
            "session": self.session,
            "membership": self.membership,
            "csrf_token": self.session.csrf_token,
            "notice": self._(notice) if notice else None,
            "lang_urls": lang_links(self.request, self.extra.get("here", "/")),
            "state_names": labels.state_names(self.i18n),
            "role_names": labels.role_names(self.i18n),
            "source_names": labels.source_names(self.i18n),
            "status_names": labels.status_names(self.i18n),
        }
        return ui_state(self.request).templates.render(
            self.request, template, {**base, **context}, status_code=status_code
        )


def lang_links(request: Request, fallback: str = "/") -> dict[str, str]:
    """The language switcher's links: this page with ``?lang=`` (a page answering a POST
    links to ``fallback`` instead, since following a link is a GET)."""
    if request.method == "GET":
        path, query = request.url.path, dict(request.query_params)
    else:
        path, query = fallback, {}
    query.pop("notice", None)
    return {locale: f"{path}?{urlencode({**query, 'lang': locale})}" for locale in users.LOCALES}


def _load_session(request: Request) -> WebSession | None:
    return sessions.load_session(
        ui_services(request).store, request.cookies.get(security.SESSION_COOKIE)
    )


def optional_session(request: Request) -> WebSession | None:
    session = _load_session(request)
    request.state.session = session
    return session


def page_context(request: Request) -> Page:
    """Sync on purpose: FastAPI runs it in the thread pool, where the database is read."""
    session = optional_session(request)
    if session is None:
        raise LoginRequired
    i18n = resolve_i18n(request, session)
    asked = getattr(request.state, "set_lang", None)
    if asked is not None and asked != session.user.locale:
        users.set_locale(ui_services(request).store, session.user.id, asked)
    return Page(request, i18n, session, session.current)


async def checked_form(page: Annotated[Page, Depends(page_context)]) -> Page:
    """``Page`` for an unsafe request: the session's CSRF token must come with it."""
    presented = await security.presented_csrf(page.request)
    if not security.tokens_match(presented, page.session.csrf_token):
        raise CsrfRefused
    return page


PageDep = Annotated[Page, Depends(page_context)]
FormDep = Annotated[Page, Depends(checked_form)]
