"""Contracts, invitations and memberships change only through services that check rules and record who acted."""

import datetime
import re

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from providers.models import CommissionerRole, Contract, Invitation, Membership, Role
from providers.services import (
    accept_invitation,
    cancel_invitation,
    invitation_from_token,
    invitation_token,
    invite,
    remove_membership,
    save_contract,
)
from tests.factories import FrameworkFactory

BASE = "http://testserver"


def contract_values(world, **changes):
    values = {
        "reference": "NEL-9",
        "title": "Community services",
        "provider": world.eastway,
        "coordinating_commissioner": world.newham,
        "associate_commissioners": [world.hackney],
        "frameworks": [FrameworkFactory()],
        "starts_on": datetime.date(2025, 4, 1),
        "ends_on": datetime.date(2026, 3, 31),
    }
    values.update(changes)
    return values


def test_a_commissioner_admin_makes_a_contract_with_associates(world):
    contract = save_contract(by=world.newham_admin, **contract_values(world))
    assert contract.coordinating_commissioner == world.newham
    assert contract.associate_commissioners == [world.hackney]
    assert {h.history_user for h in contract.history.all()} == {world.newham_admin}
    links = contract.commissioner_links.all()
    assert {h.history_user for link in links for h in link.history.all()} == {world.newham_admin}


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"associate_commissioners": "newham"}, "associate_commissioners", "cannot also be an associate"),
        ({"ends_on": datetime.date(2025, 3, 1)}, "ends_on", "cannot end before it starts"),
        ({"frameworks": []}, "frameworks", "at least one framework"),
        ({"provider": "hackney"}, "provider", "Choose a provider organisation"),
        ({"reference": "NEL-1"}, "reference", "Another contract already has this reference"),
    ],
)
def test_a_contract_that_breaks_a_rule_is_refused_and_nothing_changes(world, changes, field, message):
    changes = {
        k: ([world.newham] if v == "newham" else world.hackney if v == "hackney" else v) for k, v in changes.items()
    }
    before = Contract.objects.count()
    with pytest.raises(ValidationError) as refused:
        save_contract(by=world.newham_admin, **contract_values(world, **changes))
    assert any(message in m for m in refused.value.message_dict[field])
    assert Contract.objects.count() == before


@pytest.mark.parametrize("person", ["newham_nurse", "hackney_admin", "riverside_lead", "stranger"])
def test_only_the_coordinating_commissioners_admins_make_its_contracts(world, person):
    with pytest.raises(PermissionDenied):
        save_contract(by=getattr(world, person), **contract_values(world))


def test_an_associates_admin_cannot_take_over_a_contract(world):
    contract = world.eastway_contract  # Hackney co-ordinates, Newham is an associate
    with pytest.raises(PermissionDenied):
        save_contract(
            by=world.newham_admin,
            contract=contract,
            **contract_values(world, reference=contract.reference, associate_commissioners=[]),
        )
    assert contract.commissioner_links.get(role=CommissionerRole.COORDINATING).commissioner == world.hackney


