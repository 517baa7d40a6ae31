"""A committee report for an ICB has a section per place, and a place's report is that place's alone.

Newham and Hackney are places of NHS North East London ICB: Riverside (amber) is on Newham's contract, Eastway (late,
one red answer) on Hackney's with Newham an associate; Chalk Hills is Luton's, of another ICB.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from providers.models import Organisation, OrganisationName
from reviews import report_parts, reports
from tests.reviews.fixtures import submitted  # noqa: F401
from tests.reviews.test_dashboard_pages import more_places
from tests.reviews.test_reports import pdf_pages, private_storage, quarter  # noqa: F401


def places_of(snapshot) -> list[tuple]:
    return [
        (p["name"], p["providers"], p["by_overall"]["red"], p["by_overall"]["amber"], p["red_answers"],
         p["overdue_returns"])
        for p in snapshot["by_place"]["places"]
    ]  # fmt: skip


@pytest.fixture
def icb_quarter(icbs, quarter):
    """Newham named as a place of the ICB since the day after the quarter ended, its CCG name a former name."""
    Organisation.objects.filter(pk=icbs.newham.pk).update(name="NHS North East London ICB: Newham", ods_code="QMF01")
    OrganisationName.objects.create(
        organisation=icbs.newham, name="NHS Newham CCG", ods_code="08M", in_force_until=quarter.ends_on
    )
    icbs.newham.refresh_from_db()
    return quarter


def test_an_icbs_committee_report_counts_each_place_by_its_name_then_and_the_annex_names_each_providers_places(
    icbs, icb_quarter, tmp_path
):
    full = reports.gather_committee(icbs.nel, icb_quarter, by=icbs.nel_committee)
    assert {p["name"] for p in full["providers"]} == {icbs.riverside.name, icbs.eastway.name}
    assert places_of(full) == [
        (icbs.hackney.name, 1, 1, 0, 1, 0),  # Eastway: red, one red answer
        ("NHS Newham CCG", 2, 1, 1, 1, 0),  # Riverside amber and Eastway red, by the name Newham had then
    ]
    assert {p["name"]: p["places"] for p in full["by_place"]["providers"]} == {
        icbs.eastway.name: [icbs.hackney.name, "NHS Newham CCG"],
        icbs.riverside.name: ["NHS Newham CCG"],
    }

    front = report_parts.front_snapshot(full)
    pages = pdf_pages(reports.render_pdf(front).pdf)
    text = " ".join(pages)
    assert "By place" in pages[1]  # in the contents
    assert "Each place of NHS North East London ICB" in text
    assert f"{icbs.hackney.name} 1 0 0 0 0 1 1 0" in text  # red, amber, green, overdue, other, providers, answers
    assert "NHS Newham CCG 1 1 0 0 0 2 1 0" in text

    path = tmp_path / "annex.xlsx"
    with open(path, "wb") as annex:
        report_parts.write_annex(report_parts.annex_snapshot(full), annex)
    rows = list(load_workbook(path, read_only=True)["Providers by place"].values)
    assert rows[0] == ("Place", "Provider", "ODS code", "Return", "Overall status", "Red answers")
    assert sorted((row[0], row[1], row[5]) for row in rows[1:]) == [
        (icbs.hackney.name, icbs.eastway.name, 1),
        ("NHS Newham CCG", icbs.eastway.name, 1),
        ("NHS Newham CCG", icbs.riverside.name, 0),
    ]


def test_contracts_held_by_the_icb_itself_are_a_row_of_their_own(icbs, icb_quarter):
    icbs.chalk_hills_contract.commissioner_links.filter(commissioner=icbs.luton).update(commissioner=icbs.nel)
    full = reports.gather_committee(icbs.nel, icb_quarter, by=icbs.nel_committee)
    assert places_of(full)[0] == ("NHS North East London ICB (its own contracts)", 1, 0, 0, 0, 1)  # overdue
    assert full["by_place"]["icb"] == "NHS North East London ICB"


@pytest.mark.parametrize("place", ["newham", "hackney"])
def test_a_places_committee_report_is_that_places_alone_without_a_section_by_place(icbs, icb_quarter, place):
    full = reports.gather_committee(getattr(icbs, place), icb_quarter, by=icbs.nel_committee)
    expected = {"newham": {icbs.riverside.name, icbs.eastway.name}, "hackney": {icbs.eastway.name}}[place]
    assert {p["name"] for p in full["providers"]} == expected
    assert full["by_place"] is None
    front = report_parts.front_snapshot(full)
    assert front["by_place"] is None
    assert "By place" not in " ".join(pdf_pages(reports.render_pdf(front).pdf))


def test_the_front_section_shows_at_most_front_places_and_says_how_many_more(icbs, icb_quarter, monkeypatch):
    monkeypatch.setattr(report_parts, "FRONT_PLACES", 1)
    front = report_parts.front_snapshot(reports.gather_committee(icbs.nel, icb_quarter, by=icbs.nel_committee))
    assert [p["name"] for p in front["by_place"]["places"]] == [icbs.hackney.name] and front["by_place"]["more"] == 1
    text = " ".join(pdf_pages(reports.render_pdf(front).pdf))
    assert "1 more place in the annex workbook" in text


def test_gathering_an_icbs_report_asks_the_same_number_of_queries_for_2_and_5_places(icbs, catalogue, icb_quarter):
    counts = []
    for places, each in ((0, 0), (3, 4)):
        more_places(icbs, catalogue, icb_quarter, places, each)
        with CaptureQueriesContext(connection) as captured:
            full = reports.gather_committee(icbs.nel, icb_quarter, by=icbs.nel_committee)
        counts.append(len(captured))
    assert len(full["by_place"]["places"]) == 5
    assert counts[0] == counts[1], counts


def test_a_report_gathered_before_places_were_reported_still_renders(icbs, icb_quarter):
    full = reports.gather_committee(icbs.nel, icb_quarter, by=icbs.nel_committee)
    del full["by_place"]
    assert report_parts.front_snapshot(full)["by_place"] is None
    assert report_parts.annex_snapshot(full)["by_place"] is None
