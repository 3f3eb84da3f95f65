"""Charts written as SVG text: a few shapes (lines with markers, bars, a shaded span, dashed
break lines, a reference line, a legend) on one plot area with nice ticks.

Why not matplotlib: a book draws about 60 charts (2,000 for the London edition), and
matplotlib spent about 0.12 s on each, mostly laying out text twice (the pages of one borough's
2024-25 book: 7.5 s of charts with matplotlib, 0.6 s for the whole pages with this module,
measured in one process on 2026-12-04). These are strings, crisp at any width and in print.
Text widths are estimated (:func:`text_width`) on the wide side, so labels never clip; the
browser draws the text.

Everything here is pure: data in, an SVG document (``str``) out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

FONT = "DejaVu Sans, Verdana, Liberation Sans, Arial, Helvetica, sans-serif"
INK = "#262626"
MUTED = "#555555"
GRID = "#d9d9d9"
BREAK = "#333333"
SHADE = "#e8e8e8"  # the reported year behind the lines

# advance widths of DejaVu Sans (the widest of the fonts named above) in ems, by character class
_NARROW = set("iljtfI.,:;'|!() []")
_WIDE = set("mwMW@%")
_DIGITS = set("0123456789")


def text_width(text: str, size: float) -> float:
    """The width of ``text`` at ``size`` px, estimated on the wide side (DejaVu Sans).

    >>> round(text_width("Barnet", 10), 1), text_width("", 12)
    (34.6, 0.0)
    """
    ems = 0.0
    for ch in str(text):
        if ch in _NARROW:
            ems += 0.34
        elif ch in _WIDE:
            ems += 0.95
        elif ch in _DIGITS:
            ems += 0.64
        elif ch.isupper():
            ems += 0.72
        else:
            ems += 0.6
    return ems * size


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low`` .. ``high`` (about ``count`` steps of 1, 2, 2.5 or 5 x 10^k).

    >>> nice_ticks(0, 1774)
    [0.0, 500.0, 1000.0, 1500.0, 2000.0]
    >>> nice_ticks(46, 49)
    [46.0, 47.0, 48.0, 49.0]
    >>> nice_ticks(5, 5)
    [4.0, 4.5, 5.0, 5.5, 6.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) * 0.2 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)
    first, last = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return [float(round(first + i * step, 10)) for i in range(int(round((last - first) / step)) + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick as the axis writes it: thousands separated, as many decimals as the step needs.

    >>> tick_label(1500.0, 500.0), tick_label(46.5, 0.5), tick_label(-2.0, 1.0), tick_label(97.5, 2.5), tick_label(0.25, 0.25)
    ('1,500', '46.5', '-2', '97.5', '0.25')
    """
    decimals = next(d for d in range(6) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6 or d == 5)
    return f"{value:,.{decimals}f}"


def text(x: float, y: float, words: str, size: float = 12, anchor: str = "start", colour: str = INK,
         weight: str = "normal", rotate: float = 0, halo: bool = False) -> str:
    """An SVG ``<text>`` (``y`` is its baseline); ``halo``: outlined in white, to stay legible over lines and bars."""
    turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate else ""
    bold = ' font-weight="bold"' if weight != "normal" else ""
    ring = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{colour}"{bold}{turn}{ring}>'
            f"{escape(str(words))}</text>")


def title(width: float, words: str, y: float = 20, size: float = 14) -> str:
    """A chart's title centred on ``width``, smaller when it would not fit."""
    fits = min(size, size * (width - 20) / max(text_width(words, size), 1))
    return text(width / 2, y, words, round(fits, 1), "middle")


def document(width: float, height: float, body: list[str], title: str = "", defs: str = "") -> str:
    """A standalone SVG of ``width`` x ``height`` px on white (the chart stays legible on a
    dark page, as the PNGs were)."""
    head = f"<title>{escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}">{head}'
            + (f"<defs>{defs}</defs>" if defs else "")
            + f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(body)}</svg>')


