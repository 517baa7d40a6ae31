"""How returns read on the pages: answers in words, a return's status as a tag, a submission's reference."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from standards.kinds import RequirementKind, SelfAssessmentGrade, figure, figure_text
from standards.models import Metric

from ..forms import ANSWER_FIELDS, field_labels
from ..models import ReportingPeriod, Return, ReturnStatus, Submission

K = RequirementKind


@dataclass(frozen=True)
class Status:
    """A return's status in words, with its key in assurance.status_words (which gives its tag's style)."""

    text: str
    key: str
    detail: str = ""


def return_status(provider_return: Return | None, period: ReportingPeriod, today: datetime.date | None = None):
    """Where a provider's return for a period stands: not started, draft, overdue, submitted or returned."""
    today = today or timezone.localdate()
    overdue = today > period.submission_deadline
    if provider_return is None:
        if overdue:
            return Status("Overdue", "overdue", f"Not started; it was due by {period.submission_deadline:%-d %B %Y}")
        return Status("Not started", "not_started", f"Due by {period.submission_deadline:%-d %B %Y}")
    if provider_return.status == ReturnStatus.SUBMITTED:
        latest = latest_of(provider_return)
        if latest is not None and latest.late:
            when = f"Submitted {local(latest.submitted_at)}, after the deadline"
            return Status("Submitted late", "submitted_late", when)
        when = f"Submitted {local(latest.submitted_at)}" if latest else ""
        return Status("Submitted", "submitted", when)
    if provider_return.status == ReturnStatus.RETURNED:
        return Status("Returned for revision", "returned", "Sent back to the provider to revise and submit again")
    if overdue:
        return Status("Overdue", "overdue", f"Draft; it was due by {period.submission_deadline:%-d %B %Y}")
    return Status("Draft", "draft", f"Due by {period.submission_deadline:%-d %B %Y}")


def latest_of(provider_return: Return) -> Submission | None:
    """The return's latest submission, from its prefetched submissions."""
    submissions = list(provider_return.submissions.all())
    return max(submissions, key=lambda s: s.number) if submissions else None


def local(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


def person(user) -> str:
    if user is None:
        return "someone no longer registered"
    return user.get_full_name() or user.get_username()


def submission_reference(submission: Submission) -> str:
    """A reference people can quote: the provider's ODS code, the period and the submission's number."""
    provider_return = submission.provider_return
    period = provider_return.period
    return f"{provider_return.provider.ods_code}-{period.financial_year_label.replace('/', '-')}-Q{period.quarter}" + (
        f"-{submission.number}"
    )


def _text(field: str, value) -> str:
    if field == "in_place":
        return "Yes" if value is True else "No" if value is False else str(value)
    if field == "review_date":
        try:
            return f"{datetime.date.fromisoformat(str(value)):%-d %B %Y}"
        except ValueError:
            return str(value)
    if field == "grade":
        return SelfAssessmentGrade(value).label if value in SelfAssessmentGrade.values else str(value)
    return str(value)


def answer_in_words(kind: str, values: dict, metric: Metric | None = None, threshold=None) -> list[tuple[str, str]]:
    """An answer's values as (label, text) pairs, with the percentage it comes to; empty when nothing is answered.

    ``metric`` gives the labels its form uses (a percentage's numerator and denominator); without it, as for a
    snapshot of a metric no longer in the catalogue, the general names are used. ``threshold``, the one in force for
    the provider, keeps the percentage shown on the side of its edges where the value is (``figure_text``).
    """
    labels = field_labels(metric) if metric is not None else field_labels(Metric(kind=kind))
    labels["text"] = (
        "Answer"  # the form asks for "Your answer"; shown to reviewers and in reports, it is the provider's
    )
    words = [
        (labels[name], _text(name, values.get(name)))
        for name in ANSWER_FIELDS.get(kind, ())
        if values.get(name) not in (None, "")
    ]
    total = figure(kind, values or {})
    if words and total is not None and kind in (K.PERCENTAGE, K.AUDIT):
        words.append(("Comes to" if kind == K.PERCENTAGE else "Compliance", figure_text(kind, total, threshold)))
    return words


def values_in_words(kind: str, values: dict, metric: Metric | None = None, threshold=None) -> str:
    """An answer on one line, e.g. “Staff checked: 80; Staff: 100; Comes to: 80.0%”, or “no answer”."""
    words = answer_in_words(kind, values, metric, threshold)
    if not words:
        return "no answer"
    return "; ".join(f"{label}: {text if len(text) <= 120 else text[:117] + '…'}" for label, text in words)
