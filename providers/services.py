"""Actions that change organisations, contracts and memberships.

Each takes the acting person, checks they may act, runs in one transaction and records who acted in the change
history; views, the API and admin all call these rather than writing their own. Rules are raised as
``ValidationError`` keyed by field, in plain English, so forms and the API show the same messages.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import (
    COMMISSIONER_ROLES,
    PROVIDER_ROLES,
    CommissionerRole,
    Contract,
    ContractCommissioner,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
)
from .scoping import has_organisation_permission

INVITATION_SALT = "providers.invitation"
INVITATION_DAYS = 7


def _record(obj, user) -> None:
    obj._history_user = user


# ------------------------------------------------------------------------------------------------ contracts


def contract_problems(
    *,
    provider=None,
    coordinating_commissioner=None,
    associate_commissioners=(),
    frameworks=(),
    starts_on=None,
    ends_on=None,
) -> dict[str, list[str]]:
    """The rules a contract's values must meet, by field; the form checks them too, so every problem shows at once.

    Values that are missing (``None``) are not judged here: the form or serializer already says they are needed.
    """
    associates = list(associate_commissioners or [])
    errors: dict[str, list[str]] = {}
    if provider is not None and provider.kind != OrganisationKind.PROVIDER:
        errors.setdefault("provider", []).append("Choose a provider organisation.")
    if coordinating_commissioner is not None and coordinating_commissioner.kind != OrganisationKind.COMMISSIONER:
        errors.setdefault("coordinating_commissioner", []).append("Choose a commissioner.")
    if any(a.kind != OrganisationKind.COMMISSIONER for a in associates):
        errors.setdefault("associate_commissioners", []).append("Associate commissioners must be commissioners.")
    if coordinating_commissioner is not None and coordinating_commissioner in associates:
        errors.setdefault("associate_commissioners", []).append(
            f"{coordinating_commissioner.name} is the co-ordinating commissioner, so it cannot also be an associate."
        )
    if starts_on and ends_on and ends_on < starts_on:
        errors.setdefault("ends_on", []).append("The contract cannot end before it starts.")
    if not list(frameworks or []):
        errors.setdefault("frameworks", []).append("Choose at least one framework that applies to the contract.")
    return errors


def save_contract(
    *,
    by,
    contract: Contract | None = None,
    reference: str,
    title: str,
    provider: Organisation,
    coordinating_commissioner: Organisation,
    associate_commissioners,
    frameworks,
    starts_on: datetime.date,
    ends_on: datetime.date,
) -> Contract:
    """Create or change a contract; only the co-ordinating commissioner's admins (or administrators) may."""
    associates = list(associate_commissioners or [])
    if not has_organisation_permission(by, coordinating_commissioner, "manage_contracts"):
        raise PermissionDenied("Only the co-ordinating commissioner's admins can manage this contract.")
    if contract is not None and contract.pk:
        current = contract.coordinating_commissioner
        if current is not None and not has_organisation_permission(by, current, "manage_contracts"):
            raise PermissionDenied("Only the co-ordinating commissioner's admins can manage this contract.")
    errors = contract_problems(
        provider=provider,
        coordinating_commissioner=coordinating_commissioner,
        associate_commissioners=associates,
        frameworks=frameworks,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        contract = contract or Contract()
        for field, value in {
            "reference": reference.strip(),
            "title": title.strip(),
            "provider": provider,
            "starts_on": starts_on,
            "ends_on": ends_on,
        }.items():
            setattr(contract, field, value)
        contract.full_clean(exclude=["frameworks", "commissioners"])
        _record(contract, by)
        contract.save()
        contract.frameworks.set(frameworks)
        wanted = {coordinating_commissioner.pk: CommissionerRole.COORDINATING}
        wanted.update({a.pk: CommissionerRole.ASSOCIATE for a in associates})
        for link in list(contract.commissioner_links.all()):
            if wanted.get(link.commissioner_id) != link.role:
                _record(link, by)
                link.delete()
            else:
                wanted.pop(link.commissioner_id)
        for commissioner_id, role in wanted.items():
            link = ContractCommissioner(contract=contract, commissioner_id=commissioner_id, role=role)
            _record(link, by)
            link.save()
    return contract


# ----------------------------------------------------------------------------------------------- membership


def _check_role(organisation: Organisation, role: str) -> None:
    allowed = PROVIDER_ROLES if organisation.kind == OrganisationKind.PROVIDER else COMMISSIONER_ROLES
    if role not in allowed:
        kind = "a provider" if organisation.kind == OrganisationKind.PROVIDER else "a commissioner"
        raise ValidationError({"role": f"Choose a role that people of {kind} have."})


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"invitation": invitation.pk}, salt=INVITATION_SALT)


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link points at; ``ValidationError`` in plain English if it cannot be used."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=datetime.timedelta(days=INVITATION_DAYS))
        invitation = Invitation.objects.select_related("organisation").get(pk=data["invitation"])
    except signing.SignatureExpired as exc:
        raise ValidationError("This invitation has expired. Ask for a new one.", code="expired") from exc
    except (signing.BadSignature, KeyError, TypeError, Invitation.DoesNotExist) as exc:
        raise ValidationError("This invitation link is not valid. Check it was copied whole.", code="invalid") from exc
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used. Sign in instead.", code="used")
    if invitation.expires_at < timezone.now():
        raise ValidationError("This invitation has expired. Ask for a new one.", code="expired")
    return invitation


