"""Demo review acts for ``seed_demo``: what the demo designated nurses did with the returns they received.

Each act goes through :mod:`reviews.services` (and :func:`returns.services.return_for_revision`), so it is checked
and recorded as a real one would be, then moved back to the day it pretends (see :func:`backdate`). Those days
are counted from the period's deadline or from the return's submission, and are never after the demo's today.
Acts whose return or answer is missing are left out, so the demo holds whatever the catalogue allows.
"""

from __future__ import annotations

import dataclasses
import datetime

from returns import demo
from returns.models import ActionPlanItem, ReportingPeriod, Return, RevisionRequest
from returns.services import return_for_revision
from standards.kinds import RequirementKind, SelfAssessmentGrade

from . import services
from .models import ActionFollowUp, AnswerComment, AnswerReview, ReturnAcceptance

NEWHAM_NURSE = "amara.okafor@newham-ccg.example"
LUTON_NURSE = "helen.carter@luton-ccg.example"


#: What a story's day is counted from.
DEADLINE, SUBMISSION = "deadline", "submission"
#: Said before a comment on a return that came in after its deadline.
LATE_RETURN = "The return came in after the deadline. "


def _moment(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 10), tzinfo=datetime.UTC)


@dataclasses.dataclass
class ReviewStory:
    """One designated nurse's review of one provider's return.

    Its texts may name months and quarters relative to the period: ``{month_after}`` (the month after the quarter
    ended), ``{next_quarter}`` (the quarter after it) and, in the follow-up note, ``{done_on}``.
    """

    reviewer: str  # username
    provider: str  # ODS code
    quarter: int | str  # the demo quarter: its place (see returns.demo.ANCHOR) or returns.demo.YEAR_END
    days_after: int  # the review was done this many days after ...
    counted_from: str = DEADLINE  # ... the period's deadline, or the return's (latest) submission
    agree_percentages: bool = True  # agree every percentage's status
    override_first_compliant: str = ""  # reason: set the first self-assessment graded compliant to amber
    comment_on_first_shortfall: str = ""  # begun with LATE_RETURN when the return was late
    comment_on_first_percentage: str = ""
    accept: bool = False
    follow_up_first_action: str = ""  # note: record the first action of the return's plan as done...
    follow_up_days: int = 0  # ... this many days after the review
    return_for_revision: str = ""  # comments: send the return back


STORIES = (
    ReviewStory(
        NEWHAM_NURSE,
        "ZR1",
        quarter=demo.ANCHOR - 2,
        days_after=12,
        comment_on_first_percentage=(
            "Good progress on level 3 training; keep the trajectory in the {next_quarter} report."
        ),
        accept=True,
    ),
    ReviewStory(
        NEWHAM_NURSE,
        "ZR1",
        quarter=demo.ANCHOR - 1,
        days_after=8,
        comment_on_first_percentage=(
            "Figures match the training dashboard shared at the {month_after} contract meeting. Please break down "
            "level 3 compliance by division next quarter."
        ),
    ),
    # Self-assessments, and with them shortfalls and action plans, are asked once a year: these two stories are
    # about the year-end return.
    ReviewStory(
        NEWHAM_NURSE,
        "ZI1",
        quarter=demo.YEAR_END,
        days_after=14,
        override_first_compliant=(
            "The audit shared at the {month_after} quality meeting found gaps in recording; amber until the re-audit "
            "reports."
        ),
        comment_on_first_shortfall=(
            "Action plan noted. Please send the re-audit results to the designated nurse when complete."
        ),
        follow_up_first_action="Re-audit report received by e-mail on {done_on}.",
        follow_up_days=49,
    ),
    ReviewStory(
        NEWHAM_NURSE,
        "ZC1",
        quarter=demo.ANCHOR,
        days_after=1,
        counted_from=SUBMISSION,
        return_for_revision=(
            "The level 3 training figure counts bank staff in the denominator but not in the numerator. Please "
            "correct it and resubmit."
        ),
    ),
    ReviewStory(
        LUTON_NURSE,
        "ZG2",
        quarter=demo.YEAR_END,
        days_after=20,
        comment_on_first_shortfall=(
            "The action plan is sensible; please report progress on it with the {next_quarter} return."
        ),
    ),
    ReviewStory(LUTON_NURSE, "ZC3", quarter=demo.ANCHOR - 1, days_after=4, accept=True),
)


def make_reviews(people: dict, organisations: dict, periods: dict, today: datetime.date) -> int:
    """Carry out the demo stories not yet done; how many were done now.

    ``periods`` are the demo's reporting periods by their place in it; no act is dated after ``today``.
    """
    quarters = {index: (period.financial_year, period.quarter) for index, period in periods.items()}
    done = 0
    for story in STORIES:
        reviewer = people.get(story.reviewer)
        provider = organisations.get(story.provider)
        period = periods.get(demo.quarter_index(story.quarter, quarters))
        provider_return = Return.objects.filter(provider=provider, period=period, submissions__isnull=False).first()
        if reviewer is None or provider_return is None or _already_reviewed(provider_return):
            continue
        moment = review_moment(story, provider_return, today)
        tell(story, reviewer, provider_return, moment, today)
        backdate(provider_return, moment)
        done += 1
    return done


