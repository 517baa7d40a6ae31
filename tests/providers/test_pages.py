"""The pages of organisations, contracts and people: each person sees their organisations' business and no other's.

Every form refuses bad input with a message next to its field and in the error summary, keeps what was typed,
and changes nothing.
"""

import datetime
import html
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from providers.models import CommissionerRole, Contract, Invitation, Membership, Organisation, OrganisationKind, Role
from providers.services import invitation_token
from standards.models import ProviderType, Service
from tests.factories import FrameworkFactory, UserFactory
from tests.providers.factories import CommissionerFactory, ContractFactory, ProviderFactory
from tests.world import fast_password_hashing, world  # noqa: F401

pytestmark = pytest.mark.django_db

PASSPHRASE = "a-long-Safe-passphrase-9"


def text_of(response) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    return re.sub(r" ([,.;])", r"\1", text).strip()


def main_text(response) -> str:
    """The text of the page's main content (not the header, navigation or footer)."""
    return text_of(response).split("Skip to main content", 1)[-1]


def field_errors(response, name) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def assert_shown_with_summary(response, field_id, message):
    """The message is in the error summary, linking to its field, and again next to the field."""
    assert response.status_code == 200
    assert text_of(response).startswith("Error:")
    page = html.unescape(response.content.decode())
    summary, rest = page.split('class="error-summary"', 1)[1].split("</div>", 1)
    assert f'href="#{field_id}"' in summary
    assert message in summary
    assert message in rest.split('class="error-message"', 1)[-1]


# ------------------------------------------------------------------------------------------------------ home


def test_a_provider_lead_sees_their_contracts_commissioners_and_frameworks(world, as_person):
    framework = FrameworkFactory(short_name="Section 11", version="2019/20")
    world.riverside_contract.frameworks.set([framework])
    page = main_text(as_person("riverside_lead").get(reverse("home")))
    assert "Riverside University Hospitals NHS Trust" in page
    assert "Provider safeguarding lead" in page
    assert "NEL-1" in page
    assert "NHS Newham CCG Co-ordinating" in page
    assert "1 Apr 2025 to 31 Mar 2028" in page
    assert "Section 11 (2019/20)" in page
    assert "Manage people and invitations" in page
    for other in ["Eastway", "Chalk Hills", "NEL-2", "LUT-1", "NHS Luton CCG", "City and Hackney"]:
        assert other not in page


def test_a_contributor_has_no_link_to_manage_people(as_person):
    page = main_text(as_person("riverside_contributor").get(reverse("home")))
    assert "Provider contributor" in page
    assert "NEL-1" in page
    assert "Manage people" not in page


def test_a_designated_nurse_sees_the_providers_their_commissioner_contracts_with_and_its_role(world, as_person):
    response = as_person("newham_nurse").get(reverse("home"))
    page = main_text(response)
    assert "NHS Newham CCG" in page and "Designated professional" in page
    assert "2 providers 1 contract co-ordinated 1 as associate commissioner" in page
    assert "Riverside University Hospitals NHS Trust Acute hospital NEL-1 Co-ordinating commissioner" in page
    assert "Eastway Community Health NHS Trust Acute hospital NEL-2 Associate commissioner" in page
    for other in ["Chalk Hills", "LUT-1", "NHS Luton CCG", "Manage people", "Add a contract"]:
        assert other not in page


def test_a_commissioner_admin_is_offered_people_contracts_and_providers_to_manage(world, as_person):
    response = as_person("newham_admin").get(reverse("home"))
    body = response.content.decode()
    assert f'href="{reverse("providers:members", args=[world.newham.pk])}"' in body
    assert f'href="{reverse("providers:contract_create")}"' in body
    assert f'href="{reverse("providers:organisation_create")}"' in body
    assert "Commissioner admin" in main_text(response)


def test_someone_in_two_organisations_sees_each_with_their_roles(world, as_person):
    Membership.objects.create(user=world.riverside_lead, organisation=world.eastway, role=Role.PROVIDER_CONTRIBUTOR)
    page = main_text(as_person("riverside_lead").get(reverse("home")))
    assert "Your organisations" in page
    assert "Provider safeguarding lead Riverside University Hospitals NHS Trust" in page
    assert "Provider contributor Eastway Community Health NHS Trust" in page
    assert "NEL-2" in page and "LUT-1" not in page


