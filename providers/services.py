"""Actions that change organisations, contracts and memberships.

Each takes the acting person, checks they may act, runs in one transaction and records who acted in the change
history; views, the API and admin all call these rather than writing their own. Rules are raised as
``ValidationError`` keyed by field, in plain English, so forms and the API show the same messages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from standards.kinds import LONGEST_NOTE, clean_typed_text

from .models import (
    COMMISSIONER_ROLES,
    PROVIDER_ROLES,
    CommissionerRole,
    Contract,
    ContractCommissioner,
    ContractStatus,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationName,
    Role,
    normalise_ods_code,
    quarter_label,
    quarter_starting,
)
from .scoping import has_organisation_permission

INVITATION_SALT = "providers.invitation"
INVITATION_DAYS = 7

# The code of a ValidationError saying the change asked for was already made (by someone else at the same moment, or
# by an earlier try of the same request) and nothing changed: the APIs answer it 409, the pages show the message.
ALREADY_DONE = "already_done"


def _record(obj, user) -> None:
    obj._history_user = user


def when_and_who(moment, user) -> str:
    """“on 6 December 2026 by Jane Smith”, for the message saying a change was already made."""
    name = (user.get_full_name() or user.get_username()) if user else "someone else"
    return f"on {timezone.localdate(moment):%-d %B %Y} by {name}" if moment else f"by {name}"


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
    base_url: str = "",
) -> Contract:
    """Propose a contract, or change one; only the co-ordinating commissioner's admins (or administrators) may.

    A new contract is a proposal: its commissioners see nothing of the provider until the provider accepts it
    (:func:`accept_contract`), and the provider's safeguarding leads are e-mailed. A change that would widen what
    an accepted contract shows (an earlier start, another commissioner, another provider) proposes the whole
    contract again, so nobody on it sees the provider's returns until the provider accepts it again. Saving a
    refused contract proposes it again. Other changes (title, frameworks, end, a later start, fewer associates)
    leave an accepted contract accepted.
    """
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
        before = contract_state(contract.pk) if contract is not None and contract.pk else None
        contract = contract or Contract()
        for field, value in {
            "reference": reference.strip(),
            "title": title.strip(),
            "provider": provider,
            "starts_on": starts_on,
            "ends_on": ends_on,
        }.items():
            setattr(contract, field, value)
        wanted = {coordinating_commissioner.pk: CommissionerRole.COORDINATING}
        wanted.update({a.pk: CommissionerRole.ASSOCIATE for a in associates})
        proposing = needs_acceptance_again(before, starts_on=starts_on, provider_id=provider.pk, commissioners=wanted)
        if proposing:
            _mark_proposed(contract, by)
        contract.full_clean(exclude=["frameworks", "commissioners"])
        _record(contract, by)
        contract.save()
        contract.frameworks.set(frameworks)
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
        if proposing:
            _tell_provider(contract, by=by, base_url=base_url, again=before is not None)
    return contract


@dataclass(frozen=True)
class ContractState:
    """What a contract showed before a change: enough to tell whether the change widens it."""

    status: str
    starts_on: datetime.date
    provider_id: int
    commissioner_ids: frozenset[int]
    #: The ICBs of the places on it: their people saw the provider through the place already.
    icb_ids: frozenset[int] = frozenset()


def contract_state(pk) -> ContractState:
    """The contract as stored (locked for the rest of the transaction), before it is changed."""
    stored = Contract.objects.select_for_update().get(pk=pk)
    links = list(stored.commissioner_links.values_list("commissioner_id", "commissioner__parent_id"))
    commissioners = frozenset(commissioner_id for commissioner_id, _ in links)
    icbs = frozenset(parent_id for _, parent_id in links if parent_id is not None)
    return ContractState(stored.status, stored.starts_on, stored.provider_id, commissioners, icbs)


def needs_acceptance_again(before: ContractState | None, *, starts_on, provider_id, commissioners) -> bool:
    """Whether a contract saved with these values must be (re-)proposed to its provider.

    A new or refused contract is proposed. An accepted one is proposed again when the change would let more be
    seen: an earlier start, another provider, or a commissioner whose people did not see it before. A place's ICB
    saw it through the place, so moving a contract from a place to its ICB keeps it accepted; moving it from an ICB
    to one of its places lets the place's people see it, and is proposed again. One still proposed stays so.
    """
    if before is None or before.status == ContractStatus.REFUSED:
        return True
    if before.status == ContractStatus.PROPOSED:
        return False  # still waiting: the provider answers the contract as it stands when it answers
    return (
        starts_on < before.starts_on
        or provider_id != before.provider_id
        or bool(set(commissioners) - before.commissioner_ids - before.icb_ids)
    )


def _mark_proposed(contract: Contract, by) -> None:
    contract.status = ContractStatus.PROPOSED
    contract.proposed_at, contract.proposed_by = timezone.now(), by
    contract.decided_at = contract.decided_by = None
    contract.earlier_start_agreed = False
    contract.refusal_reason = ""


def _tell_provider(contract: Contract, *, by, base_url: str, again: bool) -> None:
    subject = f"{'Contract changed' if again else 'New contract'}: {contract.reference} needs your acceptance"
    messages = _contract_mail(
        contract,
        "providers/email/contract_proposed.txt",
        subject,
        provider_leads(contract.provider),
        by=by,
        base_url=base_url,
        again=again,
    )
    transaction.on_commit(lambda: _send(messages))


def contract_changed_directly(contract: Contract, *, before: ContractState | None, by, base_url: str = "") -> bool:
    """After a contract was saved by other means than :func:`save_contract` (Django admin), propose it (again) if
    the change needs the provider's acceptance, by the same rule. Whether it was proposed."""
    commissioners = set(contract.commissioner_links.values_list("commissioner_id", flat=True))
    if not needs_acceptance_again(
        before, starts_on=contract.starts_on, provider_id=contract.provider_id, commissioners=commissioners
    ):
        return False
    with transaction.atomic():
        _mark_proposed(contract, by)
        _record(contract, by)
        contract.save(
            update_fields=["status", "proposed_at", "proposed_by", "decided_at", "decided_by",
                           "earlier_start_agreed", "refusal_reason"]
        )  # fmt: skip
        _tell_provider(contract, by=by, base_url=base_url, again=before is not None)
    return True


