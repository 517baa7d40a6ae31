"""Kinds of requirement, and the one place where each kind validates its definition and its answers.

A metric's kind says what a provider is asked for (a numerator and denominator, a count, a policy with
its review date, an audit sample, a graded self-assessment or a narrative). The catalogue's admin, its
importer, and later the return forms, the Excel upload and the API all validate through the functions
here, so a rule and its wording exist exactly once.

Each kind also states the largest figure and the longest text it accepts (:data:`LARGEST_FIGURE`,
:data:`LONGEST_TEXT`), and :func:`clean_typed_text` is the one rule for any text a person types anywhere (answers,
action plans, review comments and reasons): within a stated length, and free of control characters other than
new lines and tabs. Messages name a field by the words on its label.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import models


class RequirementKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage against a threshold"
    COUNT = "count", "Count monitored as a trend"
    POLICY = "policy", "Policy or procedure in place, with review date"
    AUDIT = "audit", "Audit sample"
    SELF_ASSESSMENT = "self_assessment", "Self-assessment of a standard"
    NARRATIVE = "narrative", "Narrative"


class SelfAssessmentGrade(models.TextChoices):
    COMPLIANT = "compliant", "Compliant"
    PARTIALLY_COMPLIANT = "partially_compliant", "Partially compliant"
    NOT_COMPLIANT = "not_compliant", "Not compliant"


#: Kinds whose answer yields a percentage that a threshold can judge.
KINDS_WITH_THRESHOLDS = frozenset({RequirementKind.PERCENTAGE, RequirementKind.AUDIT})


@dataclass(frozen=True)
class MetricDefinition:
    """The fields of a metric that its kind constrains, whether they come from a form or a document."""

    kind: str
    threshold_count: int = 0
    numerator_label: str = ""
    denominator_label: str = ""
    sample_size: int | None = None
    review_interval_months: int | None = None
    higher_is_better: bool = True


def definition_errors(definition: MetricDefinition) -> dict[str, str]:
    """Return, by field name, what is wrong with a metric's definition for its kind (empty when valid)."""
    errors: dict[str, str] = {}
    kind = definition.kind
    if kind not in RequirementKind.values:
        known = ", ".join(RequirementKind.values)
        return {"kind": f"“{kind}” is not a kind of requirement. Use one of: {known}."}
    label = RequirementKind(kind).label.lower()

    if definition.threshold_count and kind not in KINDS_WITH_THRESHOLDS:
        errors["thresholds"] = (
            f"A metric of kind “{label}” has no thresholds. Only percentages and audit samples are "
            "judged against a threshold; remove the thresholds or change the kind."
        )
    if definition.threshold_count and not definition.higher_is_better:
        errors["higher_is_better"] = (
            "Thresholds are met at or above their value, so a metric with thresholds must be one where "
            "a higher value is better."
        )
    if kind == RequirementKind.PERCENTAGE:
        if not definition.numerator_label.strip():
            errors["numerator_label"] = "Say what the numerator counts, for example “Staff trained”."
        if not definition.denominator_label.strip():
            errors["denominator_label"] = "Say what the denominator counts, for example “Eligible staff”."
    elif definition.numerator_label.strip() or definition.denominator_label.strip():
        errors["numerator_label"] = "Only a percentage has a numerator and a denominator."
    if definition.sample_size is not None and kind != RequirementKind.AUDIT:
        errors["sample_size"] = "Only an audit sample has a sample size."
    if definition.review_interval_months is not None and kind != RequirementKind.POLICY:
        errors["review_interval_months"] = "Only a policy has a review interval."
    return errors


def percentage(numerator: int, denominator: int) -> Fraction | None:
    """The exact percentage numerator/denominator, or None when nothing was eligible.

    Exact, never rounded: 1,999 of 2,000 is 99.95%, which is under a threshold of 100%. Every judgement compares
    this value; only :func:`percentage_text` rounds, for people to read.
    """
    if not denominator:
        return None
    return Fraction(int(numerator) * 100, int(denominator))


def figure(kind: str, values: dict | None) -> Fraction | None:
    """The one number an answer comes to, where its kind has one: a percentage, a compliance rate or a count.

    The value is exact (a fraction), for comparing and plotting; show it with :func:`figure_text`.
    """
    if not values:
        return None
    if kind == RequirementKind.PERCENTAGE and values.get("denominator"):
        return percentage(values.get("numerator") or 0, values["denominator"])
    if kind == RequirementKind.AUDIT and values.get("sampled"):
        return percentage(values.get("compliant") or 0, values["sampled"])
    if kind == RequirementKind.COUNT and values.get("count") is not None:
        return Fraction(int(values["count"]))
    return None