def test_an_administrator_sees_a_summary_of_every_organisation(as_person):
    page = main_text(as_person("administrator").get(reverse("home")))
    assert "Every organisation" in page
    assert "3 commissioners 3 providers 3 contracts" in page
    assert "NHS Luton CCG 06P 1 0" in page
    assert "NHS Newham CCG 08M 1 1" in page


def test_someone_with_no_organisation_is_told_to_ask_for_an_invitation(as_person):
    page = main_text(as_person("stranger").get(reverse("home")))
    assert "You are not a member of any organisation yet" in page
    assert "Ask your organisation's admin" in page
    for name in ["Riverside", "Eastway", "Chalk Hills", "Newham", "Luton"]:
        assert name not in page


def test_home_and_the_navigation_link_to_the_catalogue_organisations_and_contracts(as_person):
    response = as_person("riverside_contributor").get(reverse("home"))
    body = response.content.decode()
    nav = body.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r">(\w+)</a>", nav) == ["Home", "Returns", "Organisations", "Contracts", "Catalogue"]
    assert f'href="{reverse("home")}" aria-current="page"' in nav
    assert f'href="{reverse("standards:framework_list")}"' in body.split('id="main-content"', 1)[1]
    assert f'href="{reverse("standards:metric_list")}"' in body


def test_home_sends_anonymous_people_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --------------------------------------------------------------------------------------------- query counts


def add_providers(world, count, framework):
    service = Service.objects.get(code="children")
    for _ in range(count):
        provider = ProviderFactory(services=[service])
        ContractFactory(
            provider=provider, coordinating=world.newham, associates=[world.hackney], frameworks=[framework]
        )


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "person,url,shown",
    [
        ("newham_nurse", "home", "20 providers"),
        ("administrator", "home", "21 providers"),
        ("riverside_lead", "home", "Riverside"),
        ("newham_nurse", "providers:organisation_list", "21 organisations"),
        ("newham_nurse", "providers:contract_list", "20 contracts"),
        ("newham_admin", "providers:contract_list", "20 contracts"),
    ],
)
def test_pages_ask_the_same_number_of_queries_with_3_or_20_providers(world, as_person, person, url, shown):
    client = as_person(person)
    framework = FrameworkFactory()
    add_providers(world, 1, framework)  # with the world's two, Newham holds contracts with 3 providers
    client.get(reverse(url))  # the session and content types are cached after the first request
    with_3 = queries_for(client, reverse(url))
    add_providers(world, 17, framework)
    with_20 = queries_for(client, reverse(url))
    assert with_3 == with_20
    assert with_20 <= 12, f"{url} as {person}: {with_20} queries"
    assert shown in main_text(client.get(reverse(url)))


# -------------------------------------------------------------------------------------------- organisations


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"NHS Newham CCG", "Riverside", "Eastway"}),
        ("hackney_admin", {"NHS City and Hackney CCG", "Eastway"}),
        ("luton_nurse", {"NHS Luton CCG", "Chalk"}),
        ("riverside_lead", {"Riverside"}),
        ("stranger", set()),
    ],
)
def test_the_organisation_list_shows_only_what_each_person_may_see(world, as_person, person, expected):
    response = as_person(person).get(reverse("providers:organisation_list"))
    listed = {o.name if o.is_commissioner else o.name.split()[0] for o in response.context["organisations"]}
    assert listed == expected
    page = main_text(response)
    for organisation in Organisation.objects.all():
        short = organisation.name if organisation.is_commissioner else organisation.name.split()[0]
        assert (organisation.name in page) == (short in expected)


