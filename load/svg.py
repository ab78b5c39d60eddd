"""Plain inline SVG charts for the self-contained handover report: no script, no external file, no library.

Pure functions returning markup; values are escaped, axes are scaled to the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 240, 56, 16, 28, 36


def _scale(low: float, high: float, size: float, flip: bool = False) -> Callable[[float], float]:
    span = (high - low) or 1.0

    def to(value: float) -> float:
        fraction = (value - low) / span
        return size * (1 - fraction) if flip else size * fraction

    return to


def _ticks(high: float) -> list[float]:
    return [high * i / 4 for i in range(5)]


def line_chart(
    title: str,
    series: dict[str, list[tuple[float, float]]],
    x_label: str,
    y_label: str,
    shade: tuple[float, float] | None = None,
) -> str:
    """Lines over a shared x axis; `shade` marks an x interval (the fault window)."""
    points = [p for values in series.values() for p in values]
    if not points:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="40"><text x="8" y="24">{escape(title)}: no data</text></svg>'
    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    y_high = max(max(p[1] for p in points), 1e-9) * 1.1
    sx, sy = _scale(x_low, x_high, W - LEFT - RIGHT), _scale(0, y_high, H - TOP - BOTTOM, flip=True)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-size="11" font-family="sans-serif">',
             f'<text x="{LEFT}" y="16" font-weight="bold">{escape(title)}</text>',
             f'<g transform="translate({LEFT},{TOP})">']  # fmt: skip
    if shade:
        x0, x1 = sx(max(shade[0], x_low)), sx(min(shade[1], x_high))
        parts.append(
            f'<rect x="{x0:.1f}" y="0" width="{max(x1 - x0, 1):.1f}" height="{H - TOP - BOTTOM}" fill="#fde0dd"/>'
        )
    for tick in _ticks(y_high):
        y = sy(tick)
        parts.append(f'<line x1="0" x2="{W - LEFT - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end">{tick:.3g}</text>')
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for j, (x, y) in enumerate(values))
        parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        parts.append(
            f'<text x="{W - LEFT - RIGHT - 4}" y="{12 + 13 * i}" text-anchor="end" fill="{colour}">{escape(name)}</text>'
        )
    for i in range(5):
        x = x_low + (x_high - x_low) * i / 4
        parts.append(f'<text x="{sx(x):.1f}" y="{H - TOP - BOTTOM + 14}" text-anchor="middle">{x:.3g}</text>')
    parts.append(f'<text x="{(W - LEFT - RIGHT) / 2}" y="{H - TOP - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text transform="rotate(-90)" x="{-(H - TOP - BOTTOM) / 2}" y="-42" text-anchor="middle">{escape(y_label)}</text>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    reference: float  # the budget or the weight, drawn as a black tick
    low: float | None = None  # an interval around the value (Wilson), drawn as a whisker
    high: float | None = None


def bar_chart(title: str, bars: list[Bar], unit: str) -> str:
    """Horizontal bars with a reference tick each: red when the value is beyond its reference."""
    row, height = 18, TOP + 18 * len(bars) + 24
    top = max([b.reference for b in bars] + [b.high or 0 for b in bars] + [b.value for b in bars] + [1e-9]) * 1.05
    label_w, value_w = 150, 90
    sx = _scale(0, top, W - label_w - value_w)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" font-size="11" font-family="sans-serif">',
             f'<text x="8" y="16" font-weight="bold">{escape(title)} ({escape(unit)}; tick: reference)</text>']  # fmt: skip
    for i, bar in enumerate(bars):
        y = TOP + i * row
        colour = "#d62728" if bar.value > bar.reference and bar.low is None else COLOURS[0]
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(bar.label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{sx(bar.value):.1f}" height="{row - 6}" fill="{colour}" opacity="0.7"/>'
        )
        if bar.low is not None and bar.high is not None:
            parts.append(
                f'<line x1="{label_w + sx(bar.low):.1f}" x2="{label_w + sx(bar.high):.1f}" y1="{y + 8}" y2="{y + 8}" stroke="#000"/>'
            )
        ref = label_w + sx(bar.reference)
        parts.append(
            f'<line x1="{ref:.1f}" x2="{ref:.1f}" y1="{y}" y2="{y + row - 2}" stroke="#000" stroke-width="2"/>'
        )
        parts.append(f'<text x="{W - 4}" y="{y + 12}" text-anchor="end">{bar.value:.3g} / {bar.reference:.3g}</text>')
    parts.append("</svg>")
    return "".join(parts)