def provider_leads(provider: Organisation) -> list:
    """The active safeguarding leads of a provider with an e-mail address: they accept or refuse its contracts."""
    return [
        membership.user
        for membership in Membership.objects.filter(
            organisation=provider, role=Role.PROVIDER_LEAD, user__is_active=True
        ).select_related("user")
        if membership.user.email
    ]


def contract_managers(contract: Contract) -> list:
    """The active admins, with an e-mail address, of every commissioner on the contract."""
    seen = {}
    for membership in Membership.objects.filter(
        organisation__in=contract.commissioner_links.values("commissioner_id"),
        role=Role.COMMISSIONER_ADMIN,
        user__is_active=True,
    ).select_related("user"):
        if membership.user.email:
            seen.setdefault(membership.user.pk, membership.user)
    return list(seen.values())


def _contract_mail(contract: Contract, template: str, subject: str, recipients, *, by, base_url: str, **extra):
    link = (base_url.rstrip("/") if base_url else "") + contract.get_absolute_url()
    commissioners = [link.commissioner for link in contract.commissioner_links.select_related("commissioner")]
    context = {
        "contract": contract,
        "commissioners": commissioners,
        "commissioner_names": _names(commissioners),
        "by": by,
        "link": link,
        "start_quarter": quarter_label(contract.starts_on),
        **extra,
    }
    body = render_to_string(template, context)
    return [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]) for person in recipients]


def commissioner_names(contract: Contract) -> str:
    """The commissioners on the contract, by name ("A, B and C"), from its prefetched links where there are."""
    return _names(sorted((link.commissioner for link in contract.commissioner_links.all()), key=lambda o: o.name))


def _send(messages) -> None:
    if messages:
        get_connection(fail_silently=False).send_messages(messages)


def _names(organisations) -> str:
    names = [organisation.name for organisation in organisations]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def may_answer_contract(user, contract: Contract) -> bool:
    """Whether ``user`` may accept or refuse the contract: the provider's safeguarding lead (who signs off its
    returns, and so decides who reads them), or an administrator."""
    return has_organisation_permission(user, contract.provider, "submit_return")


def earlier_start_needs_agreement(contract: Contract, today: datetime.date | None = None) -> bool:
    """Whether the contract starts before the current quarter, so that accepting it must agree to that explicitly."""
    return contract.starts_on < quarter_starting(today or timezone.localdate())


