"""The docs say what the code does."""

from __future__ import annotations

import re
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


def test_every_source_path_the_docs_name_exists() -> None:
    """A module moved without its docs is a docs sentence the product does not keep."""
    root = ROOT
    named = {
        (doc.name, match.rstrip(".,)`"))
        for doc in [root / "README.md", root / "BENCHMARKS.md", *(root / "docs").glob("*.md")]
        for match in re.findall(r"src/powerdialer/[\w/.]*", doc.read_text(encoding="utf-8"))
    }
    assert named  # the pattern still finds what the docs write
    assert sorted(n for n in named if not (root / n[1]).exists()) == []


def test_the_readme_layout_names_every_top_level_module_and_package() -> None:
    """The tree and README agree: each entry of src/powerdialer has its row in Layout."""
    root = ROOT
    readme = (root / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1]
    package = root / "src" / "powerdialer"
    entries = sorted(
        p.name + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
    )
    assert "rows/" in entries
    assert [e for e in entries if f"`{e}`" not in layout] == []