def test_invitation_is_emailed_and_accepting_it_makes_a_member_with_the_roles_permissions(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes once the invitation is committed
        invitation = invite(
            by=world.newham_admin,
            organisation=world.newham,
            email=" New.Nurse@Example.NHS.uk ",
            role=Role.DESIGNATED_PROFESSIONAL,
            base_url=BASE,
        )
    assert invitation.email == "new.nurse@example.nhs.uk"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.nurse@example.nhs.uk"]
    assert "NHS Newham CCG" in message.subject
    link = re.search(r"http://testserver(/\S+)", message.body).group(1)
    token = link.rstrip("/").split("/")[-1]
    assert invitation_from_token(token) == invitation

    person = accept_invitation(invitation, first_name="Ada", last_name="Okafor", password="a-long-Safe-passphrase-9")
    assert person.email == person.username == "new.nurse@example.nhs.uk"
    assert person.check_password("a-long-Safe-passphrase-9")
    assert Membership.objects.get(user=person).role == Role.DESIGNATED_PROFESSIONAL
    assert person.has_perm("providers.review_returns", world.newham)
    with pytest.raises(ValidationError, match="already been used"):
        invitation_from_token(token)


@pytest.mark.parametrize(
    "email,role,message",
    [
        ("newham-nurse@example.nhs.uk", Role.COMMITTEE_MEMBER, "already a member of NHS Newham CCG"),
        ("someone@example.org", Role.PROVIDER_LEAD, "Choose a role that people of a commissioner have"),
        ("", Role.COMMITTEE_MEMBER, "Enter an e-mail address"),
    ],
)
def test_an_invitation_that_breaks_a_rule_is_refused(world, email, role, message):
    with pytest.raises(ValidationError, match=message):
        invite(by=world.newham_admin, organisation=world.newham, email=email, role=role, base_url=BASE)
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_a_second_open_invitation_to_the_same_address_is_refused(world):
    invite(
        by=world.newham_admin,
        organisation=world.newham,
        email="a@example.org",
        role=Role.COMMITTEE_MEMBER,
        base_url=BASE,
    )
    with pytest.raises(ValidationError, match="already has an invitation"):
        invite(
            by=world.newham_admin,
            organisation=world.newham,
            email="A@example.org",
            role=Role.COMMITTEE_MEMBER,
            base_url=BASE,
        )


@pytest.mark.parametrize("person", ["newham_nurse", "newham_committee", "hackney_admin", "riverside_lead", "stranger"])
def test_only_those_who_manage_members_invite(world, person):
    with pytest.raises(PermissionDenied):
        invite(
            by=getattr(world, person),
            organisation=world.newham,
            email="x@example.org",
            role=Role.COMMITTEE_MEMBER,
            base_url=BASE,
        )


def test_a_provider_lead_invites_contributors_to_their_own_provider(world):
    invitation = invite(
        by=world.riverside_lead,
        organisation=world.riverside,
        email="c@example.org",
        role=Role.PROVIDER_CONTRIBUTOR,
        base_url=BASE,
    )
    assert invitation.organisation == world.riverside


def test_bad_expired_and_tampered_links_are_refused_in_plain_english(world):
    invitation = invite(
        by=world.newham_admin,
        organisation=world.newham,
        email="b@example.org",
        role=Role.COMMITTEE_MEMBER,
        base_url=BASE,
    )
    token = invitation_token(invitation)
    with pytest.raises(ValidationError, match="not valid"):
        invitation_from_token(token[:-3] + "abc")
    with pytest.raises(ValidationError, match="not valid"):
        invitation_from_token(signing.dumps({"invitation": invitation.pk}, salt="something else"))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="expired"):
        invitation_from_token(token)


def test_a_weak_password_or_missing_name_is_refused_with_every_reason(world):
    invitation = invite(
        by=world.newham_admin,
        organisation=world.newham,
        email="c@example.org",
        role=Role.COMMITTEE_MEMBER,
        base_url=BASE,
    )
    with pytest.raises(ValidationError) as refused:
        accept_invitation(invitation, first_name="", last_name="Smith", password="password")
    errors = refused.value.message_dict
    assert errors["first_name"] == ["Enter your first name."]
    assert any("too short" in m for m in errors["password"])
    assert any("too common" in m for m in errors["password"])
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not Membership.objects.filter(user__email="c@example.org").exists()


def test_an_existing_person_joins_another_organisation_when_signed_in_as_themselves(world):
    person = world.riverside_contributor
    invitation = invite(
        by=world.eastway_lead,
        organisation=world.eastway,
        email=person.email,
        role=Role.PROVIDER_CONTRIBUTOR,
        base_url=BASE,
    )
    with pytest.raises(ValidationError, match="sign in first"):
        accept_invitation(invitation, first_name="X", last_name="Y", password="a-long-Safe-passphrase-9")
    with pytest.raises(ValidationError, match="but you are signed in as"):
        accept_invitation(invitation, user=world.riverside_lead)
    assert accept_invitation(invitation, user=person) == person
    assert set(Membership.objects.filter(user=person).values_list("organisation__name", flat=True)) == {
        world.riverside.name, world.eastway.name,
    }  # fmt: skip


def test_the_last_person_managing_members_cannot_be_removed(world):
    only_admin = Membership.objects.get(user=world.newham_admin)
    with pytest.raises(ValidationError, match="last commissioner admin"):
        remove_membership(only_admin, by=world.newham_admin)
    nurse = Membership.objects.get(user=world.newham_nurse)
    remove_membership(nurse, by=world.newham_admin)
    assert not Membership.objects.filter(pk=nurse.pk).exists()
    assert not world.newham_nurse.__class__.objects.get(pk=world.newham_nurse.pk).has_perm(
        "providers.review_returns", world.newham
    )
    with pytest.raises(PermissionDenied):
        remove_membership(Membership.objects.get(user=world.riverside_lead), by=world.newham_admin)


def test_cancelling_an_invitation(world):
    invitation = invite(
        by=world.newham_admin,
        organisation=world.newham,
        email="d@example.org",
        role=Role.COMMITTEE_MEMBER,
        base_url=BASE,
    )
    with pytest.raises(PermissionDenied):
        cancel_invitation(invitation, by=world.hackney_admin)
    cancel_invitation(invitation, by=world.newham_admin)
    assert not Invitation.objects.exists()
