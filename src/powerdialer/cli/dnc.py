"""``powerdialer dnc``: a project's do-not-call list, directly in the database (like
``cli/admin.py``): add, remove, list, import a CSV file, export it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from powerdialer import dnc, dnc_csv
from powerdialer.cli.common import (
    EXIT_INPUT,
    database_option,
    emit_json,
    emit_table,
    fail,
    friendly_errors,
    json_option,
    project_option,
    settings_for,
    store_for,
)
from powerdialer.models import DncEntry
from powerdialer.projects import require_project
from powerdialer.storage import Store

_WHO = "cli"


def _store(database_url: str, project_id: int) -> Store:
    """The store, once the project is known to exist (exit 3 otherwise)."""
    store = store_for(database_url)
    store.read(lambda conn: require_project(conn, project_id))
    return store


def _by_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--by",
        "added_by",
        default=_WHO,
        show_default=True,
        help="Who lists the numbers (kept with each entry), e.g. your email.",
    )(fn)


def _entry_json(entry: DncEntry) -> dict[str, object]:
    return {
        "number": entry.phone_e164,
        "reason": entry.reason,
        "source": entry.source,
        "added_by": entry.added_by,
        "added_at": entry.added_at.isoformat(),
    }


@click.group("dnc")
def dnc_group() -> None:
    """The project's do-not-call list: numbers never called, refused when added."""


@dnc_group.command("add")
@project_option
@click.argument("numbers", nargs=-1, required=True)
@click.option("--reason", default=None, help="Why not to call (kept with each number).")
@_by_option
@database_option
@json_option
@friendly_errors
def dnc_add(
    project_id: int,
    numbers: tuple[str, ...],
    reason: str | None,
    added_by: str,
    database_url: str,
    as_json: bool,
) -> None:
    """List one or more NUMBERS (any usual spelling). Exit 2 if any could not be read (the
    others are listed)."""
    settings = settings_for(database_url)
    outcomes = dnc.add_numbers(
        _store(database_url, project_id),
        project_id,
        [(number, reason) for number in numbers],
        source="cli",
        region=settings.default_region,
        added_by=added_by,
    )
    if as_json:
        emit_json(
            [
                {
                    "number": o.phone_e164,
                    "status": o.status,
                    "error": o.error.message if o.error else None,
                }
                for o in outcomes
            ]
        )
    else:
        for sent, o in zip(numbers, outcomes, strict=True):
            if o.error is not None:
                click.echo(f"Not listed: {o.error.message}", err=True)
            elif o.status == "added":
                click.echo(f"Listed {o.phone_e164}.")
            else:
                click.echo(f"{o.phone_e164} was listed already ({sent}).")
    if any(o.status == "rejected" for o in outcomes):
        sys.exit(EXIT_INPUT)


@dnc_group.command("remove")
@project_option
@click.argument("number")
@database_option
@json_option
@friendly_errors
def dnc_remove(project_id: int, number: str, database_url: str, as_json: bool) -> None:
    """Take NUMBER off the list (exit 3 if it is not on it)."""
    settings = settings_for(database_url)
    e164 = dnc.remove_number(
        _store(database_url, project_id), project_id, number, region=settings.default_region
    )
    if as_json:
        emit_json({"removed": e164})
    else:
        click.echo(f"Removed {e164} from the do-not-call list.")


@dnc_group.command("list")
@project_option
@click.option("--prefix", default=None, help="Only numbers starting so, e.g. 38093.")
@click.option("--limit", type=click.IntRange(1, dnc.MAX_LIMIT), default=100, show_default=True)
@click.option("--after", "cursor", default=None, help="Show numbers after this one (E.164).")
@database_option
@json_option
@friendly_errors
def dnc_list(
    project_id: int,
    prefix: str | None,
    limit: int,
    cursor: str | None,
    database_url: str,
    as_json: bool,
) -> None:
    """List the numbers in order, with who listed them, when and why."""
    page = dnc.list_numbers(
        _store(database_url, project_id), project_id, prefix=prefix, cursor=cursor, limit=limit
    )
    if as_json:
        emit_json([_entry_json(e) for e in page.items])
        return
    emit_table(
        ["number", "reason", "source", "by", "added"],
        [
            (e.phone_e164, e.reason, e.source, e.added_by, e.added_at.strftime("%Y-%m-%d %H:%M"))
            for e in page.items
        ],
        empty="No numbers on the do-not-call list.",
    )
    if page.next_cursor:
        click.echo(f"More: --after {page.next_cursor}", err=True)


@dnc_group.command("import")
@project_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_by_option
@database_option
@json_option
@friendly_errors
def dnc_import(
    project_id: int, file: Path, added_by: str, database_url: str, as_json: bool
) -> None:
    """List every number of a CSV FILE: a column of numbers (header 'phone', 'Телефон'…, or
    the first column) and an optional reason column. Bad lines are reported, the rest
    listed; exit 2 if any line was rejected."""
    if file.stat().st_size > dnc_csv.MAX_IMPORT_BYTES:
        fail(f"{file} is larger than {dnc_csv.MAX_IMPORT_BYTES} bytes: split it.", EXIT_INPUT)
    settings = settings_for(database_url)
    with file.open("rb") as binary:
        report = dnc_csv.import_csv(
            _store(database_url, project_id),
            project_id,
            binary,
            source="cli",
            region=settings.default_region,
            added_by=added_by,
        )
    if as_json:
        emit_json(
            {
                "added": report.added,
                "listed": report.listed,
                "rejected": report.rejected,
                "rejects": [
                    {"line": r.line, "value": r.value, "error": r.error.message}
                    for r in report.rejects
                ],
            }
        )
    else:
        for r in report.rejects:
            click.echo(f"Line {r.line}: {r.error.message}", err=True)
        click.echo(
            f"Listed {report.added} numbers; {report.listed} were listed already; "
            f"{report.rejected} lines rejected."
        )
    if report.rejected:
        sys.exit(EXIT_INPUT)


@dnc_group.command("export")
@project_option
@database_option
@friendly_errors
def dnc_export(project_id: int, database_url: str) -> None:
    """Write the list as CSV (number, reason, source, added_by, added_at; UTF-8 with BOM) to
    stdout: the file `dnc import` reads."""
    for chunk in dnc_csv.export_csv(_store(database_url, project_id), project_id):
        click.echo(chunk, nl=False)
