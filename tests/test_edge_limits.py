"""The connection cap derived from the file-descriptor limit (docs/deployment.md states it)."""

from __future__ import annotations

import pytest

from powerdialer.web.edge import connection_cap


@pytest.mark.parametrize(
    ("fd_limit", "cap"),
    [(256, 128), (512, 256), (1024, 768), (4096, 3072), (65536, 49152)],
)
def test_the_connection_cap_keeps_a_quarter_of_the_descriptors_and_at_least_256(
    fd_limit: int, cap: int
) -> None:
    assert connection_cap(fd_limit) == cap


def test_serve_refuses_a_connection_cap_that_would_exhaust_its_file_descriptors() -> None:
    from click.testing import CliRunner

    from powerdialer.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--max-connections", "100000000"])
    assert result.exit_code == 2
    assert "--max-connections 100000000 leaves too few" in result.output
    assert "LimitNOFILE=" in result.output
