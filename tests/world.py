"""A small world of three commissioners and three providers, with a person in each role, for any test to use."""

from types import SimpleNamespace

import pytest

from providers.models import Role
from tests.factories import UserFactory
from tests.providers.factories import CommissionerFactory, ContractFactory, ProviderFactory, member


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
