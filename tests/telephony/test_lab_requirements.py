"""Without the SIP packages the lab's tests skip on a developer's machine and fail in CI, naming
the packages to install."""

from __future__ import annotations

import shutil

import pytest

from tests.telephony import lab
from tests.telephony.conftest import require_lab


def without_baresip(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(lab.shutil, "which", lambda name: None if name == "baresip" else real(name))


def test_a_machine_without_baresip_skips_with_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_baresip(monkeypatch)
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match="apt-get install -y baresip-core"):
        require_lab()


def test_ci_without_baresip_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    without_baresip(monkeypatch)
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="baresip-core"):
        require_lab()
