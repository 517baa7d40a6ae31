"""Administrators record once that a CCG became a place of an ICB: the name then is kept, nothing else changes."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from providers.models import Organisation, OrganisationName, Role
from providers.scoping import provider_ids
from providers.services import merge_into_icb, place_name
from tests.providers.factories import CommissionerFactory, member

JULY_2022 = datetime.date(2022, 7, 1)


@pytest.fixture
def nel(world):
    return CommissionerFactory(name="NHS North East London ICB", ods_code="QMF")


def test_a_ccg_merged_into_an_icb_becomes_its_place_and_keeps_its_name_until_the_day_before(world, nel):
    place = merge_into_icb(world.newham, nel, on=JULY_2022, by=world.administrator)
    assert place.parent == nel and place.name == "NHS North East London ICB: Newham" and place.ods_code == "08M"
    former = place.former_names.get()
    assert (former.name, former.ods_code, former.in_force_from, former.in_force_until) == (
        "NHS Newham CCG", "08M", None, datetime.date(2022, 6, 30),
    )  # fmt: skip
    assert place.name_on(datetime.date(2022, 6, 30)) == "NHS Newham CCG"
    assert place.name_on(JULY_2022) == "NHS North East London ICB: Newham"
    latest = place.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        world.administrator,
        "Made a place of NHS North East London ICB on 1 July 2022",
    )
    assert former.history.get().history_user == world.administrator


def test_its_people_keep_their_providers_and_the_icbs_people_gain_them(world, nel):
    nel_nurse = member(nel, Role.DESIGNATED_PROFESSIONAL, username="nel-nurse")
    assert set(Organisation.objects.filter(pk__in=provider_ids(nel_nurse, "review"))) == set()
    merge_into_icb(world.newham, nel, on=JULY_2022, by=world.administrator, name="Newham", ods_code="a1b2")
    reviewed = {world.riverside, world.eastway}
    assert set(Organisation.objects.filter(pk__in=provider_ids(nel_nurse, "review"))) == reviewed
    assert set(Organisation.objects.filter(pk__in=provider_ids(world.newham_nurse, "review"))) == reviewed
    world.newham.refresh_from_db()
    assert (world.newham.name, world.newham.ods_code) == ("Newham", "A1B2")


def test_a_second_change_starts_the_day_after_the_first(world, nel):
    OrganisationName.objects.create(
        organisation=world.newham, name="Newham PCT", ods_code="5C5", in_force_until=datetime.date(2013, 3, 31)
    )
    place = merge_into_icb(world.newham, nel, on=JULY_2022, by=world.administrator)
    assert place.former_names.get(name="NHS Newham CCG").in_force_from == datetime.date(2013, 4, 1)
    assert place.name_on(datetime.date(2013, 3, 31)) == "Newham PCT"


def test_only_an_administrator_records_a_change_of_organisation(world, nel):
    with pytest.raises(PermissionDenied):
        merge_into_icb(world.newham, nel, on=JULY_2022, by=world.newham_admin)
    world.newham.refresh_from_db()
    assert world.newham.parent is None and not world.newham.former_names.exists()


@pytest.mark.parametrize(
    "case,field",
    [("place_of_a_place", "icb"), ("icb_with_places", "ccg"), ("provider", "ccg"), ("itself", "icb"),
     ("day_too_early", "on"), ("code_taken", "ods_code")],
)  # fmt: skip
def test_a_change_that_breaks_the_hierarchy_is_refused_in_plain_english(world, nel, case, field):
    ccg, icb, kwargs = world.newham, nel, {}
    if case == "place_of_a_place":
        icb = merge_into_icb(world.hackney, nel, on=JULY_2022, by=world.administrator)
    elif case == "icb_with_places":
        merge_into_icb(world.hackney, nel, on=JULY_2022, by=world.administrator)
        ccg, icb = nel, world.luton
    elif case == "provider":
        ccg = world.riverside
    elif case == "itself":
        icb = ccg
    elif case == "day_too_early":
        OrganisationName.objects.create(organisation=ccg, name="Old", ods_code="5C5", in_force_until=JULY_2022)
    elif case == "code_taken":
        kwargs["ods_code"] = world.luton.ods_code
    with pytest.raises(ValidationError) as refused:
        merge_into_icb(ccg, icb, on=JULY_2022, by=world.administrator, **kwargs)
    assert field in refused.value.message_dict
    assert ccg.former_names.filter(in_force_until=datetime.date(2022, 6, 30)).count() == 0


def test_place_names_drop_the_ccg_words():
    icb = Organisation(name="NHS Bedfordshire, Luton and Milton Keynes ICB")
    assert place_name("NHS Luton CCG", icb) == "NHS Bedfordshire, Luton and Milton Keynes ICB: Luton"


def test_the_admin_action_asks_for_the_icb_and_the_day_then_records_the_change(client, world, nel):
    client.force_login(world.administrator)
    url = reverse("admin:providers_organisation_changelist")
    chosen = {"action": "merge_into_icb", ACTION_CHECKBOX_NAME: [world.newham.pk]}
    form = client.post(url, chosen)
    assert form.status_code == 200
    page = form.content.decode()
    assert "Merge NHS Newham CCG into an ICB as a place" in page
    assert f'<option value="{nel.pk}">' in page and f'<option value="{world.newham.pk}">' not in page
    wrong = client.post(url, {**chosen, "apply": "1", "icb": nel.pk, "on": "not a day"})
    assert wrong.status_code == 200 and "Enter a valid date" in wrong.content.decode()
    done = client.post(url, {**chosen, "apply": "1", "icb": nel.pk, "on": "2022-07-01", "name": "", "ods_code": ""})
    assert done.status_code == 302
    world.newham.refresh_from_db()
    assert world.newham.parent == nel and world.newham.name_on(datetime.date(2022, 6, 30)) == "NHS Newham CCG"
