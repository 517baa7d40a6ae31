"""Trends and reports show a commissioner a provider's quarters only from the start of an accepted contract.

Newham's contract with Riverside here starts on 1 July 2025, after Q1 (April to June) ended; Riverside submitted
returns for Q1 and Q2. Riverside's own people see both quarters; Newham's see Q2 only.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from providers.models import Contract
from reviews import report_services
from reviews.models import KeyMeasure, ReportKind
from reviews.reports import key_measure_trends
from reviews.selectors import trend
from reviews.services import compute_return_rag
from tests.reviews.fixtures import ANSWERS, submit_directly

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 10, 15)


@pytest.fixture
def two_quarters(world, catalogue, q1, q2):
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks", position=0)
    for period in (q1, q2):
        compute_return_rag(submit_directly(world.riverside, period, ANSWERS, by=world.riverside_lead))
    Contract.objects.filter(pk=world.riverside_contract.pk).update(starts_on=datetime.date(2025, 7, 1))
    return q1, q2


def riverside(world) -> dict:
    return {
        "id": world.riverside.pk,
        "name": world.riverside.name,
        "provider_type_id": world.riverside.provider_type_id,
    }


def quarters_with_a_colour(trends, world) -> set[int]:
    points = trends["measures"][0]["by_provider"][str(world.riverside.pk)]["points"]
    return {point["period_id"] for point in points if point["colour"] != "none"}


@pytest.mark.parametrize(("person", "sees_q1"), [("newham_committee", False), ("riverside_lead", True)])
def test_a_reports_key_measure_trends_leave_out_quarters_before_the_contract(world, two_quarters, person, sees_q1):
    q1, q2 = two_quarters

    trends = key_measure_trends([riverside(world)], q2, by=getattr(world, person))

    assert quarters_with_a_colour(trends, world) == ({q1.pk, q2.pk} if sees_q1 else {q2.pk})


@pytest.mark.parametrize(("person", "sees_q1"), [("newham_nurse", False), ("riverside_lead", True)])
def test_the_trend_page_shows_a_commissioner_the_quarters_from_the_contracts_start(
    world, two_quarters, person, sees_q1
):
    q1, q2 = two_quarters

    shown = trend(getattr(world, person), world.riverside, "DBS", today=TODAY)

    assert [point.period_id for point in shown.points] == ([q1.pk, q2.pk] if sees_q1 else [q2.pk])


def test_a_provider_report_of_a_quarter_before_the_contract_is_refused(world, two_quarters):
    q1, q2 = two_quarters

    with pytest.raises(ValidationError) as refused:
        report_services.request_report(world.newham_nurse, kind=ReportKind.PROVIDER, period=q1, subject=world.riverside)
    assert refused.value.message_dict == {"provider": [report_services.NO_PROVIDER]}

    report = report_services.request_report(
        world.newham_nurse, kind=ReportKind.PROVIDER, period=q2, subject=world.riverside
    )
    assert report.pk
