"""A new contract is proposed, not imposed: its commissioners see the provider's returns only once the provider's
safeguarding lead (or an administrator) accepts it, and only for periods ending on or after its start."""

import datetime
import html
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from providers.models import Contract, ContractStatus, Role, quarter_label, quarter_starting
from providers.services import CHANGED_WHILE_READ, accept_contract, refuse_contract, save_contract
from returns.models import ReportingPeriod, Return
from tests.factories import FrameworkFactory
from tests.providers.factories import ContractFactory, member

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
TODAY = datetime.date(2026, 11, 23)  # in Q3 2026/27, which starts on 1 October 2026


def proposal(world, **changes):
    """Hackney's admin proposes a contract to Riverside (which already holds an accepted one with Newham)."""
    values = {
        "reference": "NEL-HACKNEY-1",
        "title": "Outreach",
        "provider": world.riverside,
        "coordinating_commissioner": world.hackney,
        "associate_commissioners": [],
        "frameworks": [FrameworkFactory()],
        "starts_on": datetime.date(2026, 10, 1),
        "ends_on": datetime.date(2029, 3, 31),
    }
    values.update(changes)
    return values


@pytest.fixture
def hackney_nurse(world):
    return member(world.hackney, Role.DESIGNATED_PROFESSIONAL, username="hackney-nurse")


def period(financial_year, quarter):
    return ReportingPeriod.objects.create(
        financial_year=financial_year,
        quarter=quarter,
        submission_deadline=datetime.date(financial_year + 2, 1, 1),
        lock_date=datetime.date(financial_year + 2, 2, 1),
    )


def sees_return(person, provider_return) -> bool:
    return Return.objects.restrict(person).filter(pk=provider_return.pk).exists()


# Proposing


def test_a_new_contract_is_proposed_and_its_commissioners_see_nothing_until_the_provider_accepts(
    world, hackney_nurse, django_capture_on_commit_callbacks
):
    riverside_return = Return.objects.create(provider=world.riverside, period=period(2026, 3))

    with django_capture_on_commit_callbacks(execute=True):
        contract = save_contract(by=world.hackney_admin, base_url=BASE, **proposal(world))

    assert contract.status == ContractStatus.PROPOSED
    assert (contract.proposed_by, contract.decided_at) == (world.hackney_admin, None)
    assert not sees_return(hackney_nurse, riverside_return)
    assert sees_return(world.newham_nurse, riverside_return)  # Newham's accepted contract is untouched
    assert [m.to for m in mail.outbox] == [[world.riverside_lead.email]]
    message = mail.outbox[0]
    assert "NEL-HACKNEY-1 needs your acceptance" in message.subject
    assert "NHS City and Hackney CCG will read your safeguarding returns" in message.body
    assert "Q3 2026/27 (October to December 2026) onwards" in message.body
    assert f"{BASE}{contract.get_absolute_url()}" in message.body


def test_the_provider_lead_accepts_and_the_commissioners_admins_are_told_who_accepted_and_when(
    world, hackney_nurse, django_capture_on_commit_callbacks
):
    riverside_return = Return.objects.create(provider=world.riverside, period=period(2026, 3))
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        accept_contract(contract, by=world.riverside_lead, base_url=BASE, today=TODAY)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert contract.decided_by == world.riverside_lead
    assert contract.decided_at is not None
    assert not contract.earlier_start_agreed
    assert sees_return(hackney_nurse, riverside_return)
    assert [m.to for m in mail.outbox] == [[world.hackney_admin.email]]
    assert "accepted by Riverside University Hospitals NHS Trust" in mail.outbox[0].subject
    history = contract.history.order_by("history_date", "history_id").last()
    assert (history.status, history.history_user) == (ContractStatus.ACCEPTED, world.riverside_lead)


def test_refusing_needs_a_reason_which_the_commissioners_admins_read(world, django_capture_on_commit_callbacks):
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    mail.outbox.clear()

    with pytest.raises(ValidationError) as refused:
        refuse_contract(contract, by=world.riverside_lead, reason="   ")
    assert refused.value.message_dict == {
        "reason": ["Enter why you are refusing the contract, so the commissioner can put it right."]
    }

    with django_capture_on_commit_callbacks(execute=True):
        refuse_contract(contract, by=world.riverside_lead, reason="We hold no such contract with Hackney.")

    contract.refresh_from_db()
    assert (contract.status, contract.decided_by) == (ContractStatus.REFUSED, world.riverside_lead)
    assert contract.refusal_reason == "We hold no such contract with Hackney."
    assert [m.to for m in mail.outbox] == [[world.hackney_admin.email]]
    assert "We hold no such contract with Hackney." in mail.outbox[0].body


