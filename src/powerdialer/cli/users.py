"""``powerdialer user …``: web UI accounts (create, grant, list, set-password)."""

from __future__ import annotations

import sys

import click

from powerdialer.accounts import users
from powerdialer.accounts.models import Role
from powerdialer.cli.common import (
    EXIT_INPUT,
    database_option,
    emit_json,
    emit_table,
    fail,
    friendly_errors,
    json_option,
    store_for,
)
from powerdialer.projects import create_project, list_projects
from powerdialer.storage import Store
from powerdialer.web.ui.labels import starter_names

ROLE = click.Choice([r.value for r in Role])


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        fail("--password-stdin was given but standard input was empty.", EXIT_INPUT)
    return line


def _project_for(store: Store, project_id: int | None) -> int:
    """The given project; else the only one; else a new one (a first user on an empty
    database)."""
    if project_id is not None:
        return project_id
    found = list_projects(store)
    if not found:
        return create_project(store, starter_names().project).id
    if len(found) > 1:
        fail(
            "there are several projects: choose one with --project "
            "(see `powerdialer project list`).",
            EXIT_INPUT,
        )
    return found[0].id


def print_first_owner(owner: users.FirstOwner, base_url: str) -> None:
    """``serve``'s first-run lines for the web UI (the password is shown once)."""
    click.echo(f"Web UI: {base_url}/ — sign in as the first owner:")
    click.echo(f"  email:    {owner.email}")
    click.echo(f"  password: {owner.password}   (shown once: change it on the Account page)")
    click.echo("")


@click.group("user")
def user_group() -> None:
    """Web UI accounts: who may sign in, and their role in each project."""


@user_group.command("create")
@click.option("--email", required=True, help="The user's email; they sign in with it.")
@click.option(
    "--project",
    "project_id",
    type=int,
    default=None,
    help="The project to join (default: the only project; a new one on an empty database).",
)
@click.option(
    "--role",
    type=ROLE,
    default=Role.OWNER.value,
    show_default=True,
    help="owner (everything) or operator (no API keys, no deleting campaigns).",
)
@click.option("--name", default="", help="The user's name, shown in the UI.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of generating one.",
)
@database_option
@json_option
@friendly_errors
def user_create(
    email: str,
    project_id: int | None,
    role: str,
    name: str,
    password_stdin: bool,
    database_url: str,
    as_json: bool,
) -> None:
    """Create a web UI user; a generated password is printed ONCE."""
    password = _read_password(password_stdin)
    store = store_for(database_url)
    created = users.create_user(
        store,
        email,
        password,
        project_id=_project_for(store, project_id),
        role=Role(role),
        name=name,
    )
    if as_json:
        emit_json(
            {
                "id": created.user.id,
                "email": created.user.email,
                "project_id": created.project.id,
                "role": created.role.value,
                "password": created.password,
            }
        )
        return
    click.echo(
        f"Created user {created.user.email}: {created.role.value} of project "
        f"{created.project.id} ({created.project.name})."
    )
    if created.password is not None:
        click.echo(f"Password (shown once, change it after signing in): {created.password}")


@user_group.command("grant")
@click.option("--email", required=True, help="An existing user's email.")
@click.option("--project", "project_id", type=int, required=True, help="The project's id.")
@click.option("--role", type=ROLE, default=Role.OPERATOR.value, show_default=True, help="The role.")
@database_option
@friendly_errors
def user_grant(email: str, project_id: int, role: str, database_url: str) -> None:
    """Give a user a role in a project (or change it)."""
    membership = users.grant(store_for(database_url), email, project_id, Role(role))
    click.echo(f"{email.strip().lower()} is now {membership.role.value} of project {project_id}.")


@user_group.command("list")
@database_option
@json_option
@friendly_errors
def user_list(database_url: str, as_json: bool) -> None:
    """List users and their projects."""
    found = users.list_users(store_for(database_url))
    if as_json:
        emit_json(
            [
                {
                    "id": user.id,
                    "email": user.email,
                    "name": user.name,
                    "projects": [{"id": m.project.id, "role": m.role.value} for m in members],
                }
                for user, members in found
            ]
        )
        return
    emit_table(
        ["id", "email", "projects (role)"],
        [
            (u.id, u.email, ", ".join(f"{m.project.id} ({m.role.value})" for m in members))
            for u, members in found
        ],
        empty="No users yet: create one with `powerdialer user create --email …`.",
    )


@user_group.command("set-password")
@click.option("--email", required=True, help="The user's email.")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@database_option
@friendly_errors
def user_set_password(email: str, password_stdin: bool, database_url: str) -> None:
    """Set a user's password (printed ONCE when generated) and sign them out everywhere."""
    generated = users.reset_password(store_for(database_url), email, _read_password(password_stdin))
    click.echo(f"The password of {email.strip().lower()} was changed; their sessions ended.")
    if generated is not None:
        click.echo(f"New password (shown once): {generated}")
