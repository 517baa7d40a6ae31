"""One mechanism decides what each person sees: their organisations and, for commissioners, contracted providers."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import Contract, Membership, Organisation, OrganisationUserObjectPermission, Role
from providers.scoping import provider_ids, restrict_by_provider
from tests.providers.factories import CommissionerFactory, ContractFactory, MembershipFactory


def names(queryset):
    return sorted(o.name.split()[0] if o.name.startswith("NHS") is False else o.name for o in queryset)


def visible(user, action="view"):
    return set(Organisation.objects.restrict(user, action))


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"newham", "riverside", "eastway"}),
        ("newham_committee", {"newham", "riverside", "eastway"}),
        ("hackney_admin", {"hackney", "eastway"}),
        ("luton_nurse", {"luton", "chalk_hills"}),
        ("riverside_contributor", {"riverside"}),
        ("riverside_lead", {"riverside"}),
        ("eastway_lead", {"eastway"}),
        ("stranger", set()),
    ],
)
def test_each_person_sees_their_organisations_and_the_providers_they_commission(world, person, expected):
    assert visible(getattr(world, person)) == {getattr(world, name) for name in expected}


def test_anonymous_and_inactive_people_see_nothing(world):
    assert visible(AnonymousUser()) == set()
    world.newham_nurse.is_active = False
    world.newham_nurse.save()
    assert visible(world.newham_nurse) == set()
    assert set(Contract.objects.restrict(world.newham_nurse)) == set()


def test_administrators_see_everything(world):
    assert visible(world.administrator) == set(Organisation.objects.all())


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"riverside_contract", "eastway_contract"}),
        ("hackney_admin", {"eastway_contract"}),
        ("luton_nurse", {"chalk_hills_contract"}),
        ("riverside_lead", {"riverside_contract"}),
        ("stranger", set()),
    ],
)
def test_contracts_are_seen_by_their_provider_and_every_commissioner_on_them(world, person, expected):
    assert set(Contract.objects.restrict(getattr(world, person))) == {getattr(world, name) for name in expected}


def test_only_the_coordinating_commissioners_admins_manage_a_contract(world):
    assert set(Contract.objects.restrict(world.newham_admin, "manage_contracts")) == {world.riverside_contract}
    assert set(Contract.objects.restrict(world.hackney_admin, "manage_contracts")) == {world.eastway_contract}
    assert set(Contract.objects.restrict(world.newham_nurse, "manage_contracts")) == set()


@pytest.mark.parametrize(
    "person,action,expected",
    [
        ("riverside_contributor", "edit_return", {"riverside"}),
        ("riverside_contributor", "submit_return", set()),
        ("riverside_lead", "submit_return", {"riverside"}),
        ("newham_nurse", "edit_return", set()),
        ("newham_nurse", "review", {"riverside", "eastway"}),
        ("newham_committee", "review", set()),
        ("newham_committee", "view_assurance", {"riverside", "eastway"}),
        ("luton_nurse", "review", {"chalk_hills"}),
        ("riverside_lead", "review", set()),
        ("stranger", "view", set()),
    ],
)
def test_what_a_person_may_do_to_a_providers_business_follows_their_role(world, person, action, expected):
    providers = Organisation.objects.filter(pk__in=provider_ids(getattr(world, person), action))
    assert set(providers) == {getattr(world, name) for name in expected}


def test_things_belonging_to_a_provider_are_scoped_by_a_join(world):
    """Later apps restrict returns and answers through their provider; here contracts stand in for them."""
    seen = restrict_by_provider(Contract.objects.all(), world.riverside_lead)
    assert set(seen) == {world.riverside_contract}
    assert "JOIN" in str(seen.query) or "IN (SELECT" in str(seen.query)


def test_restricting_is_one_query_however_many_organisations(world):
    for _ in range(30):
        ContractFactory(coordinating=world.newham)
    with CaptureQueriesContext(connection) as queries:
        seen = list(Organisation.objects.restrict(world.newham_nurse))
    assert len(seen) == 33
    assert len(queries) == 1


def test_permissions_follow_roles_and_grow_with_people_not_with_data(world):
    lead = world.riverside_lead
    assert lead.has_perm("providers.submit_return", world.riverside)
    assert not lead.has_perm("providers.submit_return", world.eastway)
    before = OrganisationUserObjectPermission.objects.count()
    for _ in range(10):
        ContractFactory(provider=world.riverside, coordinating=world.newham)
    assert OrganisationUserObjectPermission.objects.count() == before

    Membership.objects.filter(user=lead, role=Role.PROVIDER_LEAD).delete()
    MembershipFactory(user=lead, organisation=world.riverside, role=Role.PROVIDER_CONTRIBUTOR)
    lead = type(lead).objects.get(pk=lead.pk)  # a fresh object: guardian caches permissions per instance
    assert not lead.has_perm("providers.submit_return", world.riverside)
    assert lead.has_perm("providers.edit_return", world.riverside)
    Membership.objects.filter(user=lead).delete()
    assert not OrganisationUserObjectPermission.objects.filter(user=lead).exists()
    assert visible(lead) == set()


# ICBs and their places: an ICB's people reach every place's providers by a join; a place's people their place's.


@pytest.mark.parametrize(
    "person,expected",
    [
        ("nel_nurse", {"nel", "newham", "hackney", "riverside", "eastway"}),
        ("nel_committee", {"nel", "newham", "hackney", "riverside", "eastway"}),
        ("newham_nurse", {"newham", "riverside", "eastway"}),
        ("hackney_all_roles", {"hackney", "eastway"}),
        ("blmk_nurse", {"blmk", "luton", "chalk_hills"}),
        ("luton_nurse", {"luton", "chalk_hills"}),
    ],
)
def test_an_icbs_people_see_its_places_and_their_providers_and_a_places_people_their_own(icbs, person, expected):
    assert visible(getattr(icbs, person)) == {getattr(icbs, name) for name in expected}


@pytest.mark.parametrize(
    "person,action,expected",
    [
        ("nel_nurse", "review", {"riverside", "eastway"}),
        ("nel_committee", "view_assurance", {"riverside", "eastway"}),
        ("nel_committee", "review", set()),
        ("hackney_all_roles", "review", {"eastway"}),
        ("hackney_all_roles", "view_assurance", {"eastway"}),
        ("blmk_nurse", "review", {"chalk_hills"}),
    ],
)
def test_what_icb_and_place_people_may_do_follows_the_hierarchy(icbs, person, action, expected):
    providers = Organisation.objects.filter(pk__in=provider_ids(getattr(icbs, person), action))
    assert set(providers) == {getattr(icbs, name) for name in expected}


def test_a_contract_held_by_the_icb_itself_is_seen_by_the_icb_and_by_no_place(icbs):
    held = ContractFactory(coordinating=icbs.nel)
    assert held in Contract.objects.restrict(icbs.nel_nurse)
    assert held.provider in visible(icbs.nel_nurse)
    for place_person in ("newham_nurse", "hackney_all_roles", "blmk_nurse"):
        assert held not in Contract.objects.restrict(getattr(icbs, place_person))
        assert held.provider not in visible(getattr(icbs, place_person))


def test_an_icbs_reach_is_a_join_not_a_permission_on_each_place(icbs):
    before = OrganisationUserObjectPermission.objects.filter(user=icbs.nel_nurse).count()
    for n in range(5):
        ContractFactory(coordinating=CommissionerFactory(ods_code=f"ZQ{n}", parent=icbs.nel))
    assert OrganisationUserObjectPermission.objects.filter(user=icbs.nel_nurse).count() == before
    assert (
        not OrganisationUserObjectPermission.objects.filter(user=icbs.nel_nurse)
        .exclude(content_object=icbs.nel)
        .exists()
    )
    assert len(provider_ids(icbs.nel_nurse, "review")) == 2 + 5


def test_an_icbs_sight_is_one_query_however_many_places_and_providers(icbs):
    for n in range(6):
        place = CommissionerFactory(ods_code=f"ZQ{n}", parent=icbs.nel)
        for _ in range(5):
            ContractFactory(coordinating=place)
    with CaptureQueriesContext(connection) as queries:
        seen = list(Organisation.objects.restrict(icbs.nel_nurse))
        contracts = list(Contract.objects.restrict(icbs.nel_nurse))
    assert len(seen) == 1 + 2 + 6 + 2 + 30 and len(contracts) == 2 + 30
    assert len(queries) == 2


def test_a_place_moved_to_another_icb_takes_its_providers_with_it(icbs):
    Organisation.objects.filter(pk=icbs.hackney.pk).update(parent=icbs.blmk)
    assert visible(icbs.blmk_nurse) == {icbs.blmk, icbs.luton, icbs.hackney, icbs.chalk_hills, icbs.eastway}
    assert icbs.hackney not in visible(icbs.nel_nurse)
    assert icbs.eastway in visible(icbs.nel_nurse)  # still through Newham, an associate on Eastway's contract
