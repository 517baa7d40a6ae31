"""One judgement, shown the same everywhere: the stored status, the review page, the dashboard, the trend API and
the report agree at every threshold edge; a question asked as required left blank is not red; a count says which
earlier period it is compared with."""

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from returns.models import Answer
from returns.services import open_return
from reviews import reports
from reviews.models import KeyMeasure, RagRun
from reviews.services import compute_return_rag
from standards.models import Frequency
from tests.factories import MetricFactory, ThresholdFactory
from tests.reviews.fixtures import ANSWERS, make_period, submit_directly, submit_through_services

ALL_GREEN = {**ANSWERS, "DBS": {"numerator": "100", "denominator": "100"}}


def text_of(response) -> str:
    html = response.content.decode()
    main = html[html.index('<main class="main"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize(
    "green,amber,top,bottom,colour,shown",
    [
        ("100", "95", 1999, 2000, "amber", "99.9%"),  # one unchecked member of staff in 2,000
        ("100", "95", 2000, 2000, "green", "100.0%"),
        ("85.25", "80.25", 8525, 10000, "green", "85.25%"),
        ("85.25", "80.25", 8025, 10000, "amber", "80.25%"),
        ("85.25", "80.25", 8024, 10000, "red", "80.2%"),
    ],
)
def test_the_stored_status_and_every_page_show_the_same_judgement_at_the_edge(
    world, catalogue, q2, as_person, green, amber, top, bottom, colour, shown
):
    catalogue.dbs.thresholds.update(green_from=Decimal(green), amber_from=Decimal(amber))
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks", position=0)
    answers = {**ALL_GREEN, "DBS": {"numerator": str(top), "denominator": str(bottom)}}
    provider_return = submit_directly(world.riverside, q2, answers, by=world.riverside_lead)
    Answer.objects.create(provider_return=provider_return, metric=catalogue.dbs, values=answers["DBS"], revision=1)
    run = compute_return_rag(provider_return)

    stored = run.answers.get(metric=catalogue.dbs)
    value = f"{shown} ({top} of {bottom})"
    assert (stored.colour, stored.value) == (colour, value)
    assert run.colour == colour  # everything else is green or has no colour

    review = text_of(as_person("newham_nurse").get(reverse("reviews:return_review", args=[provider_return.pk])))
    assert f"{value}; threshold green from {green}%, amber from {amber}%" in review
    assert f"Comes to: {shown}" in review

    dashboard = as_person("newham_nurse").get("/reviews/dashboard/", {"period": q2.pk})
    riverside = dashboard.content.decode().split(world.riverside.name, 2)[-1].split("</tr>", 1)[0]
    assert f'<td class="rag rag--{colour}"><a href=' in riverside  # DBS's standard takes its colour
    if colour == "red":
        assert f"{value}; threshold green from {green}%" in text_of(dashboard)  # listed as an exception

    trend = as_person("newham_nurse").get(reverse("trend-detail", kwargs={"pk": world.riverside.pk}), {"metric": "DBS"})
    point = next(p for p in trend.json()["points"] if p["period_id"] == q2.pk)
    assert (point["colour"], point["value"], point["figure_text"]) == (colour, value, shown)
    assert Decimal(str(point["figure"])) == Decimal(shown.rstrip("%"))

    report = reports.gather_provider(world.riverside, q2, by=world.newham_nurse)
    [entry] = report["providers"]
    dbs = next(a for a in entry["answers"] if a["code"] == "DBS")
    assert (dbs["colour"], dbs["value"]) == (colour, value)
    pooled = report_pooled(world, q2)
    assert (pooled["colour"], pooled["value"]) == (colour, value)
    assert reports.as_trend({**trend_of(world, q2), "points": [pooled]}).points[0].figure_text == shown


def trend_of(world, period) -> dict:
    riverside = world.riverside
    providers = [{"id": riverside.pk, "name": riverside.name, "provider_type_id": riverside.provider_type_id}]
    [measure] = reports.key_measure_trends(providers, period)["measures"]
    return measure["pooled"]


def report_pooled(world, period) -> dict:
    return next(p for p in trend_of(world, period)["points"] if p["period_id"] == period.pk)


# "As required" left blank


@pytest.fixture
def as_required(catalogue):
    metric = MetricFactory(
        framework=catalogue.framework, standard=catalogue.standard, code="ASKED", kind="percentage",
        numerator_label="Referrals made", denominator_label="Concerns raised", frequency=Frequency.AS_REQUIRED,
    )  # fmt: skip
    ThresholdFactory(metric=metric, provider_type=None, green_from=100, amber_from=95)
    return metric


def test_a_question_asked_as_required_left_blank_has_no_colour_and_leaves_the_return_green(
    world, catalogue, q2, as_required, as_person
):
    provider_return = submit_directly(world.riverside, q2, ALL_GREEN, by=world.riverside_lead)
    run = compute_return_rag(provider_return)

    asked = run.answers.get(metric=as_required)
    assert asked.colour == "none"
    assert asked.rule == "asked as required: nothing to report this period"
    assert run.colour == "green" and run.standards.get().colour == "green"
    assert "red" not in run.explanation

    page = text_of(as_person("newham_nurse").get(reverse("reviews:return_review", args=[provider_return.pk])))
    assert "asked as required: nothing to report this period" in page
    assert "How colours roll up" in page and "asked as required and left blank has nothing to report" in page
    dashboard = text_of(as_person("newham_nurse").get("/reviews/dashboard/", {"period": q2.pk}))
    assert "asked as required and left blank has nothing to report" in dashboard


def test_a_question_asked_as_required_and_answered_is_judged(world, catalogue, q2, as_required):
    answers = {**ALL_GREEN, "ASKED": {"numerator": "1", "denominator": "2"}}
    run = compute_return_rag(submit_directly(world.riverside, q2, answers, by=world.riverside_lead))
    assert run.answers.get(metric=as_required).colour == "red"
    assert run.colour == "red"


def test_submitting_through_the_services_with_an_as_required_question_blank_gives_no_red(
    world, catalogue, q2, as_required
):
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    submit_through_services(world, catalogue, draft, ALL_GREEN)
    run = compute_return_rag(draft)
    assert run.answers.get(metric=as_required).colour == "none"
    assert run.colour == "green"


# Which period a direction compares with


@pytest.fixture
def q4_before(db):
    return make_period(2024, 4)  # Q4 2024/25, the quarter before Q1 2025/26


def count_status(world, catalogue, q2):
    provider_return = submit_directly(world.riverside, q2, ANSWERS, by=world.riverside_lead)  # 2 allegations
    return compute_return_rag(provider_return).answers.get(metric=catalogue.allegations), provider_return


def test_a_count_is_compared_with_the_immediately_previous_period(world, catalogue, q4_before, q1, q2, as_person):
    submit_directly(world.riverside, q4_before, {**ANSWERS, "ALLEGATIONS": {"count": "12"}}, by=world.riverside_lead)
    submit_directly(world.riverside, q1, {**ANSWERS, "ALLEGATIONS": {"count": "1"}}, by=world.riverside_lead)
    submit_directly(world.riverside, q1, {**ANSWERS, "ALLEGATIONS": {"count": "5"}}, by=world.riverside_lead)  # revised
    status, _ = count_status(world, catalogue, q2)
    assert (status.value, status.direction) == ("2, 5 the period before", "down")


NOTHING_IN_Q1 = {**ANSWERS, "ALLEGATIONS": {"count": None}, "DBS": {"numerator": None, "denominator": None}}


@pytest.mark.parametrize("q1_answers", [None, NOTHING_IN_Q1])
def test_when_the_previous_period_has_no_figure_the_older_one_is_named_never_called_the_period_before(
    world, catalogue, q4_before, q1, q2, as_person, q1_answers
):
    submit_directly(
        world.riverside, q4_before, {**ANSWERS, "ALLEGATIONS": {"count": "12"}, "DBS": {"numerator": "90",
        "denominator": "100"}}, by=world.riverside_lead,
    )  # fmt: skip
    if q1_answers is not None:  # Q1 submitted, the count and the percentage left unanswered
        submit_directly(world.riverside, q1, q1_answers, by=world.riverside_lead)
    status, provider_return = count_status(world, catalogue, q2)
    assert status.value == "2, 12 in Q4 2024/25 (the period before has no figure)"
    assert "the period before" not in status.value.replace("the period before has no figure", "")
    assert status.direction == "down"
    dbs = RagRun.objects.get(provider_return=provider_return, is_current=True).answers.get(metric=catalogue.dbs)
    assert dbs.direction == ""  # a percentage is given a direction only against the period before

    page = text_of(
        as_person("newham_nurse").get(reverse("reviews:answer_review", args=[provider_return.pk, "ALLEGATIONS"]))
    )
    assert "2, 12 in Q4 2024/25 (the period before has no figure)" in page
    if q1_answers is None:
        assert "No answer submitted for the quarter before" in page


def test_with_no_earlier_figure_a_count_has_no_direction(world, catalogue, q1, q2):
    status, _ = count_status(world, catalogue, q2)
    assert (status.value, status.direction) == ("2", "")


# Statuses stored before the rules changed


def test_recompute_rag_judges_statuses_stored_under_older_rules_again(world, catalogue, q2):
    answers = {**ALL_GREEN, "DBS": {"numerator": "1999", "denominator": "2000"}}
    provider_return = submit_directly(world.riverside, q2, answers, by=world.riverside_lead)
    first = compute_return_rag(provider_return)
    # As the rounding rules stored it: 99.95% rounded to 100.0%, green.
    RagRun.objects.filter(pk=first.pk).update(fingerprint="judged by the rounding rules", colour="green")
    first.answers.filter(metric=catalogue.dbs).update(
        colour="green", value="100% (1999 of 2000)", rule="at or above the threshold of 100%"
    )
    out = io.StringIO()

    call_command("recompute_rag", stdout=out)

    assert out.getvalue().strip() == "Judged 1 submitted returns again; 1 had a status that changed."
    run = RagRun.objects.get(provider_return=provider_return, is_current=True)
    assert run.pk != first.pk and run.colour == "amber"
    assert run.answers.get(metric=catalogue.dbs).value == "99.9% (1999 of 2000)"
    call_command("recompute_rag", stdout=out)
    assert "1 submitted returns again; 0 had a status that changed." in out.getvalue()
