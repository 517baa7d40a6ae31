"""The moderation page: grades beside judgements with the counts, its filters, paging, links and a fixed query count."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews import services
from tests.reviews.conftest import catalogue, q1, q2  # noqa: F401
from tests.reviews.fixtures import providers_of
from tests.reviews.moderation_fixtures import graded, moderated  # noqa: F401

URL = reverse("reviews:moderation")
#: A row of the counts as it reads: higher, lower, agreed, not yet reviewed, differ.
COUNTS = "Graded higher: {} Graded lower: {} Agreed: {} Not yet reviewed: {} Differ: {}"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_page_shows_each_grade_beside_the_judgement_and_counts_where_they_differ(world, moderated, q2, as_person):
    riverside = graded(world.riverside, q2, {"S11-01": "compliant", "S11-02": "compliant"}, by=world.riverside_lead)
    services.override_status(
        riverside, moderated.s11_1, by=world.newham_nurse, colour="red", reason="No named doctor in post."
    )
    services.agree_status(riverside, moderated.s11_2, by=world.newham_nurse)

    response = as_person("newham_nurse").get(URL, {"period": q2.pk})

    assert response.status_code == 200
    page = text(response)
    where = f"({world.riverside.name}, Section 11 children Standard"
    assert f"Own grade: Compliant {where} 1) Graded higher Changed to Not compliant — No named doctor in post." in page
    assert f"Own grade: Compliant {where} 2) Agreed" in page
    assert "Allegations against staff Not asked of this provider" in page  # Riverside graded no adult standard
    assert "Eastway Community Health NHS Trust ZC2 · Acute hospital · Not yet submitted" in page
    assert "Line of accountability No return submitted" in page
    # Counts: Section 11 children, then its standards: higher, lower, agreed, not yet reviewed, differ.
    assert f"Section 11 children {COUNTS.format(1, 0, 1, 0, 1)}" in page
    assert f"Standard 1: Line of accountability {COUNTS.format(1, 0, 0, 0, 1)}" in page
    assert f"Standard 2: Safe recruitment {COUNTS.format(0, 0, 1, 0, 0)}" in page
    assert "1 standard graded apart from the reviewer" in page
    answer_url = reverse("reviews:answer_review", kwargs={"pk": riverside.pk, "code": "S11-01"})
    assert f'href="{answer_url}"' in response.content.decode()


def test_the_page_is_reached_from_the_navigation_and_the_dashboard(world, moderated, q2, as_person):
    client = as_person("newham_nurse")
    dashboard = client.get(reverse("reviews:dashboard"), {"period": q2.pk}).content.decode()
    assert f'href="{URL}"' in dashboard  # the navigation
    assert f'href="{URL}?period={q2.pk}"' in dashboard  # the dashboard's own link, keeping the period
    assert 'aria-current="page">Moderation' in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        ({"commissioner": "999999"}, "commissioner", "There is no such commissioner."),
        ({"provider_type": "none-such"}, "provider_type", "There is no such type of provider."),
        ({"framework": "nhs-contract-sc32"}, "framework", "There is no such framework."),
        ({"period": "999999"}, "period", "There is no such reporting period."),
    ],
)
def test_a_wrong_filter_is_said_beside_its_field_and_in_the_error_summary(
    world, moderated, q2, as_person, asked, field, message
):
    response = as_person("newham_nurse").get(URL, {"period": q2.pk, **asked})
    content = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in content
    assert f'href="#id_{field}">{message}</a>' in content
    assert f'id="id_{field}-error"' in content
    assert world.riverside.name not in content


def test_the_page_shows_only_the_providers_the_person_may_see(world, moderated, q2, as_person):
    page = as_person("hackney_admin").get(URL, {"period": q2.pk}).content.decode()
    assert world.eastway.name in page and world.riverside.name not in page


def test_the_page_asks_the_same_number_of_queries_for_2_providers_and_for_62_and_pages_by_50(
    world, moderated, q2, as_person
):
    client = as_person("newham_nurse")
    counts = []
    for size, prefix in ((0, "A"), (60, "B")):
        for provider in providers_of(world.newham, moderated.children, size, prefix=prefix):
            graded(provider, q2, {"S11-01": "partially_compliant"}, by=world.newham_nurse)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"period": q2.pk})
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    first = text(response)
    assert "Showing 1 to 50 of 62 providers" in first
    second = text(client.get(URL, {"period": q2.pk, "page": 2}))
    assert "Showing 51 to 62 of 62 providers" in second
    assert f"Standard 1: Line of accountability {COUNTS.format(0, 0, 0, 60, 0)}" in second


def test_a_provider_name_narrows_the_list(world, moderated, q2, as_person):
    page = as_person("newham_nurse").get(URL, {"period": q2.pk, "provider": "eastway"}).content.decode()
    assert world.eastway.name in page and world.riverside.name not in page


def test_a_reviewer_sets_a_self_assessments_grade_on_its_answer_page_and_moderation_shows_it(
    world, moderated, q2, as_person
):
    riverside = graded(world.riverside, q2, {"S11-01": "compliant"}, by=world.riverside_lead)
    client = as_person("newham_nurse")
    answer = reverse("reviews:answer_review", kwargs={"pk": riverside.pk, "code": "S11-01"})
    page = text(client.get(answer))
    assert "What grade should the standard have?" in page
    grades = ["Not compliant (red)", "Partially compliant (amber)", "Compliant (green)"]
    assert all(grade in page for grade in grades)
    assert [page.index(grade) for grade in grades] == sorted(page.index(grade) for grade in grades)

    override = reverse("reviews:answer_override", kwargs={"pk": riverside.pk, "code": "S11-01"})
    assert client.post(override, {"colour": "amber", "reason": "Minutes not seen."}).status_code == 302

    moderation_page = text(client.get(URL, {"period": q2.pk}))
    assert "Graded higher Changed to Partially compliant — Minutes not seen." in moderation_page


def test_the_page_lists_the_providers_most_apart_first_when_asked_and_keeps_the_order_in_its_links(
    world, moderated, q2, as_person
):
    from tests.reviews.test_moderation import apart_and_agreed

    apart_and_agreed(world, moderated, q2)
    client = as_person("newham_nurse")

    by_name = text(client.get(URL, {"period": q2.pk}))
    apart = client.get(URL, {"period": q2.pk, "sort": "differences"})

    assert by_name.index(world.eastway.name) < by_name.index(world.riverside.name)
    assert ", by name." in by_name
    page = text(apart)
    assert page.index(world.riverside.name) < page.index(world.eastway.name)
    assert "most differences first, then by name." in page
    assert 'aria-current="true"><strong>Most differences first, then by name</strong>' in apart.content.decode()
    assert f'href="{URL}?period={q2.pk}#providers">By name</a>' in apart.content.decode()
    unknown = text(client.get(URL, {"period": q2.pk, "sort": "nonsense"}))
    assert unknown.index(world.eastway.name) < unknown.index(world.riverside.name)  # an unknown order: by name
