"""Organisations (commissioners and providers), their contracts, and the people who act for them.

Who may see and do what is decided in one place, :mod:`providers.scoping`, from each person's
:class:`Membership` of organisations. A membership's role grants object permissions on its organisation through
django-guardian's direct foreign-key tables (:class:`OrganisationUserObjectPermission`), so the permission table
grows with people × organisations, never with returns or answers; everything else a person may see is reached
from those organisations by a join.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from standards.models import Framework, ProviderType, Service

ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")


def normalise_ods_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_ods_code(value: str) -> None:
    """An NHS Organisation Data Service code: 3 to 6 capital letters and digits (RF4, 07T, F82001)."""
    if not ODS_CODE.match(value or ""):
        raise ValidationError(
            "Enter an ODS code of 3 to 6 letters and digits, like RF4, 07T or F82001.", code="invalid_ods_code"
        )


class ODSCodeField(models.CharField):
    """An ODS code, stored in capitals whatever case it was typed in, and validated for format."""

    default_validators = [validate_ods_code]

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_ods_code(value) if value is not None else value


def quarter_starting(day: datetime.date) -> datetime.date:
    """The first day of the NHS financial quarter holding ``day`` (quarters start in April, July, October, January)."""
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


QUARTER_NAMES = {4: (1, "April to June"), 7: (2, "July to September"), 10: (3, "October to December"),
                 1: (4, "January to March")}  # fmt: skip


def quarter_label(day: datetime.date) -> str:
    """The NHS financial quarter holding ``day``, as reporting periods name it: "Q1 2025/26 (April to June 2025)"."""
    start = quarter_starting(day)
    number, months = QUARTER_NAMES[start.month]
    year = start.year - 1 if number == 4 else start.year
    return f"Q{number} {year}/{(year + 1) % 100:02d} ({months} {start.year})"


class OrganisationKind(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner (CCG or ICB)"
    PROVIDER = "provider", "Provider"


class OrganisationQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        """The organisations ``user`` may see (or act on, for ``action``); see :mod:`providers.scoping`."""
        from .scoping import restrict_organisations

        return restrict_organisations(self, user, action)

    def commissioners(self):
        return self.filter(kind=OrganisationKind.COMMISSIONER)

    def providers(self):
        return self.filter(kind=OrganisationKind.PROVIDER)


class Organisation(models.Model):
    """A commissioner (the tenant) or a provider organisation, identified by its NHS ODS code."""

    name = models.CharField(max_length=200)
    ods_code = ODSCodeField(
        "ODS code",
        max_length=6,
        unique=True,
        help_text="The NHS Organisation Data Service code, e.g. RF4 or 07T.",
        error_messages={"unique": "Another organisation already has this ODS code."},
    )
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    provider_type = models.ForeignKey(
        ProviderType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        help_text="Providers only: decides which thresholds and metrics apply.",
    )
    services = models.ManyToManyField(
        Service, blank=True, related_name="organisations", help_text="Providers only: the services it runs."
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="places",
        limit_choices_to={"kind": OrganisationKind.COMMISSIONER, "parent__isnull": True},
        verbose_name="ICB",
        help_text="Commissioners only: the ICB this commissioner is a place of. Empty for an ICB.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[services])
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("edit_return", "Draft and save the organisation's returns"),
            ("submit_return", "Sign off and submit the organisation's returns"),
            ("review_returns", "Review the returns of providers the organisation commissions"),
            ("view_assurance", "See dashboards and reports of the providers the organisation commissions"),
            ("manage_members", "Invite people to the organisation and change their roles"),
            ("manage_contracts", "Manage contracts the organisation co-ordinates"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=OrganisationKind.PROVIDER, provider_type__isnull=False)
                    | Q(kind=OrganisationKind.COMMISSIONER, provider_type__isnull=True)
                ),
                name="organisation_provider_type_for_providers_only",
                violation_error_message="A provider needs a provider type; a commissioner has none.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="organisation_name_not_empty"),
            # That the parent is itself an ICB (a commissioner with no parent), and that an ICB with places is no
            # place, is held in PostgreSQL by a trigger (migration 0003, organisation_place_parent_is_an_icb).
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(kind=OrganisationKind.COMMISSIONER),
                name="organisation_only_commissioners_have_a_parent",
                violation_error_message="Only a commissioner can be a place of an ICB.",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=models.F("pk")),
                name="organisation_not_its_own_parent",
                violation_error_message="A commissioner cannot be a place of itself.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.ods_code})"

    def get_absolute_url(self):
        return reverse("providers:organisation_detail", args=[self.pk])

    @property
    def is_commissioner(self) -> bool:
        return self.kind == OrganisationKind.COMMISSIONER

    @property
    def is_provider(self) -> bool:
        return self.kind == OrganisationKind.PROVIDER

    @property
    def is_icb(self) -> bool:
        """A commissioner with no parent: an ICB (the 2019 CCGs, before they were made places, count as their own)."""
        return self.is_commissioner and self.parent_id is None

    @property
    def is_place(self) -> bool:
        return self.parent_id is not None

    def clean(self):
        if self.kind == OrganisationKind.PROVIDER and not self.provider_type_id:
            raise ValidationError({"provider_type": "Choose the provider's type."})
        if self.kind == OrganisationKind.COMMISSIONER and self.provider_type_id:
            raise ValidationError({"provider_type": "A commissioner has no provider type; leave it empty."})
        if self.parent_id is not None:
            if self.kind != OrganisationKind.COMMISSIONER:
                raise ValidationError({"parent": "Only a commissioner can be a place of an ICB."})
            if self.pk is not None and self.parent_id == self.pk:
                raise ValidationError({"parent": "A commissioner cannot be a place of itself."})
            if self.parent.parent_id is not None or self.parent.kind != OrganisationKind.COMMISSIONER:
                raise ValidationError({"parent": f"{self.parent.name} is a place, not an ICB: choose its ICB."})
            if self.pk is not None and Organisation.objects.filter(parent_id=self.pk).exists():
                raise ValidationError({"parent": "This commissioner is an ICB with places; it cannot be a place."})

    def name_on(self, day: datetime.date) -> str:
        return name_on(self, day)


class OrganisationName(models.Model):
    """A name (and ODS code) an organisation had before, with the days it was in force.

    The organisation's own ``name`` and ``ods_code`` are the ones in force now, from the day after its latest former
    name ended. A CCG that became a place of an ICB keeps its CCG name here, so returns, reports and history of the
    periods before show the name that was true then (:func:`name_on`). The periods of one organisation's former
    names never overlap (an exclusion constraint in PostgreSQL, see migration 0003).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="former_names")
    name = models.CharField(max_length=200)
    ods_code = ODSCodeField("ODS code", max_length=6, help_text="The ODS code it had then, e.g. 08M.")
    in_force_from = models.DateField(
        null=True, blank=True, help_text="The first day it had this name; empty when that is before the records."
    )
    in_force_until = models.DateField(help_text="The last day it had this name.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "-in_force_until"]
        verbose_name = "former name"
        constraints = [
            models.CheckConstraint(
                condition=Q(in_force_from__isnull=True) | Q(in_force_until__gte=models.F("in_force_from")),
                name="organisation_name_ends_after_it_starts",
                violation_error_message="A name cannot end before it starts.",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="organisation_former_name_not_empty"),
        ]

    def __str__(self):
        start = f"{self.in_force_from:%-d %B %Y}" if self.in_force_from else "before the records"
        return f"{self.name} ({self.ods_code}), {start} to {self.in_force_until:%-d %B %Y}"

    def clean(self):
        if self.in_force_from and self.in_force_until and self.in_force_until < self.in_force_from:
            raise ValidationError({"in_force_until": "A name cannot end before it starts."})
        if self.organisation_id and self.in_force_until:
            others = OrganisationName.objects.filter(organisation_id=self.organisation_id).exclude(pk=self.pk)
            overlapping = others.filter(in_force_until__gte=self.in_force_from or datetime.date.min).filter(
                Q(in_force_from__isnull=True) | Q(in_force_from__lte=self.in_force_until)
            )
            if overlapping.exists():
                raise ValidationError("These dates overlap another former name of the organisation.")


def _names_in_force_on(day):
    """Former names in force on ``day`` (a date, or an expression such as ``OuterRef("period__ends_on")``)."""
    return Q(in_force_until__gte=day) & (Q(in_force_from__isnull=True) | Q(in_force_from__lte=day))


def name_on(organisation: Organisation, day: datetime.date) -> str:
    """The name ``organisation`` had on ``day``: a former name in force then, or its name now.

    Uses the organisation's prefetched ``former_names`` when there are any (no query), else asks once.
    """
    return identity_on(organisation, day)[0]


def identity_on(organisation: Organisation, day: datetime.date) -> tuple[str, str]:
    """The name and ODS code ``organisation`` had on ``day`` (see :func:`name_on`)."""
    prefetched = getattr(organisation, "_prefetched_objects_cache", {}).get("former_names")
    if prefetched is not None:
        for former in prefetched:
            if former.in_force_until >= day and (former.in_force_from is None or former.in_force_from <= day):
                return former.name, former.ods_code
        return organisation.name, organisation.ods_code
    former = organisation.former_names.filter(_names_in_force_on(day)).values_list("name", "ods_code").first()
    return former or (organisation.name, organisation.ods_code)


def names_then(organisation_field: str, day_field: str, prefix: str) -> dict:
    """Annotations for a queryset: ``<prefix>_name_then`` and ``<prefix>_ods_code_then``, the name and ODS code the
    organisation at ``organisation_field`` had on the day at ``day_field`` (empty when it is the name it has now),
    in the same SQL query. For instance ``Return.objects.annotate(**names_then("provider", "period__ends_on",
    "provider"))``."""
    former = OrganisationName.objects.filter(
        _names_in_force_on(models.OuterRef(day_field)), organisation_id=models.OuterRef(organisation_field)
    )
    return {
        f"{prefix}_name_then": models.Subquery(former.values("name")[:1]),
        f"{prefix}_ods_code_then": models.Subquery(former.values("ods_code")[:1]),
    }


class OrganisationUserObjectPermission(UserObjectPermissionBase):
    """A person's permission on one organisation (django-guardian, direct foreign key)."""

    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class ContractQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        from .scoping import restrict_contracts

        return restrict_contracts(self, user, action)

    def in_force_on(self, day):
        return self.filter(starts_on__lte=day, ends_on__gte=day)

    def accepted(self):
        """Contracts the provider has accepted: only these give their commissioners sight of its returns."""
        return self.filter(status=ContractStatus.ACCEPTED)

    def awaiting_acceptance(self):
        return self.filter(status=ContractStatus.PROPOSED)


class ContractStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed: waiting for the provider to accept"
    ACCEPTED = "accepted", "Accepted by the provider"
    REFUSED = "refused", "Refused by the provider"


class Contract(models.Model):
    """An NHS Standard Contract: one provider, a co-ordinating commissioner, any associates, and frameworks."""

    reference = models.CharField(
        max_length=60, unique=True, error_messages={"unique": "Another contract already has this reference."}
    )
    title = models.CharField(max_length=200)
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contracts_as_provider",
        limit_choices_to={"kind": OrganisationKind.PROVIDER},
    )
    commissioners = models.ManyToManyField(
        Organisation, through="ContractCommissioner", related_name="commissioned_contracts"
    )
    frameworks = models.ManyToManyField(
        Framework,
        related_name="contracts",
        help_text="Frameworks of the catalogue that apply; each period uses the version then in force.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(
        max_length=20,
        choices=ContractStatus.choices,
        default=ContractStatus.PROPOSED,
        help_text="Its commissioners see the provider's returns only once the provider accepts it.",
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider accepted or refused the contract as it now stands."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who accepted or refused it; empty when the system accepted it (contracts made before acceptance).",
    )
    earlier_start_agreed = models.BooleanField(
        default=False,
        help_text="The acceptance said explicitly that the commissioners may read returns of quarters before the "
        "one in which it was accepted.",
    )
    refusal_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[frameworks])
    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["provider__name", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_it_starts",
                violation_error_message="The contract cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(status=ContractStatus.PROPOSED, decided_at__isnull=True)
                | Q(status__in=[ContractStatus.ACCEPTED, ContractStatus.REFUSED], decided_at__isnull=False),
                name="contract_decided_when_accepted_or_refused",
                violation_error_message="An accepted or refused contract records when it was decided.",
            ),
            models.CheckConstraint(
                condition=~Q(status=ContractStatus.REFUSED) | ~Q(refusal_reason=""),
                name="contract_refusal_has_reason",
                violation_error_message="A refused contract records why it was refused.",
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self):
        return reverse("providers:contract_detail", args=[self.pk])

    @property
    def is_accepted(self) -> bool:
        return self.status == ContractStatus.ACCEPTED

    @property
    def is_proposed(self) -> bool:
        return self.status == ContractStatus.PROPOSED

    @property
    def is_refused(self) -> bool:
        return self.status == ContractStatus.REFUSED

    @property
    def coordinating_commissioner(self):
        for link in self.commissioner_links.all():
            if link.role == CommissionerRole.COORDINATING:
                return link.commissioner
        return None

    @property
    def associate_commissioners(self):
        return [link.commissioner for link in self.commissioner_links.all() if link.role == CommissionerRole.ASSOCIATE]

    @property
    def framework_codes(self) -> set[str]:
        return {framework.code for framework in self.frameworks.all()}


