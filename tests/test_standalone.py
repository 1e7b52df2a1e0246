"""The SDK, the fill application and the file reader stand alone: importing them loads neither
SQLAlchemy nor the server's storage package.  ``powerdialer fill`` runs on a CRM's desktop
against a remote server, and the reader is shared by the server and the client, so none of
them may drag the server's database layer in (issue 11, item 5).

Each check imports in a fresh interpreter, where nothing else has loaded those modules yet.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import powerdialer

PACKAGE = Path(powerdialer.__file__).parent
SERVER_ONLY = ("sqlalchemy", "powerdialer.storage")
# The reader is below the server's import jobs and web layer too, and they are above it.
SERVER_SIDE = (*SERVER_ONLY, "powerdialer.importing", "powerdialer.web", "fastapi", "starlette")


def modules_of(package: str) -> list[str]:
    """The package and every module in it, by name (found on disk, not imported here)."""
    folder = PACKAGE / package.removeprefix("powerdialer.").replace(".", "/")
    return [package] + [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]


def cli_fill_imports() -> list[str]:
    """What the CLI's ``fill`` command imports from the fill application, the reader and the
    SDK, statement by statement (the command's own shell, click and the CLI package, is not
    the application)."""
    tree = ast.parse((PACKAGE / "cli" / "fill.py").read_text(encoding="utf-8"))
    wanted = ("powerdialer.fill", "powerdialer.reader", "powerdialer.client")
    return [
        f"from {node.module} import {', '.join(alias.name for alias in node.names)}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(wanted)
    ]


def loaded_after(statements: list[str]) -> set[str]:
    code = "\n".join([*statements, "import json, sys", "print(json.dumps(sorted(sys.modules)))"])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stdout))


def offending(loaded: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in loaded if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_the_sdk_loads_no_storage() -> None:
    assert offending(loaded_after(["import powerdialer.client"]), SERVER_ONLY) == []


def test_the_fill_application_loads_no_storage() -> None:
    imports = [f"import {name}" for name in modules_of("powerdialer.fill")]
    assert offending(loaded_after(imports), SERVER_ONLY) == []


def test_what_the_fill_command_imports_loads_no_storage() -> None:
    imports = cli_fill_imports()
    assert any(line.startswith("from powerdialer.fill") for line in imports)
    assert offending(loaded_after(imports), SERVER_ONLY) == []


def test_the_reader_loads_nothing_of_the_server() -> None:
    imports = [f"import {name}" for name in modules_of("powerdialer.reader")]
    assert len(imports) > 5
    assert offending(loaded_after(imports), SERVER_SIDE) == []