def review_moment(story: ReviewStory, provider_return: Return, today: datetime.date) -> datetime.datetime:
    """When the story's review was done: its days after the deadline or the submission, but not after ``today``.

    The day before ``today`` at the latest, and always after the return was submitted.
    """
    submitted = provider_return.submissions.order_by("-number").values_list("submitted_at", flat=True).first()
    start = provider_return.period.submission_deadline if story.counted_from == DEADLINE else submitted.date()
    moment = _moment(min(start + datetime.timedelta(days=story.days_after), today - datetime.timedelta(days=1)))
    return max(moment, submitted + datetime.timedelta(hours=1))


def _words(period: ReportingPeriod) -> dict[str, str]:
    """What a story's texts may name, for the period reviewed."""
    return {
        "month_after": f"{demo.last_day_of_month_after(period.ends_on, 1):%B}",
        "next_quarter": demo.next_quarter_label(period),
    }


def _already_reviewed(provider_return: Return) -> bool:
    return (
        AnswerReview.objects.filter(provider_return=provider_return).exists()
        or AnswerComment.objects.filter(provider_return=provider_return).exists()
        or RevisionRequest.objects.filter(provider_return=provider_return).exists()
    )


def tell(story: ReviewStory, reviewer, provider_return: Return, moment: datetime.datetime, today: datetime.date):
    """Do the story's acts through the services, as on ``moment`` (a follow-up later, but not after ``today``)."""
    words = _words(provider_return.period)
    answers = list(provider_return.answers.select_related("metric").order_by("metric__position", "metric_id"))
    percentages = [a for a in answers if a.metric.kind == RequirementKind.PERCENTAGE]
    assessments = [a for a in answers if a.metric.kind == RequirementKind.SELF_ASSESSMENT]
    compliant = [a for a in assessments if a.values.get("grade") == SelfAssessmentGrade.COMPLIANT]
    shortfalls = [a for a in assessments if a.values.get("grade") != SelfAssessmentGrade.COMPLIANT]
    if story.return_for_revision:
        return_for_revision(provider_return, by=reviewer, comments=story.return_for_revision.format(**words))
        return
    if story.agree_percentages:
        for answer in percentages:
            services.agree_status(provider_return, answer.metric, by=reviewer)
    if story.override_first_compliant and compliant:
        services.override_status(
            provider_return,
            compliant[0].metric,
            by=reviewer,
            colour="amber",
            reason=story.override_first_compliant.format(**words),
        )
    if story.comment_on_first_shortfall and shortfalls:
        late = provider_return.submissions.order_by("-number").values_list("late", flat=True).first()
        text = (LATE_RETURN if late else "") + story.comment_on_first_shortfall.format(**words)
        services.comment_on_answer(provider_return, shortfalls[0].metric, by=reviewer, text=text)
    if story.comment_on_first_percentage and percentages:
        text = story.comment_on_first_percentage.format(**words)
        services.comment_on_answer(provider_return, percentages[0].metric, by=reviewer, text=text)
    if story.follow_up_first_action:
        item = ActionPlanItem.objects.filter(answer__provider_return=provider_return).order_by("due_on", "pk").first()
        if item is not None:
            done_on = moment.date() + datetime.timedelta(days=story.follow_up_days)
            done_on = max(min(done_on, today - datetime.timedelta(days=1)), moment.date())
            note = story.follow_up_first_action.format(**words, done_on=f"{done_on:%-d %B %Y}")
            follow_up = services.follow_up_action(item, by=reviewer, done=True, note=note, today=done_on)
            done_at = max(_moment(done_on), moment)
            ActionFollowUp.objects.filter(pk=follow_up.pk).update(updated_at=done_at)
            ActionFollowUp.history.filter(id=follow_up.pk).update(history_date=done_at)
    if story.accept:
        services.accept_return(provider_return, by=reviewer)


def backdate(provider_return: Return, moment: datetime.datetime) -> None:
    """Move the return's review acts, and their history, to the day the story says they were done.

    Returning the return for revision changed its status too: that change is moved back to the same moment.
    """
    for model, field_name in (
        (AnswerReview, "reviewed_at"),
        (AnswerComment, "created_at"),
        (ReturnAcceptance, "accepted_at"),
        (RevisionRequest, "requested_at"),
    ):
        rows = model.objects.filter(provider_return=provider_return)
        rows.update(**{field_name: moment})
        if hasattr(model, "history"):
            model.history.filter(provider_return_id=provider_return.pk).update(history_date=moment)
    Return.objects.filter(pk=provider_return.pk, updated_at__gt=moment).update(updated_at=moment)
    Return.history.filter(id=provider_return.pk, history_date__gt=moment).update(history_date=moment)
