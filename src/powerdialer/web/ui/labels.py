"""Names of the domain's values (row sources and statuses, campaign states, roles) in the
user's language."""

from __future__ import annotations

from powerdialer.web.ui.i18n import N_, I18n

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