def test_a_refused_contract_changed_by_the_commissioner_is_proposed_again_and_can_then_be_accepted(
    world, hackney_nurse, django_capture_on_commit_callbacks
):
    riverside_return = Return.objects.create(provider=world.riverside, period=period(2026, 3))
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    refuse_contract(contract, by=world.riverside_lead, reason="Wrong title.")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        contract = save_contract(by=world.hackney_admin, contract=contract, **proposal(world, title="Sexual health"))

    assert contract.status == ContractStatus.PROPOSED
    assert contract.refusal_reason == ""
    assert [m.to for m in mail.outbox] == [[world.riverside_lead.email]]
    accept_contract(contract, by=world.riverside_lead, today=TODAY)
    assert sees_return(hackney_nurse, riverside_return)


@pytest.mark.parametrize(
    "person", ["riverside_contributor", "newham_admin", "hackney_admin", "eastway_lead", "newham_nurse"]
)
def test_only_the_providers_lead_or_an_administrator_may_accept_or_refuse(world, person):
    contract = save_contract(by=world.hackney_admin, **proposal(world))

    with pytest.raises(PermissionDenied):
        accept_contract(contract, by=getattr(world, person), today=TODAY)
    with pytest.raises(PermissionDenied):
        refuse_contract(contract, by=getattr(world, person), reason="No.")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED


def test_an_administrator_accepts_on_the_providers_behalf_and_is_recorded(world):
    contract = save_contract(by=world.hackney_admin, **proposal(world))

    accept_contract(contract, by=world.administrator, today=TODAY)

    contract.refresh_from_db()
    assert (contract.status, contract.decided_by) == (ContractStatus.ACCEPTED, world.administrator)


@pytest.mark.parametrize("status", [ContractStatus.ACCEPTED, ContractStatus.REFUSED])
def test_a_contract_already_answered_cannot_be_answered_again(world, status):
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    if status == ContractStatus.ACCEPTED:
        accept_contract(contract, by=world.riverside_lead, today=TODAY)
    else:
        refuse_contract(contract, by=world.riverside_lead, reason="No.")

    with pytest.raises(ValidationError):
        accept_contract(contract, by=world.riverside_lead, today=TODAY)
    with pytest.raises(ValidationError):
        refuse_contract(contract, by=world.riverside_lead, reason="No.")


# A start before the current quarter must be agreed to explicitly


@pytest.mark.parametrize(
    ("starts_on", "needs_agreement"),
    [
        (datetime.date(2026, 10, 1), False),  # the first day of this quarter
        (datetime.date(2026, 12, 31), False),  # later in this quarter
        (datetime.date(2027, 4, 1), False),  # a later quarter
        (datetime.date(2026, 9, 30), True),  # the last day of the quarter before
        (datetime.date(2025, 4, 1), True),
    ],
)
def test_a_start_before_this_quarter_is_accepted_only_when_the_acceptance_agrees_to_it(
    world, starts_on, needs_agreement
):
    contract = save_contract(by=world.hackney_admin, **proposal(world, starts_on=starts_on))

    if needs_agreement:
        with pytest.raises(ValidationError) as refused:
            accept_contract(contract, by=world.riverside_lead, today=TODAY)
        assert refused.value.message_dict["agree_to_earlier_start"] == [
            f"Tick the box to agree that NHS City and Hackney CCG may read your returns from "
            f"{quarter_label(starts_on)} onwards, or refuse the contract and say why."
        ]
        contract.refresh_from_db()
        assert contract.status == ContractStatus.PROPOSED

    accept_contract(contract, by=world.riverside_lead, agree_to_earlier_start=needs_agreement, today=TODAY)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED
    assert contract.earlier_start_agreed == needs_agreement


