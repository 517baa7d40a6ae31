"""The review API: dashboards and acts answer with the services' words; other organisations' returns are not there."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from providers.models import Role
from returns.models import ActionPlanItem
from returns.services import open_return
from reviews.models import AnswerComment, AnswerReview, RagRun, Reminder, ReturnAcceptance
from reviews.services import NO_METRIC, NO_REASON, NOT_A_REVIEWER, NOT_IN_RETURN, compute_return_rag
from tests.providers.factories import member
from tests.reviews.fixtures import providers_of, submit_directly, submitted  # noqa: F401


@pytest.fixture
def api(client):
    def call(person, name, *, method="get", data=None, **kwargs):
        client.force_login(person)
        url = reverse(name, kwargs=kwargs or None)
        if method == "post":
            return client.post(url, data or {}, content_type="application/json")
        return client.get(url, data or {})

    return call


@pytest.fixture
def reviewed(world, catalogue, submitted):
    compute_return_rag(submitted)
    return submitted


def test_the_dashboard_for_a_period(world, catalogue, reviewed, api):
    response = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id})
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["label"] == reviewed.period.label
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert [f["code"] for f in body["frameworks"]] == ["test-returns"]
    assert body["totals"]["amber"] == 1 and sum(body["totals"].values()) == 1
    assert body["framework_totals"] == {"test-returns": {"red": 0, "amber": 1, "green": 0}}
    (row,) = body["results"]
    assert row["provider_name"] == world.riverside.name
    assert row["overall"] == {
        "colour": "amber",
        "label": "Amber",
        "explanation": "1 amber, 2 green: the worst colour, amber, is shown",
    }
    assert row["state"]["label"] == "On time" and row["standing"] == "amber"
    assert row["frameworks"]["test-returns"]["counts"] == {"red": 0, "amber": 1, "green": 2}
    assert row["frameworks"]["test-returns"]["label"] == "Amber"
    assert body["exceptions"] == {"count": 0, "counts": {"red": 0, "overdue": 0}, "page": 1, "pages": 1, "results": []}
    filtered = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id, "provider_type": "gp"})
    assert filtered.json()["results"] == []


def test_the_dashboard_pages_with_drf_pagination_and_keeps_the_filters(world, catalogue, reviewed, api):
    for n, provider in enumerate(providers_of(world.newham, catalogue.framework, 4, prefix="API")):
        compute_return_rag(submit_directly(provider, reviewed.period, by=world.administrator, late=n % 2 == 0))
    query = {"period": reviewed.period_id, "sort": "name", "page_size": 2, "provider": "provider"}
    first = api(world.newham_nurse, "dashboard-list", data=query).json()
    assert first["count"] == 4 and [r["provider_name"] for r in first["results"]] == [
        "API provider 000",
        "API provider 001",
    ]
    assert "page=2" in first["next"] and "sort=name" in first["next"] and "provider=provider" in first["next"]
    second = api(world.newham_nurse, "dashboard-list", data={**query, "page": 2}).json()
    assert [r["provider_name"] for r in second["results"]] == ["API provider 002", "API provider 003"]
    assert api(world.newham_nurse, "dashboard-list", data={**query, "page": 9}).status_code == 404


def test_the_dashboard_says_what_is_wrong_with_its_question(world, reviewed, api):
    response = api(world.newham_nurse, "dashboard-list", data={"period": "999999"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"period": "There is no such reporting period."}
    response = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id, "commissioner": "x"})
    assert response.json()["fields"] == {"commissioner": "There is no such commissioner."}
    response = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id, "status": "purple"})
    assert response.json()["fields"] == {"status": "There is no such status."}
    response = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id, "sort": "colour"})
    assert response.json()["fields"] == {"sort": "Sort by status, name or framework-<code>."}
    for name, value, problem in [
        ("exceptions", "purple", "Choose red answers or overdue returns."),
        ("exceptions_framework", "no-such-framework", "There is no such framework."),
        ("framework", "no-such-framework", "There is no such framework."),
    ]:
        response = api(world.newham_nurse, "dashboard-list", data={"period": reviewed.period_id, name: value})
        assert response.status_code == 400 and response.json()["fields"] == {name: problem}


def test_the_dashboard_with_no_period_given_shows_the_latest_ended(world, reviewed, api):
    response = api(world.luton_nurse, "dashboard-list")
    assert response.status_code == 200
    assert response.json()["period"]["id"] == reviewed.period_id
    assert world.riverside.name not in response.content.decode()


def test_completeness_and_reminders(world, catalogue, q1, reviewed, api):
    response = api(world.newham_nurse, "completeness-list", data={"period": q1.pk})
    assert response.status_code == 200
    (row,) = response.json()["providers"]
    assert (row["state"], row["label"], row["overdue"]) == ("not_yet", "Not started", True)
    assert [p["email"] for p in row["remind"]] == [world.riverside_lead.email]

    response = api(
        world.newham_nurse,
        "completeness-remind",
        method="post",
        data={"period": q1.pk, "providers": [world.riverside.pk]},
    )
    assert response.status_code == 201
    assert response.json()["sent"][0]["recipients"] == [world.riverside_lead.email]
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 1

    refused = api(
        world.luton_nurse,
        "completeness-remind",
        method="post",
        data={"period": q1.pk, "providers": [world.riverside.pk]},
    )
    assert refused.status_code == 403
    empty = api(world.newham_nurse, "completeness-remind", method="post", data={"period": q1.pk})
    assert empty.status_code == 400 and empty.json()["fields"] == {"providers": "Choose the providers to remind."}
    assert api(world.eastway_lead, "completeness-remind", method="post", data={"period": q1.pk}).status_code == 403


def test_the_trend_of_a_metric(world, reviewed, api):
    response = api(world.newham_nurse, "trend-detail", pk=world.riverside.pk, data={"metric": "DBS"})
    assert response.status_code == 200
    point = next(p for p in response.json()["points"] if p["period_id"] == reviewed.period_id)
    assert (point["figure"], point["colour"], point["threshold"]) == (97.0, "amber", "green from 100%, amber from 95%")
    assert api(world.luton_nurse, "trend-detail", pk=world.riverside.pk, data={"metric": "DBS"}).status_code == 404
    assert api(world.luton_nurse, "trend-detail", pk=world.riverside.pk).status_code == 404
    missing = api(world.newham_nurse, "trend-detail", pk=world.riverside.pk)
    assert missing.json()["fields"] == {
        "metric": f"Choose which of {world.riverside.name}'s metrics to show, by its code."
    }
    unknown = api(world.newham_nurse, "trend-detail", pk=world.riverside.pk, data={"metric": "NOPE"})
    assert unknown.json()["fields"] == {
        "metric": f"{world.riverside.name} does not report a metric with the code NOPE."
    }


def test_a_returns_review_is_seen_by_both_sides_and_by_nobody_else(world, catalogue, reviewed, api):
    comment = {"metric": catalogue.dbs.pk, "text": "Agency staff are counted."}
    assert api(world.riverside_lead, "review-comment", method="post", pk=reviewed.pk, data=comment).status_code == 201
    for person in (world.newham_nurse, world.riverside_contributor):
        response = api(person, "review-detail", pk=reviewed.pk)
        assert response.status_code == 200
        body = response.json()
        assert body["provider"] == world.riverside.name
        assert body["run"]["colour"] == "amber"
        assert [c["text"] for c in body["comments"]] == ["Agency staff are counted."]
    for person in (world.luton_nurse, world.eastway_lead):
        assert api(person, "review-detail", pk=reviewed.pk).status_code == 404
        assert (
            api(person, "review-agree", method="post", pk=reviewed.pk, data={"metric": catalogue.dbs.pk}).status_code
            == 404
        )


def test_agree_and_override_through_the_api(world, catalogue, reviewed, api, django_capture_on_commit_callbacks):
    agreed = api(
        world.newham_nurse, "review-agree", method="post", pk=reviewed.pk, data={"metric": catalogue.self_assessment.pk}
    )
    assert agreed.status_code == 201 and agreed.json()["decision"] == "agreed"

    red = {"metric": catalogue.dbs.pk, "colour": "red"}
    no_reason = api(world.newham_nurse, "review-override", method="post", pk=reviewed.pk, data=red)
    assert no_reason.status_code == 400
    assert no_reason.json()["fields"] == {"reason": NO_REASON}

    with django_capture_on_commit_callbacks(execute=True):
        overridden = api(
            world.newham_nurse, "review-override", method="post", pk=reviewed.pk,
            data={**red, "reason": "Agency staff not checked."},
        )  # fmt: skip
    assert overridden.status_code == 201
    assert AnswerReview.objects.count() == 2
    status = RagRun.objects.get(provider_return=reviewed, is_current=True).answers.get(metric=catalogue.dbs)
    assert (status.colour, status.computed_colour) == ("red", "amber")  # recomputed after the act, in-process here

    by_provider = api(world.riverside_lead, "review-override", method="post", pk=reviewed.pk, data=red)
    assert by_provider.status_code == 403
    assert by_provider.json() == {"detail": NOT_A_REVIEWER}


def test_the_question_must_be_named_and_in_the_return(world, catalogue, reviewed, api):
    response = api(world.newham_nurse, "review-agree", method="post", pk=reviewed.pk)
    assert response.status_code == 400 and response.json()["fields"] == {"metric": NO_METRIC}
    response = api(world.newham_nurse, "review-agree", method="post", pk=reviewed.pk, data={"metric": 987654})
    assert response.json()["fields"] == {"metric": NOT_IN_RETURN}
    response = api(
        world.newham_nurse, "review-comment", method="post", pk=reviewed.pk, data={"metric": catalogue.dbs.pk}
    )
    assert response.json()["fields"] == {"text": "Write your comment."}
    assert not AnswerComment.objects.exists()


def test_accept_through_the_api(world, q1, reviewed, api):
    assert api(world.newham_nurse, "review-accept", method="post", pk=reviewed.pk).status_code == 201
    again = api(world.newham_nurse, "review-accept", method="post", pk=reviewed.pk)
    today, name = f"{timezone.localdate():%-d %B %Y}", world.newham_nurse.get_full_name()
    assert again.status_code == 409  # a retry, or another reviewer at the same moment: nothing changed
    assert again.json() == {"detail": f"This return was already accepted on {today} by {name}."}
    draft = open_return(world.riverside, q1, by=world.riverside_contributor)
    refused = api(world.newham_nurse, "review-accept", method="post", pk=draft.pk)
    assert refused.json()["general"] == ["Only a submitted return can be reviewed."]
    assert ReturnAcceptance.objects.count() == 1


def test_actions_due_and_their_follow_up(world, catalogue, reviewed, api):
    answer = reviewed.answers.get(metric=catalogue.self_assessment)
    item = ActionPlanItem.objects.create(
        answer=answer, action="Train night staff", owner="Named nurse", due_on=datetime.date(2025, 1, 1)
    )
    listed = api(world.newham_nurse, "action-list")
    assert [(a["action"], a["state"], a["provider"]) for a in listed.json()] == [
        ("Train night staff", "overdue", world.riverside.name)
    ]
    assert api(world.luton_nurse, "action-list").json() == []

    done = api(world.newham_nurse, "action-follow-up", method="post", pk=item.pk, data={"done": True, "note": "Seen."})
    assert done.status_code == 200 and done.json()["is_done"] is True
    assert api(world.newham_nurse, "action-list").json() == []
    unanswered = api(world.newham_nurse, "action-follow-up", method="post", pk=item.pk)
    assert unanswered.json()["fields"] == {"done": "Say whether the action is done."}
    assert (
        api(world.riverside_lead, "action-follow-up", method="post", pk=item.pk, data={"done": False}).status_code
        == 403
    )
    assert (
        api(world.luton_nurse, "action-follow-up", method="post", pk=item.pk, data={"done": False}).status_code == 404
    )


def test_a_lead_can_be_reminded_only_once_the_dashboard_shows_them(world, catalogue, q1, api):
    member(world.riverside, Role.PROVIDER_LEAD, username="second-lead")
    submit_directly(world.riverside, q1, by=world.riverside_lead)
    response = api(
        world.newham_nurse,
        "completeness-remind",
        method="post",
        data={"period": q1.pk, "providers": [world.riverside.pk]},
    )
    assert response.status_code == 200
    assert response.json() == {"sent": [], "skipped": {world.riverside.name: "Its return has been submitted."}}
    assert mail.outbox == []
