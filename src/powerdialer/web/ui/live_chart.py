"""The live view's chart: the day's attempts per hour, stacked by outcome, as server-rendered
SVG in the style of :mod:`.charts` (drawn by ``templates/charts/stacked.html``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from powerdialer.dialer.live import HourCount
from powerdialer.dialer.outcomes import BUILT_IN
from powerdialer.web.ui.charts import TOP, Bar, Chart, nice_ceiling
from powerdialer.web.ui.i18n import I18n


def outcome_css(code: str) -> str:
    """A built-in outcome has a colour of its own (app.css); a project's own share one."""
    return f"outcome-{code}" if code in BUILT_IN else "outcome-own"


def hourly_chart(hours: Sequence[HourCount], i18n: I18n, names: Mapping[str, str]) -> Chart:
    chart = Chart()
    top_value = nice_ceiling(max((h.total for h in hours), default=0))
    scale = (chart.baseline - TOP) / top_value
    ticks = [0, top_value // 2, top_value] if top_value >= 2 else [0, top_value]
    chart.y_ticks = [(chart.baseline - v * scale, i18n.number(v)) for v in ticks]
    slot = (chart.plot_right - chart.plot_left) / max(len(hours), 1)
    width = max(slot * 0.7, 1.0)
    seen: dict[str, None] = {}
    for i, hour in enumerate(hours):
        x = chart.plot_left + i * slot + (slot - width) / 2
        y = float(chart.baseline)
        when = hour.start.strftime("%H:%M")
        for code, count in hour.outcomes.items():
            seen.setdefault(code)
            height = count * scale
            y -= height
            label = f"{when}: {names.get(code, code)} {i18n.number(count)}"
            chart.bars.append(Bar(x, y, width, height, outcome_css(code), label))
    every = max(len(hours) // 8, 1)
    chart.x_labels = [
        (chart.plot_left + i * slot + slot / 2, h.start.strftime("%H"))
        for i, h in enumerate(hours)
        if i % every == 0
    ]
    chart.legend = [(outcome_css(code), names.get(code, code)) for code in sorted(seen)]
    return chart