def test_the_organisation_list_searches_by_name_or_ods_code_and_filters_by_kind_and_type(world, as_person):
    client = as_person("newham_nurse")
    url = reverse("providers:organisation_list")

    def names(**query):
        return [o.name for o in client.get(url, query).context["organisations"]]

    assert names(q="riverside") == [world.riverside.name]
    assert names(q="zc2") == [world.eastway.name]
    assert names(q="ZL3") == []  # Chalk Hills is Luton's
    assert names(kind="commissioner") == [world.newham.name]
    community = ProviderType.objects.get(code="community")
    Organisation.objects.filter(pk=world.eastway.pk).update(provider_type=community)
    assert names(provider_type="community") == [world.eastway.name]
    response = client.get(url, {"kind": "nonsense"})
    assert "Choose a kind of organisation from the list." in text_of(response)


def test_the_organisation_page_shows_what_it_is_and_only_the_contracts_the_viewer_may_see(world, as_person):
    children = Service.objects.get(code="children")
    world.riverside.services.set([children])
    ContractFactory(provider=world.riverside, coordinating=world.luton, reference="LUT-RIVERSIDE")
    response = as_person("newham_nurse").get(world.riverside.get_absolute_url())
    page = main_text(response)
    assert "Provider type Acute hospital" in page
    assert "Services Children" in page
    assert "ODS code ZR1" in page
    assert "NEL-1" in page
    assert "LUT-RIVERSIDE" not in page  # Luton's contract with Riverside is none of Newham's business
    assert "People" not in page and world.riverside_contributor.email not in page  # Newham does not manage them
    assert "Change Riverside" not in page


def test_the_provider_lead_sees_their_members_on_the_organisation_page(world, as_person):
    page = main_text(as_person("riverside_lead").get(world.riverside.get_absolute_url()))
    assert "People" in page
    assert world.riverside_contributor.email in page
    assert "Manage people and invitations" in page


def test_another_organisations_page_is_not_found(world, as_person):
    response = as_person("riverside_lead").get(world.eastway.get_absolute_url())
    assert response.status_code == 404
    assert world.eastway.name not in response.content.decode()


def organisation_values(**changes):
    values = {
        "name": "Kestrel Bridge Hospitals NHS Trust",
        "ods_code": "zr9",
        "provider_type": "acute",
        "services": ["children", "maternity"],
    }
    values.update(changes)
    return values


def test_a_commissioner_admin_adds_a_provider_then_its_contract(world, as_person):
    client = as_person("newham_admin")
    response = client.get(reverse("providers:organisation_create"))
    assert "kind" not in response.context["form"].fields
    assert "Add a provider that NHS Newham CCG is to hold a contract with" in main_text(response)

    response = client.post(reverse("providers:organisation_create"), organisation_values())
    provider = Organisation.objects.get(ods_code="ZR9")
    assert provider.kind == OrganisationKind.PROVIDER
    assert set(provider.services.values_list("code", flat=True)) == {"children", "maternity"}
    assert {h.history_user for h in provider.history.all()} == {world.newham_admin}
    assert response.url == f"{reverse('providers:contract_create')}?provider={provider.pk}"
    form = client.get(response.url).context["form"]
    assert form["provider"].value() == provider.pk


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"ods_code": "zr1"}, "ods_code", "Another organisation already has this ODS code."),
        ({"ods_code": "RIVERSIDE-1"}, "ods_code", "Enter an ODS code of 3 to 6 letters and digits"),
        ({"ods_code": ""}, "ods_code", "Enter the organisation's ODS code."),
        ({"name": "  "}, "name", "Enter the organisation's name."),
        ({"provider_type": ""}, "provider_type", "Choose the provider's type."),
    ],
)
def test_a_bad_organisation_is_refused_with_its_reason_keeping_what_was_typed(
    world, as_person, changes, field, message
):
    before = Organisation.objects.count()
    values = organisation_values(**changes)
    response = as_person("newham_admin").post(reverse("providers:organisation_create"), values)
    assert_shown_with_summary(response, f"id_{field}", message)
    assert Organisation.objects.count() == before
    body = response.content.decode()
    if values["name"].strip():
        assert f'value="{values["name"]}"' in body
    assert 'value="maternity" checked' in body


