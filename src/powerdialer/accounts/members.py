"""A project's team, managed by its owners from the web UI: list the members, add one by
email (a new user gets a generated password, shown once), change a role, remove a member.

Every change is scoped by the project: a user id that is not a member of it is "not found",
whatever other project it belongs to.  A project always keeps an owner: the last one can be
neither demoted nor removed, and owners do not remove themselves here (another owner does, or
the CLI), so nobody locks a team out of its own settings by a slip.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from powerdialer.accounts import users
from powerdialer.accounts.models import Role, User
from powerdialer.accounts.users import normalize_email
from powerdialer.errors import Conflict, NotFound
from powerdialer.models import utcnow
from powerdialer.projects import require_project
from powerdialer.storage import Store
from powerdialer.storage import members as sql
from powerdialer.storage.accounts import upsert_membership, user_by_email
from powerdialer.storage.members import Member

__all__ = ["AddedMember", "Member", "add_member", "list_members", "remove_member", "set_role"]


@dataclass(frozen=True, slots=True)
class AddedMember:
    user: User
    role: Role
    password: str | None  # generated for a new user, to show once; None for an existing one


def list_members(store: Store, project_id: int) -> list[Member]:
    return store.read(lambda conn: sql.list_members(conn, project_id))


def add_member(
    store: Store, project_id: int, email: str, role: Role, name: str = ""
) -> AddedMember:
    """Give ``email`` the role in the project, creating the user if there is none."""
    email = normalize_email(email)
    if store.read(lambda conn: user_by_email(conn, email)) is None:
        try:
            created = users.create_user(
                store, email, None, project_id=project_id, role=role, name=name
            )
        except Conflict as exc:
            if exc.code != "user_exists":
                raise
            # Created meanwhile: from here on, an existing user.
        else:
            return AddedMember(created.user, role, created.password)

    def run(conn: Connection) -> AddedMember:
        require_project(conn, project_id)
        found = user_by_email(conn, email)
        if found is None:
            raise NotFound(f"there is no user {email} any more.", code="user_not_found")
        user = found[0]
        if sql.role_of(conn, project_id, user.id) is not None:
            raise Conflict(
                f"{email} is already a member of this project: change their role instead.",
                code="member_exists",
                field="email",
            )
        upsert_membership(conn, project_id, user.id, role.value, utcnow())
        return AddedMember(user, role, None)

    return store.write(run)


def _member_role(conn: Connection, project_id: int, user_id: int) -> Role:
    role = sql.role_of(conn, project_id, user_id)
    if role is None:
        raise NotFound("there is no such member in this project.", code="member_not_found")
    return role


def _keep_an_owner(conn: Connection, project_id: int, role: Role) -> None:
    if role is Role.OWNER and sql.count_owners(conn, project_id) <= 1:
        raise Conflict(
            "this is the project's only owner: make someone else an owner first.",
            code="last_owner",
        )


def set_role(store: Store, project_id: int, user_id: int, role: Role) -> None:
    def run(conn: Connection) -> None:
        current = _member_role(conn, project_id, user_id)
        if current is role:
            return
        _keep_an_owner(conn, project_id, current)
        upsert_membership(conn, project_id, user_id, role.value, utcnow())

    store.write(run)


def remove_member(store: Store, project_id: int, user_id: int, *, acting_user_id: int) -> None:
    """Take the user out of the project (their account and other projects stay)."""
    if user_id == acting_user_id:
        raise Conflict(
            "owners do not remove themselves: ask another owner.", code="cannot_remove_self"
        )

    def run(conn: Connection) -> None:
        _keep_an_owner(conn, project_id, _member_role(conn, project_id, user_id))
        sql.remove_member(conn, project_id, user_id)

    store.write(run)
