"""A return is submitted once, returned for revision once, and a period reopened once, whoever acts at the same
moment: two real transactions on PostgreSQL (:mod:`tests.concurrency`), and retries through the API and the page."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from providers.services import ALREADY_DONE
from returns.models import ReportingPeriod, Return, ReturnStatus, RevisionRequest, Submission
from returns.services import ReturnProblems, reopen_period, return_for_revision, save_answers, submit_return
from tests.concurrency import at_once
from tests.returns.test_services import attach_policy, complete_answers

committing = pytest.mark.django_db(transaction=True)


def name(person) -> str:
    return person.get_full_name() or person.get_username()


def today_in_words() -> str:
    return f"{timezone.localdate():%-d %B %Y}"


@pytest.fixture
def complete_draft(world, catalogue, draft):
    save_answers(draft, by=world.riverside_contributor, answers=complete_answers(catalogue))
    attach_policy(draft, catalogue, world.riverside_contributor)
    return draft


def statuses(provider_return) -> list[str]:
    """The return's status in each record of its change history (saving answers records it too), oldest first."""
    return list(Return.history.filter(id=provider_return.pk).order_by("history_date").values_list("status", flat=True))


def submit(provider_return, person):
    return lambda: submit_return(provider_return, by=person, declaration_confirmed=True)


@committing
def test_two_submits_at_the_same_moment_store_one_submission(world, complete_draft):
    lead = world.riverside_lead
    outcomes = at_once(complete_draft, submit(complete_draft, lead), submit(complete_draft, lead))

    (submission,) = Submission.objects.filter(provider_return=complete_draft)
    assert submission in outcomes
    (refused,) = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert isinstance(refused, ReturnProblems) and refused.code == ALREADY_DONE
    assert refused.general == [f"This return was already submitted on {today_in_words()} by {name(lead)}."]
    assert statuses(complete_draft).count("submitted") == 1  # not draft → submitted → submitted


@committing
def test_two_returns_for_revision_at_the_same_moment_make_one_request(world, complete_draft):
    submit_return(complete_draft, by=world.riverside_lead, declaration_confirmed=True)
    nurse = world.newham_nurse
    outcomes = at_once(
        complete_draft,
        lambda: return_for_revision(complete_draft, by=nurse, comments="Include bank staff."),
        lambda: return_for_revision(complete_draft, by=nurse, comments="Include bank staff."),
    )

    (request,) = RevisionRequest.objects.filter(provider_return=complete_draft)
    assert request in outcomes
    (refused,) = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert isinstance(refused, ValidationError) and refused.code == ALREADY_DONE
    assert refused.messages == [
        f"This return was already returned for revision on {today_in_words()} by {name(nurse)}."
    ]
    assert statuses(complete_draft).count("returned") == 1


@committing
def test_two_administrators_reopening_a_period_at_the_same_moment_change_it_once(world, q2):
    until = timezone.localdate() + datetime.timedelta(days=7)
    admin = world.administrator
    outcomes = at_once(
        q2, lambda: reopen_period(q2, by=admin, until=until), lambda: reopen_period(q2, by=admin, until=until)
    )

    assert [outcome.reopened_until for outcome in outcomes] == [until, until]
    assert ReportingPeriod.objects.get(pk=q2.pk).reopened_until == until
    changes = ReportingPeriod.history.filter(id=q2.pk, history_type="~")
    assert list(changes.values_list("reopened_until", flat=True)) == [until]


def api_submit(client, provider_return):
    url = f"/api/v1/returns/{provider_return.pk}/submit/"
    return client.post(url, {"declaration_confirmed": True}, content_type="application/json")


@pytest.mark.django_db
def test_a_retried_submit_through_the_api_answers_409_and_submits_nothing_more(world, as_person, complete_draft):
    lead = as_person("riverside_lead")
    assert api_submit(lead, complete_draft).status_code == 201

    again = api_submit(lead, complete_draft)

    assert again.status_code == 409
    assert again.json() == {
        "detail": f"This return was already submitted on {today_in_words()} by {name(world.riverside_lead)}."
    }
    assert Submission.objects.filter(provider_return=complete_draft).count() == 1


@pytest.mark.django_db
def test_submitting_on_the_page_a_return_already_submitted_says_so_and_submits_nothing_more(
    world, as_person, complete_draft
):
    lead = as_person("riverside_lead")
    url = reverse("returns:return_submit", args=[complete_draft.pk])
    assert lead.post(url, {"confirmed": "on"}).status_code == 302  # the first tab
    lead.get(complete_draft.get_absolute_url())  # its confirmation is shown

    again = lead.post(url, {"confirmed": "on"}, follow=True)  # the second tab

    assert again.status_code == 200
    assert f"This return was already submitted on {today_in_words()}" in again.content.decode()
    assert Submission.objects.filter(provider_return=complete_draft).count() == 1
    assert Return.objects.get(pk=complete_draft.pk).status == ReturnStatus.SUBMITTED