def test_only_administrators_choose_the_kind_and_may_add_a_commissioner(as_person):
    client = as_person("administrator")
    assert "kind" in client.get(reverse("providers:organisation_create")).context["form"].fields
    response = client.post(
        reverse("providers:organisation_create"),
        {"name": "NHS Tower Hamlets CCG", "ods_code": "08v", "kind": "commissioner", "provider_type": ""},
    )
    created = Organisation.objects.get(ods_code="08V")
    assert created.is_commissioner
    assert response.url == created.get_absolute_url()
    response = client.post(
        reverse("providers:organisation_create"),
        {"name": "NHS Waltham Forest CCG", "ods_code": "08W", "kind": "commissioner", "provider_type": "acute"},
    )
    assert field_errors(response, "provider_type") == ["A commissioner has no provider type; leave it empty."]


@pytest.mark.parametrize("person", ["newham_nurse", "riverside_lead", "stranger"])
def test_people_who_manage_no_contracts_cannot_add_an_organisation(as_person, person):
    client = as_person(person)
    assert client.get(reverse("providers:organisation_create")).status_code == 403
    assert client.post(reverse("providers:organisation_create"), organisation_values()).status_code == 403
    assert not Organisation.objects.filter(ods_code="ZR9").exists()


def test_the_coordinating_commissioners_admin_changes_a_providers_record_and_is_recorded(world, as_person):
    url = reverse("providers:organisation_edit", args=[world.riverside.pk])
    response = as_person("newham_admin").post(
        url, organisation_values(name="Riverside Hospitals NHS Trust", ods_code="ZR1", services=["children"])
    )
    assert response.url == world.riverside.get_absolute_url()
    world.riverside.refresh_from_db()
    assert world.riverside.name == "Riverside Hospitals NHS Trust"
    assert world.riverside.history.first().history_user == world.newham_admin


@pytest.mark.parametrize("person", ["hackney_admin", "newham_nurse", "riverside_lead", "eastway_lead"])
def test_nobody_else_changes_a_providers_record(world, as_person, person):
    url = reverse("providers:organisation_edit", args=[world.riverside.pk])
    client = as_person(person)
    assert client.get(url).status_code == 404
    assert client.post(url, organisation_values(name="Taken over", ods_code="ZR1")).status_code == 404
    world.riverside.refresh_from_db()
    assert world.riverside.name == "Riverside University Hospitals NHS Trust"


# ------------------------------------------------------------------------------------------------ contracts


@pytest.mark.parametrize(
    "person,expected",
    [
        ("newham_nurse", {"NEL-1", "NEL-2"}),
        ("hackney_admin", {"NEL-2"}),
        ("luton_nurse", {"LUT-1"}),
        ("riverside_contributor", {"NEL-1"}),
        ("stranger", set()),
    ],
)
def test_the_contract_list_shows_only_the_contracts_each_person_may_see(as_person, person, expected):
    response = as_person(person).get(reverse("providers:contract_list"))
    assert {c.reference for c in response.context["contracts"]} == expected
    page = main_text(response)
    for reference in {"NEL-1", "NEL-2", "LUT-1"} - expected:
        assert reference not in page


def test_the_contract_page_shows_the_commissioners_frameworks_and_dates(world, as_person):
    framework = FrameworkFactory(name="Section 11 children's standards", version="2019/20")
    world.eastway_contract.frameworks.set([framework])
    response = as_person("eastway_lead").get(world.eastway_contract.get_absolute_url())
    page = main_text(response)
    assert "Co-ordinating commissioner NHS City and Hackney CCG" in page
    assert "Associate commissioners NHS Newham CCG" in page
    assert "Section 11 children's standards (2019/20)" in page
    assert "Starts on 1 April 2025 Ends on 31 March 2028" in page
    assert "Change the contract" not in page


@pytest.fixture
def framework(db):
    return FrameworkFactory(name="NHS Standard Contract SC32", version="2025/26")


def contract_form(world, framework, **changes):
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


