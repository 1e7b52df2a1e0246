"""Render docs/cli.md from the commands' own ``--help``, so the reference cannot drift:
``python -m powerdialer.cli.reference > docs/cli.md`` (a test checks the file is current)."""

from __future__ import annotations

import click

INTRO = """# CLI reference

`powerdialer` manages projects, API keys, campaigns and rows, works the power dialer
(`powerdialer dialer`, docs/dialer.md), and serves the API. Without a command it runs `serve`.
Every command that reads the database takes `--database-url` (or `POWERDIALER_DATABASE_URL`);
commands that print data take `--json` for scripts.

Exit codes: `0` done, `1` failure (e.g. the database is unreachable), `2` bad input or usage,
`3` not found, `4` conflict, `5` authentication. Errors are one sentence on stderr that says
how to fix the problem.

This page is generated from `--help` by `python -m powerdialer.cli.reference > docs/cli.md`.
"""


def _commands(group: click.Group, prefix: list[str]) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        found.append(([*prefix, name], command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, [*prefix, name]))
    return found


def render() -> str:
    from powerdialer.cli import cli

    parts = [INTRO]
    for path, command in _commands(cli, []):
        name = " ".join(["powerdialer", *path])
        with click.Context(
            command,
            info_name=name,
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        ) as ctx:
            parts.append(
                f"\n## powerdialer {' '.join(path)}\n\n```\n{command.get_help(ctx)}\n```\n"
            )
    return "".join(parts)


if __name__ == "__main__":
    click.echo(render(), nl=False)
