"""Kinds of requirement, and the one place where each kind validates its definition and its answers.

A metric's kind says what a provider is asked for (a numerator and denominator, a count, a policy with
its review date, an audit sample, a graded self-assessment or a narrative). The catalogue's admin, its
importer, and later the return forms, the Excel upload and the API all validate through the functions
here, so a rule and its wording exist exactly once.
"""

from __future__ import annotations

import datetime
import math
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


def _whole_number(errors: AnswerErrors, values: dict, field: str, label: str) -> int | None:
    raw = values.get(field)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        errors[field] = f"Enter {label} as a whole number, like 12."
        return None
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except ArithmeticError:
        errors[field] = f"Enter {label} as a whole number, like 12."
        return None
    if number != number.to_integral_value():
        errors[field] = f"Enter {label} as a whole number, like 12."
        return None
    if number < 0:
        errors[field] = f"Enter {label} as 0 or more."
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


def clean_answer(kind: str, values: dict, *, complete: bool) -> tuple[dict, AnswerErrors]:
    """Validate one answer's values for its kind; return the cleaned values and the errors by field.

    With ``complete=False`` (saving a draft) a missing value is allowed but a wrong one is not; with
    ``complete=True`` (submitting) every value the kind needs must be there.
    """
    errors = AnswerErrors()
    cleaned: dict = {}

    def need(field: str, message: str) -> None:
        if complete and cleaned.get(field) in (None, "") and field not in errors:
            errors[field] = message

    if kind == RequirementKind.PERCENTAGE:
        cleaned["numerator"] = _whole_number(errors, values, "numerator", "the numerator")
        cleaned["denominator"] = _whole_number(errors, values, "denominator", "the denominator")
        need("numerator", "Enter the numerator.")
        need("denominator", "Enter the denominator.")
        num, den = cleaned["numerator"], cleaned["denominator"]
        if num is not None and den is not None and num > den:
            errors["numerator"] = "The numerator cannot be more than the denominator."
    elif kind == RequirementKind.COUNT:
        cleaned["count"] = _whole_number(errors, values, "count", "the number")
        need("count", "Enter the number.")
    elif kind == RequirementKind.POLICY:
        in_place = values.get("in_place")
        if isinstance(in_place, str) and in_place.strip():
            word = in_place.strip().lower()
            in_place = {"yes": True, "true": True, "no": False, "false": False}.get(word)
            if in_place is None:
                errors["in_place"] = "Choose yes or no."
        cleaned["in_place"] = in_place if isinstance(in_place, bool) else None
        cleaned["review_date"] = _date(errors, values, "review_date", "the review date")
        need("in_place", "Say whether the policy is in place.")
        if complete and cleaned["in_place"] and cleaned["review_date"] is None and "review_date" not in errors:
            errors["review_date"] = "Enter the date the policy is next due for review."
    elif kind == RequirementKind.AUDIT:
        cleaned["sampled"] = _whole_number(errors, values, "sampled", "the number of records sampled")
        cleaned["compliant"] = _whole_number(errors, values, "compliant", "the number of compliant records")
        need("sampled", "Enter the number of records sampled.")
        need("compliant", "Enter the number of compliant records.")
        sampled, compliant = cleaned["sampled"], cleaned["compliant"]
        if sampled is not None and compliant is not None and compliant > sampled:
            errors["compliant"] = "The number of compliant records cannot be more than the number sampled."
    elif kind == RequirementKind.SELF_ASSESSMENT:
        grade = (values.get("grade") or "").strip()
        if grade and grade not in SelfAssessmentGrade.values:
            errors["grade"] = "Choose compliant, partially compliant or not compliant."
        cleaned["grade"] = grade if grade in SelfAssessmentGrade.values else None
        cleaned["evidence"] = (values.get("evidence") or "").strip()
        need("grade", "Choose how far the standard is met.")
        need("evidence", "Describe the evidence that the standard is met.")
    elif kind == RequirementKind.NARRATIVE:
        cleaned["text"] = (values.get("text") or "").strip()
        need("text", "Enter the narrative.")
    else:
        errors["kind"] = f"“{kind}” is not a kind of requirement."
    return cleaned, errors
