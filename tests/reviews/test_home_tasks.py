"""Each role's home page leads with its task: a provider's open return with its deadline and a button, a designated
professional's returns to review and exceptions, a committee member's report and quarter, a commissioner admin's
invitations and contracts; several roles' blocks with the most waiting first, in a fixed number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from providers.models import ContractStatus, Invitation, Role
from returns.services import open_return
from tests.providers.factories import ContractFactory, MembershipFactory
from tests.reviews.fixtures import providers_of, submit_directly, submitted  # noqa: F401
from tests.reviews.test_dashboard_pages import build, quarter, text_of  # noqa: F401

HOME = "/"


def home_text(client) -> str:
    response = client.get(HOME)
    assert response.status_code == 200
    return text_of(response)


def test_a_providers_lead_sees_the_open_return_its_deadline_and_a_primary_button_first(as_person, world, catalogue, q2):
    provider_return = open_return(world.riverside, q2, by=world.riverside_lead)
    q2.lock_date = timezone.localdate() + datetime.timedelta(days=20)  # past its deadline, but it can still be sent
    q2.save()
    response = as_person("riverside_lead").get(HOME)
    html, text = response.content.decode(), text_of(response)

    overdue_by = (timezone.localdate() - q2.submission_deadline).days
    assert f"Your return for {q2.label} Status: Overdue" in text
    due, lock = f"{q2.submission_deadline:%-d %B %Y}", f"{q2.lock_date:%-d %B %Y}"
    assert f"Overdue by {overdue_by} days : it was due by {due}; it can still be sent until {lock}." in text
    button = f'<a href="{provider_return.get_absolute_url()}" role="button" draggable="false" class="button">'
    assert button + "Continue your return" in html
    assert text.index("Your return for") < text.index("ODS code")  # the task comes before the organisation's links


def test_a_return_not_yet_due_says_how_many_days_are_left(as_person, world, catalogue, q2):
    open_return(world.riverside, q2, by=world.riverside_lead)
    q2.submission_deadline = timezone.localdate() + datetime.timedelta(days=12)
    q2.lock_date = q2.submission_deadline + datetime.timedelta(days=30)
    q2.save()

    text = home_text(as_person("riverside_lead"))
    assert "Status: Draft" in text
    assert f"Due by {q2.submission_deadline:%-d %B %Y}: 12 days left." in text


def test_a_designated_professional_sees_the_returns_waiting_for_review_and_the_exceptions(as_person, world, quarter):
    response = as_person("newham_nurse").get(HOME)
    html, text = response.content.decode(), text_of(response)

    assert "Returns waiting for your review 2 returns submitted and not yet accepted" in text
    review = reverse("reviews:return_review", args=[world.riverside_return.pk])
    assert f'href="{review}"' in html
    assert re.search(r'role="button" draggable="false" class="button">Review [^<]+\'s return</a>', html)
    assert "Exceptions in Q2 2025/26 (July to September 2025) 1 provider with a red answer 0 overdue returns" in text
    assert text.index("Returns waiting for your review") < text.index("ODS code")
    assert "Committee report" not in text and "People and contracts to act on" not in text


def test_a_committee_member_sees_the_latest_report_to_ask_for_and_the_quarter_at_a_glance(as_person, world, quarter):
    response = as_person("newham_committee").get(HOME)
    html, text = response.content.decode(), text_of(response)

    assert "Committee report There is no committee report for Q2 2025/26 (July to September 2025) yet." in text
    ask = f"{reverse('reviews:report_list')}?period={quarter.pk}&amp;commissioner={world.newham.pk}"
    assert f'href="{ask}" role="button"' in html
    assert "2 of 2 returns in" in text and "1 Red overall" in text and "1 Amber overall" in text
    assert "Returns waiting for your review" not in text


def test_a_commissioner_admin_sees_invitations_and_contracts_waiting(as_person, world):
    Invitation.objects.create(
        email="new.nurse@newham.example",
        organisation=world.newham,
        role=Role.DESIGNATED_PROFESSIONAL,
        invited_by=world.newham_admin,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    ContractFactory(provider=world.chalk_hills, coordinating=world.newham, status=ContractStatus.PROPOSED)
    text = home_text(as_person("newham_admin"))

    assert "People and contracts to act on" in text
    assert "1 invitation waiting, the first to expire first. new.nurse@newham.example, Designated professional" in text
    assert "1 contract proposed and not yet accepted. " in text and world.chalk_hills.name in text
    assert text.index("People and contracts to act on") < text.index("ODS code")


def test_a_person_with_several_roles_sees_each_roles_block_the_most_waiting_first(as_person, world, quarter):
    MembershipFactory(user=world.newham_nurse, organisation=world.newham, role=Role.COMMITTEE_MEMBER)
    MembershipFactory(user=world.newham_nurse, organisation=world.newham, role=Role.COMMISSIONER_ADMIN)
    text = home_text(as_person("newham_nurse"))

    # Two returns to review and a red answer; nothing for the admin to act on; the committee's block never waits.
    review, admin, committee = (
        text.index("Returns waiting for your review"),
        text.index("People and contracts to act on"),
        text.index("Committee report"),
    )
    assert review < admin and review < committee


@pytest.mark.parametrize("person", ["newham_nurse", "newham_committee", "newham_admin"])
def test_each_commissioner_home_asks_the_same_number_of_queries_for_2_and_10_providers(
    as_person, world, catalogue, quarter, person
):
    client = as_person(person)
    build(world, catalogue, quarter, 0)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(HOME).status_code == 200
        return len(captured)

    with_2 = queries()
    build(world, catalogue, quarter, 8)
    with_10 = queries()
    assert with_2 == with_10, f"{with_2} queries with 2 providers, {with_10} with 10"
