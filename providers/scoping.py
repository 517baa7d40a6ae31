"""The one place that decides what a person may see and do (after NetBox's ``RestrictedQuerySet.restrict``).

A person holds object permissions on the organisations they are members of (granted from their roles, see
:data:`providers.models.ROLE_PERMISSIONS`). From there:

- a provider's people see their own organisation and what belongs to it;
- a commissioner's people see their own organisation and every provider it holds a contract with, as
  co-ordinating or associate commissioner, and what belongs to those providers;
- nobody sees another provider's or commissioner's business; anonymous and inactive people see nothing;
- administrators (superusers) see everything.

Every tenant-scoped queryset offers ``restrict(user, action)`` built on the functions here, and every view and
API viewset starts from it (:class:`ScopedQuerysetMixin`), so a new view cannot forget it. Tenant-scoped
models of later apps reach their provider by a foreign key and use :func:`restrict_by_provider`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import (
    CommissionerRole,
    ContractCommissioner,
    Organisation,
    OrganisationKind,
    OrganisationUserObjectPermission,
)

#: For each action, the permission a person needs on their own organisation, and (for providers reached
#: through a contract) the permission they need on their commissioner.
ACTIONS = {
    "view": ("view_organisation", "view_organisation"),
    "edit_return": ("edit_return", None),
    "submit_return": ("submit_return", None),
    "review": (None, "review_returns"),
    "view_assurance": (None, "view_assurance"),
    "manage_members": ("manage_members", None),
    "manage_contracts": ("manage_contracts", None),
}


def _check_action(action: str) -> tuple[str | None, str | None]:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"Unknown action {action!r}; known: {', '.join(ACTIONS)}") from None


def is_signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_everything(user) -> bool:
    return is_signed_in(user) and user.is_superuser


def organisations_with_permission(user, codename: str) -> QuerySet:
    """Ids of the organisations on which ``user`` holds ``codename`` (a subquery, not a list)."""
    return OrganisationUserObjectPermission.objects.filter(
        user=user, permission__codename=codename, permission__content_type__app_label="providers"
    ).values("content_object_id")


def commissioned_provider_ids(commissioner_ids) -> QuerySet:
    """Ids of providers holding a contract with any of these commissioners, co-ordinating or associate."""
    return ContractCommissioner.objects.filter(commissioner_id__in=commissioner_ids).values("contract__provider_id")


def may_manage_contracts(user) -> bool:
    """Whether ``user`` manages the contracts of some commissioner (and so may add contracts and providers)."""
    if not is_signed_in(user):
        return False
    return sees_everything(user) or organisations_with_permission(user, "manage_contracts").exists()


def provider_ids(user, action: str = "view") -> QuerySet | None:
    """Ids of the providers whose business ``user`` may see or act on for ``action``; None means every one."""
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return Organisation.objects.none().values("pk")
    if sees_everything(user):
        return None
    query = Q(pk__in=[])
    if own_permission:
        query |= Q(pk__in=organisations_with_permission(user, own_permission), kind=OrganisationKind.PROVIDER)
    if via_commissioner:
        query |= Q(pk__in=commissioned_provider_ids(organisations_with_permission(user, via_commissioner)))
    return Organisation.objects.filter(query).values("pk")


def restrict_by_provider(queryset: QuerySet, user, action: str = "view", provider_field: str = "provider"):
    """Narrow a queryset of things that belong to a provider (returns, answers…) to what ``user`` may see."""
    ids = provider_ids(user, action)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{provider_field}__in": ids})


def restrict_organisations(queryset: QuerySet, user, action: str = "view"):
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return queryset.none()
    if sees_everything(user):
        return queryset
    query = Q(pk__in=[])
    if own_permission:
        query |= Q(pk__in=organisations_with_permission(user, own_permission))
    if via_commissioner:
        query |= Q(pk__in=commissioned_provider_ids(organisations_with_permission(user, via_commissioner)))
    if action == "manage_contracts":
        # A commissioner admin keeps the records of the providers on the contracts their organisation co-ordinates.
        coordinated = ContractCommissioner.objects.filter(
            commissioner_id__in=organisations_with_permission(user, "manage_contracts"),
            role=CommissionerRole.COORDINATING,
        ).values("contract__provider_id")
        query |= Q(pk__in=coordinated)
    return queryset.filter(query)


def restrict_contracts(queryset: QuerySet, user, action: str = "view"):
    if not is_signed_in(user):
        return queryset.none()
    if sees_everything(user):
        return queryset
    if action == "manage_contracts":
        coordinating = ContractCommissioner.objects.filter(
            commissioner_id__in=organisations_with_permission(user, "manage_contracts"),
            role=CommissionerRole.COORDINATING,
        ).values("contract_id")
        return queryset.filter(pk__in=coordinating)
    if action != "view":
        raise ValueError(f"Contracts are viewed or managed, not {action!r}.")
    own = organisations_with_permission(user, "view_organisation")
    via_commissioner = ContractCommissioner.objects.filter(commissioner_id__in=own).values("contract_id")
    return queryset.filter(Q(provider_id__in=own) | Q(pk__in=via_commissioner))


def restrict_memberships(queryset: QuerySet, user, action: str = "view"):
    """People see their own memberships; those who manage an organisation's members see all of its members."""
    if not is_signed_in(user):
        return queryset.none()
    if sees_everything(user):
        return queryset
    managed = organisations_with_permission(user, "manage_members")
    if action == "manage_members":
        return queryset.filter(organisation_id__in=managed)
    if action != "view":
        raise ValueError(f"Memberships are viewed or managed, not {action!r}.")
    return queryset.filter(Q(user=user) | Q(organisation_id__in=managed))


def has_organisation_permission(user, organisation, codename: str) -> bool:
    """Whether ``user`` holds ``codename`` on ``organisation`` itself (a single indexed lookup)."""
    if sees_everything(user):
        return True
    if not is_signed_in(user):
        return False
    return OrganisationUserObjectPermission.objects.filter(
        user=user, content_object=organisation, permission__codename=codename
    ).exists()


class ScopedQuerysetMixin:
    """For class-based views and DRF viewsets: the queryset always starts from ``restrict(user, action)``.

    Set ``model`` (or ``queryset``) and, if not "view", ``scope_action``. ``get_queryset`` cannot be reached
    without the restriction, so an object of another organisation is simply not found (404).
    """

    scope_action = "view"

    def get_base_queryset(self):
        queryset = getattr(self, "queryset", None)
        if queryset is not None:
            return queryset.all()
        return self.model._default_manager.all()

    def get_queryset(self):
        return self.get_base_queryset().restrict(self.request.user, self.scope_action)
