"""Completeness, action plans and the choice of a committee report for the whole ICB or one of its places.

Newham and Hackney are places of NHS North East London ICB: Riverside is on Newham's contract, Eastway on
Hackney's (Newham an associate). An ICB's people choose the whole ICB (every place's providers) or one place; a
place's people are offered their place alone; more places and providers ask no more queries.
"""

import pytest
from django.urls import reverse

from tests.reviews.fixtures import submit_directly, submitted  # noqa: F401
from tests.reviews.test_dashboard_pages import COMPLETENESS, more_places, quarter, queries_for  # noqa: F401
from tests.reviews.test_review_pages import main_text, plan

ACTIONS = "/reviews/actions/"
REPORTS = "/reviews/reports/"


def whole_icb_and_places(icbs) -> list:
    return [
        (icbs.nel.pk, "NHS North East London ICB: the whole ICB"),
        (icbs.hackney.pk, icbs.hackney.name),
        (icbs.newham.pk, icbs.newham.name),
    ]


def test_the_action_list_is_at_its_address():
    assert reverse("reviews:action_list") == ACTIONS and reverse("reviews:report_list") == REPORTS


# Completeness


def completeness_names(response) -> list[str]:
    return [row.row.provider_name for row in response.context["rows"]]


def test_completeness_for_the_whole_icb_shows_every_places_providers_and_one_place_narrows_to_its_own(
    as_person, icbs, quarter
):
    client = as_person("nel_nurse")
    whole = client.get(COMPLETENESS, {"commissioner": icbs.nel.pk})
    assert sorted(completeness_names(whole)) == sorted([icbs.eastway.name, icbs.riverside.name])
    hackney = client.get(COMPLETENESS, {"commissioner": icbs.hackney.pk})
    assert completeness_names(hackney) == [icbs.eastway.name]
    assert icbs.chalk_hills.name not in main_text(whole)  # Luton's, of another ICB
    assert whole.context["filter_form"].fields["commissioner"].choices[1] == (
        "NHS North East London ICB",
        whole_icb_and_places(icbs),
    )


def test_completeness_offers_a_place_person_only_their_place(as_person, icbs, quarter):
    client = as_person("newham_nurse")
    form = client.get(COMPLETENESS).context["filter_form"]
    assert form.fields["commissioner"].choices == [("", "All commissioners"), (icbs.newham.pk, icbs.newham.name)]
    for other in (icbs.nel, icbs.hackney):
        refused = client.get(COMPLETENESS, {"commissioner": other.pk})
        assert "There is no such commissioner." in refused.content.decode()
        assert "rows" not in refused.context


@pytest.mark.parametrize("url", [COMPLETENESS, ACTIONS])
@pytest.mark.parametrize("chosen", ["nel", "newham"])
def test_completeness_and_action_plans_by_icb_or_place_ask_the_same_queries_for_2_and_5_places(
    as_person, icbs, catalogue, quarter, url, chosen
):
    client = as_person("nel_nurse")
    data = {"commissioner": getattr(icbs, chosen).pk}
    more_places(icbs, catalogue, quarter, 1, 1)
    few = queries_for(client, url, data)
    more_places(icbs, catalogue, quarter, 3, 4)
    many = queries_for(client, url, data)
    assert few == many, f"{url} for {chosen}: {few} queries with 2 places, {many} with 5"


# Action plans


@pytest.fixture
def plans(icbs, catalogue, quarter):
    """An overdue action in Riverside's plan (Newham's contract) and one in Eastway's (Hackney's)."""
    plan(icbs.riverside_return, ("Riverside: re-audit staff files", -3))
    plan(icbs.eastway_return, ("Eastway: train the panel", 10))
    chalk_hills = submit_directly(icbs.chalk_hills, quarter, by=icbs.administrator)
    plan(chalk_hills, ("Chalk Hills: review the policy", 20))
    return icbs


def test_action_plans_for_the_whole_icb_show_every_places_and_one_place_only_its_own(as_person, plans):
    client = as_person("nel_nurse")
    response = client.get(ACTIONS)
    assert response.context["commissioners"] == whole_icb_and_places(plans)
    everything = main_text(response)
    assert "Riverside: re-audit" in everything and "Eastway: train" in everything
    assert "Chalk Hills" not in everything
    whole = main_text(client.get(ACTIONS, {"commissioner": plans.nel.pk}))
    assert "Riverside: re-audit" in whole and "Eastway: train" in whole and "2 actions" in whole
    hackney = main_text(client.get(ACTIONS, {"commissioner": plans.hackney.pk}))
    assert "Eastway: train" in hackney and "Riverside: re-audit" not in hackney
    assert "1 action" in hackney and "Clear the filters" in hackney
    html = client.get(ACTIONS, {"commissioner": plans.hackney.pk}).content.decode()
    assert f'<option value="{plans.hackney.pk}" selected>{plans.hackney.name}</option>' in html
    assert '<label class="label" for="id_commissioner">Commissioner</label>' in html


def test_action_plans_offer_a_place_person_only_their_place_and_ignore_a_sibling(as_person, plans):
    client = as_person("newham_nurse")
    response = client.get(ACTIONS)
    assert response.context["commissioners"] == [(plans.newham.pk, plans.newham.name)]
    for other in (plans.nel, plans.hackney, plans.luton):
        asked = client.get(ACTIONS, {"commissioner": other.pk})
        assert asked.context["commissioner"] == ""  # not theirs to choose: every action they may see, no more
        assert "Chalk Hills" not in main_text(asked)


def test_a_providers_people_are_offered_no_commissioner(as_person, plans):
    response = as_person("riverside_lead").get(ACTIONS)
    assert response.context["commissioners"] == []
    assert 'id="id_commissioner"' not in response.content.decode()


# The committee report's choice


def test_the_committee_report_offers_an_icbs_people_the_whole_icb_and_each_place(as_person, icbs):
    form = as_person("nel_committee").get(REPORTS).context["committee_form"]
    assert form.fields["commissioner"].choices == [("", "Choose a commissioner"), *whole_icb_and_places(icbs)]
    html = as_person("nel_committee").get(REPORTS).content.decode()
    assert f'<option value="{icbs.nel.pk}">NHS North East London ICB: the whole ICB</option>' in html


def test_the_committee_report_offers_a_place_person_only_their_place_and_refuses_the_icb(as_person, icbs, quarter):
    client = as_person("newham_committee")
    form = client.get(REPORTS).context["committee_form"]
    assert form.fields["commissioner"].choices == [("", "Choose a commissioner"), (icbs.newham.pk, icbs.newham.name)]
    assert form.initial["commissioner"] == icbs.newham.pk  # the only one, chosen already
    for other in (icbs.nel, icbs.hackney):
        refused = client.post(
            reverse("reviews:report_request"),
            {"kind": "committee", "committee-commissioner": other.pk, "committee-period": quarter.pk},
        )
        assert "Choose the commissioner the committee report is for." in refused.content.decode()


def test_the_reports_page_says_what_a_whole_icbs_report_and_a_places_hold(as_person, icbs):
    text = main_text(as_person("nel_committee").get(REPORTS))
    assert "For a whole ICB, each place's figures side by side; for one place, that place's providers alone." in text
