"""The RAG rules at their boundaries: every colour is explained by its value, threshold and rule."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from reviews.rag import Colour, Direction, answer_status, roll_up
from standards.models import Frequency
from tests.factories import MetricFactory, ThresholdFactory

PERIOD_END = datetime.date(2025, 9, 30)


@pytest.fixture
def supervision(db):
    """Like Luton's supervision metric: community 100% (amber from 95%), acute 50% (amber from 45%)."""
    metric = MetricFactory(code="SUP", kind="percentage", numerator_label="Supervised", denominator_label="Eligible")
    ThresholdFactory(metric=metric, provider_type_id="community", green_from=100, amber_from=95)
    ThresholdFactory(metric=metric, provider_type_id="acute", green_from=50, amber_from=45)
    return metric


@pytest.fixture
def training(db):
    metric = MetricFactory(code="TRAIN", kind="percentage", numerator_label="Trained", denominator_label="Staff")
    ThresholdFactory(metric=metric, provider_type=None, green_from=85, amber_from=80)
    return metric


def status(metric, values, provider_type="community", **kwargs):
    return answer_status(metric, values, provider_type_code=provider_type, period_end=PERIOD_END, **kwargs)


@pytest.mark.parametrize(
    "numerator,colour",
    [
        (85, Colour.GREEN),  # exactly at the threshold
        (84, Colour.AMBER),  # just under it
        (80, Colour.AMBER),  # the amber edge
        (79, Colour.RED),  # just under the amber edge
        (0, Colour.RED),
        (100, Colour.GREEN),
    ],
)
def test_a_percentage_against_its_threshold(training, numerator, colour):
    result = status(training, {"numerator": numerator, "denominator": 100})
    assert result.colour == colour
    assert result.value == f"{numerator}.0% ({numerator} of 100)"
    assert result.threshold == "green from 85%, amber from 80%"


def judged(kind, green, amber, top, bottom):
    """The status of ``top`` of ``bottom`` for a metric of ``kind`` judged against green and amber edges."""
    if kind == "percentage":
        metric = MetricFactory(kind=kind, numerator_label="Checked", denominator_label="Staff")
        values = {"numerator": top, "denominator": bottom}
    else:
        metric = MetricFactory(kind=kind, numerator_label="", denominator_label="", sample_size=bottom or None)
        values = {"sampled": bottom, "compliant": top}
    ThresholdFactory(metric=metric, provider_type=None, green_from=Decimal(green), amber_from=Decimal(amber))
    return status(metric, values)


#: (green from, amber from, numerator, denominator, colour, figure shown): every edge, exactly at and just under.
EDGES = [
    ("100", "95", 2000, 2000, Colour.GREEN, "100.0%"),  # exactly at the threshold
    ("100", "95", 1999, 2000, Colour.AMBER, "99.9%"),  # 99.95%: never 100%, never green
    ("100", "95", 9999, 10000, Colour.AMBER, "99.9%"),  # one part in ten thousand under
    ("100", "95", 9500, 10000, Colour.AMBER, "95.0%"),  # exactly at the amber edge
    ("100", "95", 9499, 10000, Colour.RED, "94.9%"),  # one part in ten thousand under it
    ("85", "80", 8500, 10000, Colour.GREEN, "85.0%"),
    ("85", "80", 8499, 10000, Colour.AMBER, "84.9%"),
    ("85", "80", 1699, 1999, Colour.AMBER, "84.9%"),  # 84.99%, which rounded to one place would read 85.0%
    ("85", "80", 169, 200, Colour.AMBER, "84.5%"),
    ("85", "80", 8000, 10000, Colour.AMBER, "80.0%"),
    ("85", "80", 7999, 10000, Colour.RED, "79.9%"),
    ("85.25", "80.25", 8525, 10000, Colour.GREEN, "85.25%"),  # a two-decimal threshold: 85.2% would be under it
    ("85.25", "80.25", 8529, 10000, Colour.GREEN, "85.29%"),
    ("85.25", "80.25", 8530, 10000, Colour.GREEN, "85.3%"),  # one place is enough when it stays at or above
    ("85.25", "80.25", 8524, 10000, Colour.AMBER, "85.2%"),
    ("85.25", "80.25", 85249, 100000, Colour.AMBER, "85.2%"),
    ("85.25", "80.25", 8025, 10000, Colour.AMBER, "80.25%"),  # at the two-decimal amber edge
    ("85.25", "80.25", 8024, 10000, Colour.RED, "80.2%"),
    ("85.25", "80.25", 80249, 100000, Colour.RED, "80.2%"),
    ("0", "0", 0, 10, Colour.GREEN, "0.0%"),
]