def invite(*, by, organisation: Organisation, email: str, role: str, base_url: str) -> Invitation:
    """Invite someone by e-mail to an organisation in a role; they choose a password from the link."""
    if not has_organisation_permission(by, organisation, "manage_members"):
        raise PermissionDenied("You cannot invite people to this organisation.")
    email = get_user_model().objects.normalize_email((email or "").strip()).lower()
    if not email:
        raise ValidationError({"email": "Enter an e-mail address."})
    _check_role(organisation, role)
    existing = get_user_model().objects.filter(email__iexact=email).first()
    membership = Membership.objects.filter(user=existing, organisation=organisation).first() if existing else None
    if membership is not None:
        role_name = membership.get_role_display().lower()
        raise ValidationError({"email": f"{email} is already a member of {organisation.name}, as {role_name}."})
    if Invitation.objects.filter(email=email, organisation=organisation, accepted_at__isnull=True).exists():
        raise ValidationError(
            {"email": f"{email} already has an invitation to {organisation.name} waiting to be accepted."}
        )
    with transaction.atomic():
        invitation = Invitation(
            email=email,
            organisation=organisation,
            role=role,
            invited_by=by,
            expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
        )
        _record(invitation, by)
        invitation.save()
        link = base_url.rstrip("/") + reverse("providers:accept_invitation", args=[invitation_token(invitation)])
        context = {"invitation": invitation, "link": link, "days": INVITATION_DAYS, "inviter": by}
        subject = f"You are invited to Safeguard Assure for {organisation.name}"
        body = render_to_string("providers/email/invitation.txt", context)
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email]))
    return invitation


def accept_invitation(invitation: Invitation, *, user=None, first_name="", last_name="", password=""):
    """Accept an invitation: a new person sets their name and password; a signed-in person just joins.

    Returns the person, who is then a member of the organisation in the invited role.
    """
    User = get_user_model()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been used. Sign in instead.")
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError("You already have an account: sign in first, then open the link again.")
            errors = {}
            if not first_name.strip():
                errors["first_name"] = ["Enter your first name."]
            if not last_name.strip():
                errors["last_name"] = ["Enter your last name."]
            candidate = User(
                username=invitation.email, email=invitation.email, first_name=first_name.strip(),
                last_name=last_name.strip(),
            )  # fmt: skip
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as weak:
                errors["password"] = weak.messages
            if errors:
                raise ValidationError(errors)
            candidate.set_password(password)
            candidate.save()
            user = candidate
        elif user.email.lower() != invitation.email:
            raise ValidationError(
                f"This invitation is for {invitation.email}, but you are signed in as {user.email}. "
                "Sign out and open the link again."
            )
        membership = Membership(user=user, organisation=invitation.organisation, role=invitation.role)
        _record(membership, user)
        if not Membership.objects.filter(
            user=user, organisation=invitation.organisation, role=invitation.role
        ).exists():
            membership.save()
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        _record(invitation, user)
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user


def remove_membership(membership: Membership, *, by) -> None:
    """End a person's role in an organisation; the last person who manages its members cannot be removed."""
    organisation = membership.organisation
    if not has_organisation_permission(by, organisation, "manage_members"):
        raise PermissionDenied("You cannot change the members of this organisation.")
    managers = Role.PROVIDER_LEAD if organisation.kind == OrganisationKind.PROVIDER else Role.COMMISSIONER_ADMIN
    if (
        membership.role == managers
        and not Membership.objects.filter(organisation=organisation, role=managers).exclude(pk=membership.pk).exists()
    ):
        raise ValidationError(
            f"{membership.user.get_full_name() or membership.user.username} is the last "
            f"{Role(managers).label.lower()} of {organisation.name}; add another before removing them."
        )
    with transaction.atomic():
        _record(membership, by)
        membership.delete()


def cancel_invitation(invitation: Invitation, *, by) -> None:
    if not has_organisation_permission(by, invitation.organisation, "manage_members"):
        raise PermissionDenied("You cannot change the members of this organisation.")
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been accepted.")
    with transaction.atomic():
        _record(invitation, by)
        invitation.delete()
