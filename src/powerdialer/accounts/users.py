"""Web UI users and their roles in projects: created by the admin CLI (or a project's owners,
:mod:`~powerdialer.accounts.members`), granted projects, given a new password; the first-run
owner; each user's email and locale.  Passwords are argon2id
(:mod:`~powerdialer.accounts.passwords`); signing in is :mod:`~powerdialer.accounts.sessions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer.accounts.models import Membership, Role, User
from powerdialer.accounts.passwords import check_new_password, generate_password, hash_password
from powerdialer.errors import Conflict, NotFound, ValidationError
from powerdialer.models import Project, utcnow
from powerdialer.projects import require_project
from powerdialer.storage import Store
from powerdialer.storage import accounts as sql
from powerdialer.text import one_line

LOCALES = ("uk", "en", "ru")
DEFAULT_LOCALE = "uk"
MAX_EMAIL = 320
FIRST_OWNER_EMAIL = "owner@localhost"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def normalize_email(email: str) -> str:
    cleaned = one_line(email).lower()  # a NUL becomes a space, which no address has
    if not _EMAIL.match(cleaned) or len(cleaned) > MAX_EMAIL:
        raise ValidationError(
            f"email {email!r:.60} is not an email address such as anna@example.com.",
            code="invalid_email",
            field="email",
        )
    return cleaned


def normalize_locale(locale: str | None) -> str | None:
    value = (locale or "").strip().lower()[:2]
    return value if value in LOCALES else None


@dataclass(frozen=True)
class CreatedUser:
    user: User
    project: Project
    role: Role
    password: str | None  # the generated one, to print once; None when the caller chose it


def create_user(
    store: Store,
    email: str,
    password: str | None,
    *,
    project_id: int,
    role: Role = Role.OWNER,
    name: str = "",
) -> CreatedUser:
    email = normalize_email(email)
    generated = generate_password() if password is None else None
    password_hash = hash_password(check_new_password(password or generated or ""))

    def run(conn: Connection) -> CreatedUser:
        project = require_project(conn, project_id)
        if sql.user_by_email(conn, email) is not None:
            raise Conflict(
                f"there is already a user {email}: give them this project with "
                f"`powerdialer user grant --email {email} --project {project_id}`.",
                code="user_exists",
                field="email",
            )
        now = utcnow()
        user = sql.insert_user(conn, email, password_hash, one_line(name), "uk", now)
        sql.upsert_membership(conn, project.id, user.id, role.value, now)
        return CreatedUser(user, project, role, generated)

    return store.write(run)


def grant(store: Store, email: str, project_id: int, role: Role) -> Membership:
    """Give an existing user a role in a project (or change their role there)."""
    email = normalize_email(email)

    def run(conn: Connection) -> Membership:
        project = require_project(conn, project_id)
        found = sql.user_by_email(conn, email)
        if found is None:
            raise NotFound(
                f"there is no user {email}: create one with `powerdialer user create`.",
                code="user_not_found",
                field="email",
            )
        sql.upsert_membership(conn, project.id, found[0].id, role.value, utcnow())
        return Membership(project, role)

    return store.write(run)


def list_users(store: Store) -> list[tuple[User, list[Membership]]]:
    def run(conn: Connection) -> list[tuple[User, list[Membership]]]:
        return [
            (user, [Membership(p, r) for p, r in sql.memberships_of(conn, user.id)])
            for user in sql.list_users(conn)
        ]

    return store.read(run)


def reset_password(store: Store, email: str, password: str | None) -> str | None:
    """Set a user's password (admin CLI) and end all their sessions; returns the generated
    password when none was given."""
    email = normalize_email(email)
    generated = generate_password() if password is None else None
    password_hash = hash_password(check_new_password(password or generated or ""))

    def run(conn: Connection) -> None:
        found = sql.user_by_email(conn, email)
        if found is None:
            raise NotFound(f"there is no user {email}.", code="user_not_found", field="email")
        sql.set_password_hash(conn, found[0].id, password_hash, utcnow())
        sql.delete_other_sessions(conn, found[0].id, None)

    store.write(run)
    return generated


@dataclass(frozen=True)
class FirstOwner:
    email: str
    password: str
    projects: tuple[int, ...]


def bootstrap_owner(store: Store, project_id: int) -> FirstOwner | None:
    """On a first run (``serve`` on an empty database), an owner of the project that the
    first-run bootstrap created, so someone can sign in; the generated password is returned to
    be printed once.  ``None`` when there is already a user."""
    password = generate_password()
    password_hash = hash_password(password)

    def run(conn: Connection) -> FirstOwner | None:
        if sql.count_users(conn):
            return None
        now = utcnow()
        user = sql.insert_user(conn, FIRST_OWNER_EMAIL, password_hash, "", DEFAULT_LOCALE, now)
        sql.upsert_membership(conn, project_id, user.id, Role.OWNER.value, now)
        return FirstOwner(FIRST_OWNER_EMAIL, password, (project_id,))

    return store.write(run)


def set_locale(store: Store, user_id: int, locale: str) -> None:
    chosen = normalize_locale(locale)
    if chosen is not None:
        store.write(lambda conn: sql.set_locale(conn, user_id, chosen))
