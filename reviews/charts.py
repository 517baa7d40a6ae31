"""Small server-drawn charts: a metric's trend over recent quarters as inline SVG, for pages and PDF reports.

The SVG needs no script and no web font, so a page without JavaScript and WeasyPrint draw it alike. Colour is never
the only signal: each point's marker has its own shape (square red, triangle amber, circle green, diamond with no
colour), its figure is written above it, and the thresholds are labelled lines. The chart's ``<title>`` and
``<desc>`` say in words what it shows, for screen readers; pages put the same figures in a table beside it.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from standards.kinds import RequirementKind, figure_text

from .rag import Colour

#: Marker fill per colour (GOV.UK palette) and the shape that tells them apart without colour.
MARKERS = {
    Colour.RED: ("#d4351c", "square"),
    Colour.AMBER: ("#f47738", "triangle"),
    Colour.GREEN: ("#00703c", "circle"),
}
NO_COLOUR_MARKER = ("#505a5f", "diamond")
INK, GRID, GREEN_LINE, AMBER_LINE = "#0b0c0c", "#b1b4b6", "#00703c", "#f47738"
FONT = "Arial, Helvetica, sans-serif"

#: Kinds whose figure is a percentage (a compliance rate for audits), drawn on a 0–100 scale.
PERCENT_KINDS = {RequirementKind.PERCENTAGE, RequirementKind.AUDIT}


def _number(value: Decimal | float) -> str:
    """A coordinate with at most one decimal place."""
    return f"{float(value):.1f}".rstrip("0").rstrip(".")


def _short_period(label: str) -> str:
    """'Q1 2026/27 (April to June 2026)' → 'Q1 2026/27'."""
    return label.split(" (", 1)[0]


def _scale_text(value: Decimal, percent: bool) -> str:
    """A value on the axis or a threshold, as stored: “100%”, “85.25%”, “40”."""
    text = f"{value.normalize():f}"
    return f"{text}%" if percent else text


def _plotted(value: Fraction | Decimal) -> Decimal:
    """A figure as a position on the chart: the exact value to 28 significant digits (only its label is rounded)."""
    exact = Fraction(value)
    return Decimal(exact.numerator) / Decimal(exact.denominator)


def _point_text(trend, point) -> str:
    """A quarter's figure as people read it: a percentage never shows more than is true, nor crosses its threshold."""
    return figure_text(trend.kind, point.figure, point)


def _marker(x: float, y: float, colour: str, size: float = 4.5) -> str:
    fill, shape = MARKERS.get(colour, NO_COLOUR_MARKER)
    common = f'fill="{fill}" stroke="#ffffff" stroke-width="1"'
    if shape == "square":
        return f'<rect x="{_number(x - size)}" y="{_number(y - size)}" width="{_number(2 * size)}" height="{_number(2 * size)}" {common}/>'  # noqa: E501
    if shape == "triangle":
        points = f"{_number(x)},{_number(y - size - 1)} {_number(x + size + 1)},{_number(y + size)} {_number(x - size - 1)},{_number(y + size)}"  # noqa: E501
        return f'<polygon points="{points}" {common}/>'
    if shape == "circle":
        return f'<circle cx="{_number(x)}" cy="{_number(y)}" r="{_number(size)}" {common}/>'
    points = f"{_number(x)},{_number(y - size - 1)} {_number(x + size + 1)},{_number(y)} {_number(x)},{_number(y + size + 1)} {_number(x - size - 1)},{_number(y)}"  # noqa: E501
    return f'<polygon points="{points}" {common}/>'


def _scale(trend, percent: bool) -> tuple[Decimal, Decimal]:
    """The bottom and top of the value axis.

    Percentages run from 0% to 100%, so that a line's height is the true share and a small change is not blown
    up by an axis that starts higher. Counts run from 0 to a round number a little above the highest figure.
    """
    figures = [_plotted(p.figure) for p in trend.points if p.figure is not None]
    limits = [p.green_from for p in trend.points if p.green_from is not None]
    limits += [p.amber_from for p in trend.points if p.amber_from is not None]
    if percent:
        return Decimal(0), Decimal(100)
    highest = max([*figures, *limits], default=Decimal(0))
    if highest <= 0:
        return Decimal(0), Decimal(1)
    # A round top a little above the highest figure: 1, 2 or 5 times a power of ten.
    step = Decimal(1)
    while step * 10 <= highest:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= highest * Decimal("1.1"):
            return Decimal(0), step * multiple
    return Decimal(0), step * 10


