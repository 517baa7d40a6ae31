"""One mechanism decides what each person sees: their organisations and, for commissioners, contracted providers."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.models import Contract, Membership, Organisation, OrganisationUserObjectPermission, Role
from providers.scoping import provider_ids, restrict_by_provider
from tests.providers.factories import ContractFactory, MembershipFactory


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
