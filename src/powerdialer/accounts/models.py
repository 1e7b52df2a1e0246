"""The shapes of web accounts (users, roles, sessions): plain frozen dataclasses like
:mod:`powerdialer.models`, kept apart so the API's models stay the API's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from powerdialer.models import Project


class Role(StrEnum):
    """What a member may do in a project.  Operators work campaigns; only owners manage API
    keys and delete campaigns."""

    OWNER = "owner"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    locale: str
    created_at: dt.datetime
    password_changed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Membership:
    project: Project
    role: Role


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: who, in which projects, which one is chosen, and the session's
    CSRF token (compared with ``hmac.compare_digest`` on every unsafe request)."""

    token_hash: str
    user: User
    memberships: tuple[Membership, ...]
    project_id: int | None
    csrf_token: str
    expires_at: dt.datetime

    def membership(self, project_id: int) -> Membership | None:
        for membership in self.memberships:
            if membership.project.id == project_id:
                return membership
        return None

    @property
    def current(self) -> Membership | None:
        """The chosen project, or the first one the user belongs to."""
        if self.project_id is not None:
            chosen = self.membership(self.project_id)
            if chosen is not None:
                return chosen
        return self.memberships[0] if self.memberships else None
