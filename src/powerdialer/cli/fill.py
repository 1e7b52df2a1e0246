"""``powerdialer fill FILE --campaign ID``: send a CRM export to a campaign, ours or the
vendor's, fast, safely and resumably.  The engine is :mod:`powerdialer.fill`; this is
its shell: options, credentials, progress, summary, exit code.

Past 300 lines on purpose: most of it is the command's option declarations, which belong in
one place."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import click

from powerdialer.cli.common import EXIT_FAILURE
from powerdialer.cli.fill_output import RichProgress, emit
from powerdialer.cli.profiles import resolve_target
from powerdialer.fill import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    FillError,
    FillOptions,
    FillResult,
    default_state_path,
    fill,
)
from powerdialer.reader.headers import AUTO, Auto, ColumnRef, Mapping

EPILOG = """\b
Exit codes: 0 every row sent; 2 bad usage or input; 3 done, but some rows were
rejected (see the report); 4 stopped with rows unsent (server unreachable or
failing, campaign missing or archived): run again to resume; 5 the server refused
the credentials; 130 interrupted (Ctrl-C): run again to resume.

\b
Examples:
  export POWERDIALER_KEY=pd_…            # or: --key-file ~/.pd.key, or a profile
  powerdialer fill leads.csv --campaign 456 --project 123
  powerdialer fill leads.xlsx --campaign 456 --profile ringostat --rate 20

