"""Review acts: agree, change a status with a reason, comment, accept, follow up actions; who may, and what shows."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from providers.services import ALREADY_DONE
from returns.models import ActionPlanItem
from returns.services import open_return, return_for_revision
from reviews.models import ActionFollowUp, AnswerComment, AnswerReview, RagRun, ReturnAcceptance
from reviews.selectors import actions_due
from reviews.services import (
    NO_COLOUR,
    NO_COMMENT,
    NO_METRIC,
    NO_REASON,
    NOT_A_COMMENTER,
    NOT_A_REVIEWER,
    NOT_IN_RETURN,
    NOT_SUBMITTED,
    accept_return,
    agree_status,
    comment_on_answer,
    compute_return_rag,
    follow_up_action,
    override_status,
)
from tests.factories import MetricFactory
from tests.reviews.fixtures import ANSWERS, submit_through_services, submitted  # noqa: F401

TODAY = f"{timezone.localdate():%-d %B %Y}"


def status_of(provider_return, metric):
    return RagRun.objects.get(provider_return=provider_return, is_current=True).answers.get(metric=metric)


def messages(refusal) -> dict:
    return refusal.value.message_dict if hasattr(refusal.value, "error_dict") else {"": refusal.value.messages}


def test_a_reviewers_override_replaces_the_colour_and_says_who_when_and_why(
    world, catalogue, submitted, django_capture_on_commit_callbacks
):
    compute_return_rag(submitted)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        override_status(
            submitted, catalogue.dbs, by=world.newham_nurse, colour="red", reason="Checks of agency staff missing."
        )
    assert len(callbacks) == 1  # the computation was queued (and, with no broker here, ran in-process)
    status = status_of(submitted, catalogue.dbs)
    name = world.newham_nurse.get_full_name()
    assert (status.colour, status.computed_colour) == ("red", "amber")
    assert status.rule == f"set to red by {name} on {TODAY}: Checks of agency staff missing."
    assert status.review_decision == "overridden"
    assert status.value == "97.0% (97 of 100)"  # the figure and threshold still explain what the rules found
    run = RagRun.objects.get(provider_return=submitted, is_current=True)
    assert run.colour == "red"  # the roll-up follows the reviewer's colour
    assert run.standards.get().colour == "red"


def test_agreeing_with_a_self_assessment_says_who_agreed(
    world, catalogue, submitted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agree_status(submitted, catalogue.self_assessment, by=world.newham_nurse)
    status = status_of(submitted, catalogue.self_assessment)
    assert status.colour == status.computed_colour == "green"
    assert status.rule == f"the provider's own grade, agreed by {world.newham_nurse.get_full_name()} on {TODAY}"
    assert status.review_decision == "agreed"


def test_a_later_judgement_replaces_the_earlier_and_history_keeps_both(world, catalogue, submitted):
    override_status(submitted, catalogue.dbs, by=world.newham_nurse, colour="red", reason="Agency staff.")
    agree_status(submitted, catalogue.dbs, by=world.newham_nurse)
    review = AnswerReview.objects.get()
    assert (review.decision, review.colour, review.reason) == ("agreed", "", "")
    assert [h.decision for h in review.history.order_by("history_date")] == ["overridden", "agreed"]
    assert {h.history_user for h in review.history.all()} == {world.newham_nurse}
    assert compute_return_rag(submitted).answers.get(metric=catalogue.dbs).colour == "amber"


@pytest.mark.parametrize(
    "colour,reason,errors",
    [
        ("amber", "  ", {"reason": [NO_REASON]}),
        ("purple", "Because.", {"colour": [NO_COLOUR]}),
        ("", "", {"colour": [NO_COLOUR], "reason": [NO_REASON]}),
    ],
)
def test_changing_a_status_needs_a_colour_and_a_reason(world, catalogue, submitted, colour, reason, errors):
    with pytest.raises(ValidationError) as refused:
        override_status(submitted, catalogue.dbs, by=world.newham_nurse, colour=colour, reason=reason)
    assert refused.value.message_dict == errors
    assert not AnswerReview.objects.exists()


@pytest.mark.parametrize("person", ["riverside_lead", "newham_committee", "luton_nurse", "stranger"])
def test_only_a_designated_professional_of_a_commissioner_may_review(world, catalogue, submitted, person):
    for act in (
        lambda by: agree_status(submitted, catalogue.dbs, by=by),
        lambda by: override_status(submitted, catalogue.dbs, by=by, colour="red", reason="No."),
        lambda by: accept_return(submitted, by=by),
    ):
        with pytest.raises(PermissionDenied, match=NOT_A_REVIEWER):
            act(getattr(world, person))
    assert not AnswerReview.objects.exists() and not ReturnAcceptance.objects.exists()


def test_a_question_must_be_one_the_return_asks(world, catalogue, submitted):
    with pytest.raises(ValidationError) as refused:
        agree_status(submitted, MetricFactory(), by=world.newham_nurse)
    assert refused.value.message_dict == {"metric": [NOT_IN_RETURN]}
    with pytest.raises(ValidationError) as refused:
        agree_status(submitted, None, by=world.newham_nurse)
    assert refused.value.message_dict == {"metric": [NO_METRIC]}


def test_a_draft_or_a_return_sent_back_cannot_be_reviewed_or_accepted(world, catalogue, q1, submitted):
    draft = open_return(world.riverside, q1, by=world.riverside_contributor)
    return_for_revision(submitted, by=world.newham_nurse, comments="Add the agency staff.")
    for provider_return in (draft, submitted):
        with pytest.raises(ValidationError, match=NOT_SUBMITTED):
            agree_status(provider_return, catalogue.dbs, by=world.newham_nurse)
        with pytest.raises(ValidationError, match=NOT_SUBMITTED):
            accept_return(provider_return, by=world.newham_nurse)


def test_a_review_stands_only_while_the_answer_is_as_the_reviewer_saw_it(world, catalogue, submitted):
    override_status(submitted, catalogue.dbs, by=world.newham_nurse, colour="red", reason="Agency staff.")
    assert compute_return_rag(submitted).answers.get(metric=catalogue.dbs).colour == "red"

    return_for_revision(submitted, by=world.newham_nurse, comments="Count the agency staff.")
    submit_through_services(world, catalogue, submitted, {**ANSWERS, "DBS": {"numerator": "120", "denominator": "120"}})
    status = compute_return_rag(submitted).answers.get(metric=catalogue.dbs)
    assert (status.colour, status.review_decision) == ("green", "")
    assert status.rule == "at or above the threshold of 100%"

    # An answer the provider left as it was keeps its review through the resubmission.
    agree_status(submitted, catalogue.self_assessment, by=world.newham_nurse)
    return_for_revision(submitted, by=world.newham_nurse, comments="One more thing.")
    submit_through_services(world, catalogue, submitted, {**ANSWERS, "DBS": {"numerator": "119", "denominator": "120"}})
    assert compute_return_rag(submitted).answers.get(metric=catalogue.self_assessment).review_decision == "agreed"


@pytest.mark.parametrize("person", ["newham_nurse", "riverside_contributor", "riverside_lead"])
def test_reviewers_and_the_providers_people_comment_and_both_see_it(world, catalogue, submitted, person):
    comment = comment_on_answer(submitted, catalogue.dbs, by=getattr(world, person), text="  Agency staff?  ")
    assert comment.text == "Agency staff?"
    assert comment.history.get().history_user == getattr(world, person)


@pytest.mark.parametrize("person", ["newham_committee", "luton_nurse", "eastway_lead", "stranger"])
def test_others_cannot_comment(world, catalogue, submitted, person):
    with pytest.raises(PermissionDenied, match=NOT_A_COMMENTER):
        comment_on_answer(submitted, catalogue.dbs, by=getattr(world, person), text="Hello")
    assert not AnswerComment.objects.exists()


def test_a_comment_needs_words(world, catalogue, submitted):
    with pytest.raises(ValidationError) as refused:
        comment_on_answer(submitted, catalogue.dbs, by=world.newham_nurse, text=" ")
    assert refused.value.message_dict == {"text": [NO_COMMENT]}


def test_accepting_a_submitted_return_once(world, submitted):
    acceptance = accept_return(submitted, by=world.newham_nurse)
    assert acceptance.submission == submitted.submissions.get()
    assert acceptance.history.get().history_user == world.newham_nurse
    with pytest.raises(ValidationError) as again:
        accept_return(submitted, by=world.newham_nurse)
    assert again.value.code == ALREADY_DONE
    name = world.newham_nurse.get_full_name()
    assert again.value.messages == [f"This return was already accepted on {TODAY} by {name}."]


@pytest.fixture
def actions(submitted, catalogue):
    answer = submitted.answers.get(metric=catalogue.self_assessment)

    def make(action, due):
        return ActionPlanItem.objects.create(answer=answer, action=action, owner="Named nurse", due_on=due)

    return {
        "late": make("Train the night staff", datetime.date(2025, 10, 1)),
        "soon": make("Audit supervision", datetime.date(2025, 11, 20)),
        "later": make("Review the policy", datetime.date(2026, 6, 1)),
    }


def test_a_reviewer_follows_up_actions_and_the_list_shows_what_is_due_and_overdue(world, actions):
    today = datetime.date(2025, 11, 5)
    due = actions_due(world.newham_nurse, today=today)
    assert [(d.item.action, d.state) for d in due] == [
        ("Train the night staff", "overdue"),
        ("Audit supervision", "due"),
    ]
    assert [d.item.action for d in actions_due(world.riverside_lead, today=today)] == [d.item.action for d in due]
    assert actions_due(world.luton_nurse, today=today) == []

    follow_up = follow_up_action(
        actions["late"], by=world.newham_nurse, done=True, note="Seen the register.", today=today
    )
    assert (follow_up.is_done, follow_up.done_on, follow_up.note) == (True, today, "Seen the register.")
    assert [d.item.action for d in actions_due(world.newham_nurse, today=today)] == ["Audit supervision"]

    follow_up = follow_up_action(actions["late"], by=world.newham_nurse, done=False, note="Register incomplete.")
    assert (follow_up.is_done, follow_up.done_on) == (False, None)
    assert ActionFollowUp.objects.get().history.count() == 2
    assert len(actions_due(world.newham_nurse, today=today)) == 2


def test_following_up_an_action_is_for_reviewers_and_needs_an_answer(world, actions):
    with pytest.raises(PermissionDenied):
        follow_up_action(actions["late"], by=world.riverside_lead, done=True)
    with pytest.raises(ValidationError) as refused:
        follow_up_action(actions["late"], by=world.newham_nurse, done=None)
    assert refused.value.message_dict == {"done": ["Say whether the action is done."]}
    assert not ActionFollowUp.objects.exists()
