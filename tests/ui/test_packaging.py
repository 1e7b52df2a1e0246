"""A non-editable install carries the UI's templates, static files and catalogs: each of them
matches a ``package-data`` pattern in pyproject.toml."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "powerdialer"


def test_every_ui_asset_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["powerdialer"]
    assets = [
        path.relative_to(PACKAGE).as_posix()
        for folder in ("templates", "static", "locales")
        for path in (PACKAGE / "web" / "ui" / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert assets
    # fnmatch's * also crosses "/", setuptools' does not: compare depth as well.
    missing = [
        a
        for a in assets
        if not any(fnmatch(a, p) and a.count("/") == p.count("/") for p in patterns)
    ]
    assert missing == []
