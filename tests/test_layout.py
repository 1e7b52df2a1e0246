"""The tree keeps the shape docs and README describe: no import circles, short files."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "powerdialer"


def _module(path: Path) -> str:
    parts = ["powerdialer", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of the package that ``path`` imports, type-only imports included."""
    found: set[str] = set()
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the module; ``from mod import name``, the module.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def test_no_module_imports_itself_through_others() -> None:
    files = {_module(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph = {name: _imports(path, set(files)) for name, path in files.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_a_source_file_over_300_lines_says_why_at_its_top() -> None:
    long = [
        p for p in PACKAGE.rglob("*.py") if len(p.read_text(encoding="utf-8").splitlines()) > 310
    ]
    assert long  # the rule has something to check
    unexplained = [
        str(p.relative_to(PACKAGE))
        for p in long
        if "Past 300 lines on purpose" not in (ast.get_docstring(ast.parse(p.read_text())) or "")
    ]
    assert unexplained == []