def _proposed_for_answer(contract: Contract, by) -> Contract:
    if not may_answer_contract(by, contract):
        raise PermissionDenied(f"Only the safeguarding lead of {contract.provider.name} can accept or refuse it.")
    # The status is read from the locked row: of two answers at the same moment, the second sees the first.
    contract = Contract.objects.select_for_update().select_related("provider").get(pk=contract.pk)
    if contract.status == ContractStatus.ACCEPTED:
        raise ValidationError(
            f"This contract was already accepted {when_and_who(contract.decided_at, contract.decided_by)}.",
            code=ALREADY_DONE,
        )
    if contract.status == ContractStatus.REFUSED:
        raise ValidationError(
            f"This contract was refused {when_and_who(contract.decided_at, contract.decided_by)}. The co-ordinating "
            "commissioner can change it and propose it again.",
            code=ALREADY_DONE,
        )
    return contract


CHANGED_WHILE_READ = "The contract was changed after you opened it. Read it again, then accept or refuse it."


def contract_version(contract: Contract) -> str:
    """What the contract page shows the provider, as a token: accepting it names the version that was read."""
    return contract.updated_at.isoformat() if contract.updated_at else ""


def _decide(
    contract: Contract, status: str, *, by, earlier_start_agreed: bool = False, refusal_reason: str = "", base_url=""
) -> None:
    """Record the provider's answer to a proposed contract (inside the caller's transaction), with who and when,
    and e-mail the commissioners' admins once it is committed."""
    contract.status = status
    contract.decided_at, contract.decided_by = timezone.now(), by
    contract.earlier_start_agreed = earlier_start_agreed
    contract.refusal_reason = refusal_reason
    _record(contract, by)
    contract.save(update_fields=["status", "decided_at", "decided_by", "earlier_start_agreed", "refusal_reason"])
    messages = _contract_mail(
        contract,
        f"providers/email/contract_{status}.txt",
        f"Contract {contract.reference} {status} by {contract.provider.name}",  # "accepted" or "refused"
        contract_managers(contract),
        by=by,
        base_url=base_url,
    )
    transaction.on_commit(lambda: _send(messages))


def accept_contract(
    contract: Contract,
    *,
    by,
    agree_to_earlier_start: bool = False,
    base_url: str = "",
    today=None,
    version: str | None = None,
) -> Contract:
    """The provider accepts a proposed contract: from now its commissioners see its returns for periods ending on or
    after the contract's start. A start before the current quarter must be agreed to explicitly
    (``agree_to_earlier_start``). With ``version`` (:func:`contract_version` of the contract as read), a contract
    changed since is refused, so nobody accepts more than they read. The commissioners' admins are e-mailed."""
    with transaction.atomic():
        contract = _proposed_for_answer(contract, by)
        if version is not None and version != contract_version(contract):
            raise ValidationError(CHANGED_WHILE_READ)
        earlier = earlier_start_needs_agreement(contract, today)
        if earlier and not agree_to_earlier_start:
            names = commissioner_names(contract)
            raise ValidationError(
                {
                    "agree_to_earlier_start": (
                        f"Tick the box to agree that {names} may read your returns from "
                        f"{quarter_label(contract.starts_on)} onwards, or refuse the contract and say why."
                    )
                }
            )
        _decide(contract, ContractStatus.ACCEPTED, by=by, earlier_start_agreed=earlier, base_url=base_url)
    return contract


