"""``powerdialer serve`` (the default command) and ``powerdialer migrate``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import click

from powerdialer.accounts.users import bootstrap_owner
from powerdialer.cli.common import database_option, friendly_errors, settings_for
from powerdialer.cli.users import print_first_owner
from powerdialer.projects import Bootstrap, bootstrap_if_empty
from powerdialer.settings import Settings
from powerdialer.storage import open_store
from powerdialer.web.compat import PATH
from powerdialer.web.edge import (
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_MAX_HEAD_BYTES,
    MIN_RESERVED_FDS,
    EdgeLimits,
    connection_cap,
    raise_fd_limit,
)
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
    "--max-head-bytes",
    envvar="POWERDIALER_MAX_HEAD_BYTES",
    type=click.IntRange(1024),
    default=DEFAULT_MAX_HEAD_BYTES,
    show_default=True,
    show_envvar=True,
    help="Largest request head (request line and headers); a larger one is answered 431.",
)
@click.option(
    "--head-timeout",
    envvar="POWERDIALER_HEAD_TIMEOUT",
    type=click.FloatRange(0.1),
    default=DEFAULT_HEAD_TIMEOUT,
    show_default=True,
    show_envvar=True,
    help="Seconds a connection has to send a complete request head (from connecting; on a "
    "kept-alive connection, from the head's first bytes); then it is closed (408).",
)
@click.option(
    "--max-connections",
    envvar="POWERDIALER_MAX_CONNECTIONS",
    type=click.IntRange(1),
    default=None,
    show_default="the file-descriptor limit less a quarter, at least 256 kept back: 768 of 1024",
    show_envvar=True,
    help="Open connections a server process keeps; past it, the one that has waited longest "
    "for a request head is closed (docs/deployment.md).",
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
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    max_head_bytes: int,
    head_timeout: float,
    max_connections: int | None,
    bootstrap: bool,
    database_url: str,
) -> None:
    """Apply migrations and serve the API (the default command)."""
    import uvicorn

    settings = settings_for(database_url)
    limits = edge_limits(max_head_bytes, head_timeout, max_connections)
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
    click.echo(
        f"Connections: at most {limits.max_connections} open a process; request heads "
        f"{limits.max_head_bytes} bytes within {limits.head_timeout:g} s."
    )
    # Workers are separate processes that read their settings from the environment.
    os.environ["POWERDIALER_DATABASE_URL"] = settings.database_url
    with metrics_dir(settings, workers):
        _run(uvicorn, host, port, workers, access_log, limits)


@contextlib.contextmanager
def metrics_dir(settings: Settings, workers: int) -> Iterator[None]:
    """With metrics on and several workers, prometheus-client's multiprocess mode: the
    workers keep their numbers in files under ``<data dir>/metrics-multiproc`` (emptied
    first: a crashed run's files would add to the counts) and a scrape reads them all; the
    directory is removed when the server stops (docs/metrics.md)."""
    if not settings.metrics or workers < 2:
        yield
        return
    from powerdialer.telemetry.metrics import MULTIPROC_ENV

    path = (Path(settings.data_dir) / "metrics-multiproc").resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(path, ignore_errors=True)


def _run(
    uvicorn: Any, host: str, port: int, workers: int, access_log: bool, limits: EdgeLimits
) -> None:
    from powerdialer.web.edge_protocol import Edge

    uvicorn.run(
        "powerdialer.web.app:app_from_env",
        factory=True,
        # uvicorn's httptools protocol with a head size cap, a head deadline and a connection
        # cap (web/edge.py); the factory is picklable, so each worker gets its own.
        http=cast("type[asyncio.Protocol]", Edge(limits)),
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=10,
        server_header=False,
    )


def edge_limits(
    max_head_bytes: int, head_timeout: float, max_connections: int | None
) -> EdgeLimits:
    """The edge's limits; raises this process's soft file-descriptor limit to the hard one
    first (workers inherit it), so the derived connection cap is as large as allowed."""
    fd_limit = raise_fd_limit()
    ceiling = fd_limit - MIN_RESERVED_FDS // 4
    if max_connections is None:
        max_connections = connection_cap(fd_limit)
    elif max_connections > ceiling:
        raise click.UsageError(
            f"--max-connections {max_connections} leaves too few of this process's "
            f"{fd_limit} file descriptors for the database and imports: use at most {ceiling} "
            "(the default keeps a quarter), or raise the limit (LimitNOFILE= in a systemd "
            "unit, ulimit -n in a shell)."
        )
    return EdgeLimits(max_head_bytes, head_timeout, max_connections)


def _safe(url: str) -> str:
    from powerdialer.storage.engine import display_url

    return display_url(url)


@click.command("migrate")
@database_option
@friendly_errors
def migrate(database_url: str) -> None:
    """Create or upgrade the database schema (serve does this on start)."""
    store = open_store(settings_for(database_url).database_url, migrate=True)
    store.dispose()
    click.echo("The database schema is up to date.")
