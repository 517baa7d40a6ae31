"""The dashboard by framework: worst first, sorted and paged in SQL, with totals and exceptions over every matching
provider, a framework's drill-down, and the same number of statements for 3 providers or 30, on any page."""

import datetime

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from returns.services import open_return
from reviews.dashboard import (
    OVERDUE_RETURN,
    RED_ANSWER,
    DashboardFilters,
    framework_cell,
    framework_dashboard,
    framework_drill_down,
)
from reviews.services import compute_return_rag
from tests.reviews.fixtures import (  # noqa: F401
    AFTER_Q2_DEADLINE,
    ANSWERS,
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
    world.eastway_return = submit_directly(world.eastway, q2, RED_DBS, by=world.eastway_lead, late=True)
    open_return(world.chalk_hills, q2, by=world.administrator)
    compute_return_rag(submitted)
    compute_return_rag(world.eastway_return)
    return q2


def board(person, period, today=AFTER_Q2_DEADLINE, **kwargs):
    filters = {name: kwargs.pop(name) for name in list(kwargs) if name in DashboardFilters.__dataclass_fields__}
    return framework_dashboard(person, DashboardFilters(period, **filters), today=today, **kwargs)


def names(rows):
    return [row.provider_name for row in rows]


def test_each_provider_has_one_cell_a_framework_with_its_worst_colour_and_counts_worst_first(world, catalogue, quarter):
    result = board(world.administrator, quarter)
    assert [(f.code, f.short_name) for f in result.frameworks] == [("test-returns", catalogue.framework.short_name)]
    rows = result.providers[0:50]
    assert names(rows) == [world.chalk_hills.name, world.eastway.name, world.riverside.name]  # overdue, red, amber
    chalk_hills, eastway, riverside = rows

    cell = riverside.cells["test-returns"]
    assert (cell.colour, cell.label, cell.counts, cell.answers) == (
        "amber",
        "Amber",
        {"red": 0, "amber": 1, "green": 2},
        7,  # with those given no colour
    )
    assert cell.counts_text == "0 red, 1 amber, 2 green"
    assert cell.explanation == "1 amber, 2 green: the worst colour, amber, is shown"
    assert (riverside.state.label, riverside.overall.label, riverside.standing) == ("On time", "Amber", "amber")
    assert riverside.counts == {"red": 0, "amber": 1, "green": 2}

    assert (eastway.state.label, eastway.overall.label, eastway.cells["test-returns"].colour) == ("Late", "Red", "red")
    assert (chalk_hills.state.label, chalk_hills.overall.colour, chalk_hills.cells) == ("Overdue", "overdue", {})
    assert chalk_hills.overall.explanation == (
        "A draft was started but not submitted by the deadline of 31 October 2025."
    )


def test_totals_count_every_matching_provider_and_each_framework(world, catalogue, quarter):
    result = board(world.administrator, quarter)
    assert result.totals == {
        "overdue": 1,
        "red": 1,
        "amber": 1,
        "green": 0,
        "none": 0,
        "not_computed": 0,
        "not_yet": 0,
    }
    assert result.matching == 3 and len(result.providers) == 3
    assert result.framework_totals == {"test-returns": {"red": 1, "amber": 1, "green": 0}}


def test_the_exceptions_are_overdue_returns_then_red_answers_filterable_by_kind_and_framework(
    world, catalogue, quarter
):
    result = board(world.administrator, quarter)
    assert result.exceptions.counts == {RED_ANSWER: 1, OVERDUE_RETURN: 1}
    found = result.exceptions[0:50]
    assert [(e.kind, e.provider_name, e.metric_code) for e in found] == [
        ("overdue", world.chalk_hills.name, ""),
        ("red", world.eastway.name, "DBS"),
    ]
    assert found[0].explanation == "A draft was started but not submitted by the deadline of 31 October 2025."
    assert found[1].explanation == (
        "50.0% (50 of 100); threshold green from 100%, amber from 95%; below the tolerance band, which starts at 95%"
    )
    assert found[1].framework == catalogue.framework.short_name
    only_red = board(world.administrator, quarter, exception_kind=RED_ANSWER).exceptions
    assert [e.kind for e in only_red[0:50]] == ["red"] and len(only_red) == 1
    other_framework = board(world.administrator, quarter, exception_framework="another").exceptions
    assert [e.kind for e in other_framework[0:50]] == ["overdue"]


def test_before_the_deadline_a_missing_return_is_not_yet_due_and_listed_last(world, catalogue, quarter):
    result = board(world.administrator, quarter, today=datetime.date(2025, 10, 20))
    rows = result.providers[0:50]
    assert names(rows) == [world.eastway.name, world.riverside.name, world.chalk_hills.name]
    assert (rows[-1].state.label, rows[-1].overall.label) == ("Not yet submitted", "Not yet submitted")
    assert result.totals["not_yet"] == 1 and result.exceptions.counts == {RED_ANSWER: 1, OVERDUE_RETURN: 0}


@pytest.mark.parametrize(
    "sort,descending,order",
    [
        ("status", False, ["chalk_hills", "eastway", "riverside"]),
        ("status", True, ["riverside", "eastway", "chalk_hills"]),
        ("name", False, ["chalk_hills", "eastway", "riverside"]),
        ("name", True, ["riverside", "eastway", "chalk_hills"]),
        ("framework-test-returns", False, ["eastway", "riverside", "chalk_hills"]),  # red, amber, then no status
        ("framework-test-returns", True, ["chalk_hills", "riverside", "eastway"]),
    ],
)
def test_rows_sort_by_status_name_or_a_frameworks_colour(world, quarter, sort, descending, order):
    result = board(world.administrator, quarter, sort=sort, descending=descending)
    assert names(result.providers[0:50]) == [getattr(world, name).name for name in order]


@pytest.mark.parametrize(
    "filters,shown",
    [
        ({"status": "red"}, ["eastway"]),
        ({"status": "overdue"}, ["chalk_hills"]),
        ({"status": "green"}, []),
        ({"search": "river"}, ["riverside"]),
        ({"provider_type": "care-home"}, []),
        ({"framework": "another"}, []),
    ],
)
def test_filters_narrow_the_rows(world, quarter, filters, shown):
    result = board(world.administrator, quarter, **filters)
    assert names(result.providers[0:50]) == [getattr(world, name).name for name in shown]


def test_the_status_filter_keeps_the_totals_of_every_status(world, quarter):
    result = board(world.administrator, quarter, status="red")
    assert result.totals["amber"] == 1 and len(result.providers) == 1
    assert [e.kind for e in result.exceptions[0:50]] == ["red"]  # the exceptions of the providers listed


def test_the_commissioner_filter_narrows_to_its_contracts(world, quarter):
    result = board(world.administrator, quarter, commissioner=world.hackney)
    assert names(result.providers[0:50]) == [world.eastway.name]


@pytest.mark.parametrize(
    "person,seen",
    [
        ("newham_nurse", ["eastway", "riverside"]),
        ("newham_committee", ["eastway", "riverside"]),
        ("luton_nurse", ["chalk_hills"]),
        ("riverside_lead", ["riverside"]),
        ("stranger", []),
    ],
)
def test_each_person_sees_only_the_providers_they_may(world, quarter, person, seen):
    result = board(getattr(world, person), quarter)
    assert sorted(names(result.providers[0:50])) == sorted(getattr(world, name).name for name in seen)
    assert {e.provider_name for e in result.exceptions[0:50]} <= {getattr(world, name).name for name in seen}
    assert result.matching == len(seen)


def test_a_framework_cell_says_when_nothing_there_is_given_a_colour_or_nothing_is_asked():
    assert framework_cell(0, 0, 0, 4).label == "No colour"
    assert "None of its 4 answers here is given a colour" in framework_cell(0, 0, 0, 4).explanation
    assert (framework_cell(0, 0, 0, 0).colour, framework_cell(0, 0, 0, 0).label) == ("not_asked", "Not asked")


def test_the_drill_down_shows_a_frameworks_standards_and_groups_for_the_same_providers(world, catalogue, quarter):
    result = framework_drill_down(
        world.newham_nurse, DashboardFilters(quarter), "test-returns", today=AFTER_Q2_DEADLINE
    )
    assert [(c.kind, c.label) for c in result.columns] == [("standard", "Standard 1"), ("group", "Training")]
    rows = result.providers[0:50]
    assert names(rows) == [world.eastway.name, world.riverside.name]
    riverside = rows[1]
    standard, group = (c.key for c in result.columns)
    assert riverside.details[standard].colour == "amber"
    assert riverside.details[group].explanation == "1 amber, 2 green: the worst colour, amber, is shown"
    assert rows[0].details[standard].label == "Red"
    assert framework_drill_down(world.newham_nurse, DashboardFilters(quarter), "another") is None


# Statements


def build(world, catalogue, period, count: int):
    """``count`` providers for Newham: a third on time, a third late with a red answer, a third overdue."""
    providers = providers_of(world.newham, catalogue.framework, count, prefix=f"N{count:02d}")
    for n, provider in enumerate(providers):
        if n % 3 == 0:
            compute_return_rag(submit_directly(provider, period, by=world.administrator))
        elif n % 3 == 1:
            compute_return_rag(submit_directly(provider, period, RED_DBS, by=world.administrator, late=True))
    return providers


def statements(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def read_two_pages(person, period, **kwargs):
    result = board(person, period, **kwargs)
    rows = Paginator(result.providers, 5)
    exceptions = Paginator(result.exceptions, 5)
    return [rows.get_page(1), rows.get_page(2), exceptions.get_page(1), exceptions.get_page(99)]


@pytest.mark.parametrize("kwargs", [{}, {"sort": "framework-test-returns", "status": "red", "search": "provider"}])
def test_the_dashboard_asks_the_same_statements_for_3_and_30_providers_on_any_page(world, catalogue, q2, kwargs):
    build(world, catalogue, q2, 3)
    few = statements(lambda: read_two_pages(world.newham_nurse, q2, **kwargs))
    build(world, catalogue, q2, 27)
    many = statements(lambda: read_two_pages(world.newham_nurse, q2, **kwargs))
    # The frameworks and the summary (totals, each framework's totals, the exceptions' counts); two for each page
    # of rows and one for each page of exceptions.
    assert few == many == 2 + 2 * 2 + 2


def test_pages_hold_the_providers_in_order_and_a_page_out_of_range_shows_the_last(world, catalogue, q2):
    build(world, catalogue, q2, 30)
    result = board(world.newham_nurse, q2, sort="name")
    pages = Paginator(result.providers, 10)
    assert pages.count == 30 + 1  # and Riverside, not yet submitted
    seen = [row.provider_name for number in pages.page_range for row in pages.page(number)]
    assert seen == sorted(seen) and len(seen) == 31
    assert pages.get_page(99).number == 4 and len(pages.get_page(99)) == 1


def test_the_drill_down_asks_the_same_statements_for_3_and_30_providers(world, catalogue, q2):
    def drill():
        result = framework_drill_down(world.newham_nurse, DashboardFilters(q2), "test-returns")
        Paginator(result.providers, 5).get_page(2)

    build(world, catalogue, q2, 3)
    few = statements(drill)
    build(world, catalogue, q2, 27)
    assert few == statements(drill) == 2 + 2 + 4