def test_a_commissioner_admin_adds_a_contract_with_associates_and_frameworks(world, as_person, framework):
    client = as_person("newham_admin")
    form = client.get(reverse("providers:contract_create")).context["form"]
    assert list(form.fields["coordinating_commissioner"].queryset) == [world.newham]
    assert form["coordinating_commissioner"].value() == world.newham.pk
    assert framework in form.fields["frameworks"].queryset

    response = client.post(reverse("providers:contract_create"), contract_form(world, framework))
    contract = Contract.objects.get(reference="NEL-9")
    assert response.url == contract.get_absolute_url()
    assert contract.coordinating_commissioner == world.newham
    assert contract.associate_commissioners == [world.hackney]
    assert list(contract.frameworks.all()) == [framework]
    assert {h.history_user for h in contract.history.all()} == {world.newham_admin}
    assert contract.status == "proposed"
    assert "Contract NEL-9 is saved and waits for Eastway Community Health NHS Trust to accept it." in text_of(
        client.get(response.url)
    )


@pytest.mark.parametrize(
    "changes,field,message",
    [
        (
            {"associate_commissioners": "newham"},
            "associate_commissioners",
            "NHS Newham CCG is the co-ordinating commissioner, so it cannot also be an associate.",
        ),
        ({"ends_on": "2025-03-01"}, "ends_on", "The contract cannot end before it starts."),
        ({"reference": "NEL-1"}, "reference", "Another contract already has this reference."),
        ({"frameworks": []}, "frameworks", "Choose at least one framework that applies to the contract."),
        ({"starts_on": ""}, "starts_on", "Enter the date the contract starts."),
        ({"starts_on": "31/02/2025"}, "starts_on", "Enter the date the contract starts as a real date"),
        ({"provider": ""}, "provider", "Choose the provider."),
        ({"title": ""}, "title", "Enter the contract's title."),
        (
            {"coordinating_commissioner": "hackney"},
            "coordinating_commissioner",
            "Choose a co-ordinating commissioner whose contracts you manage.",
        ),
    ],
)
def test_a_contract_that_breaks_a_rule_is_refused_next_to_its_field_keeping_what_was_typed(
    world, as_person, framework, changes, field, message
):
    names = {"newham": [world.newham.pk], "hackney": world.hackney.pk}
    changes = {key: names.get(value, value) if isinstance(value, str) else value for key, value in changes.items()}
    before = Contract.objects.count()
    values = contract_form(world, framework, **changes)
    response = as_person("newham_admin").post(reverse("providers:contract_create"), values)
    first = "_0" if field in ("associate_commissioners", "frameworks") else ""
    assert_shown_with_summary(response, f"id_{field}{first}", message)
    assert Contract.objects.count() == before
    body = response.content.decode()
    if values["title"]:
        assert f'value="{values["title"]}"' in body
    if values["starts_on"]:
        assert f'value="{values["starts_on"]}"' in body


def test_the_coordinating_commissioners_admin_changes_a_contract(world, as_person, framework):
    client = as_person("newham_admin")
    url = reverse("providers:contract_edit", args=[world.riverside_contract.pk])
    form = client.get(url).context["form"]
    assert form["reference"].value() == "NEL-1"
    values = contract_form(world, framework, reference="NEL-1", provider=world.riverside.pk, title="Acute care")
    response = client.post(url, values)
    assert response.url == world.riverside_contract.get_absolute_url()
    world.riverside_contract.refresh_from_db()
    assert world.riverside_contract.title == "Acute care"
    assert world.riverside_contract.associate_commissioners == [world.hackney]


@pytest.mark.parametrize("person", ["hackney_admin", "newham_nurse", "riverside_lead"])
def test_only_the_coordinating_commissioners_admins_change_a_contract(world, as_person, framework, person):
    url = reverse("providers:contract_edit", args=[world.riverside_contract.pk])
    client = as_person(person)
    assert client.get(url).status_code == 404
    values = contract_form(world, framework, reference="NEL-1", provider=world.riverside.pk, title="Taken over")
    assert client.post(url, values).status_code == 404
    assert Contract.objects.get(pk=world.riverside_contract.pk).title != "Taken over"


