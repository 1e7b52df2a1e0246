"""The telemetry settings from the environment: off by default, a bad value names its
variable."""

from __future__ import annotations

import pytest

from powerdialer.settings import Settings, SettingsError


def test_off_by_default_and_on_when_asked() -> None:
    default = Settings.from_env({})
    assert (default.metrics, default.metrics_token, default.log_format) == (False, "", "off")
    on = Settings.from_env(
        {
            "POWERDIALER_METRICS": "1",
            "POWERDIALER_METRICS_TOKEN": " t0ken ",
            "POWERDIALER_LOG_FORMAT": "JSON",
        }
    )
    assert (on.metrics, on.metrics_token, on.log_format) == (True, "t0ken", "json")
    assert Settings.from_env({"POWERDIALER_METRICS": "off"}).metrics is False


@pytest.mark.parametrize(
    ("name", "raw"), [("POWERDIALER_METRICS", "maybe"), ("POWERDIALER_LOG_FORMAT", "xml")]
)
def test_a_bad_value_names_its_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw})
