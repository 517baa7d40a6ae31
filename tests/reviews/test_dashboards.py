"""Dashboards, completeness, trends and reminders: what each person sees, explained, in a fixed number of queries."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import Role
from returns.services import open_return, return_for_revision
from reviews.models import Reminder
from reviews.selectors import completeness, dashboard, trend
from reviews.services import compute_return_rag, override_status, send_reminders
from tests.providers.factories import member
from tests.reviews.fixtures import (  # noqa: F401
    AFTER_Q2_DEADLINE,
    ANSWERS,
    make_period,
    providers_of,
    submit_directly,
    submitted,
)

RED_DBS = {**ANSWERS, "DBS": {"numerator": "50", "denominator": "100"}}


@pytest.fixture
def quarter(world, catalogue, q2, submitted):
    """Riverside on time (amber), Eastway late with a red answer, Chalk Hills overdue with a draft."""
    world.eastway_contract.frameworks.set([catalogue.framework])
    world.chalk_hills_contract.frameworks.set([catalogue.framework])
    eastway = submit_directly(world.eastway, q2, RED_DBS, by=world.eastway_lead, late=True)
    open_return(world.chalk_hills, q2, by=world.administrator)
    compute_return_rag(submitted)
    compute_return_rag(eastway)
    return q2


def rows(result):
    return {row.provider_name: row for row in result.rows}


def test_the_dashboard_shows_each_providers_colours_state_and_exceptions(world, catalogue, quarter):
    result = dashboard(world.administrator, quarter, today=AFTER_Q2_DEADLINE)
    by_name = rows(result)
    assert list(by_name) == [world.chalk_hills.name, world.eastway.name, world.riverside.name]
    assert [(c.kind, c.label) for c in result.columns] == [("standard", "Standard 1"), ("group", "Training")]
    standard, group = (c.key for c in result.columns)

    riverside = by_name[world.riverside.name]
    assert (riverside.state.label, riverside.overall.colour) == ("On time", "amber")
    assert riverside.overall.explanation == "1 amber, 2 green: the worst colour, amber, is shown"
    assert riverside.cells[standard].colour == "amber"
    assert riverside.cells[group].explanation == "1 amber, 2 green: the worst colour, amber, is shown"
    assert riverside.counts == {"red": 0, "amber": 1, "green": 2}

    eastway = by_name[world.eastway.name]
    assert (eastway.state.label, eastway.overall.label) == ("Late", "Red")
    assert "after the deadline of 31 October 2025" in eastway.state.explanation

    chalk_hills = by_name[world.chalk_hills.name]
    assert (chalk_hills.state.label, chalk_hills.overall.label, chalk_hills.overall.colour) == (
        "Overdue",
        "Overdue",
        "overdue",
    )
    assert (
        chalk_hills.overall.explanation == "A draft was started but not submitted by the deadline of 31 October 2025."
    )
    assert chalk_hills.cells == {}

    assert result.totals == {"red": 1, "amber": 1, "green": 0, "none": 0, "overdue": 1, "not_yet": 0, "not_computed": 0}
    assert result.column_totals[standard] == {"red": 1, "amber": 1, "green": 0}
    assert [(e.kind, e.provider_name, e.metric_code) for e in result.exceptions] == [
        ("overdue", world.chalk_hills.name, ""),
        ("red", world.eastway.name, "DBS"),
    ]
    assert result.exceptions[1].explanation == (
        "50.0% (50 of 100); threshold green from 100%, amber from 95%; below the tolerance band, which starts at 95%"
    )


def test_before_the_deadline_a_missing_return_is_not_yet_due_and_not_an_exception(world, catalogue, quarter):
    result = dashboard(world.administrator, quarter, today=datetime.date(2025, 10, 20))
    chalk_hills = rows(result)[world.chalk_hills.name]
    assert (chalk_hills.state.label, chalk_hills.overall.colour) == ("Not yet submitted", "none")
    assert [e.kind for e in result.exceptions] == ["red"]


def test_a_reviewers_colour_is_what_the_dashboard_shows(world, catalogue, quarter, submitted):
    override_status(submitted, catalogue.dbs, by=world.newham_nurse, colour="red", reason="Agency staff.")
    compute_return_rag(submitted)
    riverside = rows(dashboard(world.newham_nurse, quarter, today=AFTER_Q2_DEADLINE))[world.riverside.name]
    assert riverside.overall.colour == "red"
    result = dashboard(world.newham_nurse, quarter, today=AFTER_Q2_DEADLINE)
    assert any(e.provider_name == world.riverside.name and "set to red by" in e.explanation for e in result.exceptions)


@pytest.mark.parametrize(
    "person,seen",
    [
        ("newham_nurse", ["eastway", "riverside"]),  # co-ordinates Riverside's contract, an associate on Eastway's
        ("newham_committee", ["eastway", "riverside"]),
        ("luton_nurse", ["chalk_hills"]),
        ("riverside_lead", ["riverside"]),  # a provider's own people see their own
        ("riverside_contributor", ["riverside"]),
        ("stranger", []),
    ],
)
def test_each_person_sees_only_the_providers_they_may(world, quarter, person, seen):
    result = dashboard(getattr(world, person), quarter, today=AFTER_Q2_DEADLINE)
    assert [row.provider_name for row in result.rows] == sorted(getattr(world, name).name for name in seen)
    shown = {e.provider_name for e in result.exceptions}
    assert shown <= {getattr(world, name).name for name in seen}


def test_the_dashboard_narrows_by_commissioner_type_and_framework(world, catalogue, quarter):
    by_hackney = dashboard(world.administrator, quarter, commissioner=world.hackney, today=AFTER_Q2_DEADLINE)
    assert [r.provider_name for r in by_hackney.rows] == [world.eastway.name]
    assert dashboard(world.administrator, quarter, provider_type="care-home", today=AFTER_Q2_DEADLINE).rows == []
    by_framework = dashboard(world.administrator, quarter, framework=catalogue.framework.code, today=AFTER_Q2_DEADLINE)
    assert rows(by_framework)[world.riverside.name].overall.explanation == (
        "1 amber, 2 green: the worst colour, amber, is shown"
    )
    assert dashboard(world.administrator, quarter, framework="another", today=AFTER_Q2_DEADLINE).rows == []


def build(world, catalogue, period, count: int):
    """``count`` providers for Newham: a third on time, a third late with a red answer, a third overdue."""
    providers = providers_of(world.newham, catalogue.framework, count, prefix=f"N{count:02d}")
    lead = world.administrator
    for n, provider in enumerate(providers):
        if n % 3 == 0:
            compute_return_rag(submit_directly(provider, period, by=lead))
        elif n % 3 == 1:
            compute_return_rag(submit_directly(provider, period, RED_DBS, by=lead, late=True))
    return providers


def queries(function, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        function(*args, **kwargs)
    return len(captured)


def test_the_dashboard_asks_the_same_number_of_queries_for_3_and_30_providers(world, catalogue, q2):
    build(world, catalogue, q2, 3)
    few = queries(dashboard, world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)
    build(world, catalogue, q2, 27)
    many = queries(dashboard, world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)
    assert len(dashboard(world.newham_nurse, q2, today=AFTER_Q2_DEADLINE).rows) == 30 + 1  # and Riverside
    assert few == many == 7
    assert queries(dashboard, world.newham_nurse, q2, framework=catalogue.framework.code) == 8


def test_completeness_asks_the_same_number_of_queries_for_3_and_30_providers(world, catalogue, q2):
    build(world, catalogue, q2, 3)
    few = queries(completeness, world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)
    build(world, catalogue, q2, 27)
    many = queries(completeness, world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)
    assert len(completeness(world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)) == 30 + 1
    assert few == many == 3


def test_completeness_says_who_is_on_time_late_or_not_yet_and_whom_to_remind(world, catalogue, quarter, submitted):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead", first_name="Ada", last_name="Lovelace")
    listed = {row.provider_name: row for row in completeness(world.administrator, quarter, today=AFTER_Q2_DEADLINE)}
    assert {name: (row.state, row.label, row.overdue) for name, row in listed.items()} == {
        world.riverside.name: ("on_time", "On time", False),
        world.eastway.name: ("late", "Late", False),
        world.chalk_hills.name: ("not_yet", "Draft", True),
    }
    assert [p.name for p in listed[world.chalk_hills.name].remind] == ["Ada Lovelace"]
    assert listed[world.riverside.name].remind == []

    return_for_revision(submitted, by=world.newham_nurse, comments="Please check.")
    riverside = next(r for r in completeness(world.newham_nurse, quarter) if r.provider_name == world.riverside.name)
    assert (riverside.state, riverside.label) == ("not_yet", "Returned for revision")
    assert [p.email for p in riverside.remind] == [world.riverside_lead.email]
    assert [r.provider_name for r in completeness(world.luton_nurse, quarter)] == [world.chalk_hills.name]


def test_the_trend_shows_eight_quarters_with_figures_colours_and_thresholds(world, catalogue, q1, q2):
    periods = [q1, q2, make_period(2025, 3), make_period(2025, 4)]
    periods += [make_period(2026, q) for q in (1, 2, 3, 4)] + [make_period(2024, 4)]
    for n, period in enumerate(periods[:8]):
        if n == 5:
            continue  # a quarter with nothing submitted
        answers = {**ANSWERS, "DBS": {"numerator": str(90 + n), "denominator": "100"}}
        provider_return = submit_directly(world.riverside, period, answers, by=world.riverside_lead)
        if n != 7:
            compute_return_rag(provider_return)  # the last is submitted but not computed yet

    result = trend(world.newham_nurse, world.riverside, "DBS", today=datetime.date(2027, 6, 1))
    assert [p.period for p in result.points] == [p.label for p in periods[:8]]
    assert [p.figure for p in result.points] == [Decimal(90 + n) if n != 5 else None for n in range(8)]
    assert [p.colour for p in result.points] == ["red"] * 5 + ["none", "amber", "none"]
    assert result.points[0].threshold == "green from 100%, amber from 95%"
    assert result.points[0].green_from == Decimal(100)
    assert result.points[5].explanation == "No return submitted."
    assert result.points[7].explanation == "Submitted; the status is being worked out."
    assert trend(world.luton_nurse, world.riverside, "DBS") is None
    assert trend(world.newham_nurse, world.riverside, "NO-SUCH-CODE") is None


def test_the_trend_asks_a_fixed_number_of_queries(world, catalogue, q1, q2):
    few = queries(trend, world.newham_nurse, world.riverside, "DBS", today=datetime.date(2025, 12, 1))
    for period in [make_period(2025, 3), make_period(2025, 4)] + [make_period(2026, q) for q in (1, 2, 3, 4)]:
        compute_return_rag(submit_directly(world.riverside, period, by=world.riverside_lead))
    many = queries(trend, world.newham_nurse, world.riverside, "DBS", today=datetime.date(2027, 6, 1))
    assert few == many


def test_reminders_go_to_the_leads_of_providers_still_missing_and_are_recorded(world, catalogue, quarter):
    second_lead = member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    sent = send_reminders(quarter, by=world.administrator, providers=[world.chalk_hills, world.riverside])
    assert [m.to for m in mail.outbox] == [[second_lead.email]]
    assert "Q2 2025/26" in mail.outbox[0].subject
    assert "was due by 31 October 2025 and is now overdue" in mail.outbox[0].body
    reminder = Reminder.objects.get()
    assert (reminder.provider, reminder.sent_by, reminder.recipients) == (
        world.chalk_hills,
        world.administrator,
        [second_lead.email],
    )
    assert sent.skipped == {world.riverside.name: "Its return has been submitted."}


def test_only_a_designated_professional_of_each_providers_commissioner_sends_reminders(world, catalogue, quarter):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    for person in ("newham_nurse", "newham_committee", "riverside_lead"):
        with pytest.raises(PermissionDenied):
            send_reminders(quarter, by=getattr(world, person), providers=[world.chalk_hills])
    sent = send_reminders(quarter, by=world.luton_nurse, providers=[world.chalk_hills])
    assert len(sent.sent) == 1 and len(mail.outbox) == 1
    assert mail.outbox[0].reply_to == [world.luton_nurse.email]
    assert world.luton.name in mail.outbox[0].body


def test_a_return_submitted_while_the_worker_was_away_says_its_status_is_not_computed_yet(world, q2, submitted):
    result = dashboard(world.newham_nurse, q2, today=AFTER_Q2_DEADLINE)
    riverside = rows(result)[world.riverside.name]
    assert (riverside.state.label, riverside.overall.label) == ("On time", "Not computed yet")
    assert riverside.cells == {} and result.totals["not_computed"] == 1
