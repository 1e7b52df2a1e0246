"""The CLI: every command answers --help, prints JSON for scripts, and fails with one
sentence and a meaningful exit code."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner

from powerdialer.cli import cli
from powerdialer.rows.intake import apply_intakes, prepare_intake
from powerdialer.storage import Store
from tests.conftest import Persona


@pytest.fixture
def run(database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, expect: int = 0) -> str:
        result = runner.invoke(cli, [*args, "--database-url", database_url])
        assert result.exit_code == expect, (result.output, result.exception)
        return result.output

    return invoke


def all_commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            found.append([*prefix, name])
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(cli, [])
    return found


@pytest.mark.parametrize("command", all_commands(), ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_project_key_and_campaign_can_be_created_for_the_articles_request(run) -> None:  # type: ignore[no-untyped-def]
    project = json.loads(run("project", "create", "Acme", "--json"))
    key = json.loads(run("key", "create", "--project", str(project["id"]), "--json"))
    campaign = json.loads(
        run("campaign", "create", "--project", str(project["id"]), "Spring leads", "--json")
    )
    assert key["key"].startswith("pd_")
    assert campaign["name"] == "Spring leads"
    assert campaign["state"] == "active"
    listed = json.loads(run("campaign", "list", "--project", str(project["id"]), "--json"))
    assert [c["id"] for c in listed] == [campaign["id"]]
    projects = json.loads(run("project", "list", "--json"))
    assert [p["name"] for p in projects] == ["Acme"]


def test_a_key_is_shown_once_and_listed_by_prefix_only(run) -> None:  # type: ignore[no-untyped-def]
    project = json.loads(run("project", "create", "Acme", "--json"))["id"]
    text = run("key", "create", "--project", str(project))
    plaintext = text.strip().splitlines()[-1]
    assert plaintext.startswith("pd_")
    listing = run("key", "list", "--project", str(project))
    secret = plaintext.split("_", 2)[2]
    assert secret not in listing
    keys = json.loads(run("key", "list", "--project", str(project), "--json"))
    assert keys[0]["prefix"].startswith(plaintext[:15])
    assert "key" not in keys[0]


def test_a_revoked_key_is_marked_and_cannot_be_revoked_again(run) -> None:  # type: ignore[no-untyped-def]
    project = str(json.loads(run("project", "create", "Acme", "--json"))["id"])
    key = json.loads(run("key", "create", "--project", project, "--json"))
    run("key", "revoke", "--project", project, key["key_id"])
    keys = json.loads(run("key", "list", "--project", project, "--json"))
    assert keys[0]["revoked_at"] is not None
    output = run("key", "revoke", "--project", project, key["key_id"], expect=3)
    assert "Error:" in output


def test_archive_and_unarchive_change_the_campaign_state(run, owner: Persona) -> None:  # type: ignore[no-untyped-def]
    project, campaign = str(owner.project_id), str(owner.campaign_id)
    archived = json.loads(run("campaign", "archive", "--project", project, campaign, "--json"))
    assert archived["state"] == "archived"
    active = json.loads(run("campaign", "unarchive", "--project", project, campaign, "--json"))
    assert active["state"] == "active"


def test_another_projects_campaign_cannot_be_archived(
    run,
    owner: Persona,  # type: ignore[no-untyped-def]
    stranger: Persona,
) -> None:
    output = run(
        "campaign",
        "archive",
        "--project",
        str(stranger.project_id),
        str(owner.campaign_id),
        expect=3,
    )
    assert "is not a campaign of this project" in output


def test_unknown_project_is_one_sentence_and_exit_3(run) -> None:  # type: ignore[no-untyped-def]
    output = run("campaign", "create", "--project", "404", "Leads", expect=3)
    assert output.strip() == (
        "Error: there is no project 404: list them with `powerdialer project list`."
    )


def test_an_empty_name_is_rejected_with_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    output = run("project", "create", "   ", expect=2)
    assert "name is empty" in output


def _add_rows(store: Store, persona: Persona, numbers: list[str]) -> None:
    secret_parts = persona.key.split("_", 2)
    items = [
        prepare_intake(
            persona.project_id,
            secret_parts[1],
            secret_parts[2],
            persona.row(n, fio=f'=HYPERLINK("x") {i}'),
            "UA",
        )
        for i, n in enumerate(numbers)
    ]
    assert store.write(lambda conn: apply_intakes(conn, items)) == [True] * len(numbers)


def test_rows_list_and_export_show_the_campaigns_rows(
    run,
    store: Store,
    owner: Persona,  # type: ignore[no-untyped-def]
    stranger: Persona,
) -> None:
    _add_rows(store, owner, ["380930000001", "+380 50 123 45 67"])
    _add_rows(store, stranger, ["380930000009"])
    listed = json.loads(run("rows", "list", "--campaign", str(owner.campaign_id), "--json"))
    assert [r["phone_e164"] for r in listed] == ["+380930000001", "+380501234567"]
    exported = list(
        csv.DictReader(io.StringIO(run("rows", "export", "--campaign", str(owner.campaign_id))))
    )
    assert [r["phone_e164"] for r in exported] == ["+380930000001", "+380501234567"]
    assert exported[1]["phone_number"] == "+380 50 123 45 67"
    # A name that Excel would run as a formula is defused.
    assert exported[0]["fio"].startswith("'=")


def test_rows_of_a_missing_campaign_exit_3(run) -> None:  # type: ignore[no-untyped-def]
    run("rows", "list", "--campaign", "999", expect=3)


def test_migrate_reports_an_up_to_date_schema(run) -> None:  # type: ignore[no-untyped-def]
    assert "up to date" in run("migrate")


def test_a_bad_database_url_is_one_clear_sentence() -> None:
    result = CliRunner().invoke(cli, ["project", "list", "--database-url", "mysql://x/y"])
    assert result.exit_code == 2
    assert "unsupported database" in result.output
    result = CliRunner().invoke(
        cli, ["project", "list", "--database-url", "sqlite:////no/such/folder/x.db"]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_the_database_url_comes_from_the_environment(database_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["project", "create", "Env", "--json"], env={"POWERDIALER_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0
    listed = CliRunner().invoke(cli, ["project", "list", "--json", "--database-url", database_url])
    assert [p["name"] for p in json.loads(listed.output)] == ["Env"]
