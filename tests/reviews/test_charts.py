"""The trend chart: an inline SVG that says in words what it draws, with thresholds and escaped text."""

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest

from reviews.charts import legend, trend_chart
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


@pytest.mark.parametrize(
    ("figures", "bottom", "not_shown"),
    [
        (["32", "99"], "20%", "10%"),  # a round ten below the lowest figure
        (["78", "99"], "50%", "40%"),  # never less than half the scale, so small changes are not blown up
        (["2", "99"], "0%", "-10%"),
    ],
)
def test_percentages_run_to_100_from_a_round_ten_below_the_lowest_figure(figures, bottom, not_shown):
    svg = str(trend_chart(training([point(i, f, "green") for i, f in enumerate(figures)])))

    assert f'text-anchor="end">{bottom}<' in svg and 'text-anchor="end">100%<' in svg
    assert f'text-anchor="end">{not_shown}<' not in svg


def test_the_legend_names_every_marker_and_line():
    svg = str(legend())

    for words in ("Red", "Amber", "Green", "No colour", "Green from", "Amber from"):
        assert f">{words}<" in svg
