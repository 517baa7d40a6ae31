"""The RAG rules: the colour of an answer, and how standards, frameworks and returns roll up from them.

Every colour comes with its explanation: the value, the threshold in force and the rule that gave it, so that
wherever a colour is shown a person can see why. The rules read their numbers from the catalogue (a metric's
thresholds per provider type, its tolerance band, its review interval); nothing here is specific to one metric.

Rules, by kind of requirement:

- **Percentage and audit sample**: green at or above the threshold for the provider's type; amber from the
  bottom of the tolerance band up to the threshold; red below the band. No threshold for the provider's type:
  no colour, monitored as a trend. Nobody eligible (a zero denominator or sample): no colour, with the reason.
- **Count**: no colour; a direction against the immediately previous period (up, down, the same) and whether that
  is the better way given the metric. When that period has no figure, the latest earlier one is used and named
  ("12 in Q1 2025/26"); a percentage's direction is given only against the immediately previous period.
- **Policy**: red when not in place or past its review date; amber within 90 days of its review date (or beyond
  the longest interval between reviews the metric allows); green while in date.
- **Self-assessment**: as the provider graded it (compliant green, partially compliant amber, not compliant red)
  until a reviewer agrees or sets another colour.
- **Narrative**: no colour.
- A metric not asked this period is *not due*; a question left unanswered in a submitted return is red, except one
  asked *as required*, which left blank has nothing to report this period and no colour.

Every judgement compares the exact value (a fraction of whole numbers) with the threshold as stored; the figure in
the explanation is rounded toward the side the judgement fell (:func:`standards.kinds.percentage_text`), so it never
claims more than is true and always agrees with the colour.

Roll-up: a standard, a framework and a return take the worst colour among their answers (red over amber over
green); answers with no colour do not count. The explanation gives the counts ("2 red, 1 amber, 9 green").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

from django.db import models

from standards.kinds import RequirementKind, SelfAssessmentGrade, figure, figure_text, percentage, percentage_text
from standards.models import Frequency

#: A policy is amber when its review date is this close.
POLICY_AMBER_DAYS = 90


class Colour(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
    NONE = "none", "No colour"
    NOT_DUE = "not_due", "Not due"
    OVERDUE = "overdue", "Overdue"


#: The colour of each self-assessment grade; a reviewer who sets another colour sets the grade it stands for.
GRADE_COLOURS = {
    SelfAssessmentGrade.COMPLIANT: Colour.GREEN,
    SelfAssessmentGrade.PARTIALLY_COMPLIANT: Colour.AMBER,
    SelfAssessmentGrade.NOT_COMPLIANT: Colour.RED,
}

#: Each colour's name as it reads inside a sentence ("2 red, 1 amber").
_LOWER_LABELS = {colour.value: colour.label.lower() for colour in Colour}

#: Worse first: a roll-up takes the first of these that any of its answers has.
SEVERITY = (Colour.RED, Colour.AMBER, Colour.GREEN)


class Direction(models.TextChoices):
    UP = "up", "Up"
    DOWN = "down", "Down"
    SAME = "same", "The same"
    NONE = "", "No earlier figure"


@dataclass(frozen=True)
class Status:
    """A colour with what gave it."""

    colour: str
    value: str = ""  # the figure as people read it: "82.5% (165 of 200)", "in place, review due 31 March 2027"
    threshold: str = ""  # the threshold in force: "green from 85%, amber from 80% (community health services)"
    rule: str = ""  # the rule that gave the colour, in a sentence
    direction: str = Direction.NONE
    direction_is_better: bool | None = None

    @property
    def explanation(self) -> str:
        parts = [p for p in (self.value, self.threshold and f"threshold {self.threshold}", self.rule) if p]
        return "; ".join(parts)


@lru_cache(maxsize=1024)
def _exact(edge: Decimal) -> Fraction:
    """A threshold's edge as an exact fraction (the same few edges are compared with thousands of answers)."""
    return Fraction(edge)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def threshold_text(threshold, provider_type_name: str | None) -> str:
    who = f" ({provider_type_name.lower()})" if threshold.provider_type_id and provider_type_name else ""
    return f"green from {_percent(threshold.green_from)}, amber from {_percent(threshold.amber_from)}{who}"


def colour_for_percentage(value: Fraction, threshold) -> tuple[str, str]:
    """The colour of an exact percentage against a threshold as stored, and the rule that gave it.

    ``value`` must be exact (see :func:`standards.kinds.percentage`): a figure rounded first could cross an edge.
    """
    if value >= _exact(threshold.green_from):
        return Colour.GREEN, f"at or above the threshold of {_percent(threshold.green_from)}"
    if value >= _exact(threshold.amber_from):
        return Colour.AMBER, (
            f"below the threshold of {_percent(threshold.green_from)} but within the tolerance band "
            f"from {_percent(threshold.amber_from)}"
        )
    return Colour.RED, f"below the tolerance band, which starts at {_percent(threshold.amber_from)}"


def direction_of(
    current: Fraction | None, previous: Fraction | None, higher_is_better: bool
) -> tuple[str, bool | None]:
    if current is None or previous is None:
        return Direction.NONE, None
    if current == previous:
        return Direction.SAME, None
    up = current > previous
    return (Direction.UP if up else Direction.DOWN), (up == higher_is_better)


#: How often a metric is reported, in the words of an explanation ("six-monthly"); read here rather than with
#: ``get_frequency_display()``, which costs a tenth of a batch's judging when thousands of answers are not due.
_FREQUENCY_WORDS = {frequency.value: frequency.label.lower() for frequency in Frequency}