def _boundaries(threshold) -> list[Decimal]:
    if threshold is None:
        return []
    edges = (getattr(threshold, "green_from", None), getattr(threshold, "amber_from", None))
    return [edge for edge in edges if edge is not None]


def shown_percentage(value: Fraction | Decimal, threshold=None) -> Decimal:
    """The percentage as it is shown: never more than is true, and on the same side of every threshold edge.

    It is rounded down to one decimal place, so 1,999 of 2,000 (99.95%) shows 99.9%, never 100%. Where rounding
    down would put a value that reaches an edge of ``threshold`` (anything with ``green_from`` and ``amber_from``,
    as stored to two decimals) below that edge, more places are shown: 85.25% against a threshold of 85.25% shows
    85.25%, not 85.2%. So the figure people read always falls where the judgement fell.
    """
    exact = Fraction(value)
    reached = [Fraction(b) for b in _boundaries(threshold) if exact >= Fraction(b)]
    places = 1
    while True:
        scale = 10**places
        shown = Fraction(math.floor(exact * scale), scale)
        if all(shown >= b for b in reached) or places >= 6:
            return Decimal(shown.numerator) / Decimal(shown.denominator)
        places += 1


def percentage_text(value: Fraction | Decimal, threshold=None) -> str:
    """A percentage as people read it, e.g. “99.9%” (see :func:`shown_percentage` for how it is rounded)."""
    shown = shown_percentage(value, threshold)
    return f"{shown:.1f}%" if shown == shown.quantize(Decimal("0.1")) else f"{shown:f}%"


def figure_text(kind: str, value: Fraction | Decimal, threshold=None) -> str:
    """The figure an answer comes to, as people read it: a percentage (for a percentage or an audit sample, shown
    by :func:`percentage_text` against ``threshold``) or a count."""
    if kind in KINDS_WITH_THRESHOLDS:
        return percentage_text(value, threshold)
    exact = Fraction(value)
    if exact.denominator == 1:
        return str(exact.numerator)
    return f"{Decimal(exact.numerator) / Decimal(exact.denominator):.1f}"


class AnswerErrors(dict):
    """Field name → plain-English message; falsy when the answer is valid."""


# Limits -------------------------------------------------------------------------------------------------------

#: People counted for a percentage (staff trained, children seen): more than any one NHS organisation employs or
#: sees in a quarter, so a larger figure is a typing slip.
MOST_PEOPLE = 1_000_000
#: Events counted in a quarter (allegations, referrals, incidents).
MOST_IN_A_COUNT = 1_000_000
#: Records sampled by one audit in a quarter.
MOST_RECORDS_SAMPLED = 100_000
#: The largest figure each kind of answer accepts.
LARGEST_FIGURE: dict[str, int] = {
    RequirementKind.PERCENTAGE: MOST_PEOPLE,
    RequirementKind.COUNT: MOST_IN_A_COUNT,
    RequirementKind.AUDIT: MOST_RECORDS_SAMPLED,
}

#: A narrative or a self-assessment's evidence: about four pages of A4; longer belongs in an attached document.
LONGEST_ANSWER_TEXT = 10_000
#: The longest text each kind of answer accepts.
LONGEST_TEXT: dict[str, int] = {
    RequirementKind.NARRATIVE: LONGEST_ANSWER_TEXT,
    RequirementKind.SELF_ASSESSMENT: LONGEST_ANSWER_TEXT,
}
#: An action of an action plan, a note on an unusual figure or on a follow-up.
LONGEST_NOTE = 2_000
#: Who owns an action (the action plan's owner column holds this many).
LONGEST_NAME = 200
#: A reviewer's reason or comment, or what a provider must revise.
LONGEST_COMMENT = 5_000


# Typed text ---------------------------------------------------------------------------------------------------

#: Control characters that a person may have typed or pasted, by name; the rest are named by their code.
CONTROL_NAMES = {
    0x00: "a null character",
    0x07: "a bell character",
    0x08: "a backspace character",
    0x0B: "a vertical tab (Word's line break)",
    0x0C: "a page break",
    0x1B: "an escape character",
    0x7F: "a delete character",
}