def test_an_associates_admin_sees_the_contract_but_cannot_change_it(world, as_person):
    client = as_person("newham_admin")
    assert "Change the contract" not in main_text(client.get(world.eastway_contract.get_absolute_url()))
    assert client.get(reverse("providers:contract_edit", args=[world.eastway_contract.pk])).status_code == 404


@pytest.mark.parametrize("person", ["newham_nurse", "riverside_lead"])
def test_people_who_manage_no_contracts_cannot_add_one(world, as_person, framework, person):
    client = as_person(person)
    assert client.get(reverse("providers:contract_create")).status_code == 403
    assert client.post(reverse("providers:contract_create"), contract_form(world, framework)).status_code == 403
    assert not Contract.objects.filter(reference="NEL-9").exists()


# --------------------------------------------------------------------------------------------------- people


def members_url(organisation):
    return reverse("providers:members", args=[organisation.pk])


def test_the_members_page_lists_members_and_open_invitations_with_their_expiry(world, as_person):
    Invitation.objects.create(
        email="waiting@riverside.example",
        organisation=world.riverside,
        role=Role.PROVIDER_CONTRIBUTOR,
        invited_by=world.riverside_lead,
        expires_at=timezone.make_aware(datetime.datetime(2099, 1, 7, 9, 30)),
    )
    response = as_person("riverside_lead").get(members_url(world.riverside))
    page = main_text(response)
    assert (
        f"{world.riverside_contributor.get_full_name()} {world.riverside_contributor.email} Provider contributor"
        in page
    )
    assert "Provider safeguarding lead" in page
    assert "waiting@riverside.example Provider contributor" in page
    assert "7 Jan 2099, 09:30" in page
    roles = [value for value, _ in response.context["form"].fields["role"].choices if value]
    assert roles == [Role.PROVIDER_CONTRIBUTOR, Role.PROVIDER_LEAD]
    assert world.newham_nurse.email not in page


def test_inviting_someone_emails_them_a_link(world, as_person, django_capture_on_commit_callbacks):
    client = as_person("newham_admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            members_url(world.newham), {"email": "New.Member@Newham.example", "role": Role.COMMITTEE_MEMBER}
        )
    assert response.url == members_url(world.newham)
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.member@newham.example", Role.COMMITTEE_MEMBER, world.newham_admin,
    )  # fmt: skip
    assert mail.outbox[0].to == ["new.member@newham.example"]
    assert "An invitation to join as quality committee member is on its way" in text_of(client.get(response.url))
    link = re.search(r"http://testserver(/invitations/\S+/)", mail.outbox[0].body).group(1)
    assert "Join NHS Newham CCG" in main_text(client.get(link))


@pytest.mark.parametrize(
    "email,role,message",
    [
        ("newham-nurse@example.nhs.uk", Role.COMMITTEE_MEMBER, "is already a member of NHS Newham CCG"),
        ("someone@example.org", Role.PROVIDER_LEAD, "Choose a role from the list."),
        ("not an address", Role.COMMITTEE_MEMBER, "Enter an e-mail address in the right format"),
        ("", Role.COMMITTEE_MEMBER, "Enter an e-mail address."),
    ],
)
def test_an_invitation_that_breaks_a_rule_is_refused_next_to_its_field(world, as_person, email, role, message):
    response = as_person("newham_admin").post(members_url(world.newham), {"email": email, "role": role})
    field = "role" if "role" in message else "email"
    assert_shown_with_summary(response, f"id_{field}", message)
    assert not Invitation.objects.exists()
    assert not mail.outbox
    if email:
        assert f'value="{email}"' in response.content.decode()


@pytest.mark.parametrize("person", ["newham_admin", "newham_nurse", "eastway_lead"])
def test_only_those_who_manage_an_organisations_members_open_its_people_page(world, as_person, person):
    client = as_person(person)
    assert client.get(members_url(world.riverside)).status_code == 404
    response = client.post(members_url(world.riverside), {"email": "x@example.org", "role": Role.PROVIDER_LEAD})
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_removing_a_role_asks_for_confirmation_then_removes_it(world, as_person):
    client = as_person("riverside_lead")
    membership = Membership.objects.get(user=world.riverside_contributor)
    url = reverse("providers:membership_remove", args=[world.riverside.pk, membership.pk])
    page = main_text(client.get(url))
    assert f"Remove {world.riverside_contributor.get_full_name()} as provider contributor?" in page
    assert Membership.objects.filter(pk=membership.pk).exists()
    response = client.post(url)
    assert response.url == members_url(world.riverside)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert "is no longer provider contributor of Riverside" in text_of(client.get(response.url))


