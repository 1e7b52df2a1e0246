"""What ``powerdialer fill`` shows: a rich progress bar on stderr while sending, and the
summary (text, or one JSON object with ``--json``) on stdout."""

from __future__ import annotations

import dataclasses
import json

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from powerdialer.fill import FillResult


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


class RichProgress:
    """The :class:`powerdialer.fill.Progress` sink drawn with rich."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task = TaskID(0)

    def start(self, total: int, done: int, description: str) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            speed_estimate_period=10.0,
        )
        self._task = self._progress.add_task(description, total=total, completed=done)
        self._progress.start()

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def summary_text(result: FillResult) -> str:
    what = "Checked" if result.status == "dry_run" else "Filled"
    mode = f"{result.mode} mode, " if result.mode else ""
    rate = f"{result.rate:g}/s" if result.rate else "unlimited"
    connections = f"{result.concurrency} connections"
    if result.adaptive and result.status != "dry_run":
        connections += f" (adaptive, peak {result.concurrency_peak})"
    lines = [
        f"{what} campaign {result.campaign_id} at {result.target.split('#')[0]} "
        f"({mode}{connections}, rate {rate}) from {result.file}",
        f"  valid rows            {_n(result.valid)}",
        f"  sent now              {_n(result.sent)}",
        f"  sent in earlier runs  {_n(result.already_sent)}",
        f"  inserted              {_n(result.inserted)}",
        f"  already in campaign   {_n(result.duplicates)}",
        f"  duplicates in file    {_n(result.duplicates_in_file)}",
        f"  rejected              {_n(result.rejected)}  "
        f"(invalid in file {_n(result.invalid)}, by the server {_n(result.rejected_by_server)})",
        f"  retried requests      {_n(result.retried)}",
        f"  not sent yet          {_n(result.unsent)}",
        f"  elapsed               {result.elapsed_seconds:.1f} s"
        + (f"  ({result.rows_per_second:,.0f} rows/s)" if result.sent else ""),
    ]
    if result.status == "dry_run":
        lines[2:5] = []
    if result.report:
        lines.append(f"  report                {result.report}")
    if result.message:
        lines.append(result.message[:1].upper() + result.message[1:])
    return "\n".join(lines)


def emit(result: FillResult, *, as_json: bool, silent: bool) -> None:
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=2))
    elif not silent:
        click.echo(summary_text(result))
    if result.message and (as_json or silent) and result.status in ("aborted", "interrupted"):
        click.echo(f"Error: {result.message}", err=True)