def refuse_contract(contract: Contract, *, by, reason: str, base_url: str = "") -> Contract:
    """The provider refuses a proposed contract, saying why; its commissioners see nothing of the provider through
    it. The commissioners' admins are e-mailed; the co-ordinating commissioner may change it and propose it again."""
    reason, problem = clean_typed_text(reason, "the reason", LONGEST_NOTE)
    with transaction.atomic():
        contract = _proposed_for_answer(contract, by)
        if problem:
            raise ValidationError({"reason": problem})
        if not reason:
            raise ValidationError(
                {"reason": "Enter why you are refusing the contract, so the commissioner can put it right."}
            )
        _decide(contract, ContractStatus.REFUSED, by=by, refusal_reason=reason, base_url=base_url)
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
    with transaction.atomic():
        # Invitations to one organisation are made one at a time, so that the same invitation sent twice at the same
        # moment (a double click) finds the first rather than failing on the database's one-open-invitation rule.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        if Invitation.objects.filter(email=email, organisation=organisation, accepted_at__isnull=True).exists():
            raise ValidationError(
                {"email": f"{email} already has an invitation to {organisation.name} waiting to be accepted."}
            )
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
        # Read from the locked row: a link opened twice at the same moment is used once.
        invitation = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if invitation is None:  # cancelled since the link was opened
            raise ValidationError("This invitation has been cancelled. Ask for a new one.", code="cancelled")
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been used. Sign in instead.", code=ALREADY_DONE)
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
    with transaction.atomic():
        # Removals from one organisation are made one at a time, so that two at the same moment cannot both pass
        # the check for the last manager and leave nobody to manage its members.
        Organisation.objects.select_for_update().get(pk=organisation.pk)
        if not Membership.objects.filter(pk=membership.pk).exists():
            raise ValidationError(
                f"{membership.user.get_full_name() or membership.user.username} has already been removed.",
                code=ALREADY_DONE,
            )
        if (
            membership.role == managers
            and not Membership.objects.filter(organisation=organisation, role=managers)
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise ValidationError(
                f"{membership.user.get_full_name() or membership.user.username} is the last "
                f"{Role(managers).label.lower()} of {organisation.name}; add another before removing them."
            )
        _record(membership, by)
        membership.delete()


def cancel_invitation(invitation: Invitation, *, by) -> None:
    if not has_organisation_permission(by, invitation.organisation, "manage_members"):
        raise PermissionDenied("You cannot change the members of this organisation.")
    with transaction.atomic():
        # Read from the locked row: an invitation accepted at the same moment is not deleted under its new member.
        invitation = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if invitation is None:
            raise ValidationError("This invitation has already been cancelled.", code=ALREADY_DONE)
        if invitation.accepted_at is not None:
            raise ValidationError("This invitation has already been accepted.", code=ALREADY_DONE)
        _record(invitation, by)
        invitation.delete()


# ------------------------------------------------------------------------------------- change of organisation


def place_name(ccg_name: str, icb: Organisation) -> str:
    """The name a CCG takes as a place of ``icb`` unless another is given: "NHS Newham CCG" becomes
    "NHS North East London ICB: Newham"."""
    area = ccg_name.removeprefix("NHS ").removesuffix(" CCG").removesuffix(" Clinical Commissioning Group")
    return f"{icb.name}: {area.strip() or ccg_name}"


def merge_into_icb(
    ccg: Organisation, icb: Organisation, *, on: datetime.date, by, name: str = "", ods_code: str = ""
) -> Organisation:
    """Record once that ``ccg`` became a place of ``icb`` on the day ``on``: administrators only.

    The CCG's name and ODS code until then are kept as a former name in force until the day before (from the day
    after its previous former name, if any), and it takes ``name`` (by default "<ICB>: <area>") and ``ods_code`` (by
    default the one it had). Its contracts, people, returns and reports stay as they are: the ICB's people see its
    providers through the hierarchy, and pages and reports of earlier periods show the CCG's name (see
    :func:`providers.models.name_on`). Nothing submitted or already made is changed.
    """
    if not (by and by.is_active and by.is_superuser):
        raise PermissionDenied("Only an administrator can record a change of organisation.")
    errors = {}
    if not ccg.is_commissioner or ccg.parent_id is not None:
        errors["ccg"] = f"{ccg.name} is not a commissioner of its own: it cannot be made a place."
    elif ccg.places.exists():
        errors["ccg"] = f"{ccg.name} has places of its own: an ICB cannot be made a place of another."
    if not icb.is_icb:
        errors["icb"] = f"{icb.name} is not an ICB (a commissioner with no parent)."
    elif icb.pk == ccg.pk:
        errors["icb"] = "A commissioner cannot be made a place of itself."
    ods_code = normalise_ods_code(ods_code) or ccg.ods_code
    if ods_code != ccg.ods_code and Organisation.objects.filter(ods_code=ods_code).exclude(pk=ccg.pk).exists():
        errors["ods_code"] = "Another organisation already has this ODS code."
    latest = ccg.former_names.order_by("-in_force_until").first()
    if latest is not None and latest.in_force_until >= on - datetime.timedelta(days=1):
        errors["on"] = f"{ccg.name} had another name until {latest.in_force_until:%-d %B %Y}: choose a later day."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ccg = Organisation.objects.select_for_update().get(pk=ccg.pk)
        former = OrganisationName(
            organisation=ccg,
            name=ccg.name,
            ods_code=ccg.ods_code,
            in_force_from=latest.in_force_until + datetime.timedelta(days=1) if latest else None,
            in_force_until=on - datetime.timedelta(days=1),
        )
        _record(former, by)
        former.save()
        ccg.parent = icb
        ccg.name = (name or "").strip() or place_name(ccg.name, icb)
        ccg.ods_code = ods_code
        _record(ccg, by)
        ccg._change_reason = f"Made a place of {icb.name} on {on:%-d %B %Y}"
        ccg.save()
    return ccg
