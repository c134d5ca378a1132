"""PNG charts for the HTML report.

Uses the object-oriented matplotlib API with the Agg canvas directly: no pyplot, no
global figure registry and no display backend, so it is safe in a server or a thread.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

_DPI = 100
_EMPTY = "Keine Daten im Zeitraum"
_COLORS = ("#2a7f62", "#e0a526", "#c8553d", "#8e9aaf", "#5b5b5b", "#3c6e9f")


def stacked_bars_png(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    ylabel: str,
) -> bytes:
    """Vertical bars per category, one stacked segment per series."""
    figure = Figure(figsize=(9, 4), dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    if not categories or not any(any(values) for _, values in series):
        return _empty(figure, axes)
    positions = range(len(categories))
    bottom = [0] * len(categories)
    for (label, values), color in zip(series, _cycle(len(series)), strict=True):
        axes.bar(positions, values, bottom=bottom, label=label, color=color, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(categories) // 20)
    axes.set_xticks(list(positions)[::step], list(categories)[::step], rotation=45, ha="right")
    axes.set_ylabel(ylabel)
    figure.legend(loc="outside right upper", fontsize="small", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def horizontal_bars_png(items: Sequence[tuple[str, int]], *, title: str, xlabel: str) -> bytes:
    """Ranked horizontal bars, largest at the top; long labels wrap instead of being cut."""
    labels = [_wrap(label) for label, _ in reversed(items)]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = max(2.5, 0.3 * lines + 0.15 * len(items) + 1.2)
    figure = Figure(figsize=(10, height), dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    if not items or not any(value for _, value in items):
        return _empty(figure, axes)
    values = [value for _, value in reversed(items)]
    axes.barh(range(len(items)), values, color=_COLORS[0])
    axes.set_yticks(range(len(items)), labels)
    axes.set_xlabel(xlabel)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _empty(figure: Figure, axes: Axes) -> bytes:
    axes.set_axis_off()
    axes.text(0.5, 0.5, _EMPTY, ha="center", va="center", fontsize=12)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _cycle(count: int) -> list[str]:
    return [_COLORS[i % len(_COLORS)] for i in range(count)]


def _wrap(label: str, width: int = 34) -> str:
    """Whole words on up to three lines; only a label longer than that loses its end."""
    lines = textwrap.wrap(label, width) or [""]
    if len(lines) > 3:
        lines = [*lines[:2], textwrap.shorten(" ".join(lines[2:]), width, placeholder=" …")]
    return "\n".join(lines)
