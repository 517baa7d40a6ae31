"""Contracts are answered once, invitation links used once, and an organisation keeps someone to manage its
members, whoever acts at the same moment: two real transactions on PostgreSQL (:mod:`tests.concurrency`)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from providers.models import Contract, ContractStatus, Invitation, Membership, Organisation, Role
from providers.services import (
    ALREADY_DONE,
    accept_contract,
    accept_invitation,
    cancel_invitation,
    invite,
    refuse_contract,
    remove_membership,
)
from tests.concurrency import at_once
from tests.providers.factories import ContractFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2026, 11, 23)  # in Q3 2026/27, when the contract starts


def refusals(outcomes) -> list[Exception]:
    return [outcome for outcome in outcomes if isinstance(outcome, Exception)]


def test_accepting_and_refusing_a_contract_at_the_same_moment_answers_it_once(world):
    contract = ContractFactory(
        provider=world.riverside, coordinating=world.hackney, reference="NEL-HACKNEY-1",
        status=ContractStatus.PROPOSED, starts_on=datetime.date(2026, 10, 1),
    )  # fmt: skip
    lead = world.riverside_lead
    outcomes = at_once(
        contract,
        lambda: accept_contract(contract, by=lead, today=TODAY),
        lambda: refuse_contract(contract, by=lead, reason="We do not provide outreach."),
    )

    (refused,) = refusals(outcomes)
    assert isinstance(refused, ValidationError) and refused.code == ALREADY_DONE
    decided = Contract.objects.get(pk=contract.pk)
    assert decided.status in (ContractStatus.ACCEPTED, ContractStatus.REFUSED)
    answered = "was already accepted" if decided.status == ContractStatus.ACCEPTED else "was refused"
    assert f"This contract {answered} on " in refused.messages[0]
    assert decided.history.exclude(status=ContractStatus.PROPOSED).count() == 1


def test_an_invitation_link_opened_twice_at_the_same_moment_makes_one_person(world):
    invitation = invite(
        by=world.newham_admin, organisation=world.newham, email="ada@example.nhs.uk", role=Role.COMMITTEE_MEMBER,
        base_url="http://testserver",
    )  # fmt: skip
    join = lambda: accept_invitation(  # noqa: E731
        invitation, first_name="Ada", last_name="Okafor", password="a-long-Safe-passphrase-9"
    )
    outcomes = at_once(invitation, join, join)

    (person,) = get_user_model().objects.filter(email="ada@example.nhs.uk")
    assert person in outcomes
    (refused,) = refusals(outcomes)
    assert refused.code == ALREADY_DONE and refused.messages == [
        "This invitation has already been used. Sign in instead."
    ]
    assert Membership.objects.filter(user=person, organisation=world.newham).count() == 1
    assert Invitation.objects.get(pk=invitation.pk).accepted_by == person


def test_an_invitation_cancelled_while_it_is_accepted_is_either_used_or_gone(world):
    invitation = invite(
        by=world.newham_admin, organisation=world.newham, email="ada@example.nhs.uk", role=Role.COMMITTEE_MEMBER,
        base_url="http://testserver",
    )  # fmt: skip
    outcomes = at_once(
        invitation,
        lambda: accept_invitation(
            invitation, first_name="Ada", last_name="Okafor", password="a-long-Safe-passphrase-9"
        ),
        lambda: cancel_invitation(invitation, by=world.newham_admin),
    )

    (refused,) = refusals(outcomes)  # whichever came second, in plain English, not a server error
    assert isinstance(refused, ValidationError)
    joined = Membership.objects.filter(user__email="ada@example.nhs.uk").exists()
    kept = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=False).exists()
    assert joined == kept  # a member's invitation is kept as the record of how they joined; otherwise it is gone
    assert refused.messages[0] in (
        "This invitation has already been accepted.",
        "This invitation has been cancelled. Ask for a new one.",
    )


def test_removing_the_last_two_leads_at_the_same_moment_keeps_one(world):
    second_lead = member(world.riverside, Role.PROVIDER_LEAD, username="riverside-lead-2")
    first = Membership.objects.get(user=world.riverside_lead, organisation=world.riverside)
    second = Membership.objects.get(user=second_lead, organisation=world.riverside)
    admin = world.administrator
    outcomes = at_once(
        Organisation.objects.get(pk=world.riverside.pk),
        lambda: remove_membership(first, by=admin),
        lambda: remove_membership(second, by=admin),
    )

    (refused,) = refusals(outcomes)
    assert "is the last provider safeguarding lead of Riverside University Hospitals NHS Trust" in refused.messages[0]
    assert Membership.objects.filter(organisation=world.riverside, role=Role.PROVIDER_LEAD).count() == 1


def test_the_same_invitation_sent_twice_at_the_same_moment_is_sent_once(world):
    send = lambda: invite(  # noqa: E731
        by=world.newham_admin, organisation=world.newham, email="ada@example.nhs.uk", role=Role.COMMITTEE_MEMBER,
        base_url="http://testserver",
    )  # fmt: skip
    outcomes = at_once(Organisation.objects.get(pk=world.newham.pk), send, send)

    (invitation,) = Invitation.objects.filter(email="ada@example.nhs.uk")
    assert invitation in outcomes
    (refused,) = refusals(outcomes)  # not the database's refusal of a second open invitation
    assert refused.message_dict == {
        "email": ["ada@example.nhs.uk already has an invitation to NHS Newham CCG waiting to be accepted."]
    }