#: The rule's words for each colour: what the explanation says must agree with the colour.
RULE_WORDS = {
    Colour.GREEN: "at or above the threshold of",
    Colour.AMBER: "below the threshold of",
    Colour.RED: "below the tolerance band",
}


@pytest.mark.parametrize("kind", ["percentage", "audit"])
@pytest.mark.parametrize("green,amber,top,bottom,colour,shown", EDGES)
def test_every_edge_is_judged_on_the_exact_value_and_shown_on_its_side(
    db, kind, green, amber, top, bottom, colour, shown
):
    result = judged(kind, green, amber, top, bottom)
    assert result.colour == colour
    assert result.value.startswith(f"{shown} ({top} of {bottom}")
    assert result.rule.startswith(RULE_WORDS[colour])
    figure = Decimal(shown.rstrip("%"))
    assert figure <= Fraction(top * 100, bottom)  # never more than is true
    if colour == Colour.GREEN:
        assert figure >= Decimal(green)
    elif colour == Colour.AMBER:
        assert Decimal(amber) <= figure < Decimal(green)
    else:
        assert figure < Decimal(amber)


def test_1999_of_2000_against_100_percent_is_not_shown_as_meeting_it(db):
    result = judged("percentage", "100", "95", 1999, 2000)
    assert result.explanation == (
        "99.9% (1999 of 2000); threshold green from 100%, amber from 95%; below the threshold of 100% but within the "
        "tolerance band from 95%"
    )
    assert "100%" not in result.value


@pytest.mark.parametrize("kind", ["percentage", "audit"])
def test_nothing_to_judge_when_the_denominator_is_zero(db, kind):
    result = judged(kind, "85", "80", 0, 0)
    assert result.colour == Colour.NONE
    assert result.rule.startswith("no percentage:")
    assert "%" not in result.value


@pytest.mark.parametrize(
    "provider_type,numerator,colour",
    [
        ("community", 100, Colour.GREEN),
        ("community", 96, Colour.AMBER),
        ("community", 60, Colour.RED),
        ("acute", 60, Colour.GREEN),
        ("acute", 50, Colour.GREEN),
        ("acute", 47, Colour.AMBER),
        ("acute", 44, Colour.RED),
    ],
)
def test_thresholds_differ_by_provider_type(supervision, provider_type, numerator, colour):
    result = status(supervision, {"numerator": numerator, "denominator": 100}, provider_type=provider_type)
    assert result.colour == colour


def test_a_provider_type_without_a_threshold_is_monitored_not_coloured(supervision):
    result = status(supervision, {"numerator": 10, "denominator": 100}, provider_type="care_home")
    assert result.colour == Colour.NONE
    assert "no threshold for this type of provider" in result.rule


def test_a_zero_denominator_has_no_percentage_and_says_why(training):
    result = status(training, {"numerator": 0, "denominator": 0})
    assert result.colour == Colour.NONE
    assert result.rule == "no percentage: nobody was eligible this period"


def test_a_metric_not_asked_this_period_is_not_due(training):
    training.frequency = Frequency.ANNUALLY
    result = status(training, None, due=False)
    assert result.colour == Colour.NOT_DUE
    assert result.rule == "not asked this period (reported annually)"


def test_an_unanswered_question_in_a_submitted_return_is_red(training):
    assert status(training, None).colour == Colour.RED
    assert status(training, {"numerator": None, "denominator": None}).value == "not answered"


@pytest.mark.parametrize(
    "values", [None, {}, {"numerator": None, "denominator": None}, {"numerator": "", "denominator": ""}]
)
def test_a_question_asked_as_required_left_blank_has_nothing_to_report_and_no_colour(training, values):
    training.frequency = Frequency.AS_REQUIRED
    result = status(training, values)
    assert result.colour == Colour.NONE
    assert result.rule == "asked as required: nothing to report this period"
    assert roll_up(["green", result.colour]).colour == Colour.GREEN  # a roll-up is not turned red by it


def test_a_question_asked_as_required_and_answered_is_judged_as_any_other(training):
    training.frequency = Frequency.AS_REQUIRED
    assert status(training, {"numerator": 70, "denominator": 100}).colour == Colour.RED


@pytest.mark.parametrize(
    "count,previous,direction,better",
    [
        (5, 3, Direction.UP, False),
        (2, 3, Direction.DOWN, True),
        (3, 3, Direction.SAME, None),
        (3, None, Direction.NONE, None),
    ],
)
def test_counts_have_no_colour_but_a_direction(db, count, previous, direction, better):
    metric = MetricFactory(kind="count", numerator_label="", denominator_label="", higher_is_better=False)
    result = status(metric, {"count": count}, previous_values={"count": previous} if previous is not None else None)
    assert result.colour == Colour.NONE
    assert (result.direction, result.direction_is_better) == (direction, better)


