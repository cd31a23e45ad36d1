"""Bar charts drawn on the server as SVG, for the dashboard: nothing from the internet, no script.

`bar_chart` draws one or more series side by side per period (loans per month; present vs marked
per week; opened vs closed per month). Every word it shows is given by the caller, already in
the reader's language, and escaped here. The SVG is an image for screen readers (role="img",
with its <title> and <desc>); the numbers themselves belong in a data table beside it.

Colours come from presentation attributes (fill=, stroke=), which the Content-Security-Policy
allows, and which the page's CSS classes (.bar-a, .bar-b, ...) may refine.
"""
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

# Per series: its CSS class and default fill. Both fills reach 3:1 against white (graphics),
# the text fill 16:1.
SERIES_STYLES = (("bar-a", "#1f4e99"), ("bar-b", "#b35900"), ("bar-c", "#1d6b36"))
TEXT_FILL = "#1b1b1b"
GRID_STROKE = "#d0d0d0"

WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 40, 56


def nice_scale(peak: float, ticks: int = 4) -> tuple[int, int]:
    """(top, step) of the value axis: a round top at or above the peak, in `ticks` round steps.
    An empty or all-zero series still gets an axis (0..4), never a division by zero."""
    if peak <= ticks:
        return ticks, 1
    raw = peak / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = int(step)
    return step * math.ceil(peak / step), step


def _text_width(text: str) -> int:
    """A rough width in px at 12 px: wide CJK and Tibetan, narrow Latin."""
    return sum(12 if ord(ch) >= 0x0F00 else 7 for ch in text)


def _num(x: float) -> str:
    """A coordinate as short text: 12, 12.5, 12.33."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def bar_chart(*, chart_id: str, title: str, desc: str, labels: Sequence[str],
              series: Sequence[tuple[str, Sequence[int]]], x_label: str, y_label: str,
              width: int = WIDTH, height: int = HEIGHT) -> Markup:
    """An SVG bar chart: one group of bars per label, one bar per series in each group.

    series: [(name, values)], each values as long as labels. Bar heights are proportional to
    the values, on an axis from 0 to a round number at or above the largest.
    """
    e = escape
    n = len(labels)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    peak = max((v for _, values in series for v in values), default=0)
    top, step = nice_scale(peak)
    base_y = TOP + plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-labelledby="{e(chart_id)}-title {e(chart_id)}-desc" font-size="12" '
           f'fill="{TEXT_FILL}">',
           f'<title id="{e(chart_id)}-title">{e(title)}</title>',
           f'<desc id="{e(chart_id)}-desc">{e(desc)}</desc>']

    # The value axis: grid lines at each step, their numbers on the left.
    out.append('<g class="chart-grid" aria-hidden="true">')
    for value in range(0, top + 1, step):
        y = base_y - value / top * plot_h
        out.append(f'<line x1="{LEFT}" y1="{_num(y)}" x2="{LEFT + plot_w}" y2="{_num(y)}" '
                   f'stroke="{GRID_STROKE}" stroke-width="1"/>')
        out.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{_num(y + 4)}" text-anchor="end">{value}</text>')
    out.append("</g>")

    # The bars.
    group_w = plot_w / n if n else plot_w
    bar_w = group_w * 0.72 / max(len(series), 1)
    out.append('<g class="chart-bars">')
    for i, label in enumerate(labels):
        group_x = LEFT + i * group_w + group_w * 0.14
        for k, (name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = value / top * plot_h
            css, fill = SERIES_STYLES[k % len(SERIES_STYLES)]
            out.append(f'<rect class="bar {css}" x="{_num(group_x + k * bar_w)}" y="{_num(base_y - h)}" '
                       f'width="{_num(bar_w)}" height="{_num(h)}" fill="{fill}" data-value="{int(value)}">'
                       f'<title>{e(label)} · {e(name)}: {int(value)}</title></rect>')
    out.append("</g>")

    # The period axis: the base line, a label under each group.
    out.append('<g class="chart-axis" aria-hidden="true">')
    out.append(f'<line x1="{LEFT}" y1="{base_y}" x2="{LEFT + plot_w}" y2="{base_y}" stroke="{TEXT_FILL}" '
               f'stroke-width="1"/>')
    for i, label in enumerate(labels):
        x = LEFT + (i + 0.5) * group_w
        out.append(f'<text class="chart-x" x="{_num(x)}" y="{base_y + 16}" text-anchor="middle">{e(label)}</text>')
    out.append(f'<text class="chart-axis-label" x="{_num(LEFT + plot_w / 2)}" y="{height - 8}" '
               f'text-anchor="middle">{e(x_label)}</text>')
    mid_y = _num(TOP + plot_h / 2)
    out.append(f'<text class="chart-axis-label" x="14" y="{mid_y}" text-anchor="middle" '
               f'transform="rotate(-90 14 {mid_y})">{e(y_label)}</text>')
    out.append("</g>")

    # The legend, above the plot.
    out.append('<g class="chart-legend" aria-hidden="true">')
    x = LEFT
    for k, (name, _values) in enumerate(series):
        css, fill = SERIES_STYLES[k % len(SERIES_STYLES)]
        out.append(f'<rect class="{css}" x="{x}" y="12" width="12" height="12" fill="{fill}"/>')
        out.append(f'<text x="{x + 18}" y="22">{e(name)}</text>')
        x += 30 + _text_width(str(name))
    out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))