@pytest.mark.parametrize(
    ("day", "start", "label"),
    [
        (datetime.date(2026, 4, 1), datetime.date(2026, 4, 1), "Q1 2026/27 (April to June 2026)"),
        (datetime.date(2026, 9, 30), datetime.date(2026, 7, 1), "Q2 2026/27 (July to September 2026)"),
        (datetime.date(2026, 12, 31), datetime.date(2026, 10, 1), "Q3 2026/27 (October to December 2026)"),
        (datetime.date(2027, 1, 1), datetime.date(2027, 1, 1), "Q4 2026/27 (January to March 2027)"),
        (datetime.date(2027, 3, 31), datetime.date(2027, 1, 1), "Q4 2026/27 (January to March 2027)"),
    ],
)
def test_quarters_are_those_of_the_nhs_financial_year_named_as_reporting_periods_name_them(day, start, label):
    assert quarter_starting(day) == start
    assert quarter_label(day) == label
    financial_year = start.year - 1 if start.month == 1 else start.year
    quarter = {4: 1, 7: 2, 10: 3, 1: 4}[start.month]
    assert ReportingPeriod(financial_year=financial_year, quarter=quarter).label == label


# Sight is by period: from the contract's start


@pytest.mark.parametrize(
    ("starts_on", "sees"),
    [
        (datetime.date(2026, 9, 30), True),  # starts on the period's last day: the period overlaps the contract
        (datetime.date(2026, 7, 1), True),
        (datetime.date(2026, 10, 1), False),  # starts the day after the period ends
    ],
)
def test_an_accepted_contract_shows_periods_ending_on_or_after_its_start(world, hackney_nurse, starts_on, sees):
    july_to_september = Return.objects.create(provider=world.riverside, period=period(2026, 2))
    contract = save_contract(by=world.hackney_admin, **proposal(world, starts_on=starts_on))
    accept_contract(contract, by=world.riverside_lead, agree_to_earlier_start=True, today=TODAY)

    assert sees_return(hackney_nurse, july_to_september) == sees


# Changes that would widen sight need acceptance again


@pytest.fixture
def accepted(world):
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    return accept_contract(contract, by=world.riverside_lead, today=TODAY)


@pytest.mark.parametrize(
    ("change", "proposed_again"),
    [
        ({"starts_on": datetime.date(2026, 7, 1)}, True),  # an earlier start
        ({"associate_commissioners": "luton"}, True),  # another commissioner
        ({"provider": "eastway"}, True),  # another provider
        ({"starts_on": datetime.date(2027, 1, 1)}, False),  # a later start only narrows
        ({"title": "A new title", "ends_on": datetime.date(2030, 3, 31)}, False),
    ],
)
def test_a_change_that_would_widen_an_accepted_contract_needs_acceptance_again(
    world, hackney_nurse, accepted, change, proposed_again, django_capture_on_commit_callbacks
):
    riverside_return = Return.objects.create(provider=world.riverside, period=period(2026, 3))
    values = {
        name: ([getattr(world, value)] if name == "associate_commissioners" else getattr(world, value))
        if isinstance(value, str) and name != "title"
        else value
        for name, value in change.items()
    }
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        contract = save_contract(by=world.hackney_admin, contract=accepted, **proposal(world, **values))

    assert contract.status == (ContractStatus.PROPOSED if proposed_again else ContractStatus.ACCEPTED)
    assert bool(mail.outbox) == proposed_again
    if proposed_again:
        assert "Contract changed" in mail.outbox[0].subject
        assert not sees_return(hackney_nurse, riverside_return)


def test_dashboards_count_only_providers_that_accepted_a_contract_started_by_the_periods_end(world, hackney_nurse):
    from reviews.selectors import dashboard, expected_providers

    october_to_december = period(2026, 3)
    contract = save_contract(by=world.hackney_admin, **proposal(world))

    assert world.riverside not in expected_providers(october_to_december, commissioner=world.hackney)
    assert dashboard(hackney_nurse, october_to_december).rows == []

    accept_contract(contract, by=world.riverside_lead, today=TODAY)

    assert world.riverside in expected_providers(october_to_december, commissioner=world.hackney)
    assert [row.provider_id for row in dashboard(hackney_nurse, october_to_december).rows] == [world.riverside.pk]
    assert dashboard(hackney_nurse, period(2026, 2)).rows == []  # July to September: before the contract


# Pages and the API