def test_the_last_safeguarding_lead_cannot_be_removed(world, as_person):
    membership = Membership.objects.get(user=world.riverside_lead)
    url = reverse("providers:membership_remove", args=[world.riverside.pk, membership.pk])
    response = as_person("riverside_lead").post(url)
    assert response.status_code == 200
    assert "is the last provider safeguarding lead of Riverside University Hospitals NHS Trust" in text_of(response)
    assert text_of(response).startswith("Error:")
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_nobody_else_removes_a_role(world, as_person):
    membership = Membership.objects.get(user=world.riverside_contributor)
    for person in ["newham_admin", "eastway_lead"]:
        url = reverse("providers:membership_remove", args=[world.riverside.pk, membership.pk])
        assert as_person(person).post(url).status_code == 404
        # Nor through an organisation they do manage.
        own = world.newham if person == "newham_admin" else world.eastway
        url = reverse("providers:membership_remove", args=[own.pk, membership.pk])
        assert as_person(person).post(url).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_cancelling_an_invitation(world, as_person):
    invitation = Invitation.objects.create(
        email="waiting@riverside.example", organisation=world.riverside, role=Role.PROVIDER_CONTRIBUTOR,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )  # fmt: skip
    url = reverse("providers:invitation_cancel", args=[world.riverside.pk, invitation.pk])
    assert as_person("eastway_lead").post(url).status_code == 404
    eastway_url = reverse("providers:invitation_cancel", args=[world.eastway.pk, invitation.pk])
    assert as_person("eastway_lead").post(eastway_url).status_code == 404
    assert Invitation.objects.filter(pk=invitation.pk).exists()
    client = as_person("riverside_lead")
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.url == members_url(world.riverside)
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    assert "The invitation to waiting@riverside.example is cancelled." in text_of(client.get(response.url))


# -------------------------------------------------------------------------------------- accepting invitations


@pytest.fixture
def invitation(world):
    return Invitation.objects.create(
        email="ada.okafor@riverside.example",
        organisation=world.riverside,
        role=Role.PROVIDER_CONTRIBUTOR,
        invited_by=world.riverside_lead,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )


def accept_url(invitation):
    return reverse("providers:accept_invitation", args=[invitation_token(invitation)])


def new_person(**changes):
    values = {"first_name": "Ada", "last_name": "Okafor", "password": PASSPHRASE, "password_confirmation": PASSPHRASE}
    values.update(changes)
    return values


def test_a_new_person_chooses_a_password_is_signed_in_and_sent_home(client, world, invitation):
    page = main_text(client.get(accept_url(invitation)))
    assert "Join Riverside University Hospitals NHS Trust" in page
    assert "Role Provider contributor" in page
    assert "For ada.okafor@riverside.example" in page
    response = client.post(accept_url(invitation), new_person())
    assert response.url == reverse("home")
    person = Membership.objects.get(
        organisation=world.riverside, role=Role.PROVIDER_CONTRIBUTOR, user__first_name="Ada"
    ).user
    assert person.email == person.username == "ada.okafor@riverside.example"
    assert person.check_password(PASSPHRASE)
    assert int(client.session["_auth_user_id"]) == person.pk
    page = main_text(client.get(response.url))
    assert "Welcome, Ada Okafor. You are now provider contributor of Riverside" in page
    assert "NEL-1" in page


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"password_confirmation": "another-Safe-passphrase-9"}, "password_confirmation", "Enter the same password in"),
        ({"password": "password", "password_confirmation": "password"}, "password", "This password is too common."),
        ({"first_name": ""}, "first_name", "Enter your first name."),
    ],
)  # fmt: skip
def test_a_new_person_with_a_bad_password_or_name_is_told_why_and_nothing_changes(
    client, invitation, changes, field, message
):
    response = client.post(accept_url(invitation), new_person(**changes))
    assert_shown_with_summary(response, f"id_{field}", message)
    assert not Membership.objects.filter(user__email=invitation.email).exists()
    assert "_auth_user_id" not in client.session
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    body = response.content.decode()
    assert 'value="Okafor"' in body
    assert PASSPHRASE not in body