def answer_status(
    metric,
    values: dict | None,
    *,
    provider_type_code: str,
    provider_type_name: str = "",
    period_end: datetime.date,
    previous_values: dict | None = None,
    previous_period: str = "",
    due: bool = True,
) -> Status:
    """The status of one answer (``values`` as stored; None when unanswered) in a submitted return.

    ``previous_values`` are the metric's values in the immediately previous period or, when that period has no
    figure, in the latest earlier one, whose name (“Q1 2025/26”) is then ``previous_period``: a count says which
    period it is compared with, and a percentage then has no direction.
    """
    if not due:
        return Status(Colour.NOT_DUE, rule=f"not asked this period (reported {_FREQUENCY_WORDS[metric.frequency]})")
    kind = metric.kind
    previous = figure(kind, previous_values) if previous_values else None
    if not values or not any(v not in (None, "") for v in values.values()):
        if metric.frequency == Frequency.AS_REQUIRED:
            return Status(Colour.NONE, value="left blank", rule="asked as required: nothing to report this period")
        return Status(Colour.RED, value="not answered", rule="a question the return asks was left unanswered")

    if kind in (RequirementKind.PERCENTAGE, RequirementKind.AUDIT):
        if kind == RequirementKind.PERCENTAGE:
            top, bottom = values.get("numerator") or 0, values.get("denominator") or 0
            counted = f"{top} of {bottom}"
        else:
            top, bottom = values.get("compliant") or 0, values.get("sampled") or 0
            counted = f"{top} of {bottom} records compliant"
        current = percentage(top, bottom)
        direction, better = direction_of(current, None if previous_period else previous, metric.higher_is_better)
        if current is None:
            reason = "nobody was eligible this period" if kind == RequirementKind.PERCENTAGE else "no records sampled"
            return Status(Colour.NONE, value=counted, rule=f"no percentage: {reason}")
        threshold = metric.threshold_for(provider_type_code)
        value = f"{percentage_text(current, threshold)} ({counted})"
        if threshold is None:
            return Status(
                Colour.NONE, value=value, rule="no threshold for this type of provider: monitored as a trend",
                direction=direction, direction_is_better=better,
            )  # fmt: skip
        colour, rule = colour_for_percentage(current, threshold)
        return Status(
            colour, value=value, threshold=threshold_text(threshold, provider_type_name), rule=rule,
            direction=direction, direction_is_better=better,
        )  # fmt: skip

    if kind == RequirementKind.COUNT:
        current = figure(kind, values)
        direction, better = direction_of(current, previous, metric.higher_is_better)
        was = ""
        if previous is not None:
            when = f"in {previous_period} (the period before has no figure)" if previous_period else "the period before"
            was = f", {figure_text(kind, previous)} {when}"
        return Status(
            Colour.NONE, value=f"{figure_text(kind, current)}{was}",
            rule="a count monitored as a trend, not given a colour", direction=direction, direction_is_better=better,
        )  # fmt: skip

    if kind == RequirementKind.POLICY:
        if not values.get("in_place"):
            return Status(Colour.RED, value="not in place", rule="a policy that is not in place is red")
        review = values.get("review_date")
        review = datetime.date.fromisoformat(review) if isinstance(review, str) else review
        if review is None:
            return Status(Colour.RED, value="in place, no review date", rule="a policy needs its review date")
        value = f"in place, review due {review:%-d %B %Y}"
        if review < period_end:
            return Status(Colour.RED, value=value, rule="the review date has passed: the policy has lapsed")
        if metric.review_interval_months:
            limit = _add_months(period_end, metric.review_interval_months)
            if review > limit:
                return Status(
                    Colour.AMBER, value=value,
                    rule=f"the review date is more than {metric.review_interval_months} months away, longer than the "
                    "interval between reviews the standard allows",
                )  # fmt: skip
        if (review - period_end).days <= POLICY_AMBER_DAYS:
            return Status(Colour.AMBER, value=value, rule=f"due for review within {POLICY_AMBER_DAYS} days")
        return Status(Colour.GREEN, value=value, rule="in place and in date")

    if kind == RequirementKind.SELF_ASSESSMENT:
        grade = values.get("grade")
        colour = GRADE_COLOURS.get(grade, Colour.RED)
        label = SelfAssessmentGrade(grade).label.lower() if grade in SelfAssessmentGrade.values else "not graded"
        return Status(colour, value=f"graded {label} by the provider", rule="the provider's own grade, until reviewed")

    return Status(Colour.NONE, value="answered", rule="a narrative is read, not given a colour")


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return datetime.date(year, month, min(day.day, last[month - 1]))


@dataclass(frozen=True)
class RollUp:
    colour: str
    counts: dict = field(default_factory=dict)

    @cached_property  # read for the fingerprint and again when stored: worked out once
    def explanation(self) -> str:
        shown = [f"{self.counts[c]} {_LOWER_LABELS[c]}" for c in SEVERITY if self.counts.get(c)]
        if not shown:
            return "no answer here is given a colour"
        return ", ".join(shown) + f": the worst colour, {_LOWER_LABELS[self.colour]}, is shown"


def roll_up(colours) -> RollUp:
    """The worst of red, amber and green among ``colours``; others (no colour, not due) are not counted."""
    counts = dict.fromkeys(SEVERITY, 0)
    for colour in colours:
        if colour in counts:
            counts[colour] += 1
    worst = next((c for c in SEVERITY if counts[c]), Colour.NONE)
    return RollUp(worst, {c: n for c, n in counts.items() if n})
