"""What every command shares: the database option, output as text or ``--json``, and errors
as one clear sentence with an exit code that means something."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any, TypeVar

import click

from powerdialer.errors import AuthError, Conflict, NotFound, PowerDialerError, ValidationError
from powerdialer.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from powerdialer.storage import Store, open_store

F = TypeVar("F", bound=Callable[..., Any])

# Exit codes (docs/cli.md): 0 done, 1 failure, 2 bad input or usage, 3 not found, 4 conflict,
# 5 authentication.
EXIT_FAILURE, EXIT_INPUT, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_AUTH = 1, 2, 3, 4, 5


def database_option(fn: F) -> F:
    return click.option(
        "--database-url",
        envvar="POWERDIALER_DATABASE_URL",
        default=DEFAULT_DATABASE_URL,
        show_default=True,
        show_envvar=True,
        help="sqlite:///path.db (embedded) or postgresql://user@host/db.",
    )(fn)


def json_option(fn: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (one object or list) for scripts."
    )(fn)


def project_option(fn: F) -> F:
    return click.option(
        "--project",
        "project_id",
        type=int,
        required=True,
        envvar="POWERDIALER_PROJECT",
        show_envvar=True,
        help="The project's id (x-project-id).",
    )(fn)


def settings_for(database_url: str) -> Settings:
    return Settings.from_env(database_url=database_url)


def store_for(database_url: str) -> Store:
    return open_store(settings_for(database_url).database_url, migrate=True)


def fail(message: str, code: int = EXIT_FAILURE) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def exit_code_for(exc: PowerDialerError) -> int:
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, Conflict):
        return EXIT_CONFLICT
    if isinstance(exc, AuthError):
        return EXIT_AUTH
    if isinstance(exc, ValidationError):
        return EXIT_INPUT
    return EXIT_FAILURE


def friendly_errors(fn: F) -> F:
    """Turn the domain's precise exceptions into one sentence and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PowerDialerError as exc:
            fail(exc.message, exit_code_for(exc))
        except SettingsError as exc:
            fail(f"{exc}.", EXIT_INPUT)
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                fail(f"cannot use the database: {exc.orig}. Check --database-url.")
            raise
        return None

    return wrapper  # type: ignore[return-value]


def to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def emit_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str = "Nothing yet."
) -> None:
    if not rows:
        click.echo(empty)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, box=None, header_style="bold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(soft_wrap=True).print(table)