def test_someone_with_an_account_is_asked_to_sign_in_first(client, world, invitation):
    UserFactory(username="ada", email=invitation.email)
    response = client.post(accept_url(invitation), new_person())
    assert "You already have an account: sign in first, then open the link again." in text_of(response)
    assert f"{reverse('login')}?next=" in response.content.decode()


def test_a_signed_in_invitee_just_confirms(client, world):
    person = world.riverside_contributor
    invitation = Invitation.objects.create(
        email=person.email, organisation=world.eastway, role=Role.PROVIDER_CONTRIBUTOR,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )  # fmt: skip
    client.force_login(person)
    response = client.get(accept_url(invitation))
    assert response.context["form"] is None
    assert "Join Eastway Community Health NHS Trust" in main_text(response)
    assert client.post(accept_url(invitation)).url == reverse("home")
    assert Membership.objects.filter(user=person, organisation=world.eastway).exists()


def test_someone_else_signed_in_cannot_take_the_invitation(client, world, invitation):
    client.force_login(world.eastway_lead)
    response = client.post(accept_url(invitation))
    assert "This invitation is for ada.okafor@riverside.example, but you are signed in as" in text_of(response)
    assert not Membership.objects.filter(user=world.eastway_lead, organisation=world.riverside).exists()


def test_unusable_links_say_why_in_plain_english(client, invitation):
    response = client.get(reverse("providers:accept_invitation", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This invitation link is not valid. Check it was copied whole." in text_of(response)
    assert invitation.organisation.name not in response.content.decode()

    token = invitation_token(invitation)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(reverse("providers:accept_invitation", args=[token]), new_person())
    assert response.status_code == 410
    assert "This invitation has expired. Ask for a new one." in text_of(response)

    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1), accepted_at=timezone.now()
    )
    response = client.get(reverse("providers:accept_invitation", args=[token]))
    assert response.status_code == 410
    assert "This invitation has already been used. Sign in instead." in text_of(response)
    assert "Traceback" not in response.content.decode()
    assert not Membership.objects.filter(user__email=invitation.email).exists()


def test_a_contract_role_is_shown_on_the_commissioners_page(world, as_person):
    response = as_person("newham_nurse").get(world.newham.get_absolute_url())
    rows = {c.reference: c.role_of_organisation for c in response.context["contracts"]}
    assert rows == {"NEL-1": CommissionerRole.COORDINATING.label, "NEL-2": CommissionerRole.ASSOCIATE.label}


def test_a_commissioner_is_not_shown_to_a_provider(world, as_person):
    assert as_person("riverside_lead").get(world.newham.get_absolute_url()).status_code == 404
    assert CommissionerFactory(name="NHS Test CCG").name not in main_text(
        as_person("riverside_lead").get(reverse("providers:organisation_list"))
    )


def test_every_problem_with_a_contract_is_listed_at_once(world, as_person, framework):
    values = contract_form(
        world,
        framework,
        title="",
        associate_commissioners=[world.newham.pk],
        starts_on="2026-04-01",
        ends_on="2025-03-31",
    )
    response = as_person("newham_admin").post(reverse("providers:contract_create"), values)
    assert_shown_with_summary(response, "id_title", "Enter the contract's title.")
    assert_shown_with_summary(
        response,
        "id_associate_commissioners_0",
        "NHS Newham CCG is the co-ordinating commissioner, so it cannot also be an associate.",
    )
    assert_shown_with_summary(response, "id_ends_on", "The contract cannot end before it starts.")
    assert not Contract.objects.filter(reference="NEL-9").exists()
