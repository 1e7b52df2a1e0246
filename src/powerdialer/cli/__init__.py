"""The ``powerdialer`` command line.  Thin: parse, call one domain function, print."""

from __future__ import annotations

import click

from powerdialer import __version__
from powerdialer.cli.admin import campaign_group, key_group, project_group, rows_group
from powerdialer.cli.dialer import dialer_group
from powerdialer.cli.dnc import dnc_group
from powerdialer.cli.fill import fill_command
from powerdialer.cli.serve import migrate, serve
from powerdialer.cli.users import user_group


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="powerdialer")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """powerdialer: a Power Dialer campaign service, wire-compatible with Ringostat's
    campaign-rows API.  Without a command it runs `serve`."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve)


for command in (
    serve,
    migrate,
    project_group,
    key_group,
    campaign_group,
    rows_group,
    user_group,
    dnc_group,
):
    cli.add_command(command)
cli.add_command(dialer_group)
cli.add_command(fill_command)


def main() -> None:
    cli(prog_name="powerdialer")
