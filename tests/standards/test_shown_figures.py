"""How a figure is shown: never more than is true, and always on the side of each threshold edge where it is."""

from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest

from standards.kinds import figure, figure_text, percentage, percentage_text, shown_percentage


def edges(green, amber):
    return SimpleNamespace(green_from=Decimal(green), amber_from=Decimal(amber))


@pytest.mark.parametrize(
    "numerator,denominator,shown",
    [
        (1999, 2000, "99.9%"),  # 99.95%: never 100%
        (9999, 10000, "99.9%"),
        (2000, 2000, "100.0%"),
        (1, 3, "33.3%"),
        (2, 3, "66.6%"),  # 66.67%: rounded down, never up
        (0, 5, "0.0%"),
        (17, 20, "85.0%"),
    ],
)
def test_a_percentage_is_shown_rounded_down_to_one_place(numerator, denominator, shown):
    assert percentage_text(percentage(numerator, denominator)) == shown


@pytest.mark.parametrize(
    "numerator,denominator,green,amber,shown",
    [
        (8525, 10000, "85.25", "80.25", "85.25%"),  # at the threshold: 85.2% would read as under it
        (8529, 10000, "85.25", "80.25", "85.29%"),
        (8530, 10000, "85.25", "80.25", "85.3%"),
        (8524, 10000, "85.25", "80.25", "85.2%"),  # under it: one place, rounded down, stays under
        (8025, 10000, "85.25", "80.25", "80.25%"),  # at the amber edge
        (80251, 100000, "85.25", "80.25", "80.25%"),
        (8024, 10000, "85.25", "80.25", "80.2%"),
        (1999, 2000, "100", "95", "99.9%"),
        (6250, 10000, "62.5", "60", "62.5%"),
    ],
)
def test_a_percentage_at_or_above_a_two_decimal_edge_is_never_shown_below_it(
    numerator, denominator, green, amber, shown
):
    assert percentage_text(percentage(numerator, denominator), edges(green, amber)) == shown


@pytest.mark.parametrize("green,amber", [("100", "95"), ("85", "80"), ("85.25", "80.25"), ("99.99", "99.95")])
@pytest.mark.parametrize("denominator", [7, 1999, 2000, 10000])
def test_every_figure_shown_falls_on_the_side_of_each_edge_where_the_exact_value_is(green, amber, denominator):
    threshold = edges(green, amber)
    for numerator in range(denominator + 1):
        exact = percentage(numerator, denominator)
        shown = shown_percentage(exact, threshold)
        assert shown <= exact, (numerator, denominator)
        for edge in (threshold.green_from, threshold.amber_from):
            assert (shown >= edge) == (exact >= edge), (numerator, denominator, edge)


def test_the_figure_an_answer_comes_to_is_exact():
    assert figure("percentage", {"numerator": 1999, "denominator": 2000}) == Fraction(1999, 20)
    assert figure("audit", {"sampled": 3, "compliant": 2}) == Fraction(200, 3)
    assert figure("count", {"count": 12}) == 12
    assert figure("percentage", {"numerator": 0, "denominator": 0}) is None


@pytest.mark.parametrize(
    "kind,value,shown",
    [("count", Fraction(12), "12"), ("count", Fraction(25, 2), "12.5"), ("audit", Fraction(1999, 20), "99.9%")],
)
def test_figures_read_by_their_kind(kind, value, shown):
    assert figure_text(kind, value) == shown
