"""The one-line hook points.  ``active`` is ``None`` while metrics are off, so a hook costs
one attribute read and a comparison; while they are on it is the process's
:class:`~powerdialer.telemetry.metrics.Metrics`.  Call sites read it as
``if (m := hooks.active) is not None: m.…``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from powerdialer.telemetry.metrics import Metrics

active: Metrics | None = None