def test_the_providers_lead_sees_the_proposal_on_their_home_page_and_accepts_it_on_the_contract_page(world, as_person):
    contract = ContractFactory(
        provider=world.riverside,
        coordinating=world.hackney,
        reference="NEL-HACKNEY-2",
        status=ContractStatus.PROPOSED,
        starts_on=datetime.date(2025, 4, 1),
    )
    client = as_person("riverside_lead")

    home = client.get(reverse("home")).content.decode()
    assert "1 contract waits for" in home
    assert contract.get_absolute_url() in home

    page = client.get(contract.get_absolute_url()).content.decode()
    agreement = "I agree that NHS City and Hackney CCG may read our returns from Q1 2025/26 (April to June 2025)"
    assert agreement in page

    refused = client.post(reverse("providers:contract_accept", args=[contract.pk]), {})
    assert refused.status_code == 200
    assert "There is a problem" in refused.content.decode()
    assert 'href="#id_agree_to_earlier_start"' in refused.content.decode()

    accepted = client.post(reverse("providers:contract_accept", args=[contract.pk]), {"agree_to_earlier_start": "on"})
    assert accepted.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.decided_by, contract.earlier_start_agreed) == (
        ContractStatus.ACCEPTED,
        world.riverside_lead,
        True,
    )


def test_the_refuse_form_keeps_what_was_typed_and_names_the_reason_field(world, as_person):
    contract = ContractFactory(provider=world.riverside, coordinating=world.hackney, status=ContractStatus.PROPOSED)
    client = as_person("riverside_lead")

    response = client.post(reverse("providers:contract_refuse", args=[contract.pk]), {"reason": "x" * 2001})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Keep the reason to 2,000 characters or fewer (it has 2,001)." in page
    assert "x" * 2001 in page


