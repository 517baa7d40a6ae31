"""The trend chart: an inline SVG that says in words what it draws, with thresholds and escaped text."""

import re
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest

from reviews.charts import legend, legend_items, trend_chart
from reviews.rag import Colour
from reviews.selectors import Trend, TrendPoint


def point(n, figure, colour, green=Decimal(90), amber=Decimal(85)):
    return TrendPoint(
        period_id=n,
        period=f"Q{n % 4 + 1} 2025/26 (April to June 2025)",
        figure=None if figure is None else Decimal(figure),
        value="",
        colour=colour,
        label=Colour(colour).label,
        explanation="",
        threshold=f"green from {green}%, amber from {amber}%" if green is not None else "",
        green_from=green,
        amber_from=amber,
    )


def training(points, provider="Riverside"):
    return Trend(1, provider, "TRAIN", "Level 3 training", "percentage", points)


def test_chart_is_an_image_described_in_words_with_each_quarter_and_its_status():
    svg = str(trend_chart(training([point(0, "78", "red"), point(1, "92.5", "green")])))

    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>Level 3 training: Riverside, last 2 quarters</title>" in svg
    assert "Q1 2025/26: 78.0%, red; Q2 2025/26: 92.5%, green." in svg
    assert ">78.0%<" in svg and ">92.5%<" in svg


@pytest.mark.parametrize(
    "figure,green,amber,shown",
    [
        (Fraction(1999, 20), Decimal(100), Decimal(95), "99.9%"),  # 1,999 of 2,000 is never labelled 100%
        (Fraction(8525, 100), Decimal("85.25"), Decimal("80.25"), "85.25%"),  # at a two-decimal threshold
        (Fraction(85249, 1000), Decimal("85.25"), Decimal("80.25"), "85.2%"),
        (Fraction(8025, 100), Decimal("85.25"), Decimal("80.25"), "80.25%"),  # at a two-decimal amber edge
    ],
)
def test_each_quarters_label_never_claims_more_than_is_true_nor_crosses_its_threshold(figure, green, amber, shown):
    svg = str(trend_chart(training([replace(point(0, None, "none", green, amber), figure=figure)])))
    assert f">{shown}<" in svg and f"Q1 2025/26: {shown}," in svg


def test_a_two_decimal_threshold_is_written_as_stored():
    svg = str(trend_chart(training([point(0, "86", "green", Decimal("85.25"), Decimal("80.25"))])))
    assert "Threshold (latest quarter): green from 85.25%, amber from 80.25%" in svg


def test_markers_differ_in_shape_not_only_in_colour():
    svg = str(trend_chart(training([point(0, "50", "red"), point(1, "87", "amber"), point(2, "95", "green")])))

    assert svg.count("<rect") == 1  # red: a square
    assert svg.count("<circle") == 1  # green: a circle
    assert svg.count("<polygon") == 1  # amber: a triangle


def test_thresholds_are_drawn_and_the_latest_written_under_the_chart():
    svg = str(trend_chart(training([point(0, "80", "red"), point(1, "96", "green", Decimal(95), Decimal(90))])))

    assert svg.count("<path") == 2  # green and amber lines
    assert "Threshold (latest quarter): green from 95%, amber from 90%" in svg


def test_a_quarter_without_a_figure_breaks_the_line_and_says_so():
    svg = str(trend_chart(training([point(0, "80", "red"), point(1, None, "none"), point(2, "96", "green")])))

    assert "no figure" in svg
    assert "<polyline" not in svg  # no two neighbouring quarters have figures


def test_text_from_the_catalogue_and_providers_is_escaped():
    svg = str(trend_chart(training([point(0, "80", "red")], provider="<script>alert(1)</script> & Co")))

    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in svg


@pytest.mark.parametrize(
    ("figures", "axis"),
    [
        (["3", "0", "12"], ["0", "5", "10", "15", "20"]),  # counts run from 0 to a round number above the highest
        (["0", "0"], ["0", "1"]),
    ],
)
def test_counts_run_from_zero_to_a_round_top(figures, axis):
    trend = Trend(
        1,
        "Riverside",
        "ALLEG",
        "Allegations",
        "count",
        [point(i, f, "none", None, None) for i, f in enumerate(figures)],
    )
    svg = str(trend_chart(trend))

    labels = [f'text-anchor="end">{label}<' for label in axis]
    assert all(label in svg for label in labels)


@pytest.mark.parametrize("figures", [["32", "99"], ["88", "99"], ["2", "99"]])
def test_percentages_run_from_zero_to_100_whatever_the_figures(figures):
    svg = str(trend_chart(training([point(i, f, "green") for i, f in enumerate(figures)])))

    assert 'text-anchor="end">0%<' in svg and 'text-anchor="end">100%<' in svg
    assert 'text-anchor="end">-10%<' not in svg


def test_the_quarter_in_progress_says_so_and_not_that_no_return_was_submitted():
    current = replace(point(2, None, "none"), label="In progress", in_progress=True)
    svg = str(trend_chart(training([point(0, "80", "red"), point(1, "96", "green"), current])))

    assert "in progress</text>" in svg and ">no figure<" not in svg
    assert svg.count('fill="#f3f2f1"') == 1  # its slot is shaded
    assert "Q3 2025/26: in progress, no figure yet." in svg


def test_every_text_is_at_least_the_font_size_asked_and_the_narrow_chart_leaves_figures_to_the_table():
    points = [point(i, "90", "green") for i in range(8)]
    wide = str(trend_chart(training(points), width=640, height=270, font_size=13))
    narrow = str(trend_chart(training(points), width=340, height=250, font_size=12, narrow=True))

    for svg, size in ((wide, 13), (narrow, 12)):
        assert f'font-size="{size}"' in svg
        assert all(int(found) >= size for found in re.findall(r'font-size="(\d+)"', svg))
    assert 'width="340"' in narrow and ">26<" not in narrow and "<tspan" in narrow
    assert ">90.0%</text>" in wide and ">90.0%</text>" not in narrow  # the narrow chart's figures are in the table
    assert ">25/26</tspan>" in narrow and ">2025/26</tspan>" in wide


def test_the_key_for_pages_lists_every_marker_and_line_in_words():
    assert [words for _, words in legend_items()] == [
        "Red", "Amber", "Green", "No colour", "Green from (threshold)", "Amber from (threshold)",
        "Shaded: the quarter in progress",
    ]  # fmt: skip
    assert all('aria-hidden="true"' in str(marker) for marker, _ in legend_items())


def test_the_legend_names_every_marker_and_line():
    svg = str(legend())

    for words in ("Red", "Amber", "Green", "No colour", "Green from", "Amber from"):
        assert f">{words}<" in svg