def _tick_step(bottom: Decimal, top: Decimal) -> Decimal:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten, at least 1) giving at most five bands."""
    span = top - bottom
    power = Decimal(1)
    while True:
        for multiple in (1, 2, Decimal("2.5"), 5):
            step = power * multiple
            if span / step <= 5 and span % step == 0:
                return step
        power *= 10


def _threshold_path(xs: list[float], values: list[Decimal | None], y_of) -> str:
    """A stepped line through each quarter's threshold, broken where a quarter has none."""
    segments, current = [], []
    half = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 20
    for x, value in zip(xs, values, strict=True):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = _number(y_of(value))
        current += [f"{_number(x - half)},{y}", f"{_number(x + half)},{y}"]
    if current:
        segments.append(current)
    return " ".join("M" + " L".join(points) for points in segments)


def _description(trend, percent: bool) -> str:
    parts = []
    for point in trend.points:
        if getattr(point, "in_progress", False):
            parts.append(f"{_short_period(point.period)}: in progress, no figure yet")
            continue
        figure = _point_text(trend, point) if point.figure is not None else "no figure"
        parts.append(f"{_short_period(point.period)}: {figure}, {point.label.lower()}")
    thresholds = {p.threshold for p in trend.points if p.threshold}
    text = "; ".join(parts) + "."
    if thresholds:
        text += " Thresholds: " + "; ".join(sorted(thresholds)) + "."
    return text


def _no_figure(point) -> str:
    """What a quarter without a figure says: the quarter in progress is not a missing return."""
    return "in progress" if getattr(point, "in_progress", False) else "no figure"


def _no_figure_mark(point) -> str:
    """On a narrow chart, no words fit a quarter's slot: the shading says "in progress", a dash "no figure"."""
    return "" if getattr(point, "in_progress", False) else "–"