def _not_text(character: str) -> str:
    """What a character is, when it cannot be kept in saved text (and in a workbook, PDF or the database); or ""."""
    code = ord(character)
    if (code < 0x20 and character not in "\n\t") or 0x7F <= code <= 0x9F:
        return CONTROL_NAMES.get(code, f"an invisible control character (U+{code:04X})")
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return f"a broken character (U+{code:04X})"
    return ""


def text_problem(text: str, label: str, longest: int) -> str:
    """A plain-English problem with text as typed (after line endings are made alike), or ""."""
    if len(text) > longest:
        return f"Keep {label} to {longest:,} characters or fewer (it has {len(text):,})."
    for position, character in enumerate(text, start=1):
        what = _not_text(character)
        if what:
            return (
                f"Remove {what} from {label} (character {position:,}); it is invisible and often comes from "
                "pasting from another program. New lines and tabs are fine."
            )
    return ""


def clean_typed_text(value, label: str, longest: int) -> tuple[str, str]:
    """Text a person sent, with line endings made alike and ends trimmed, and its problem ("" when none).

    ``label`` names the field as its label does (“your answer”, “the reason”); nothing (None) counts as empty.
    Anything but text (a list, an object, a number sent to the API) is refused, never turned into text.
    """
    if value is None:
        return "", ""
    if not isinstance(value, str):
        return "", f"Enter {label} as text."
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text, text_problem(text, label, longest)


# Answers ------------------------------------------------------------------------------------------------------


def answer_labels(numerator_label: str = "", denominator_label: str = "") -> dict[str, str]:
    """What each answer field is called on the return's form (a percentage's fields by the metric's labels)."""
    return {
        "numerator": numerator_label.strip() or "Numerator",
        "denominator": denominator_label.strip() or "Denominator",
        "count": "Number",
        "in_place": "Is it in place?",
        "review_date": "Date of next review",
        "sampled": "Records sampled",
        "compliant": "Records compliant",
        "grade": "How far is the standard met?",
        "evidence": "Evidence that the standard is met",
        "text": "Your answer",
    }


#: How messages speak of an answer field, in the words of its label; a percentage's fields are quoted labels.
FIELD_PHRASES = {
    "count": "the number",
    "sampled": "the number of records sampled",
    "compliant": "the number of compliant records",
    "review_date": "the review date",
    "evidence": "the evidence",
    "text": "your answer",
}


#: A label longer than this is named in messages by its first words (GOV.UK: keep messages short).
LONGEST_LABEL_IN_MESSAGE = 60
_TRAILING_SMALL_WORDS = {"a", "an", "and", "by", "for", "in", "of", "or", "the", "to", "who", "with"}


def label_in_message(label: str) -> str:
    """A field's label as a message quotes it: whole when short, else its first words and an ellipsis."""
    label = label.strip()
    if len(label) <= LONGEST_LABEL_IN_MESSAGE:
        return label
    words = label[: LONGEST_LABEL_IN_MESSAGE - 10].rsplit(" ", 1)[0].split()
    while len(words) > 3 and words[-1].lower() in _TRAILING_SMALL_WORDS:
        words.pop()
    return " ".join(words).rstrip(",;:") + "…"


def _called(field: str, labels: Mapping[str, str]) -> str:
    if field in FIELD_PHRASES:
        return FIELD_PHRASES[field]
    return f"“{label_in_message(labels[field])}”"


def _whole_number(errors: AnswerErrors, values: dict, field: str, label: str, largest: int) -> int | None:
    raw = values.get(field)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    as_whole_number = f"Enter {label} as a whole number, like 12."
    if not isinstance(raw, int | float | Decimal | str) or isinstance(raw, bool):
        errors[field] = as_whole_number  # a list, an object or true/false sent to the API
        return None
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except ArithmeticError:
        errors[field] = as_whole_number
        return None
    if not number.is_finite():  # Infinity, NaN, sNaN
        errors[field] = as_whole_number
        return None
    if number < 0:
        errors[field] = f"Enter {label} as 0 or more."
        return None
    if number > largest:
        errors[field] = f"Enter {label} as {largest:,} or less; a larger figure is almost certainly a typing slip."
        return None
    if number != number.to_integral_value():
        errors[field] = as_whole_number
        return None
    return int(number)


#: Dates outside these years are almost always a typing slip (2062 for 2026, 202 for 2020).
EARLIEST_YEAR = 2000
YEARS_AHEAD = 10


