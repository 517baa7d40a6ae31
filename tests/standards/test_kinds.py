"""Each kind of requirement validates its own definition and its own answers, in plain English."""

import datetime

import pytest

from standards.kinds import MetricDefinition, RequirementKind, clean_answer, definition_errors, percentage


@pytest.mark.parametrize(
    "definition,field",
    [
        (MetricDefinition(kind="count", threshold_count=1), "thresholds"),
        (MetricDefinition(kind="self_assessment", threshold_count=1), "thresholds"),
        (MetricDefinition(kind="percentage", numerator_label="", denominator_label="Staff"), "numerator_label"),
        (MetricDefinition(kind="percentage", numerator_label="Trained", denominator_label=""), "denominator_label"),
        (MetricDefinition(kind="count", numerator_label="Trained"), "numerator_label"),
        (MetricDefinition(kind="policy", sample_size=20), "sample_size"),
        (MetricDefinition(kind="audit", review_interval_months=12), "review_interval_months"),
        (
            MetricDefinition(
                kind="percentage", threshold_count=1, numerator_label="a", denominator_label="b", higher_is_better=False
            ),
            "higher_is_better",
        ),
        (MetricDefinition(kind="weekly-ish"), "kind"),
    ],
)
def test_a_definition_that_does_not_fit_its_kind_is_refused(definition, field):
    assert field in definition_errors(definition)


@pytest.mark.parametrize(
    "definition",
    [
        MetricDefinition(kind="percentage", threshold_count=2, numerator_label="Trained", denominator_label="Staff"),
        MetricDefinition(kind="audit", threshold_count=1, sample_size=20),
        MetricDefinition(kind="audit"),
        MetricDefinition(kind="policy", review_interval_months=36),
        MetricDefinition(kind="count", higher_is_better=False),
        MetricDefinition(kind="self_assessment"),
        MetricDefinition(kind="narrative"),
    ],
)
def test_a_definition_that_fits_its_kind_is_accepted(definition):
    assert definition_errors(definition) == {}


@pytest.mark.parametrize(
    "numerator,denominator,expected",
    [(85, 100, "85"), (17, 20, "85"), (1, 3, "100/3"), (2, 3, "200/3"), (0, 5, "0"), (1999, 2000, "1999/20")],
)
def test_percentage_is_exact_never_rounded(numerator, denominator, expected):
    assert str(percentage(numerator, denominator)) == expected


def test_percentage_of_nobody_eligible_is_not_a_number():
    assert percentage(0, 0) is None


@pytest.mark.parametrize(
    "kind,values,field,message",
    [
        ("percentage", {"numerator": "12", "denominator": "10"}, "numerator", "cannot be more than the denominator"),
        ("percentage", {"numerator": "1.5", "denominator": "10"}, "numerator", "whole number"),
        ("percentage", {"numerator": "-1", "denominator": "10"}, "numerator", "0 or more"),
        ("percentage", {"numerator": "ten", "denominator": "10"}, "numerator", "whole number"),
        ("percentage", {"numerator": "", "denominator": "10"}, "numerator", "Enter the numerator"),
        ("count", {"count": ""}, "count", "Enter the number"),
        ("count", {"count": "3.2"}, "count", "whole number"),
        ("policy", {"in_place": "yes", "review_date": ""}, "review_date", "next due for review"),
        ("policy", {"in_place": "yes", "review_date": "31/02/2026"}, "review_date", "real date"),
        ("policy", {}, "in_place", "Say whether the policy is in place"),
        ("policy", {"in_place": "maybe"}, "in_place", "Choose yes or no"),
        (
            "policy",
            {"in_place": "yes", "review_date": "2207-03-31"},
            "review_date",
            "Check the year of the review date",
        ),
        ("policy", {"in_place": "yes", "review_date": "1927-03-31"}, "review_date", "should be between 2000 and"),
        ("audit", {"sampled": "20", "compliant": "21"}, "compliant", "cannot be more than the number sampled"),
        ("self_assessment", {"grade": "mostly", "evidence": "x"}, "grade", "Choose compliant"),
        ("self_assessment", {"grade": "compliant", "evidence": " "}, "evidence", "Describe the evidence"),
        ("narrative", {"text": ""}, "text", "Enter the narrative"),
    ],
)
def test_a_wrong_answer_gets_a_plain_english_message(kind, values, field, message):
    _, errors = clean_answer(kind, values, complete=True)
    assert message in errors[field]


def test_a_draft_may_be_incomplete_but_not_wrong():
    cleaned, errors = clean_answer("percentage", {"numerator": "", "denominator": "10"}, complete=False)
    assert errors == {} and cleaned == {"numerator": None, "denominator": 10}
    _, errors = clean_answer("percentage", {"numerator": "11", "denominator": "10"}, complete=False)
    assert "numerator" in errors


def test_a_complete_answer_of_each_kind_is_cleaned():
    answers = {
        RequirementKind.PERCENTAGE: (
            {"numerator": "1,017", "denominator": "1200"},
            {"numerator": 1017, "denominator": 1200},
        ),
        RequirementKind.COUNT: ({"count": 0}, {"count": 0}),
        RequirementKind.POLICY: (
            {"in_place": "yes", "review_date": "2027-03-31"},
            {"in_place": True, "review_date": datetime.date(2027, 3, 31)},
        ),
        RequirementKind.AUDIT: ({"sampled": 20, "compliant": 19}, {"sampled": 20, "compliant": 19}),
        RequirementKind.SELF_ASSESSMENT: (
            {"grade": "partially_compliant", "evidence": " Audit of files "},
            {"grade": "partially_compliant", "evidence": "Audit of files"},
        ),
        RequirementKind.NARRATIVE: ({"text": "Leads named."}, {"text": "Leads named."}),
    }
    assert set(answers) == set(RequirementKind)
    for kind, (values, expected) in answers.items():
        cleaned, errors = clean_answer(kind, values, complete=True)
        assert errors == {}, kind
        assert cleaned == expected, kind
