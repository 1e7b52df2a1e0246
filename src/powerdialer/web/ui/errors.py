"""What a UI route raises instead of answering; :class:`~.routing.UIRoute` turns each into
the page (or, for app.js, the JSON) that fits."""

from __future__ import annotations


class LoginRequired(Exception):
    """No live session: a redirect to the sign-in page."""


class PageNotFound(Exception):
    """404, also for what belongs to a project the user is not a member of."""


class Forbidden(Exception):
    """403: the user's role does not allow it (an operator managing keys)."""


class CsrfRefused(Exception):
    """403: an unsafe request without this session's CSRF token."""


class NoProject(Exception):
    """The signed-in user belongs to no project yet."""


class TooManyExports(Exception):
    """429: this user (or the whole server) has as many downloads open as it may."""
