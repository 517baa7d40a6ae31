"""The moderation API: the page's grades, judgements and counts, its filters' messages, its paging and its scoping."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reviews import services
from tests.reviews.conftest import catalogue, q1, q2  # noqa: F401
from tests.reviews.fixtures import providers_of
from tests.reviews.moderation_fixtures import graded, moderated  # noqa: F401
from tests.reviews.test_moderation_pages import URL

API = reverse("moderation-list")


@pytest.fixture
def api(client):
    def call(person, **params):
        client.force_login(person)
        return client.get(API, params)

    return call


def test_each_grade_beside_the_judgement_with_the_counts(world, moderated, q2, api):
    riverside = graded(world.riverside, q2, {"S11-01": "not_compliant", "S11-02": "compliant"}, by=world.riverside_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="amber", reason="Plan in place.")

    response = api(world.newham_nurse, period=q2.pk)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["period"]["id"] == q2.pk
    assert body["counts"] == {"higher": 0, "lower": 1, "agreed": 0, "not_reviewed": 1, "differ": 1}
    children = body["frameworks"][0]
    assert (children["code"], children["counts"]["lower"]) == ("nel-section-11-children", 1)
    assert [(s["code"], s["asked"], s["counts"]["lower"]) for s in children["standards"]] == [
        ("S11-01", True, 1),
        ("S11-02", True, 0),
    ]
    row = next(r for r in body["results"] if r["provider_id"] == world.riverside.pk)
    assert (row["return_id"], row["return_state"], row["differences"]) == (riverside.pk, "Submitted", 1)
    first = row["standards"][0]
    assert {key: first[key] for key in ("code", "grade", "comparison", "judgement", "judged_grade", "reason")} == {
        "code": "S11-01",
        "grade": "not_compliant",
        "comparison": "lower",
        "judgement": "Changed to Partially compliant — Plan in place.",
        "judged_grade": "partially_compliant",
        "reason": "Plan in place.",
    }
    assert row["standards"][1]["judgement"] == "Not yet reviewed"


@pytest.mark.parametrize(
    ("asked", "field", "message"),
    [
        ({"commissioner": "999999"}, "commissioner", "There is no such commissioner."),
        ({"provider_type": "none-such"}, "provider_type", "There is no such type of provider."),
        ({"framework": "nhs-contract-sc32"}, "framework", "There is no such framework."),
        ({"period": "999999"}, "period", "There is no such reporting period."),
        ({"provider": "x" * 201}, "provider", "Enter a provider name of 200 characters or fewer."),
    ],
)
def test_a_wrong_filter_is_refused_with_the_pages_words(world, moderated, q2, api, client, asked, field, message):
    response = api(world.newham_nurse, **{"period": q2.pk, **asked})
    assert response.status_code == 400
    assert response.json()["fields"] == {field: message}
    page = client.get(URL, {"period": q2.pk, **asked}).content.decode()
    assert f"{message}</a>" in page


def test_the_api_lists_only_the_providers_the_person_may_see(world, moderated, q2, api):
    assert [r["name"] for r in api(world.hackney_admin, period=q2.pk).json()["results"]] == [world.eastway.name]
    assert api(world.luton_nurse, period=q2.pk).json()["count"] == 0


def test_the_api_pages_by_50_with_the_same_number_of_queries_for_2_providers_and_for_62(
    world, moderated, q2, api, client
):
    counts = []
    api(world.newham_nurse, period=q2.pk)  # signed in, and what is read once a process read
    for size, prefix in ((0, "A"), (60, "B")):
        for provider in providers_of(world.newham, moderated.children, size, prefix=prefix):
            graded(provider, q2, {"S11-02": "compliant"}, by=world.newham_nurse)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(API, {"period": q2.pk})
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
    body = response.json()
    assert (body["count"], len(body["results"]), body["counts"]["not_reviewed"]) == (62, 50, 60)
    assert len(api(world.newham_nurse, period=q2.pk, page=2).json()["results"]) == 12
    assert api(world.newham_nurse, period=q2.pk, page=3).status_code == 404


def test_the_api_sorts_the_providers_most_apart_first_and_refuses_an_order_it_does_not_know(world, moderated, q2, api):
    from tests.reviews.test_moderation import apart_and_agreed

    apart_and_agreed(world, moderated, q2)

    names = [r["name"] for r in api(world.newham_nurse, period=q2.pk, sort="differences").json()["results"]]
    assert names == [world.riverside.name, world.eastway.name]
    refused = api(world.newham_nurse, period=q2.pk, sort="worst")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"sort": "Sort the providers by name or by differences."}
