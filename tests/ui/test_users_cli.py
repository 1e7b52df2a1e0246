"""``powerdialer user …`` and the first owner that ``serve`` creates."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from powerdialer.accounts import sessions, users
from powerdialer.cli import cli
from powerdialer.storage import Store
from tests.conftest import Persona


@pytest.fixture
def run(database_url: str):  # type: ignore[no-untyped-def]
    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, [*args, "--database-url", database_url], input=stdin)

    return invoke


def test_user_create_prints_a_generated_password_once_and_it_signs_in(
    run, store: Store, owner: Persona
) -> None:  # type: ignore[no-untyped-def]
    done = run("user", "create", "--email", "Anna@Example.com", "--project", str(owner.project_id))
    assert done.exit_code == 0, done.output
    password = re.search(r"Password \(shown once.*\): (\S+)", done.output)
    assert password
    assert "anna@example.com" in done.output
    signed = sessions.sign_in(store, "anna@example.com", password.group(1), "127.0.0.1")
    assert signed.session.memberships[0].role.value == "owner"
    again = run("user", "create", "--email", "anna@example.com", "--project", str(owner.project_id))
    assert again.exit_code == 4
    assert "already a user" in again.output


def test_user_create_reads_the_password_from_stdin(run, store: Store, owner: Persona) -> None:  # type: ignore[no-untyped-def]
    done = run(
        "user",
        "create",
        "--email",
        "oleh@example.com",
        "--role",
        "operator",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert done.exit_code == 0, done.output
    assert "Password" not in done.output
    signed = sessions.sign_in(store, "oleh@example.com", "a long enough password", "127.0.0.1")
    assert signed.session.memberships[0].role.value == "operator"


def test_user_create_refuses_a_short_password(run, owner: Persona) -> None:  # type: ignore[no-untyped-def]
    done = run("user", "create", "--email", "a@b.c", "--password-stdin", stdin="short\n")
    assert done.exit_code == 2
    assert "shorter than 10" in done.output


def test_on_an_empty_database_user_create_makes_a_project(run, store: Store) -> None:  # type: ignore[no-untyped-def]
    done = run("user", "create", "--email", "first@example.com")
    assert done.exit_code == 0, done.output
    found = users.list_users(store)
    assert [m.project.name for m in found[0][1]] == ["Мій проєкт"]  # the UI's default language


def test_user_grant_and_list(run, owner: Persona, stranger: Persona) -> None:  # type: ignore[no-untyped-def]
    run("user", "create", "--email", "anna@example.com", "--project", str(owner.project_id))
    granted = run(
        "user", "grant", "--email", "anna@example.com", "--project", str(stranger.project_id)
    )
    assert granted.exit_code == 0, granted.output
    listed = run("user", "list")
    assert f"{owner.project_id} (owner), {stranger.project_id} (operator)" in listed.output
    missing = run("user", "grant", "--email", "nobody@example.com", "--project", "1")
    assert missing.exit_code == 3


def test_set_password_ends_the_users_sessions(run, store: Store, owner: Persona) -> None:  # type: ignore[no-untyped-def]
    run(
        "user",
        "create",
        "--email",
        "anna@example.com",
        "--password-stdin",
        stdin="first password!\n",
    )
    session = sessions.sign_in(store, "anna@example.com", "first password!", "127.0.0.1")
    done = run("user", "set-password", "--email", "anna@example.com")
    assert done.exit_code == 0, done.output
    assert sessions.load_session(store, session.token) is None


def test_the_first_owner_is_created_once(store: Store, owner: Persona) -> None:
    first = users.bootstrap_owner(store, owner.project_id)
    assert first is not None
    assert first.projects == (owner.project_id,)
    assert users.bootstrap_owner(store, owner.project_id) is None
    signed = sessions.sign_in(store, first.email, first.password, "127.0.0.1")
    assert [m.project.id for m in signed.session.memberships] == [owner.project_id]
    assert signed.session.memberships[0].role.value == "owner"
