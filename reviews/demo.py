"""Demo review acts for ``seed_demo``: what the demo designated nurses did with the returns they received.

Each act goes through :mod:`reviews.services` (and :func:`returns.services.return_for_revision`), so it is checked
and recorded as a real one would be, then moved back to the day it pretends (see :func:`backdate`). Acts whose
return or answer is missing are left out, so the demo holds whatever the catalogue allows.
"""

from __future__ import annotations

import dataclasses
import datetime

from returns.models import ActionPlanItem, Return, RevisionRequest
from returns.services import return_for_revision
from standards.kinds import RequirementKind, SelfAssessmentGrade

from . import services
from .models import ActionFollowUp, AnswerComment, AnswerReview, ReturnAcceptance

NEWHAM_NURSE = "amara.okafor@newham-ccg.example"
LUTON_NURSE = "helen.carter@luton-ccg.example"


def _moment(day: datetime.date, hour: int = 14) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 10), tzinfo=datetime.UTC)


@dataclasses.dataclass
class ReviewStory:
    """One designated nurse's review of one provider's return."""

    reviewer: str  # username
    provider: str  # ODS code
    quarter: tuple[int, int]
    on: datetime.date
    agree_percentages: bool = True  # agree every percentage's status
    override_first_compliant: str = ""  # reason: set the first self-assessment graded compliant to amber
    comment_on_first_shortfall: str = ""
    comment_on_first_percentage: str = ""
    accept: bool = False
    follow_up_first_action: str = ""  # note: record the first action of the return's plan as done
    return_for_revision: str = ""  # comments: send the return back


STORIES = (
    ReviewStory(
        NEWHAM_NURSE,
        "ZR1",
        (2025, 4),
        datetime.date(2026, 5, 12),
        comment_on_first_percentage="Good progress on level 3 training; keep the trajectory in the Q1 report.",
        accept=True,
    ),
    ReviewStory(
        NEWHAM_NURSE,
        "ZR1",
        (2026, 1),
        datetime.date(2026, 9, 8),
        comment_on_first_percentage=(
            "Figures match the training dashboard shared at the July contract meeting. Please break down level 3 "
            "compliance by division next quarter."
        ),
    ),
    ReviewStory(
        NEWHAM_NURSE,
        "ZI1",
        (2025, 4),
        datetime.date(2026, 5, 14),
        override_first_compliant=(
            "The audit shared at the August quality meeting found gaps in recording; amber until the re-audit reports."
        ),
        comment_on_first_shortfall=(
            "Action plan noted. Please send the re-audit results to the designated nurse when complete."
        ),
        follow_up_first_action="Re-audit report received by e-mail on 2 July 2026.",
    ),
    ReviewStory(
        NEWHAM_NURSE,
        "ZC1",
        (2026, 2),
        datetime.date(2026, 11, 19),
        return_for_revision=(
            "The level 3 training figure counts bank staff in the denominator but not in the numerator. Please "
            "correct it and resubmit."
        ),
    ),
    ReviewStory(
        LUTON_NURSE,
        "ZG2",
        (2025, 4),
        datetime.date(2026, 5, 20),
        comment_on_first_shortfall=(
            "The return came in after the deadline. The action plan is sensible; please report progress on it with "
            "the Q1 return."
        ),
    ),
    ReviewStory(LUTON_NURSE, "ZC3", (2026, 1), datetime.date(2026, 9, 4), accept=True),
)


def make_reviews(people: dict, organisations: dict, periods: dict) -> int:
    """Carry out the demo stories not yet done; how many were done now."""
    done = 0
    for story in STORIES:
        reviewer = people.get(story.reviewer)
        provider = organisations.get(story.provider)
        period = periods.get(story.quarter)
        provider_return = Return.objects.filter(provider=provider, period=period, submissions__isnull=False).first()
        if reviewer is None or provider_return is None or _already_reviewed(provider_return):
            continue
        tell(story, reviewer, provider_return)
        backdate(provider_return, _moment(story.on))
        done += 1
    return done


def _already_reviewed(provider_return: Return) -> bool:
    return (
        AnswerReview.objects.filter(provider_return=provider_return).exists()
        or AnswerComment.objects.filter(provider_return=provider_return).exists()
        or RevisionRequest.objects.filter(provider_return=provider_return).exists()
    )


def tell(story: ReviewStory, reviewer, provider_return: Return) -> None:
    """Do the story's acts through the services."""
    answers = list(provider_return.answers.select_related("metric").order_by("metric__position", "metric_id"))
    percentages = [a for a in answers if a.metric.kind == RequirementKind.PERCENTAGE]
    assessments = [a for a in answers if a.metric.kind == RequirementKind.SELF_ASSESSMENT]
    compliant = [a for a in assessments if a.values.get("grade") == SelfAssessmentGrade.COMPLIANT]
    shortfalls = [a for a in assessments if a.values.get("grade") != SelfAssessmentGrade.COMPLIANT]
    if story.return_for_revision:
        return_for_revision(provider_return, by=reviewer, comments=story.return_for_revision)
        return
    if story.agree_percentages:
        for answer in percentages:
            services.agree_status(provider_return, answer.metric, by=reviewer)
    if story.override_first_compliant and compliant:
        services.override_status(
            provider_return, compliant[0].metric, by=reviewer, colour="amber", reason=story.override_first_compliant
        )
    if story.comment_on_first_shortfall and shortfalls:
        services.comment_on_answer(
            provider_return, shortfalls[0].metric, by=reviewer, text=story.comment_on_first_shortfall
        )
    if story.comment_on_first_percentage and percentages:
        services.comment_on_answer(
            provider_return, percentages[0].metric, by=reviewer, text=story.comment_on_first_percentage
        )
    if story.follow_up_first_action:
        item = ActionPlanItem.objects.filter(answer__provider_return=provider_return).order_by("due_on", "pk").first()
        if item is not None:
            done_on = datetime.date(2026, 7, 2)
            follow_up = services.follow_up_action(
                item, by=reviewer, done=True, note=story.follow_up_first_action, today=done_on
            )
            ActionFollowUp.objects.filter(pk=follow_up.pk).update(updated_at=_moment(done_on))
            ActionFollowUp.history.filter(id=follow_up.pk).update(history_date=_moment(done_on))
    if story.accept:
        services.accept_return(provider_return, by=reviewer)


def backdate(provider_return: Return, moment: datetime.datetime) -> None:
    """Move the return's review acts, and their history, to the day the story says they were done."""
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
