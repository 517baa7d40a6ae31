"""Review acts are made once, whoever acts at the same moment: two real transactions on PostgreSQL
(:mod:`tests.concurrency`) accept a return once, record one judgement of an answer, one follow-up of an action."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from providers.services import ALREADY_DONE
from returns.models import ActionPlanItem, Return
from reviews.models import ActionFollowUp, AnswerReview, ReturnAcceptance
from reviews.services import accept_return, agree_status, follow_up_action, override_status
from tests.concurrency import at_once
from tests.reviews.fixtures import submitted  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_reviewers_accepting_at_the_same_moment_accept_once(world, submitted):
    nurse = world.newham_nurse
    outcomes = at_once(
        submitted, lambda: accept_return(submitted, by=nurse), lambda: accept_return(submitted, by=nurse)
    )

    (acceptance,) = ReturnAcceptance.objects.filter(provider_return=submitted)
    assert acceptance in outcomes
    (refused,) = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert isinstance(refused, ValidationError) and refused.code == ALREADY_DONE
    today = f"{timezone.localdate():%-d %B %Y}"
    assert refused.messages == [f"This return was already accepted on {today} by {nurse.get_full_name()}."]
    assert acceptance.history.count() == 1


@pytest.mark.parametrize(
    "judge",
    [
        lambda provider_return, metric, by: agree_status(provider_return, metric, by=by),
        lambda provider_return, metric, by: override_status(
            provider_return, metric, by=by, colour="red", reason="Agency staff are not counted."
        ),
    ],
    ids=["agree", "override"],
)
def test_the_same_judgement_twice_at_the_same_moment_is_recorded_once(world, catalogue, submitted, judge):
    nurse = world.newham_nurse
    outcomes = at_once(
        submitted,
        lambda: judge(submitted, catalogue.dbs, nurse),
        lambda: judge(submitted, catalogue.dbs, nurse),
    )

    (review,) = AnswerReview.objects.filter(provider_return=submitted, metric=catalogue.dbs)
    assert outcomes == [review, review]  # both are told the judgement stands
    assert review.history.count() == 1


def test_two_follow_ups_of_an_action_at_the_same_moment_record_one(world, catalogue, submitted):
    answer = submitted.answers.get(metric=catalogue.self_assessment)
    item = ActionPlanItem.objects.create(
        answer=answer, action="Train the night staff", owner="Named nurse", due_on=datetime.date(2025, 10, 1)
    )
    nurse = world.newham_nurse
    follow_up = lambda: follow_up_action(item, by=nurse, done=True, note="Seen the register.")  # noqa: E731
    outcomes = at_once(item, follow_up, follow_up)

    (stored,) = ActionFollowUp.objects.filter(item=item)
    assert outcomes == [stored, stored]  # neither is refused by the database for a second follow-up of one action
    assert stored.is_done and stored.note == "Seen the register."
    assert stored.history.count() == 1
    assert Return.objects.get(pk=submitted.pk).status == "submitted"