def plausible_date(day: datetime.date, label: str) -> str:
    """A plain-English problem with a date that cannot be meant, or ""."""
    latest = datetime.date.today().year + YEARS_AHEAD
    if day.year < EARLIEST_YEAR or day.year > latest:
        return f"Check the year of {label}: it should be between {EARLIEST_YEAR} and {latest}."
    return ""


def _date(errors: AnswerErrors, values: dict, field: str, label: str) -> datetime.date | None:
    raw = values.get(field)
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.datetime):
        day = raw.date()
    elif isinstance(raw, datetime.date):
        day = raw
    else:
        try:
            day = datetime.date.fromisoformat(str(raw).strip())
        except ValueError:
            errors[field] = f"Enter {label} as a real date, like 2026-03-31."
            return None
    problem = plausible_date(day, label)
    if problem:
        errors[field] = problem
        return None
    return day


def clean_answer(
    kind: str, values: dict, *, complete: bool, labels: Mapping[str, str] | None = None
) -> tuple[dict, AnswerErrors]:
    """Validate one answer's values for its kind; return the cleaned values and the errors by field.

    With ``complete=False`` (saving a draft) a missing value is allowed but a wrong one is not; with
    ``complete=True`` (submitting) every value the kind needs must be there. ``labels`` (from
    :func:`answer_labels`, as ``Metric.answer_labels``) name a percentage's fields in the messages.
    """
    errors = AnswerErrors()
    cleaned: dict = {}
    labels = labels or answer_labels()
    values = values if isinstance(values, Mapping) else {}
    largest = LARGEST_FIGURE.get(kind, 0)
    longest = LONGEST_TEXT.get(kind, 0)

    def need(field: str, message: str) -> None:
        if complete and cleaned.get(field) in (None, "") and field not in errors:
            errors[field] = message

    def number(field: str) -> None:
        cleaned[field] = _whole_number(errors, values, field, _called(field, labels), largest)

    def text(field: str) -> None:
        cleaned[field], problem = clean_typed_text(values.get(field), _called(field, labels), longest)
        if problem:
            errors[field] = problem

    if kind == RequirementKind.PERCENTAGE:
        number("numerator")
        number("denominator")
        numerator, denominator = _called("numerator", labels), _called("denominator", labels)
        need("numerator", f"Enter {numerator}.")
        need("denominator", f"Enter {denominator}.")
        num, den = cleaned["numerator"], cleaned["denominator"]
        if num is not None and den is not None and num > den:
            errors["numerator"] = f"{numerator} cannot be more than {denominator}."
    elif kind == RequirementKind.COUNT:
        number("count")
        need("count", "Enter the number.")
    elif kind == RequirementKind.POLICY:
        in_place = values.get("in_place")
        if isinstance(in_place, str) and in_place.strip():
            word = in_place.strip().lower()
            in_place = {"yes": True, "true": True, "no": False, "false": False}.get(word)
            if in_place is None:
                errors["in_place"] = "Choose yes or no."
        elif in_place is not None and not isinstance(in_place, bool | str):
            errors["in_place"] = "Choose yes or no."
        cleaned["in_place"] = in_place if isinstance(in_place, bool) else None
        cleaned["review_date"] = _date(errors, values, "review_date", "the review date")
        need("in_place", "Say whether the policy is in place.")
        if complete and cleaned["in_place"] and cleaned["review_date"] is None and "review_date" not in errors:
            errors["review_date"] = "Enter the date the policy is next due for review."
    elif kind == RequirementKind.AUDIT:
        number("sampled")
        number("compliant")
        need("sampled", "Enter the number of records sampled.")
        need("compliant", "Enter the number of compliant records.")
        sampled, compliant = cleaned["sampled"], cleaned["compliant"]
        if sampled is not None and compliant is not None and compliant > sampled:
            errors["compliant"] = "The number of compliant records cannot be more than the number sampled."
    elif kind == RequirementKind.SELF_ASSESSMENT:
        grade = values.get("grade")
        grade = grade.strip() if isinstance(grade, str) else grade
        if grade not in (None, "") and grade not in SelfAssessmentGrade.values:
            errors["grade"] = "Choose compliant, partially compliant or not compliant."
        cleaned["grade"] = grade if grade in SelfAssessmentGrade.values else None
        text("evidence")
        need("grade", "Choose how far the standard is met.")
        need("evidence", "Describe the evidence that the standard is met.")
    elif kind == RequirementKind.NARRATIVE:
        text("text")
        need("text", "Enter your answer.")
    else:
        errors["kind"] = f"“{kind}” is not a kind of requirement."
    return cleaned, errors