@pytest.mark.parametrize(
    "reason,message",
    [
        ("x" * 2001, "Keep the reason to 2,000 characters or fewer (it has 2,001)."),
        ("No\x00thanks", "Remove a null character from the reason (character 3)"),
        ("No\x0bthanks", "from the reason (character 3)"),
        (["No"], "Enter the reason as text."),
        ({"text": "No"}, "Enter the reason as text."),
    ],
)
def test_a_refusal_reason_follows_the_rules_for_typed_text_on_the_page_and_in_the_api(
    world, as_person, reason, message
):
    contract = ContractFactory(provider=world.riverside, coordinating=world.hackney, status=ContractStatus.PROPOSED)
    client = as_person("riverside_lead")

    response = client.post(
        reverse("contract-refuse", args=[contract.pk]), {"reason": reason}, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["reason"][0]
    if isinstance(reason, str):
        page = client.post(reverse("providers:contract_refuse", args=[contract.pk]), {"reason": reason})
        assert page.status_code == 200
        assert message in html.unescape(page.content.decode())
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED


def test_the_api_accepts_and_refuses_through_the_same_rules(world, as_person):
    earlier = ContractFactory(
        provider=world.riverside, coordinating=world.hackney, status=ContractStatus.PROPOSED,
        starts_on=datetime.date(2025, 4, 1),
    )  # fmt: skip
    other = ContractFactory(provider=world.riverside, coordinating=world.luton, status=ContractStatus.PROPOSED)
    client = as_person("riverside_lead")

    response = client.post(reverse("contract-accept", args=[earlier.pk]), {}, content_type="application/json")
    assert response.status_code == 400
    assert "agree_to_earlier_start" in response.json()
    response = client.post(
        reverse("contract-accept", args=[earlier.pk]), {"agree_to_earlier_start": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    retried = client.post(
        reverse("contract-accept", args=[earlier.pk]), {"agree_to_earlier_start": True}, content_type="application/json"
    )
    today, lead = f"{timezone.localdate():%-d %B %Y}", world.riverside_lead.get_full_name()
    assert retried.status_code == 409  # a retry changes nothing and says so
    assert retried.json() == {"detail": f"This contract was already accepted on {today} by {lead}."}

    refuse = reverse("contract-refuse", args=[other.pk])
    response = client.post(refuse, {}, content_type="application/json")
    assert response.json() == {
        "reason": ["Enter why you are refusing the contract, so the commissioner can put it right."]
    }
    response = client.post(refuse, {"reason": "No."}, content_type="application/json")
    assert (response.status_code, response.json()["refusal_reason"]) == (200, "No.")

    as_person("hackney_admin")
    response = client.post(reverse("contract-accept", args=[other.pk]), {}, content_type="application/json")
    assert response.status_code == 404


# The admin


def test_an_administrator_accepts_on_a_providers_behalf_with_the_admin_action(world, client):
    contract = ContractFactory(provider=world.riverside, coordinating=world.hackney, status=ContractStatus.PROPOSED)
    client.force_login(world.administrator)

    response = client.post(
        reverse("admin:providers_contract_changelist"),
        {"action": "accept_on_behalf_of_provider", "_selected_action": [contract.pk]},
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.decided_by) == (ContractStatus.ACCEPTED, world.administrator)
    listing = client.get(reverse("admin:providers_contract_changelist")).content.decode()
    assert "Accepted by the provider" in listing


# The migration


def test_the_migration_accepts_every_existing_contract_on_behalf_of_the_system(world):
    Contract.objects.update(status=ContractStatus.PROPOSED, decided_at=None, decided_by=None)
    migration = import_module("providers.migrations.0002_contracts_need_provider_acceptance")

    migration.accept_existing_contracts(django_apps, None)

    assert set(Contract.objects.values_list("status", flat=True)) == {ContractStatus.ACCEPTED}
    assert not Contract.objects.filter(decided_at__isnull=True).exists()
    assert not Contract.objects.exclude(decided_by=None).exists()
    latest = world.riverside_contract.history.order_by("history_date", "history_id").last()
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        ContractStatus.ACCEPTED,
        None,
        migration.SYSTEM_ACCEPTED,
    )


def admin_change_form(contract, **changes):
    links = list(contract.commissioner_links.all())
    data = {
        "reference": contract.reference, "title": contract.title, "provider": contract.provider_id,
        "starts_on": contract.starts_on.isoformat(), "ends_on": contract.ends_on.isoformat(),
        "frameworks": [f.pk for f in contract.frameworks.all()] or [FrameworkFactory().pk],
        "commissioner_links-TOTAL_FORMS": len(links), "commissioner_links-INITIAL_FORMS": len(links),
        "commissioner_links-MIN_NUM_FORMS": 0, "commissioner_links-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for i, link in enumerate(links):
        data.update({
            f"commissioner_links-{i}-id": link.pk, f"commissioner_links-{i}-contract": contract.pk,
            f"commissioner_links-{i}-commissioner": link.commissioner_id, f"commissioner_links-{i}-role": link.role,
        })  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "proposed_again"),
    [
        ({"starts_on": "2024-04-01"}, True),
        ({"title": "Acute and maternity services"}, False),
    ],
)
def test_a_change_in_admin_follows_the_same_rule(
    world, client, changes, proposed_again, django_capture_on_commit_callbacks
):
    contract = world.riverside_contract
    client.force_login(world.administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:providers_contract_change", args=[contract.pk]), admin_change_form(contract, **changes)
        )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == (ContractStatus.PROPOSED if proposed_again else ContractStatus.ACCEPTED)
    assert [m.to for m in mail.outbox] == ([[world.riverside_lead.email]] if proposed_again else [])


def test_an_acceptance_of_a_contract_changed_since_it_was_read_is_refused(world, as_person):
    contract = save_contract(by=world.hackney_admin, **proposal(world))
    client = as_person("riverside_lead")
    page = client.get(contract.get_absolute_url())
    read = page.context["version"]
    assert f'name="version" value="{read}"' in page.content.decode()

    # Meanwhile Hackney's admin moves the start earlier, to a quarter the lead has not agreed to.
    save_contract(by=world.hackney_admin, contract=contract, **proposal(world, starts_on=datetime.date(2024, 4, 1)))
    response = client.post(
        reverse("providers:contract_accept", args=[contract.pk]), {"version": read, "agree_to_earlier_start": "on"}
    )

    assert response.status_code == 200
    assert CHANGED_WHILE_READ in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED
    with pytest.raises(ValidationError):
        accept_contract(contract, by=world.riverside_lead, agree_to_earlier_start=True, version=read)
    current = client.get(reverse("contract-detail", args=[contract.pk])).json()["version"]
    accepted = client.post(
        reverse("contract-accept", args=[contract.pk]),
        {"version": current, "agree_to_earlier_start": True},
        content_type="application/json",
    )
    assert accepted.json()["status"] == "accepted"
