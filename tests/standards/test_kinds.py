"""Each kind of requirement validates its own definition and its own answers, in plain English."""

import datetime

import pytest

from standards.kinds import (
    LARGEST_FIGURE,
    LONGEST_TEXT,
    MetricDefinition,
    RequirementKind,
    answer_labels,
    clean_answer,
    clean_typed_text,
    definition_errors,
    label_in_message,
    percentage,
)

LABELS = answer_labels("Staff trained", "Eligible staff")


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
        (
            "percentage",
            {"numerator": "12", "denominator": "10"},
            "numerator",
            "“Staff trained” cannot be more than “Eligible staff”.",
        ),
        ("percentage", {"numerator": "1.5", "denominator": "10"}, "numerator", "whole number"),
        ("percentage", {"numerator": "-1", "denominator": "10"}, "numerator", "0 or more"),
        ("percentage", {"numerator": "ten", "denominator": "10"}, "numerator", "whole number"),
        ("percentage", {"numerator": "", "denominator": "10"}, "numerator", "Enter “Staff trained”."),
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
        ("narrative", {"text": ""}, "text", "Enter your answer"),
    ],
)
def test_a_wrong_answer_gets_a_plain_english_message(kind, values, field, message):
    _, errors = clean_answer(kind, values, complete=True, labels=LABELS)
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


def test_messages_name_a_percentages_fields_by_their_labels_never_numerator_or_denominator():
    wrong = [{"numerator": "x", "denominator": "10"}, {"numerator": "", "denominator": ""}, {"numerator": 5e9}]
    for values in wrong:
        _, errors = clean_answer("percentage", values, complete=True, labels=LABELS)
        assert errors
        for message in errors.values():
            assert "numerator" not in message.lower() and "denominator" not in message.lower(), message
            assert "“Staff trained”" in message or "“Eligible staff”" in message


WHOLE = "as a whole number, like 12."


@pytest.mark.parametrize(
    "raw,message",
    [
        ("Infinity", WHOLE),
        ("-Infinity", WHOLE),
        ("NaN", WHOLE),
        ("sNaN", WHOLE),
        (float("inf"), WHOLE),
        (float("nan"), WHOLE),
        ("1e5000", "1,000,000 or less"),
        ("9" * 5000, "1,000,000 or less"),
        (10**400, "1,000,000 or less"),
        ("1000001", "1,000,000 or less"),
        ("-1e5000", "0 or more"),
        ("2.5", WHOLE),
        ([12], WHOLE),
        ({"value": 12}, WHOLE),
        (True, WHOLE),
    ],
)
def test_a_figure_that_is_not_finite_whole_and_plausible_is_refused(raw, message):
    _, errors = clean_answer("count", {"count": raw}, complete=False)
    assert message in errors["count"]


@pytest.mark.parametrize("raw,expected", [("1000000", 1_000_000), ("1,000,000", 1_000_000), (12.0, 12), ("0", 0)])
def test_a_figure_up_to_the_largest_its_kind_states_is_accepted(raw, expected):
    cleaned, errors = clean_answer("count", {"count": raw}, complete=False)
    assert errors == {} and cleaned["count"] == expected


def test_each_kind_with_figures_states_its_largest_and_each_kind_with_text_its_longest():
    assert set(LARGEST_FIGURE) == {RequirementKind.PERCENTAGE, RequirementKind.COUNT, RequirementKind.AUDIT}
    assert set(LONGEST_TEXT) == {RequirementKind.NARRATIVE, RequirementKind.SELF_ASSESSMENT}
    _, errors = clean_answer("audit", {"sampled": LARGEST_FIGURE["audit"] + 1}, complete=False)
    assert "100,000 or less" in errors["sampled"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("a\x00b", "Remove a null character from your answer (character 2)"),
        ("ring\x07", "Remove a bell character from your answer (character 5)"),
        ("line\x0bbreak", "Remove a vertical tab (Word's line break) from your answer"),
        ("page\x0cbreak", "Remove a page break from your answer"),
        ("\x1b[31m", "Remove an escape character"),
        ("c1\x85c1", "an invisible control character (U+0085)"),
        ("half\ud800", "a broken character (U+D800)"),
        ("x" * 10_001, "Keep your answer to 10,000 characters or fewer (it has 10,001)."),
        (["a list"], "Enter your answer as text."),
        ({"an": "object"}, "Enter your answer as text."),
        (12, "Enter your answer as text."),
    ],
)
def test_text_with_control_characters_too_long_or_not_text_is_refused(text, message):
    _, errors = clean_answer("narrative", {"text": text}, complete=False)
    assert message in errors["text"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("one\r\ntwo\rthree\n\tfour", "one\ntwo\nthree\n\tfour"),
        ("x" * 10_000, "x" * 10_000),
        ("w" * 20_000, None),
        ("تم تدريب جميع الموظفين", "تم تدريب جميع الموظفين"),
        ("সমস্ত কর্মী প্রশিক্ষিত", "সমস্ত কর্মী প্রশিক্ষিত"),
        ("所有员工都接受了培训", "所有员工都接受了培训"),
        ("Done 👍🏽 ✅", "Done 👍🏽 ✅"),
    ],
)
def test_text_in_any_script_with_new_lines_and_tabs_is_kept(text, expected):
    cleaned, errors = clean_answer("self_assessment", {"evidence": text}, complete=False)
    if expected is None:  # a 20,000-character word is refused for its length, never for being one word
        assert errors["evidence"].startswith("Keep the evidence to 10,000 characters")
    else:
        assert errors == {} and cleaned["evidence"] == expected


def test_one_rule_for_typed_text_anywhere_words_the_field_as_asked():
    assert clean_typed_text("  reason  ", "the reason", 10) == ("reason", "")
    assert clean_typed_text(None, "the reason", 10) == ("", "")
    assert clean_typed_text("x" * 11, "the reason", 10)[1] == "Keep the reason to 10 characters or fewer (it has 11)."
    assert clean_typed_text(["x"], "the reason", 10)[1] == "Enter the reason as text."


@pytest.mark.parametrize("kind,field", [("self_assessment", "grade"), ("policy", "in_place")])
@pytest.mark.parametrize("raw", [["compliant"], {"a": 1}, 3])
def test_a_choice_sent_as_a_list_object_or_number_is_refused(kind, field, raw):
    _, errors = clean_answer(kind, {field: raw}, complete=False)
    assert errors[field].startswith("Choose")


@pytest.mark.parametrize(
    "label,in_message",
    [
        ("Checked", "Checked"),
        (
            "Relevant staff up to date with the level of safeguarding children training they need",
            "Relevant staff up to date with the level…",
        ),
        (
            "Staff eligible for level 3 who have received safeguarding children training",
            "Staff eligible for level 3 who have received…",
        ),
    ],
)
def test_a_message_names_a_field_by_its_label_or_a_long_labels_first_words(label, in_message):
    assert label_in_message(label) == in_message
    _, errors = clean_answer("percentage", {"numerator": "x"}, complete=False, labels=answer_labels(label, "Staff"))
    assert errors["numerator"] == f"Enter “{in_message}” as a whole number, like 12."
