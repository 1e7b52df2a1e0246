"""Names of the domain's values (row sources and statuses, campaign states, roles) in the
user's language, and the names the first run gives its project, campaign and key."""

from __future__ import annotations

from powerdialer.accounts.users import DEFAULT_LOCALE
from powerdialer.projects import StarterNames
from powerdialer.web.ui.i18n import N_, Catalogs, I18n

SOURCES = {"api": N_("API"), "import": N_("File import"), "ui": N_("Added by hand")}
STATUSES = {
    "pending": N_("Waiting"),
    "leased": N_("Being called"),
    "in_progress": N_("Being called"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "retry": N_("To retry"),
    "skipped": N_("Skipped"),
}
STATES = {"active": N_("Active"), "archived": N_("Archived")}
ROLES = {"owner": N_("Owner"), "operator": N_("Operator")}


def _names(i18n: I18n, names: dict[str, str]) -> dict[str, str]:
    return {key: i18n.gettext(value) for key, value in names.items()}


def source_names(i18n: I18n) -> dict[str, str]:
    return _names(i18n, SOURCES)


def status_names(i18n: I18n) -> dict[str, str]:
    return _names(i18n, STATUSES)


def state_names(i18n: I18n) -> dict[str, str]:
    return _names(i18n, STATES)


def role_names(i18n: I18n) -> dict[str, str]:
    return _names(i18n, ROLES)


def starter_names(i18n: I18n | None = None) -> StarterNames:
    """The first run's names, in the UI's default language (Ukrainian) unless told: they are
    stored, and the first owner sees them before choosing a language."""
    if i18n is None:
        i18n = Catalogs().get(DEFAULT_LOCALE)
    return StarterNames(
        project=i18n.gettext(N_("My project")),
        campaign=i18n.gettext(N_("First campaign")),
        key=i18n.gettext(N_("first key")),
    )
