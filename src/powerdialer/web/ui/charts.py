"""Charts as server-rendered SVG: no script library, no CDN, and the numbers are in the page
(each chart also has a table for screen readers).  Geometry is computed here; the templates
in ``templates/charts/`` draw it, and the colours come from app.css by class."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from powerdialer.campaign_stats import Growth
from powerdialer.web.ui.i18n import I18n

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 12, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str  # the tooltip (<title>)
    name: str = ""  # drawn beside the bar (status chart)
    value: str = ""


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    line: str = ""  # polyline points
    area: str = ""  # polygon points under the line
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)


def _y_axis(chart: Chart, top_value: int, i18n: I18n) -> float:
    """Ticks at 0, ½ and the top; returns pixels per unit."""
    plot_h = chart.baseline - TOP
    scale = plot_h / top_value
    values = [0, top_value // 2, top_value] if top_value >= 2 else [0, top_value]
    chart.y_ticks = [(chart.baseline - v * scale, i18n.number(v)) for v in values]
    return scale


def _x_labels(chart: Chart, positions: Sequence[float], labels: Sequence[str]) -> None:
    if not positions:
        return
    picks = sorted({0, len(positions) // 2, len(positions) - 1})
    chart.x_labels = [(positions[i], labels[i]) for i in picks]


def growth_chart(growth: Growth, i18n: I18n) -> Chart:
    """Rows in the campaign at the end of each day: a line over a shaded area."""
    chart = Chart()
    scale = _y_axis(chart, nice_ceiling(growth.peak), i18n)
    count = len(growth.days)
    plot_w = chart.plot_right - chart.plot_left
    step = plot_w / max(count - 1, 1)
    xs = [chart.plot_left + i * step for i in range(count)] if count > 1 else [chart.plot_left]
    points = [
        (x, chart.baseline - total * scale) for x, total in zip(xs, growth.total, strict=True)
    ]
    if len(points) == 1:  # one day: draw a flat segment across the plot
        points.append((chart.plot_right, points[0][1]))
        xs.append(chart.plot_right)
    chart.line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    chart.area = (
        f"{points[0][0]:.1f},{chart.baseline} {chart.line} {points[-1][0]:.1f},{chart.baseline}"
    )
    _x_labels(chart, xs[:count], [i18n.date(d, "d MMM") for d in growth.days])
    return chart


def added_chart(growth: Growth, i18n: I18n, source_names: Mapping[str, str]) -> Chart:
    """Rows added each day, stacked by source (API, import, by hand)."""
    chart = Chart()
    daily = [sum(series[i] for series in growth.added.values()) for i in range(len(growth.days))]
    scale = _y_axis(chart, nice_ceiling(max(daily, default=0)), i18n)
    count = max(len(growth.days), 1)
    slot = (chart.plot_right - chart.plot_left) / count
    width = min(max(slot * 0.7, 1.0), 48.0)
    centres = []
    for i, day in enumerate(growth.days):
        x = chart.plot_left + i * slot + (slot - width) / 2
        centres.append(x + width / 2)
        y = float(chart.baseline)
        for source, series in growth.added.items():
            if not series[i]:
                continue
            height = series[i] * scale
            y -= height
            label = f"{i18n.date(day)}: {source_names.get(source, source)} {i18n.number(series[i])}"
            chart.bars.append(Bar(x, y, width, height, f"series-{source}", label))
    _x_labels(chart, centres, [i18n.date(d, "d MMM") for d in growth.days])
    chart.legend = [(f"series-{s}", source_names.get(s, s)) for s in growth.added]
    return chart


def status_chart(counts: Mapping[str, int], i18n: I18n, names: Mapping[str, str]) -> Chart:
    """Rows by dialer status: one horizontal bar each."""
    items = list(counts.items()) or [("pending", 0)]
    row_h, gap = 28, 10
    chart = Chart(height=TOP + len(items) * (row_h + gap) + BOTTOM)
    top_value = nice_ceiling(max(counts.values(), default=0))
    plot_w = chart.plot_right - 160
    for i, (status, count) in enumerate(items):
        y = TOP + i * (row_h + gap)
        width = plot_w * count / top_value
        name, value = names.get(status, status), i18n.number(count)
        chart.bars.append(
            Bar(150, y, max(width, 1.0), row_h, f"status-{status}", f"{name}: {value}", name, value)
        )
    return chart