class CommissionerRole(models.TextChoices):
    COORDINATING = "coordinating", "Co-ordinating commissioner"
    ASSOCIATE = "associate", "Associate commissioner"


class ContractCommissioner(models.Model):
    """A commissioner on a contract. One row per commissioner, so none is both co-ordinating and associate."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="commissioner_links")
    commissioner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="contract_links",
        limit_choices_to={"kind": OrganisationKind.COMMISSIONER},
    )
    role = models.CharField(max_length=20, choices=CommissionerRole.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "role", "commissioner__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "commissioner"],
                name="contract_commissioner_once",
                violation_error_message="A commissioner can be on a contract only once: co-ordinating or associate.",
            ),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(role=CommissionerRole.COORDINATING),
                name="contract_one_coordinating_commissioner",
                violation_error_message="A contract has one co-ordinating commissioner.",
            ),
        ]

    def __str__(self):
        return f"{self.commissioner.name}: {self.get_role_display()}"


class Role(models.TextChoices):
    PROVIDER_CONTRIBUTOR = "provider_contributor", "Provider contributor"
    PROVIDER_LEAD = "provider_lead", "Provider safeguarding lead"
    DESIGNATED_PROFESSIONAL = "designated_professional", "Designated professional"
    COMMITTEE_MEMBER = "committee_member", "Quality committee member"
    COMMISSIONER_ADMIN = "commissioner_admin", "Commissioner admin"


PROVIDER_ROLES = frozenset({Role.PROVIDER_CONTRIBUTOR, Role.PROVIDER_LEAD})
COMMISSIONER_ROLES = frozenset({Role.DESIGNATED_PROFESSIONAL, Role.COMMITTEE_MEMBER, Role.COMMISSIONER_ADMIN})

#: What each role may do on its own organisation, as permissions of :class:`Organisation`.
ROLE_PERMISSIONS = {
    Role.PROVIDER_CONTRIBUTOR: {"view_organisation", "edit_return"},
    Role.PROVIDER_LEAD: {"view_organisation", "edit_return", "submit_return", "manage_members"},
    Role.DESIGNATED_PROFESSIONAL: {"view_organisation", "review_returns", "view_assurance"},
    Role.COMMITTEE_MEMBER: {"view_organisation", "view_assurance"},
    Role.COMMISSIONER_ADMIN: {"view_organisation", "view_assurance", "manage_members", "manage_contracts"},
}


def roles_for(kind: str) -> list[tuple[str, str]]:
    allowed = PROVIDER_ROLES if kind == OrganisationKind.PROVIDER else COMMISSIONER_ROLES
    return [(value, label) for value, label in Role.choices if value in allowed]


class MembershipQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        from .scoping import restrict_memberships

        return restrict_memberships(self, user, action)


class Membership(models.Model):
    """A person acting for an organisation in a role. Saving or deleting one updates their permissions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=40, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "user__last_name", "user__first_name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                name="membership_role_once",
                violation_error_message="This person already has this role in this organisation.",
            ),
        ]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.username}: {self.get_role_display()}, {self.organisation.name}"

    def clean(self):
        if self.organisation_id and self.role:
            kind = self.organisation.kind
            if (kind == OrganisationKind.PROVIDER) != (self.role in PROVIDER_ROLES):
                where = "a provider" if kind == OrganisationKind.PROVIDER else "a commissioner"
                raise ValidationError({"role": f"“{self.get_role_display()}” is not a role in {where}."})


class Invitation(models.Model):
    """An e-mailed invitation to join an organisation in a role; the invitee sets a password from its link."""

    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=40, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email", "organisation"],
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email_and_organisation",
                violation_error_message="This address already has an open invitation to this organisation.",
            ),
        ]

    def __str__(self):
        return f"{self.email} to {self.organisation.name} as {self.get_role_display()}"