def test_a_count_compared_with_the_period_before_says_so(db):
    metric = MetricFactory(kind="count", numerator_label="", denominator_label="", higher_is_better=False)
    result = status(metric, {"count": 15}, previous_values={"count": 12})
    assert (result.value, result.direction) == ("15, 12 the period before", Direction.UP)


def test_a_count_compared_with_an_older_period_names_it_and_never_calls_it_the_period_before(db):
    metric = MetricFactory(kind="count", numerator_label="", denominator_label="", higher_is_better=False)
    result = status(metric, {"count": 15}, previous_values={"count": 12}, previous_period="Q4 2024/25")
    assert result.value == "15, 12 in Q4 2024/25 (the period before has no figure)"
    assert "the period before has no figure" in result.explanation and ", 12 the period before" not in result.value
    assert (result.direction, result.direction_is_better) == (Direction.UP, False)


def test_a_percentage_has_a_direction_only_against_the_period_before(training):
    before = {"numerator": 80, "denominator": 100}
    assert status(training, {"numerator": 90, "denominator": 100}, previous_values=before).direction == Direction.UP
    older = status(
        training, {"numerator": 90, "denominator": 100}, previous_values=before, previous_period="Q4 2024/25"
    )
    assert older.direction == Direction.NONE


@pytest.mark.parametrize(
    "values,colour,rule",
    [
        ({"in_place": False}, Colour.RED, "not in place is red"),
        ({"in_place": True, "review_date": "2025-09-29"}, Colour.RED, "has passed"),  # lapsed
        ({"in_place": True, "review_date": "2025-09-30"}, Colour.AMBER, "within 90 days"),  # due at period end
        ({"in_place": True, "review_date": "2025-12-29"}, Colour.AMBER, "within 90 days"),  # 90 days: amber edge
        ({"in_place": True, "review_date": "2025-12-30"}, Colour.GREEN, "in date"),  # 91 days
        ({"in_place": True, "review_date": "2028-09-30"}, Colour.GREEN, "in date"),  # exactly three years
        ({"in_place": True, "review_date": "2028-10-01"}, Colour.AMBER, "more than 36 months away"),
    ],
)
def test_policies_are_green_in_date_amber_near_review_red_missing_or_lapsed(db, values, colour, rule):
    metric = MetricFactory(kind="policy", numerator_label="", denominator_label="", review_interval_months=36)
    result = status(metric, values)
    assert result.colour == colour
    assert rule in result.rule


@pytest.mark.parametrize(
    "grade,colour",
    [("compliant", Colour.GREEN), ("partially_compliant", Colour.AMBER), ("not_compliant", Colour.RED)],
)
def test_self_assessments_take_the_providers_grade(db, grade, colour):
    metric = MetricFactory(kind="self_assessment", numerator_label="", denominator_label="")
    assert status(metric, {"grade": grade, "evidence": "x"}).colour == colour


def test_a_narrative_has_no_colour(db):
    metric = MetricFactory(kind="narrative", numerator_label="", denominator_label="")
    assert status(metric, {"text": "Leads named."}).colour == Colour.NONE


def test_an_audit_sample_is_judged_by_its_compliance_rate(db):
    metric = MetricFactory(kind="audit", numerator_label="", denominator_label="", sample_size=20)
    ThresholdFactory(metric=metric, provider_type=None, green_from=100, amber_from=95)
    result = status(metric, {"sampled": 20, "compliant": 19})
    assert (result.colour, result.value) == (Colour.AMBER, "95.0% (19 of 20 records compliant)")


def test_every_explanation_names_value_threshold_and_rule(training):
    result = status(training, {"numerator": 82, "denominator": 100})
    assert result.explanation == (
        "82.0% (82 of 100); threshold green from 85%, amber from 80%; below the threshold of 85% but within the "
        "tolerance band from 80%"
    )


@pytest.mark.parametrize(
    "colours,worst,explanation",
    [
        (["green", "amber", "green", "none"], "amber", "1 amber, 2 green: the worst colour, amber, is shown"),
        (["green", "red", "amber"], "red", "1 red, 1 amber, 1 green: the worst colour, red, is shown"),
        (["green", "not_due"], "green", "1 green: the worst colour, green, is shown"),
        (["none", "not_due"], "none", "no answer here is given a colour"),
    ],
)
def test_standards_and_returns_take_the_worst_colour_of_their_answers(colours, worst, explanation):
    result = roll_up(colours)
    assert result.colour == worst
    assert result.explanation == explanation
