"""Django admin for organisations, contracts, people and invitations: pages load, rules hold, history is kept."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from providers.models import (
    CommissionerRole,
    Contract,
    Invitation,
    Membership,
    Organisation,
    Role,
)
from providers.services import invite

MODELS = [Organisation, Contract, Membership, Invitation, get_user_model()]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.administrator)
    return client


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_list_add_change_and_history_pages_load(admin_client, world, model):
    if model is Invitation:
        invite(by=world.newham_admin, organisation=world.newham, email="x@example.org", role=Role.COMMITTEE_MEMBER,
               base_url="http://testserver")  # fmt: skip
    obj = model.objects.first()
    urls = [
        admin_url(model, "changelist"),
        admin_url(model, "changelist") + "?q=Newham",
        admin_url(model, "change", obj.pk),
    ]
    urls.append(admin_url(model, "add"))
    if hasattr(model, "history"):
        urls.append(admin_url(model, "history", obj.pk))
    for url in urls:
        assert admin_client.get(url).status_code == 200, url


def organisation_form(**changes):
    data = {"name": "Kestrel Bridge Hospital", "ods_code": "zk1", "kind": "provider", "provider_type": "acute",
            "services": ["children"], "is_active": "on"}  # fmt: skip
    data.update({"memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0})
    data.update({"former_names-TOTAL_FORMS": 0, "former_names-INITIAL_FORMS": 0})
    data.update(changes)
    return data


def test_admin_makes_a_commissioner_a_place_with_its_former_name(admin_client, world):
    nel = Organisation.objects.create(name="NHS North East London ICB", ods_code="QMF", kind="commissioner")
    form = organisation_form(
        name="NHS North East London ICB: Newham", ods_code="08M", kind="commissioner", provider_type="", services=[],
        parent=nel.pk, **{"former_names-TOTAL_FORMS": 1, "former_names-0-name": "NHS Newham CCG",
                          "former_names-0-ods_code": "08m", "former_names-0-in_force_until": "2022-06-30"},
    )  # fmt: skip
    response = admin_client.post(admin_url(Organisation, "change", world.newham.pk), form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    world.newham.refresh_from_db()
    assert world.newham.parent == nel
    assert world.newham.name_on(datetime.date(2022, 6, 30)) == "NHS Newham CCG"
    assert world.newham.former_names.get().ods_code == "08M"
    assert world.newham.former_names.get().history.get().history_user == world.administrator


def test_admin_refuses_a_place_of_a_place_in_plain_english(admin_client, world):
    Organisation.objects.filter(pk=world.hackney.pk).update(parent=world.luton)
    form = organisation_form(name="NHS Newham CCG", ods_code="08M", kind="commissioner", provider_type="",
                             services=[], parent=world.hackney.pk)  # fmt: skip
    response = admin_client.post(admin_url(Organisation, "change", world.newham.pk), form)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()  # a place is not offered as an ICB
    world.newham.refresh_from_db()
    assert world.newham.parent is None


def test_admin_adds_an_organisation_with_its_ods_code_in_capitals(admin_client, world):
    response = admin_client.post(admin_url(Organisation, "add"), organisation_form())
    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Kestrel Bridge Hospital")
    assert organisation.ods_code == "ZK1"
    assert {h.history_user for h in organisation.history.all()} == {world.administrator}


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"ods_code": "zr1"}, "Another organisation already has this ODS code."),
        ({"ods_code": "R-F4"}, "Enter an ODS code of 3 to 6 letters and digits"),
        ({"provider_type": ""}, "Choose the provider"),
        ({"kind": "commissioner"}, "A commissioner has no provider type"),
    ],
)
def test_admin_refuses_a_bad_organisation(admin_client, world, changes, message):
    response = admin_client.post(admin_url(Organisation, "add"), organisation_form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organisation.objects.filter(name="Kestrel Bridge Hospital").exists()


def contract_form(world, links):
    data = {"reference": "NEL-77", "title": "Acute services", "provider": world.riverside.pk, "starts_on": "2025-04-01",
            "ends_on": "2026-03-31", "frameworks": [], "commissioner_links-TOTAL_FORMS": len(links),
            "commissioner_links-INITIAL_FORMS": 0, "commissioner_links-MIN_NUM_FORMS": 0,
            "commissioner_links-MAX_NUM_FORMS": 1000}  # fmt: skip
    for i, (commissioner, role) in enumerate(links):
        data[f"commissioner_links-{i}-commissioner"] = commissioner.pk
        data[f"commissioner_links-{i}-role"] = role
    return data


def test_admin_refuses_a_contract_whose_coordinating_commissioner_is_also_an_associate(admin_client, world):
    from tests.factories import FrameworkFactory

    data = contract_form(
        world, [(world.newham, CommissionerRole.COORDINATING), (world.newham, CommissionerRole.ASSOCIATE)]
    )
    data["frameworks"] = [FrameworkFactory().pk]
    response = admin_client.post(admin_url(Contract, "add"), data)
    assert response.status_code == 200
    assert "the co-ordinating commissioner cannot also be an associate" in response.content.decode()
    assert not Contract.objects.filter(reference="NEL-77").exists()

    data = contract_form(world, [(world.newham, CommissionerRole.ASSOCIATE)])
    data["frameworks"] = data["frameworks"] or [FrameworkFactory().pk]
    response = admin_client.post(admin_url(Contract, "add"), data)
    assert "Name exactly one co-ordinating commissioner." in response.content.decode()

    data = contract_form(
        world, [(world.newham, CommissionerRole.COORDINATING), (world.hackney, CommissionerRole.ASSOCIATE)]
    )
    data["frameworks"] = [FrameworkFactory().pk]
    data["ends_on"] = "2024-01-01"
    response = admin_client.post(admin_url(Contract, "add"), data)
    assert "The contract cannot end before it starts." in response.content.decode()

    data["ends_on"] = "2026-03-31"
    assert admin_client.post(admin_url(Contract, "add"), data).status_code == 302
    contract = Contract.objects.get(reference="NEL-77")
    assert contract.coordinating_commissioner == world.newham
    assert contract.associate_commissioners == [world.hackney]


def test_a_role_given_in_admin_grants_its_permissions_and_must_fit_the_organisation(admin_client, world):
    person = world.stranger
    url = admin_url(Membership, "add")
    response = admin_client.post(
        url, {"user": person.pk, "organisation": world.riverside.pk, "role": Role.DESIGNATED_PROFESSIONAL}
    )
    assert "is not a role in a provider" in response.content.decode()
    response = admin_client.post(
        url, {"user": person.pk, "organisation": world.riverside.pk, "role": Role.PROVIDER_LEAD}
    )
    assert response.status_code == 302
    person = get_user_model().objects.get(pk=person.pk)
    assert person.has_perm("providers.submit_return", world.riverside)
    assert set(Organisation.objects.restrict(person)) == {world.riverside}
