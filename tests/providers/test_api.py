"""The REST API of organisations, contracts and memberships: narrowed like the pages, and as strict as the forms."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from providers.models import Contract, Membership
from tests.factories import FrameworkFactory
from tests.providers.test_pages import add_providers
from tests.world import fast_password_hashing, world  # noqa: F401

pytestmark = pytest.mark.django_db


def api(path: str) -> str:
    return f"/api/v1/{path}"


@pytest.fixture
def framework(db):
    return FrameworkFactory(name="NHS Standard Contract SC32", version="2025/26")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# ------------------------------------------------------------------------------------------- who sees what


def test_anonymous_people_are_refused_every_route(client, world):
    for path in [
        "organisations/", f"organisations/{world.riverside.pk}/", "contracts/",
        f"contracts/{world.riverside_contract.pk}/", "memberships/",
    ]:  # fmt: skip
        response = client.get(api(path))
        assert response.status_code in (401, 403), path
        assert "Riverside" not in response.content.decode()
    assert client.post(api("contracts/"), {}).status_code in (401, 403)


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"08M", "ZR1", "ZC2"}),
        ("hackney_admin", {"07T", "ZC2"}),
        ("riverside_lead", {"ZR1"}),
        ("stranger", set()),
        ("administrator", {"08M", "07T", "06P", "ZR1", "ZC2", "ZL3"}),
    ],
)
def test_organisations_are_those_the_person_may_see(as_person, person, expected):
    assert {o["ods_code"] for o in results(as_person(person).get(api("organisations/")))} == expected


def test_an_organisation_in_full_and_the_filters(world, as_person):
    client = as_person("newham_nurse")
    body = client.get(api(f"organisations/{world.riverside.pk}/")).json()
    assert body["name"] == world.riverside.name
    assert body["kind"] == "provider" and body["provider_type"] == "acute"
    assert body["url"].endswith(f"/api/v1/organisations/{world.riverside.pk}/")
    assert [o["ods_code"] for o in results(client.get(api("organisations/"), {"q": "zc2"}))] == ["ZC2"]
    assert [o["ods_code"] for o in results(client.get(api("organisations/"), {"kind": "commissioner"}))] == ["08M"]
    assert client.get(api(f"organisations/{world.chalk_hills.pk}/")).status_code == 404
    assert client.post(api("organisations/"), {"name": "x"}).status_code == 405


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"NEL-1", "NEL-2"}),
        ("hackney_admin", {"NEL-2"}),
        ("luton_nurse", {"LUT-1"}),
        ("eastway_lead", {"NEL-2"}),
        ("stranger", set()),
    ],
)
def test_contracts_are_those_the_person_may_see(as_person, person, expected):
    assert {c["reference"] for c in results(as_person(person).get(api("contracts/")))} == expected


def test_a_contract_in_full_names_its_commissioners_and_frameworks(world, as_person, framework):
    world.eastway_contract.frameworks.set([framework])
    body = as_person("eastway_lead").get(api(f"contracts/{world.eastway_contract.pk}/")).json()
    assert body["provider"] == {
        "id": world.eastway.pk,
        "name": world.eastway.name,
        "ods_code": "ZC2",
        "kind": "provider",
    }
    assert body["coordinating_commissioner"]["name"] == "NHS City and Hackney CCG"
    assert [c["name"] for c in body["associate_commissioners"]] == ["NHS Newham CCG"]
    assert body["frameworks"] == [
        {"id": framework.pk, "code": framework.code, "name": "NHS Standard Contract SC32", "version": "2025/26"}
    ]
    assert (body["starts_on"], body["ends_on"]) == ("2025-04-01", "2028-03-31")
    assert as_person("eastway_lead").get(api(f"contracts/{world.riverside_contract.pk}/")).status_code == 404


@pytest.mark.parametrize(
    "person,expected",
    [
        ("riverside_lead", {"riverside-lead", "riverside-contributor"}),
        ("riverside_contributor", {"riverside-contributor"}),
        ("newham_nurse", {"newham-nurse"}),
        ("newham_admin", {"newham-nurse", "newham-committee", "newham-admin"}),
        ("stranger", set()),
    ],
)
def test_memberships_are_ones_own_and_those_of_organisations_whose_members_one_manages(as_person, person, expected):
    listed = {m["person"]["email"].split("@")[0] for m in results(as_person(person).get(api("memberships/")))}
    assert listed == expected


def test_another_organisations_membership_is_not_found(world, as_person):
    membership = Membership.objects.get(user=world.riverside_contributor)
    assert as_person("newham_admin").get(api(f"memberships/{membership.pk}/")).status_code == 404
    body = as_person("riverside_lead").get(api(f"memberships/{membership.pk}/")).json()
    assert body["role"] == "provider_contributor" and body["role_display"] == "Provider contributor"
    assert body["organisation"]["ods_code"] == "ZR1"


@pytest.mark.parametrize("path", ["organisations/", "contracts/", "memberships/"])
def test_lists_ask_the_same_number_of_queries_with_3_or_20_providers(world, as_person, path):
    client = as_person("newham_admin")
    framework = FrameworkFactory()
    add_providers(world, 1, framework)
    client.get(api(path))
    with CaptureQueriesContext(connection) as with_3:
        client.get(api(path))
    add_providers(world, 17, framework)
    with CaptureQueriesContext(connection) as with_20:
        response = client.get(api(path))
    assert response.status_code == 200
    assert len(with_3) == len(with_20)


# ------------------------------------------------------------------------------------------ writing contracts


def contract_values(world, framework, **changes):
    values = {
        "reference": "NEL-9",
        "title": "Community services",
        "provider": world.eastway.pk,
        "coordinating_commissioner": world.newham.pk,
        "associate_commissioners": [world.hackney.pk],
        "frameworks": [framework.pk],
        "starts_on": "2025-04-01",
        "ends_on": "2026-03-31",
    }
    values.update(changes)
    return values


def post_json(client, path, data, method="post"):
    return getattr(client, method)(api(path), json.dumps(data), content_type="application/json")


def test_a_commissioner_admin_creates_a_contract_through_the_api(world, as_person, framework):
    response = post_json(as_person("newham_admin"), "contracts/", contract_values(world, framework))
    assert response.status_code == 201, response.content
    body = response.json()
    contract = Contract.objects.get(reference="NEL-9")
    assert body["id"] == contract.pk
    assert body["coordinating_commissioner"]["id"] == world.newham.pk
    assert [c["id"] for c in body["associate_commissioners"]] == [world.hackney.pk]
    assert {h.history_user for h in contract.history.all()} == {world.newham_admin}


@pytest.mark.parametrize("person", ["newham_nurse", "newham_committee", "riverside_lead", "stranger"])
def test_someone_who_manages_no_contracts_is_refused_403(world, as_person, framework, person):
    response = post_json(as_person(person), "contracts/", contract_values(world, framework))
    assert response.status_code == 403
    assert not Contract.objects.filter(reference="NEL-9").exists()


def test_the_coordinating_commissioners_admin_changes_a_contract_in_full_or_in_part(world, as_person, framework):
    client = as_person("newham_admin")
    path = f"contracts/{world.riverside_contract.pk}/"
    values = contract_values(world, framework, reference="NEL-1", provider=world.riverside.pk, title="Acute care")
    response = post_json(client, path, values, method="put")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Acute care"
    response = post_json(client, path, {"title": "Acute and maternity care"}, method="patch")
    assert response.status_code == 200, response.content
    contract = Contract.objects.get(pk=world.riverside_contract.pk)
    assert contract.title == "Acute and maternity care"
    assert contract.associate_commissioners == [world.hackney]
    assert list(contract.frameworks.all()) == [framework]


def test_an_associates_admin_is_refused_403_and_a_stranger_is_not_told_the_contract_exists(world, as_person, framework):
    values = contract_values(world, framework, reference="NEL-2", title="Taken over")
    response = post_json(as_person("newham_admin"), f"contracts/{world.eastway_contract.pk}/", values, method="put")
    assert response.status_code == 403
    response = post_json(as_person("luton_nurse"), f"contracts/{world.eastway_contract.pk}/", values, method="patch")
    assert response.status_code == 404
    assert Contract.objects.get(pk=world.eastway_contract.pk).title != "Taken over"
    assert as_person("newham_admin").delete(api(f"contracts/{world.riverside_contract.pk}/")).status_code == 405


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"associate_commissioners": "newham"}, "associate_commissioners"),
        ({"ends_on": "2025-03-01"}, "ends_on"),
        ({"reference": "NEL-1"}, "reference"),
        ({"frameworks": []}, "frameworks"),
        ({"starts_on": ""}, "starts_on"),
        ({"starts_on": "31/02/2025"}, "starts_on"),
        ({"provider": ""}, "provider"),
        ({"provider": "hackney"}, "provider"),
        ({"title": ""}, "title"),
        ({"coordinating_commissioner": "hackney"}, "coordinating_commissioner"),
    ],
)
def test_the_api_refuses_a_bad_contract_with_the_forms_message_for_the_same_field(
    world, as_person, framework, changes, field
):
    names = {"newham": [world.newham.pk], "hackney": world.hackney.pk}
    changes = {key: names.get(value, value) if isinstance(value, str) else value for key, value in changes.items()}
    values = contract_values(world, framework, **changes)
    client = as_person("newham_admin")
    before = Contract.objects.count()

    form_response = client.post(reverse("providers:contract_create"), values)
    form_messages = list(form_response.context["form"].errors[field])
    api_response = post_json(client, "contracts/", {k: (None if v == "" else v) for k, v in values.items()})

    assert api_response.status_code == 400
    assert api_response.json()[field] == form_messages
    assert Contract.objects.count() == before


def test_a_missing_value_is_named_as_the_form_names_it(world, as_person, framework):
    client = as_person("newham_admin")
    body = post_json(client, "contracts/", {}).json()
    form_errors = client.post(reverse("providers:contract_create"), {}).context["form"].errors
    for field in ["reference", "title", "provider", "coordinating_commissioner", "starts_on", "ends_on"]:
        assert body[field] == list(form_errors[field]), field
