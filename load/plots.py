"""The handover report's plots, drawn by matplotlib and inlined as SVG: no script, no external reference.

Pure functions from data to markup. matplotlib's Figure is used without pyplot (no global state, no display);
text stays text (`svg.fonttype: none`) and the ids are salted with a constant, so the same data gives the
same markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.axis import XAxis, YAxis
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, MultipleLocator, ScalarFormatter
from matplotlib.typing import RcKeyType

OVER = "#d62728"
FAULT = "#fde0dd"
FAILOVER = "#deebf7"
CRASH = "#e5f5e0"
_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "miniapp-handover",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#eeeeee",
}
WIDTH_IN, HEIGHT_IN = 7.2, 2.6


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    reference: float  # the budget, the weight or the objective, drawn as a black tick
    low: float | None = None  # an interval around the value (Wilson), drawn as a whisker
    high: float | None = None


def _plain(axis: XAxis | YAxis) -> None:
    """Tick labels as plain numbers (no offset, no scientific notation), about 5 of them."""
    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)
    axis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    with mpl.rc_context(_RC):
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg") :]  # the XML declaration and DOCTYPE do not belong inside HTML


@dataclass(frozen=True)
class Shades:
    """Spans of the replayed day (in hours) each drill's gate judged, shaded on the timelines."""

    fault: tuple[float, float] | None = None
    failover: tuple[float, float] | None = None
    crash: tuple[float, float] | None = None


def _figure(title: str, rows: int = 0) -> tuple[Figure, Axes]:
    height = HEIGHT_IN if rows == 0 else 0.9 + 0.28 * rows
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
        ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontweight="bold")
    return fig, ax


def line_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    x_label: str,
    y_label: str,
    shades: Shades | None = None,
    steps: bool = False,
) -> str:
    """Lines over the replayed day (a tick every 3 hours); `shades` marks the drills' windows (the pay
    replica's fault, the database failover, the crash restart); `steps` draws counters and gauges as the step
    functions they are."""
    fig, ax = _figure(title)
    if not any(series.values()):
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return _svg(fig)
    marked = shades or Shades()
    spans = (("fault on", marked.fault, FAULT), ("database failover", marked.failover, FAILOVER),
             ("crash restart", marked.crash, CRASH))  # fmt: skip
    for label, span, colour in spans:
        if span:
            ax.axvspan(*span, color=colour, label=label)
    for name, points in series.items():
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        if steps:
            ax.step(xs, ys, where="post", label=name, linewidth=1.4)
        else:
            ax.plot(xs, ys, label=name, linewidth=1.4)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_ylim(bottom=0)
    _plain(ax.yaxis)
    _plain(ax.xaxis)
    ax.xaxis.set_major_locator(MultipleLocator(3))
    fig.legend(loc="outside lower center", frameon=False, ncols=4)
    return _svg(fig)


def bar_chart(title: str, bars: Sequence[Bar], unit: str, reference: str) -> str:
    """Horizontal bars, each with its reference tick (named in the legend): red when the value is beyond its
    reference, unless the bar carries an interval (then the interval is what is judged)."""
    fig, ax = _figure(title, rows=len(bars))
    if not bars:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return _svg(fig)
    rows = range(len(bars))
    colours = ["C0" if b.low is not None or b.value <= b.reference else OVER for b in bars]
    ax.barh(rows, [b.value for b in bars], color=colours, alpha=0.75, height=0.6)
    ax.scatter([b.reference for b in bars], rows, marker="|", s=260, color="black", label=reference, zorder=3)
    with_interval = [(i, b) for i, b in zip(rows, bars, strict=True) if b.low is not None and b.high is not None]
    if with_interval:
        ax.errorbar(
            [b.value for _, b in with_interval],
            [i for i, _ in with_interval],
            xerr=[
                [b.value - (b.low or 0) for _, b in with_interval],
                [(b.high or 0) - b.value for _, b in with_interval],
            ],
            fmt="none",
            ecolor="black",
            capsize=3,
            label="95 % interval",
        )
    ax.set_yticks(list(rows), [f"{b.label}  {b.value:.3g} / {b.reference:.3g}" for b in bars])
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_xlim(left=0)
    _plain(ax.xaxis)
    ax.grid(axis="y", visible=False)
    fig.legend(loc="outside lower center", frameon=False, ncols=2)
    return _svg(fig)
