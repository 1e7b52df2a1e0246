"""``powerdialer serve`` (the default command) and ``powerdialer migrate``."""

from __future__ import annotations

import os

import click

from powerdialer.accounts import bootstrap_owner
from powerdialer.cli.common import database_option, friendly_errors, settings_for
from powerdialer.cli.users import print_first_owner
from powerdialer.projects import Bootstrap, bootstrap_if_empty
from powerdialer.storage import open_store
from powerdialer.web.compat import PATH
from powerdialer.web.ui.labels import starter_names


def _print_bootstrap(boot: Bootstrap, base_url: str) -> None:
    click.echo("")
    click.echo("First run: created a project, a campaign and an API key.")
    click.echo(f"  x-project-id: {boot.project.id}")
    click.echo(f"  campaignId:   {boot.campaign.id}")
    click.echo(f"  Auth-key:     {boot.key.plaintext}")
    click.echo("  (the key is shown once: store it now; more with `powerdialer key create`)")
    click.echo("")
    click.echo("Try the article's request:")
    click.echo(
        f'  curl -X POST "{base_url}{PATH}" \\\n'
        '    -H "Content-Type: application/json" \\\n'
        f'    -H "x-project-id: {boot.project.id}" \\\n'
        f'    -H "Auth-key: {boot.key.plaintext}" \\\n'
        f'    -d \'{{"campaignId": {boot.campaign.id}, "fio": "Іван Петренко", '
        '"phone_number": "380930000000"}\''
    )
    click.echo("")


@click.command("serve")
@click.option(
    "--host",
    envvar="POWERDIALER_HOST",
    default="127.0.0.1",
    show_default=True,
    show_envvar=True,
    help="Interface to listen on (0.0.0.0 for all).",
)
@click.option(
    "--port",
    envvar="POWERDIALER_PORT",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    show_envvar=True,
    help="TCP port.",
)
@click.option(
    "--workers",
    envvar="POWERDIALER_WORKERS",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    show_envvar=True,
    help="Server processes. Keep 1 on SQLite (one writer); more on PostgreSQL.",
)
@click.option(
    "--access-log/--no-access-log",
    envvar="POWERDIALER_ACCESS_LOG",
    default=False,
    show_default=True,
    show_envvar=True,
    help="Log every request.",
)
@click.option(
    "--bootstrap/--no-bootstrap",
    default=True,
    show_default=True,
    help="On an empty database, create a first project, campaign, API key and web UI owner.",
)
@database_option
@friendly_errors
def serve(
    host: str, port: int, workers: int, access_log: bool, bootstrap: bool, database_url: str
) -> None:
    """Apply migrations and serve the API (the default command)."""
    import uvicorn

    settings = settings_for(database_url)
    store = open_store(settings.database_url, migrate=True)
    boot = bootstrap_if_empty(store, starter_names()) if bootstrap else None
    first_owner = bootstrap_owner(store, boot.project.id) if boot else None
    store.dispose()
    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    if boot is not None:
        _print_bootstrap(boot, base_url)
    if first_owner is not None:
        print_first_owner(first_owner, base_url)
    if workers > 1 and settings.database_url.startswith("sqlite"):
        click.echo(
            "Warning: several workers share one SQLite writer lock; one worker is "
            "faster on SQLite (see BENCHMARKS.md).",
            err=True,
        )
    click.echo(f"powerdialer serving on {base_url} (database: {_safe(settings.database_url)})")
    # Workers are separate processes that read their settings from the environment.
    os.environ["POWERDIALER_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "powerdialer.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("migrate")
@database_option
@friendly_errors
def migrate(database_url: str) -> None:
    """Create or upgrade the database schema (serve does this on start)."""
    store = open_store(settings_for(database_url).database_url, migrate=True)
    store.dispose()
    click.echo("The database schema is up to date.")
