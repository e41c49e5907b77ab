"""Charts as inline SVG drawn on the server: nothing to load, no script, any phone shows them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 340, 180
LEFT, BOTTOM, TOP = 30, 22, 12
PALETTE = (
    "#2f7d5b",
    "#e08a2e",
    "#3b6fb6",
    "#c2453a",
    "#8a5cb8",
    "#5aa3a1",
    "#b38b2d",
    "#6d7f8f",
    "#d16a9c",
    "#7aa33b",
    "#999999",
)


def _steps(top: float) -> int:
    """Grid intervals that land on whole numbers: five for a top of 5 (the score's scale;
    quarters of it once read 0 1 2 4 5), else four (_nice makes tops that four divide)."""
    return 5 if top % 4 and top % 5 == 0 else 4


def _frame(top: float, title: str, body: list[str], legend: str = "") -> Markup:
    plot = HEIGHT - BOTTOM - TOP
    grid = []
    steps = _steps(top)
    for step in range(steps + 1):
        value = top * step / steps
        y = HEIGHT - BOTTOM - plot * step / steps
        shown = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        grid.append(
            f'<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" class="axis" text-anchor="end">{shown}</text>'
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(grid)}{''.join(body)}</svg>{legend}"
    )


def _nice(top: float) -> float:
    if top <= 0:  # an empty chart: whole numbers on its axis all the same
        return 4
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 4:
            return step * 4
    return top


def bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    top: float | None = None,
    shown: str | Callable[[float], str] = "{:.0f}",
    color: str = PALETTE[0],
) -> Markup:
    """One bar per label; a missing value leaves its place empty; `shown` formats a bar's
    value for its tooltip (a format string, or a function)."""
    top = top or _nice(max((v for v in values if v is not None), default=0))
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    plot = HEIGHT - BOTTOM - TOP
    body = []
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + slot * n
        body.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 6}" class="axis" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        if value is None:
            continue
        h = plot * min(value, top) / top
        y = HEIGHT - BOTTOM - h
        body.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{color}"><title>{escape(label)}：'
            f"{escape(shown(value) if callable(shown) else shown.format(value))}</title></rect>"
        )
    return _frame(top, title, body)


def stacked(labels: Sequence[str], series: dict[str, Sequence[int]], *, title: str) -> Markup:
    """Bars of several parts (a category each), with a legend under the chart."""
    totals = [sum(part[n] for part in series.values()) for n in range(len(labels))]
    top = _nice(max(totals, default=0))
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    plot = HEIGHT - BOTTOM - TOP
    body, legend = [], []
    for n, label in enumerate(labels):
        x, y = LEFT + slot * n, float(HEIGHT - BOTTOM)
        body.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 6}" class="axis" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        for k, (name, values) in enumerate(series.items()):
            if not values[n]:
                continue
            h = plot * values[n] / top
            y -= h
            body.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(name)}：{values[n]}</title></rect>"
            )
    for k, name in enumerate(series):
        legend.append(
            f'<span class="key"><i style="background:{PALETTE[k % len(PALETTE)]}"></i>'
            f"{escape(name)}</span>"
        )
    return _frame(top, title, body, f'<p class="legend">{"".join(legend)}</p>' if legend else "")