@dataclass
class Series:
    """One thing drawn on the plot: ``kind`` "line" (joined within each run of positions, a
    circle at each point) or "bar"; ``values`` one per category (None: not drawn)."""

    values: list
    colour: str
    label: str | None = None
    kind: str = "line"
    dashed: bool = False
    runs: list | None = None  # runs of positions joined by a line (default: one run of all)


@dataclass
class Plot:
    """A chart over categories along x (years, months, periods) with a linear y axis."""

    categories: list
    title: str
    ylabel: str = ""
    xlabel: str = ""
    series: list = field(default_factory=list)
    shade: tuple | None = None  # (first position, last position, legend label)
    marks: list = field(default_factory=list)  # (x position, between categories allowed: float, text)
    reference: float | None = None  # a horizontal line at this value (an index's 100)
    zero: bool = False  # the y axis starts at 0 (bars, counts)
    every: int = 1  # label every n-th category
    width: float = 750
    height: float = 320

    def svg(self) -> str:
        values = [float(v) for s in self.series for v in s.values if v is not None and math.isfinite(float(v))]
        if self.reference is not None:
            values.append(float(self.reference))
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        if self.zero or any(s.kind == "bar" for s in self.series):
            low, high = min(low, 0.0), max(high, 0.0)
        ticks = nice_ticks(low, high)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        labels = [tick_label(t, step) for t in ticks]
        shown = [(i, str(c)) for i, c in enumerate(self.categories) if i % max(self.every, 1) == 0]
        left = 14 + (18 if self.ylabel else 0) + max((text_width(v, 11) for v in labels), default=0)
        right = 16
        n = max(len(self.categories), 1)
        plot_w = self.width - left - right
        widest = max((text_width(c, 11) for _, c in shown), default=0)
        tilt = widest + 6 > plot_w / max(len(shown), 1)
        legend = self._legend_items()
        top = 30 + (22 if legend else 0)
        bottom = 22 + (widest * 0.6 + 6 if tilt else 12) + (18 if self.xlabel else 0)
        plot_h = self.height - top - bottom
        band = plot_w / n

        def x_at(pos: float) -> float:
            return left + band * (pos + 0.5)

        def y_at(value: float) -> float:
            return top + plot_h * (ticks[-1] - value) / ((ticks[-1] - ticks[0]) or 1)

        out = [title(self.width, self.title)]
        if legend:
            out.append(_legend(legend, self.width / 2, top - 12))
        if self.shade is not None:
            a, b, _ = self.shade
            out.append(f'<rect x="{x_at(a - 0.5):.1f}" y="{top:.1f}" width="{band * (b - a + 1):.1f}" '
                       f'height="{plot_h:.1f}" fill="{SHADE}"/>')
        for t, said in zip(ticks, labels):
            y = y_at(t)
            out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
            out.append(text(left - 6, y + 4, said, 11, "end", MUTED))
        for i, said in shown:
            x = x_at(i)
            if tilt:
                out.append(text(x + 4, top + plot_h + 14, said, 11, "end", MUTED, rotate=-35))
            else:
                out.append(text(x, top + plot_h + 16, said, 11, "middle", MUTED))
        if self.ylabel:
            out.append(text(14, top + plot_h / 2, self.ylabel, 12, "middle", INK, rotate=-90))
        if self.xlabel:
            out.append(text(left + plot_w / 2, self.height - 6, self.xlabel, 12, "middle"))
        if self.reference is not None:
            y = y_at(self.reference)
            out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#666666" stroke-width="1"/>')
        bars = [s for s in self.series if s.kind == "bar"]
        for k, s in enumerate(bars):
            w = band * 0.8 / len(bars)
            for i, v in enumerate(s.values):
                if v is None or not math.isfinite(float(v)):
                    continue
                y0, y1 = sorted((y_at(float(v)), y_at(0.0)))
                out.append(f'<rect x="{x_at(i) - band * 0.4 + k * w:.1f}" y="{y0:.1f}" width="{w:.1f}" '
                           f'height="{max(y1 - y0, 0.5):.1f}" fill="{s.colour}"/>')
        for s in self.series:
            if s.kind == "line":
                out.append(_line(s, x_at, y_at))
        level = 0
        last_x = -1e9
        for pos, said in self.marks:
            x = x_at(pos)
            level = level + 1 if x - last_x < text_width(said, 10) + 8 else 0
            last_x = x
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{top + plot_h:.1f}" stroke="{BREAK}" '
                       'stroke-width="1" stroke-dasharray="5 3"/>')
            out.append(text(x + 3, top + 11 + 12 * level, said, 10, "start", BREAK, halo=True))
        out.append(f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{top + plot_h:.1f}" y2="{top + plot_h:.1f}" '
                   f'stroke="{MUTED}" stroke-width="1"/>')
        return document(self.width, self.height, out, self.title)

    def _legend_items(self) -> list[tuple]:
        items = []
        if self.shade is not None and self.shade[2]:
            items.append(("area", SHADE, self.shade[2], False))
        items += [(s.kind, s.colour, s.label, s.dashed) for s in self.series if s.label]
        return items