See docs/fill.md."""


def _column(value: str | None) -> ColumnRef | Auto | None:
    """A header name, a column number counting from 1, or '-' for "the file has none"."""
    if value is None:
        return AUTO
    if value.strip() == "-":
        return None
    if value.strip().isdigit():
        number = int(value)
        if number < 1:
            raise click.BadParameter("column numbers count from 1.")
        return number - 1
    return value


class _Concurrency(click.ParamType[int | None, object]):
    """``auto`` or a number of requests from 1 to 256."""

    name = "auto|1-256"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return None
        if text.isdigit() and 1 <= int(text) <= 256:
            return int(text)
        self.fail(f"{value!r} is neither 'auto' nor a number from 1 to 256.", param, ctx)


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


@click.command("fill", epilog=EPILOG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--campaign",
    "campaign_id",
    type=click.IntRange(min=1),
    required=True,
    envvar="POWERDIALER_CAMPAIGN",
    show_envvar=True,
    help="The campaign's id (campaignId; editCampaign in the edit page's URL).",
)
@click.option(
    "--url",
    envvar="POWERDIALER_URL",
    show_envvar=True,
    help="Base URL of the API: a powerdialer server (default http://127.0.0.1:8000) "
    "or Ringostat's https://api.ringostat.net.",
)
@click.option(
    "--project",
    envvar="POWERDIALER_PROJECT",
    show_envvar=True,
    help="The project's id (x-project-id).",
)
@click.option(
    "--key",
    envvar="POWERDIALER_KEY",
    show_envvar=True,
    help="The API key (Auth-key). Discouraged on the command line, where other "
    "users can see it: prefer the variable, --key-file or a profile.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the key from this file (mode 0600), or '-' for standard input.",
)
@click.option(
    "--profile",
    "profile_name",
    envvar="POWERDIALER_PROFILE",
    show_envvar=True,
    help="A [NAME] section of the profile file with url, project, key or key_file.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POWERDIALER_CONFIG",
    show_envvar=True,
    help="The profile file. [default: ~/.config/powerdialer/profiles.toml]",
)
@click.option(
    "--mode",
    type=click.Choice(["auto", "single", "bulk"]),
    default="auto",
    show_default=True,
    help="single: one row a request (the vendor's endpoint); bulk: many rows a "
    "request (powerdialer servers); auto: bulk where the server offers it.",
)
@click.option(
    "--concurrency",
    type=_Concurrency(),
    default="auto",
    show_default=True,
    help="Requests in flight at once. auto: start at 8 and adapt to the server, up to 128 "
    "(more while throughput rises, fewer on 429/503); a number pins it.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="At most this many requests a second, retries included (token bucket). "
    "[default: the limit the server publishes, else none]",
)
@click.option(
    "--burst",
    type=click.IntRange(min=1),
    help="Requests that may go at once after a pause. [default: rate/100, at least 1]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Rows a request in bulk mode (capped by the server's limit).",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 100),
    default=8,
    show_default=True,
    help="Retries of a request on network errors, 408, 429 and 5xx.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for an answer.",
)
@click.option(
    "--region",
    default="UA",
    show_default=True,
    help="Country for numbers written without a country code.",
)
@click.option("--phone-column", help="The phone column: a header name or a number from 1.")
@click.option("--fio-column", help="The name column (header or number; '-' for none).")
@click.option("--id-column", help="The CRM id column (header or number; '-' for none).")
@click.option("--sheet", help="The workbook sheet (name or number from 1). [default: first]")
@click.option(
    "--header/--no-header",
    "has_header",
    default=None,
    help="Whether the first row is a header. [default: detected]",
)
@click.option(
    "--fields/--no-fields",
    "extras",
    default=True,
    help="In bulk mode, send the CRM id column and the other columns as the row's external_id "
    "and fields (the default), or not.",
)
@click.option(
    "--idempotency-keys",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Send Idempotency-Key (powerdialer servers only). auto: on bulk requests, and on "
    "single rows when the campaign keeps duplicates (elsewhere the number dedupes).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows with reasons. [default: FILE's name "
    "+ .rejected.csv, beside it]",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The resume journal (SQLite). [default: FILE + .fill.sqlite3, beside it]",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Forget what the journal says was sent and start this file over.",
)
@click.option(
    "--fsync",
    is_flag=True,
    help="Make each journal write wait for the disk, to survive a power loss of this machine "
    "too (a killed fill loses nothing without it). Slower.",
)
@click.option(
    "--dry-run", is_flag=True, help="Read and check the file, write the report, send nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--silent", is_flag=True, help="No progress bar and no text summary.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def fill_command(
    ctx: click.Context,
    file: Path,
    campaign_id: int,
    url: str | None,
    project: str | None,
    key: str | None,
    key_file: Path | None,
    profile_name: str | None,
    config: Path | None,
    mode: str,
    concurrency: int | None,
    rate: float | None,
    burst: int | None,
    batch_size: int,
    retries: int,
    timeout: float,
    region: str,
    phone_column: str | None,
    fio_column: str | None,
    id_column: str | None,
    sheet: str | None,
    has_header: bool | None,
    extras: bool,
    idempotency_keys: str,
    report_path: Path | None,
    state_path: Path | None,
    restart: bool,
    fsync: bool,
    dry_run: bool,
    as_json: bool,
    silent: bool,
    no_progress: bool,
) -> None:
    """Fill a campaign from a CSV, XLSX or JSON Lines file.

    Reads FILE with the server's own reader (header detection, encodings), checks every
    number before sending, drops numbers repeated in the file, and sends the rest with
    retries, a rate limit and a journal, so running the same command again after a crash,
    Ctrl-C or a network outage sends only what was not acknowledged. Rejected rows are
    written to a report with the reason."""
    import phonenumbers

    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise click.BadParameter(
            f"{region!r} is not a region code such as UA.", param_hint="--region"
        )
    target = resolve_target(
        ctx, url=url, project=project, key=key, key_file=key_file,
        profile_name=profile_name, config=config, warn=_warn,
    )  # fmt: skip
    if not dry_run:
        if target.project_id is None:
            raise click.UsageError(
                "no project: pass --project, set POWERDIALER_PROJECT, or use a profile."
            )
        if target.key is None:
            raise click.UsageError(
                "no API key: set POWERDIALER_KEY, pass --key-file, or add key_file to a "
                "profile (see `powerdialer fill --help`)."
            )
        if target.key_source == "--key" and not silent:
            _warn("--key shows the key to other users (ps, shell history); prefer "
                  "POWERDIALER_KEY, --key-file or a profile.")  # fmt: skip
    sheet_ref: str | int | None = sheet
    if sheet is not None and sheet.isdigit():
        sheet_ref = int(sheet) - 1
    options = FillOptions(
        path=file,
        campaign_id=campaign_id,
        base_url=target.base_url,
        project_id=target.project_id or "",
        key=target.key,
        mode=mode,  # type: ignore[arg-type]  # click.Choice checked it
        concurrency=concurrency,
        rate=rate,
        burst=burst,
        batch_size=batch_size,
        retries=retries,
        timeout=timeout,
        region=region,
        mapping=Mapping(
            phone=AUTO if phone_column is None else _column(phone_column) or AUTO,
            fio=_column(fio_column),
            external_id=_column(id_column),
            has_header=has_header,
        ),
        sheet=sheet_ref,
        extras=extras,
        idempotency_keys=idempotency_keys,  # type: ignore[arg-type]  # click.Choice checked it
        state_path=state_path,
        report_path=report_path,
        restart=restart,
        fsync=fsync,
        dry_run=dry_run,
        handle_signals=True,
    )
    show_progress = not (silent or no_progress or dry_run) and sys.stderr.isatty()
    result = _run(options, RichProgress() if show_progress else None)
    emit(result, as_json=as_json, silent=silent)
    sys.exit(result.exit_code)


def _run(options: FillOptions, progress: RichProgress | None) -> FillResult:
    # A loop of our own rather than asyncio.run: asyncio.run would turn Ctrl-C during the
    # (synchronous) planning into a cancellation that waits for the plan to finish.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(fill(options, progress))
    except FillError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        click.echo("Interrupted before sending; nothing was sent.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except sqlite3.Error as exc:
        state = options.state_path or default_state_path(options.path)
        click.echo(f"Error: cannot use the journal {state} ({exc}): choose another with --state.",
                   err=True)  # fmt: skip
        sys.exit(EXIT_FAILURE)
    except OSError as exc:
        click.echo(f"Error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
        sys.exit(EXIT_INPUT)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
