"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from powerdialer.cli import reference

ROOT = Path(__file__).resolve().parents[1]


def test_the_cli_reference_is_generated_from_the_current_help() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == reference.render(), (
        "docs/cli.md is stale: run `python -m powerdialer.cli.reference > docs/cli.md`"
    )


def test_the_readme_quick_start_is_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in section.strip().splitlines() if line.strip()]
    assert [c.split()[0] for c in commands] == ["./scripts/serve", "./scripts/test"]
