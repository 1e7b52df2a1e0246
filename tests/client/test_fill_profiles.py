"""Where ``powerdialer fill`` finds the server and the key: options, environment, profiles
(``--profile``, ``--config``) and key files, so the key need not be on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.client.conftest import Done, leads_csv
from tests.client.fake_vendor import FakeVendor
from tests.e2e.conftest import child_env

Vendor = Callable[..., FakeVendor]


def fill(tmp_path: Path, *args: str, **env: str) -> Done:
    source = leads_csv(tmp_path / "leads.csv", 3)
    done = subprocess.run(
        [sys.executable, "-m", "powerdialer", "fill", str(source), "--campaign", "7",
         "--json", *args],
        capture_output=True, text=True, timeout=60, check=False,
        env=child_env(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME="", **env),
    )  # fmt: skip
    return Done(done.returncode, done.stdout, done.stderr)


def profiles(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_a_profile_gives_url_project_and_key(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    config = profiles(
        tmp_path / "home/.config/powerdialer/profiles.toml",
        f'[ringostat]\nurl = "{fake.url}"\nproject = 123\nkey = "{fake.key}"\n',
    )

    done = fill(tmp_path, "--profile", "ringostat")

    assert done.code == 0, done.stderr
    assert "Warning" not in done.stderr
    assert fake.received[0].headers["x-project-id"] == "123"
    assert config.exists()


def test_a_profile_readable_by_others_is_warned_about(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    config = profiles(
        tmp_path / "p.toml",
        f'[default]\nurl = "{fake.url}"\nproject = 1\nkey = "{fake.key}"\n',
        mode=0o644,
    )

    done = fill(tmp_path, "--config", str(config))

    assert done.code == 0, done.stderr
    assert f"chmod 600 {config}" in done.stderr


def test_a_key_file_and_the_environment(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    key_file = profiles(tmp_path / "key", f"{fake.key}\n")

    done = fill(tmp_path, "--key-file", str(key_file), POWERDIALER_URL=fake.url,
                POWERDIALER_PROJECT="5")  # fmt: skip

    assert done.code == 0, done.stderr
    assert fake.received[0].headers["x-project-id"] == "5"


def test_the_command_line_beats_the_profile_which_beats_the_environment(
    vendor: Vendor, tmp_path: Path
) -> None:
    fake = vendor()
    config = profiles(
        tmp_path / "p.toml",
        f'[vendor]\nurl = "{fake.url}"\nproject = 1\nkey = "{fake.key}"\n',
    )

    done = fill(tmp_path, "--config", str(config), "--profile", "vendor", "--project", "9",
                POWERDIALER_URL="http://127.0.0.1:9", POWERDIALER_KEY="wrong")  # fmt: skip

    assert done.code == 0, done.stderr
    assert fake.received[0].headers["x-project-id"] == "9"


def test_a_missing_key_or_profile_is_a_usage_error(tmp_path: Path) -> None:
    no_key = fill(tmp_path, "--url", "http://127.0.0.1:9", "--project", "1")
    no_profile = fill(tmp_path, "--profile", "nope", "--config", str(tmp_path / "none.toml"))

    assert no_key.code == 2
    assert "POWERDIALER_KEY" in no_key.stderr
    assert no_profile.code == 2
    assert "no profile file" in no_profile.stderr


def test_a_key_on_the_command_line_is_discouraged(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    done = fill(tmp_path, "--url", fake.url, "--project", "1", "--key", fake.key)

    assert done.code == 0, done.stderr
    assert "--key shows the key" in done.stderr


def test_an_unreachable_server_stops_with_exit_4(tmp_path: Path) -> None:
    done = fill(tmp_path, "--url", "http://127.0.0.1:9", "--project", "1", "--retries", "1",
                POWERDIALER_KEY="k")  # fmt: skip

    assert done.code == 4
    assert "cannot reach" in done.stderr


def test_a_named_profiles_key_file_beats_the_environment(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    key_file = profiles(tmp_path / "vendor.key", fake.key)
    config = profiles(
        tmp_path / "p.toml",
        f'[vendor]\nurl = "{fake.url}"\nproject = 1\nkey_file = "{key_file}"\n',
    )

    done = fill(tmp_path, "--config", str(config), "--profile", "vendor",
                POWERDIALER_KEY="wrong")  # fmt: skip

    assert done.code == 0, done.stderr
    assert fake.received[0].headers["Auth-key"] == fake.key
