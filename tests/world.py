"""A small world of three commissioners and three providers, with a person in each role, for any test to use."""

from types import SimpleNamespace

import pytest

from providers.models import Organisation, Role
from tests.factories import UserFactory
from tests.providers.factories import CommissionerFactory, ContractFactory, MembershipFactory, ProviderFactory, member


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    """Newham co-ordinates Riverside's contract and is an associate on Eastway's; Luton alone holds Chalk Hills'."""
    newham = CommissionerFactory(name="NHS Newham CCG", ods_code="08M")
    hackney = CommissionerFactory(name="NHS City and Hackney CCG", ods_code="07T")
    luton = CommissionerFactory(name="NHS Luton CCG", ods_code="06P")
    riverside = ProviderFactory(name="Riverside University Hospitals NHS Trust", ods_code="ZR1")
    eastway = ProviderFactory(name="Eastway Community Health NHS Trust", ods_code="ZC2")
    chalk_hills = ProviderFactory(name="Chalk Hills Community Services", ods_code="ZL3")
    w = SimpleNamespace(
        newham=newham,
        hackney=hackney,
        luton=luton,
        riverside=riverside,
        eastway=eastway,
        chalk_hills=chalk_hills,
        riverside_contract=ContractFactory(provider=riverside, coordinating=newham, reference="NEL-1"),
        eastway_contract=ContractFactory(
            provider=eastway, coordinating=hackney, associates=[newham], reference="NEL-2"
        ),
        chalk_hills_contract=ContractFactory(provider=chalk_hills, coordinating=luton, reference="LUT-1"),
    )
    w.newham_nurse = member(newham, Role.DESIGNATED_PROFESSIONAL, username="newham-nurse")
    w.newham_committee = member(newham, Role.COMMITTEE_MEMBER, username="newham-committee")
    w.newham_admin = member(newham, Role.COMMISSIONER_ADMIN, username="newham-admin")
    w.hackney_admin = member(hackney, Role.COMMISSIONER_ADMIN, username="hackney-admin")
    w.luton_nurse = member(luton, Role.DESIGNATED_PROFESSIONAL, username="luton-nurse")
    w.riverside_contributor = member(riverside, Role.PROVIDER_CONTRIBUTOR, username="riverside-contributor")
    w.riverside_lead = member(riverside, Role.PROVIDER_LEAD, username="riverside-lead")
    w.eastway_lead = member(eastway, Role.PROVIDER_LEAD, username="eastway-lead")
    w.stranger = UserFactory(username="stranger")
    w.administrator = UserFactory(username="administrator", is_superuser=True, is_staff=True)
    return w


@pytest.fixture
def as_person(client, world):
    """``as_person("newham_nurse")``: the test client, signed in as that person of the world (and no one else)."""

    def sign_in(name):
        client.logout()
        client.force_login(getattr(world, name))
        return client

    return sign_in


@pytest.fixture
def icbs(world):
    """The world as commissioners are organised today: Newham and Hackney are places of NHS North East London ICB,
    Luton a place of Bedfordshire, Luton and Milton Keynes ICB (BLMK). Adds ``nel_nurse`` and ``nel_committee``
    (of the ICB), ``hackney_all_roles`` (of the place Hackney, in every commissioner role) and ``blmk_nurse``."""

    w = world
    w.nel = CommissionerFactory(name="NHS North East London ICB", ods_code="QMF")
    w.blmk = CommissionerFactory(name="NHS Bedfordshire, Luton and Milton Keynes ICB", ods_code="QHG")
    Organisation.objects.filter(pk__in=[w.newham.pk, w.hackney.pk]).update(parent=w.nel)
    Organisation.objects.filter(pk=w.luton.pk).update(parent=w.blmk)
    for place in (w.newham, w.hackney, w.luton):
        place.refresh_from_db()
    w.nel_nurse = member(w.nel, Role.DESIGNATED_PROFESSIONAL, username="nel-nurse")
    w.nel_committee = member(w.nel, Role.COMMITTEE_MEMBER, username="nel-committee")
    w.nel_admin = member(w.nel, Role.COMMISSIONER_ADMIN, username="nel-admin")
    w.blmk_nurse = member(w.blmk, Role.DESIGNATED_PROFESSIONAL, username="blmk-nurse")
    w.hackney_all_roles = member(w.hackney, Role.DESIGNATED_PROFESSIONAL, username="hackney-all-roles")
    for role in (Role.COMMITTEE_MEMBER, Role.COMMISSIONER_ADMIN):
        MembershipFactory(user=w.hackney_all_roles, organisation=w.hackney, role=role)
    return w