def trend_chart(trend, *, width: int = 480, height: int = 200, font_size: int = 10, narrow: bool = False) -> SafeString:
    """An inline SVG line chart of a :class:`reviews.selectors.Trend`: figures, colours and thresholds by quarter.

    ``font_size`` is the size of its text in the SVG's own units, which are pixels when it is shown at ``width``.
    A ``narrow`` chart, for a phone, writes each year short ("26/27") and leaves the figures to the table beside it,
    so that its text can be large enough to read at its small width.
    """
    percent = trend.kind in PERCENT_KINDS
    line = font_size + 1
    left, right, top, bottom = int(font_size * 3.6), 12, int(font_size * 1.8), 3 * line + 9  # quarter, year, threshold
    plot_width, plot_height = width - left - right, height - top - bottom
    bottom_value, top_value = _scale(trend, percent)
    count = max(len(trend.points), 1)
    slot = plot_width / count
    xs = [left + slot * (i + 0.5) for i in range(count)]

    def y_of(value: Fraction | Decimal) -> float:
        bounded = min(max(_plotted(value), bottom_value), top_value)
        return top + plot_height - float((bounded - bottom_value) / (top_value - bottom_value)) * plot_height

    title = f"{trend.title}: {trend.provider_name}, last {len(trend.points)} quarters"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{FONT}" font-size="{font_size}" fill="{INK}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(_description(trend, percent))}</desc>",
    ]
    # The quarter in progress, shaded: it has no figure yet, and is not a return missing.
    for x, point in zip(xs, trend.points, strict=True):
        if getattr(point, "in_progress", False):
            parts.append(
                f'<rect x="{_number(x - slot / 2)}" y="{top}" width="{_number(slot)}" height="{_number(plot_height)}" '
                'fill="#f3f2f1"/>'
            )
    step = _tick_step(bottom_value, top_value)
    value = bottom_value
    while value <= top_value:
        y = _number(y_of(value))
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="{GRID}" stroke-width="0.5"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y}" dy="{_number(font_size * 0.35)}" text-anchor="end">'
            f"{escape(_scale_text(value, percent))}</text>"
        )
        value += step
    # Each quarter on two lines ("Q1" over "2026/27") so that eight fit side by side.
    for x, point in zip(xs, trend.points, strict=True):
        quarter, _, year = _short_period(point.period).partition(" ")
        year = year[2:] if narrow else year  # "2026/27" → "26/27"
        parts.append(
            f'<text x="{_number(x)}" y="{height - bottom + line + 2}" text-anchor="middle">{escape(quarter)}'
            f'<tspan x="{_number(x)}" dy="{line}">{escape(year)}</tspan></text>'
        )

    # Thresholds: green solid, amber dashed; the latest of each is written under the chart.
    latest = []
    for values, colour, dash, name in (
        ([p.green_from for p in trend.points], GREEN_LINE, "", "green from"),
        ([p.amber_from for p in trend.points], AMBER_LINE, ' stroke-dasharray="5 3"', "amber from"),
    ):
        path = _threshold_path(xs, values, y_of)
        if path:
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
            latest.append(f"{name} {_scale_text(next(v for v in reversed(values) if v is not None), percent)}")
    if latest:
        parts.append(
            f'<text x="{4 if narrow else left}" y="{height - 4}">Threshold{"" if narrow else " (latest quarter)"}: '
            f"{escape(', '.join(latest))}"
            "</text>"
        )

    # The figures: a line through consecutive quarters that have one, then markers and values.
    runs, run = [], []
    for x, point in zip(xs, trend.points, strict=True):
        if point.figure is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(f"{_number(x)},{_number(y_of(point.figure))}")
    if run:
        runs.append(run)
    for points in runs:
        if len(points) > 1:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
    for x, point in zip(xs, trend.points, strict=True):
        if point.figure is None:
            parts.append(
                f'<text x="{_number(x)}" y="{top + plot_height - 4}" text-anchor="middle" fill="#505a5f">'
                f"{_no_figure_mark(point) if narrow else _no_figure(point)}</text>"
            )
            continue
        y = y_of(point.figure)
        parts.append(_marker(x, y, point.colour))
        if narrow:
            continue
        parts.append(
            f'<text x="{_number(x)}" y="{_number(y - font_size * 0.8)}" text-anchor="middle" font-weight="bold">'
            f"{escape(_point_text(trend, point))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def legend() -> SafeString:
    """The key to the markers, as inline SVG, for a page or report to show once beside its charts."""
    items = [(Colour.RED, "Red"), (Colour.AMBER, "Amber"), (Colour.GREEN, "Green"), (Colour.NONE, "No colour")]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-legend" width="460" height="18" viewBox="0 0 460 18" '
        f'role="img" font-family="{FONT}" font-size="10" fill="{INK}"><title>Key to the trend charts</title>'
    ]
    x = 8
    for colour, label in items:
        parts.append(_marker(x, 9, colour))
        parts.append(f'<text x="{x + 9}" y="9" dy="3.5">{escape(label)}</text>')
        x += 70
    parts.append(f'<line x1="{x}" y1="9" x2="{x + 18}" y2="9" stroke="{GREEN_LINE}" stroke-width="1.5"/>')
    parts.append(f'<text x="{x + 22}" y="9" dy="3.5">Green from</text>')
    x += 80
    parts.append(
        f'<line x1="{x}" y1="9" x2="{x + 18}" y2="9" stroke="{AMBER_LINE}" stroke-width="1.5" stroke-dasharray="5 3"/>'
    )
    parts.append(f'<text x="{x + 22}" y="9" dy="3.5">Amber from</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - fixed text


def legend_items() -> list[tuple[SafeString, str]]:
    """The key to the markers and lines, each drawn as a small SVG beside its words, for a page to list as text
    (which wraps and keeps its size on a phone, where a key drawn as one wide SVG would shrink)."""
    items = []
    for colour, label in ((Colour.RED, "Red"), (Colour.AMBER, "Amber"), (Colour.GREEN, "Green")):
        items.append((_key_svg(_marker(10, 8, colour)), label))
    items.append((_key_svg(_marker(10, 8, Colour.NONE)), "No colour"))
    line = '<line x1="1" y1="8" x2="19" y2="8" stroke="{}" stroke-width="2"{}/>'
    items.append((_key_svg(line.format(GREEN_LINE, "")), "Green from (threshold)"))
    items.append((_key_svg(line.format(AMBER_LINE, ' stroke-dasharray="5 3"')), "Amber from (threshold)"))
    shade = '<rect x="1" y="1" width="18" height="14" fill="#f3f2f1" stroke="#b1b4b6" stroke-width="1"/>'
    items.append((_key_svg(shade), "Shaded: the quarter in progress"))
    return items


def _key_svg(drawing: str) -> SafeString:
    return mark_safe(  # noqa: S308 - fixed drawing
        f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="16" viewBox="0 0 20 16" aria-hidden="true" '
        f'focusable="false">{drawing}</svg>'
    )
