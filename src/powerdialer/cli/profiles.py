"""Where a client command finds the server and the key, so the key need not be typed on the
command line (where shell history and ``ps`` show it to others).

Sources, strongest first: the command line (``--url``, ``--project``, ``--key``,
``--key-file``); a profile named with ``--profile`` (or ``POWERDIALER_PROFILE``); the
environment (``POWERDIALER_URL``, ``POWERDIALER_PROJECT``, ``POWERDIALER_KEY``); the profile
``[default]``; for the URL, a local server at ``http://127.0.0.1:8000``.

Profiles live in ``~/.config/powerdialer/profiles.toml`` (``$XDG_CONFIG_HOME`` is honoured;
``--config`` or ``POWERDIALER_CONFIG`` point elsewhere)::

    [default]
    url = "http://127.0.0.1:8000"
    project = 1
    key_file = "~/.config/powerdialer/local.key"

    [ringostat]
    url = "https://api.ringostat.net"
    project = 123
    key = "…"

A file holding a key should be readable by its owner only (``chmod 600``); a warning says so
when it is not.
"""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

DEFAULT_URL = "http://127.0.0.1:8000"
PROFILE_KEYS = ("url", "project", "key", "key_file")


@dataclass(frozen=True)
class Target:
    base_url: str
    project_id: str | None
    key: str | None
    key_source: str | None


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "powerdialer" / "profiles.toml"


def check_private(path: Path, warn: Callable[[str], None]) -> None:
    """Warn when a file with a secret is readable or writable by others (mode not 0600)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warn(
            f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}): "
            f"run `chmod 600 {path}`."
        )


def load_profile(
    config: Path | None, name: str | None, warn: Callable[[str], None]
) -> dict[str, Any]:
    """The named profile (``default`` when ``name`` is None and it exists)."""
    path = config or default_config_path()
    if not path.is_file():
        if config is not None or name is not None:
            raise click.UsageError(
                f"no profile file at {path}: create it (see `powerdialer fill --help`) or "
                "pass --url, --project and --key-file."
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from exc
    wanted = name or "default"
    profile = data.get(wanted)
    if profile is None:
        if name is None:
            return {}
        names = ", ".join(sorted(k for k, v in data.items() if isinstance(v, dict))) or "none"
        raise click.UsageError(f"no profile [{wanted}] in {path} (it has: {names}).")
    if not isinstance(profile, dict):
        raise click.UsageError(f"[{wanted}] in {path} must be a table of url, project, key.")
    unknown = set(profile) - set(PROFILE_KEYS)
    if unknown:
        raise click.UsageError(
            f"[{wanted}] in {path} has unknown settings {sorted(unknown)}; "
            f"use {', '.join(PROFILE_KEYS)}."
        )
    if "key" in profile:
        check_private(path, warn)
    return profile


def read_key_file(path: Path, warn: Callable[[str], None]) -> str:
    """The key: the first non-empty line of the file (``-`` reads standard input)."""
    try:
        if str(path) == "-":
            text = sys.stdin.read()
        else:
            check_private(path, warn)
            text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise click.UsageError(f"cannot read the key file {path}: {exc.strerror}.") from exc
    key = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not key:
        raise click.UsageError(f"the key file {path} is empty.")
    return key


def resolve_target(
    ctx: click.Context,
    *,
    url: str | None,
    project: str | None,
    key: str | None,
    key_file: Path | None,
    profile_name: str | None,
    config: Path | None,
    warn: Callable[[str], None],
) -> Target:
    def source(name: str) -> ParameterSource | None:
        return ctx.get_parameter_source(name)

    explicit = profile_name is not None
    profile = load_profile(config, profile_name, warn)

    def pick(value: Any, param: str, setting: str) -> Any:
        from_cli = source(param) == ParameterSource.COMMANDLINE
        if value is not None and from_cli:
            return value
        if explicit and profile.get(setting) is not None:
            return profile[setting]
        if value is not None:
            return value
        return profile.get(setting)

    base_url = pick(url, "url", "url") or DEFAULT_URL
    project_id = pick(project, "project", "project")
    resolved_key, key_source = _key(
        key, source("key") == ParameterSource.COMMANDLINE, key_file, profile, explicit, warn
    )
    return Target(
        base_url=str(base_url).rstrip("/"),
        project_id=None if project_id is None else str(project_id),
        key=resolved_key,
        key_source=key_source,
    )


def _key(
    value: str | None,
    from_cli: bool,
    key_file: Path | None,
    profile: dict[str, Any],
    explicit: bool,
    warn: Callable[[str], None],
) -> tuple[str | None, str | None]:
    """The key and where it came from, by the precedence in the module docstring (a
    profile's ``key_file`` counts as its key)."""

    def from_profile() -> str | None:
        if profile.get("key") is not None:
            return str(profile["key"])
        if profile.get("key_file"):
            return read_key_file(Path(str(profile["key_file"])).expanduser(), warn)
        return None

    if key_file is not None:
        return read_key_file(key_file, warn), "--key-file"
    if value is not None and from_cli:
        return value, "--key"
    if explicit and (found := from_profile()) is not None:
        return found, "profile"
    if value is not None:
        return value, "environment"
    found = from_profile()
    return found, None if found is None else "profile"