def _line(s: Series, x_at, y_at) -> str:
    points = {i: (x_at(i), y_at(float(v))) for i, v in enumerate(s.values) if v is not None and math.isfinite(float(v))}
    dash = ' stroke-dasharray="6 4"' if s.dashed else ""
    parts = []
    for run in s.runs if s.runs is not None else [list(range(len(s.values)))]:
        xy = [points[i] for i in run if i in points]
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2"{dash}/>')
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{s.colour}"/>' for x, y in points.values()]
    return "".join(parts)


def _legend(items: list[tuple], centre: float, y: float) -> str:
    """A row of legend items (kind, colour, label, dashed) centred on ``centre``; ``y`` its middle."""
    widths = [28 + text_width(label, 11) + 14 for _, _, label, _ in items]
    x = centre - sum(widths) / 2
    out = []
    for (kind, colour, label, dashed), w in zip(items, widths):
        if kind == "line":
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            out.append(f'<line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"{dash}/>'
                       f'<circle cx="{x + 11:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
        else:
            out.append(f'<rect x="{x + 3:.1f}" y="{y - 6:.1f}" width="16" height="12" fill="{colour}" stroke="#999999" stroke-width="0.5"/>')
        out.append(text(x + 28, y + 4, label, 11))
        x += w
    return "".join(out)


def hbars(labels: list[str], values: list[float], colour: str, heading: str, xlabel: str, width: float = 750) -> str:
    """Horizontal bars, the first label at the top, a linear x axis from 0."""
    ticks = nice_ticks(0.0, max([float(v) for v in values] + [0.0]))
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    left = 12 + max((text_width(v, 11) for v in labels), default=0)
    right, top, row = 24, 34, 22
    plot_w, plot_h = width - left - right, row * len(labels)
    height = top + plot_h + 44

    def x_at(v: float) -> float:
        return left + plot_w * v / (ticks[-1] or 1)

    out = [title(width, heading)]
    for t in ticks:
        x = x_at(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{top + plot_h:.1f}" stroke="{GRID}" stroke-width="1"/>')
        out.append(text(x, top + plot_h + 16, tick_label(t, step), 11, "middle", MUTED))
    for i, (label, v) in enumerate(zip(labels, values)):
        y = top + row * i
        out.append(f'<rect x="{left:.1f}" y="{y + 3:.1f}" width="{max(x_at(float(v)) - left, 0):.1f}" height="{row - 6}" fill="{colour}"/>')
        out.append(text(left - 6, y + row / 2 + 4, label, 11, "end", INK))
    out.append(text(left + plot_w / 2, height - 8, xlabel, 12, "middle"))
    return document(width, height, out, heading)
