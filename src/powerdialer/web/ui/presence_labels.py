"""Operator presence in the user's language: the states (``dialer.presence.STATES``) and the
pause reason codes (``dialer.presence.PAUSE_REASONS``), for the operator screen and the
supervisor's live view."""

from __future__ import annotations

from powerdialer.web.ui.i18n import N_, I18n

STATE_NAMES = {
    "ready": N_("Ready"),
    "on_call": N_("On a call"),
    "wrap_up": N_("Wrap-up"),
    "paused": N_("Paused"),
    "offline": N_("Offline"),
}
REASON_NAMES = {
    "break": N_("Break"),
    "lunch": N_("Lunch"),
    "meeting": N_("Meeting"),
    "training": N_("Training"),
    "technical": N_("Technical problem"),
    "other": N_("Other"),
}


def presence_state_names(i18n: I18n) -> dict[str, str]:
    return {code: i18n.gettext(name) for code, name in STATE_NAMES.items()}


def pause_reason_names(i18n: I18n) -> dict[str, str]:
    """Every pause reason code with its name, in ``PAUSE_REASONS``' order."""
    return {code: i18n.gettext(name) for code, name in REASON_NAMES.items()}
