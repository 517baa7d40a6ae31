"""The one place that decides what a person may see and do (after NetBox's ``RestrictedQuerySet.restrict``).

A person holds object permissions on the organisations they are members of (granted from their roles, see
:data:`providers.models.ROLE_PERMISSIONS`). From there:

- a provider's people see their own organisation and what belongs to it;
- a commissioner's people see their own organisation and every provider that has *accepted* a contract with it,
  as co-ordinating or associate commissioner, and what belongs to those providers; an ICB's people see the same
  through every contract held by the ICB or one of its places (and the places themselves), a place's people only
  through the place's own contracts (by a join on the commissioner's parent, never by permissions on each place);
  a contract still proposed, or refused, gives no sight at all (it is seen as a contract, by both sides, and
  nothing more);
- what belongs to a reporting period (returns, answers, evidence, review acts, action plans, provider reports)
  is seen through a contract only for periods that end on or after the contract's start: the periods that
  overlap the contract or come after it. The contract's end does not take away sight of what was shared;
- nobody sees another provider's or commissioner's business; anonymous and inactive people see nothing;
- administrators (superusers) see everything.

Every tenant-scoped queryset offers ``restrict(user, action)`` built on the functions here, and every view and
API viewset starts from it (:class:`ScopedQuerysetMixin`), so a new view cannot forget it. Tenant-scoped
models of later apps reach their provider by a foreign key and use :func:`restrict_by_provider`; those that
belong to a period (everything reached from a return) use :func:`restrict_by_period`, which adds the period's
end to the same join (accepted contract → its start on or before the period's end) in the same SQL query.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from .models import (
    CommissionerRole,
    ContractCommissioner,
    ContractStatus,
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
    "assurance": ("view_organisation", "view_assurance"),  # a provider's own, and its commissioners' assurance
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


def reached_by(commissioner_ids, field: str = "commissioner") -> Q:
    """The condition on rows whose ``field`` is one of these commissioners or a place of one of them (an ICB's people
    reach its places; a place's people reach the place alone, as a place has no places)."""
    return Q(**{f"{field}_id__in": commissioner_ids}) | Q(**{f"{field}__parent_id__in": commissioner_ids})


def commissioners_reached(commissioner_ids) -> QuerySet:
    """Ids of these commissioners and of their places (a subquery, not a list)."""
    return Organisation.objects.filter(Q(pk__in=commissioner_ids) | Q(parent_id__in=commissioner_ids)).values("pk")


def accepted_links(commissioner_ids) -> QuerySet:
    """These commissioners' (and their places') places on contracts that the provider has accepted: the only way to
    a provider."""
    return ContractCommissioner.objects.filter(reached_by(commissioner_ids), contract__status=ContractStatus.ACCEPTED)


def commissioned_provider_ids(commissioner_ids, period_ends_on=None) -> QuerySet:
    """Ids of providers that accepted a contract with any of these commissioners, co-ordinating or associate.

    With ``period_ends_on`` (a period's last day), only contracts starting on or before it: the providers whose
    business of that period the commissioners see.
    """
    links = accepted_links(commissioner_ids)
    if period_ends_on is not None:
        links = links.filter(contract__starts_on__lte=period_ends_on)
    return links.values("contract__provider_id")


def may_manage_contracts(user) -> bool:
    """Whether ``user`` manages the contracts of some commissioner (and so may add contracts and providers)."""
    if not is_signed_in(user):
        return False
    return sees_everything(user) or organisations_with_permission(user, "manage_contracts").exists()


def provider_ids(user, action: str = "view", period_ends_on=None) -> QuerySet | None:
    """Ids of the providers whose business ``user`` may see or act on for ``action``; None means every one.

    With ``period_ends_on`` (a period's last day, or an expression for it), only providers whose business of that
    period ``user`` may see: a commissioner's contract must have started by then.
    """
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return Organisation.objects.none().values("pk")
    if sees_everything(user):
        return None
    query = Q(pk__in=[])
    if own_permission:
        query |= Q(pk__in=organisations_with_permission(user, own_permission), kind=OrganisationKind.PROVIDER)
    if via_commissioner:
        commissioners = organisations_with_permission(user, via_commissioner)
        query |= Q(pk__in=commissioned_provider_ids(commissioners, period_ends_on))
    return Organisation.objects.filter(query).values("pk")


def may_act_on(user, provider_id: int, action: str = "view", period_ends_on=None) -> bool:
    """Whether ``user`` may see or act on one provider's business (of the period ending ``period_ends_on``)."""
    ids = provider_ids(user, action, period_ends_on)
    return ids is None or ids.filter(pk=provider_id).exists()


def restrict_by_provider(queryset: QuerySet, user, action: str = "view", provider_field: str = "provider"):
    """Narrow a queryset of things that belong to a provider, but to no period, to what ``user`` may see.

    Things of a period (returns, answers, evidence…) use :func:`restrict_by_period` instead.
    """
    ids = provider_ids(user, action)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{provider_field}__in": ids})


def period_sight(user, action: str = "view", provider_field: str = "provider", period_field: str = "period"):
    """The condition on rows that belong to a provider and a period (``provider_field``, ``period_field``) that
    ``user`` may see for ``action``; None means every row.

    A provider's own people see all its periods. Through a commissioner, a row is seen when the commissioner is on
    a contract the provider accepted whose start is on or before the period's last day (one ``EXISTS`` in the
    same query, so a page's query count does not change).
    """
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return Q(pk__in=[])
    if sees_everything(user):
        return None
    query = Q(pk__in=[])
    if own_permission:
        own = Organisation.objects.filter(
            pk__in=organisations_with_permission(user, own_permission), kind=OrganisationKind.PROVIDER
        ).values("pk")
        query |= Q(**{f"{provider_field}__in": own})
    if via_commissioner:
        links = accepted_links(organisations_with_permission(user, via_commissioner)).filter(
            contract__provider_id=OuterRef(provider_field),
            contract__starts_on__lte=OuterRef(f"{period_field}__ends_on"),
        )
        query |= Q(Exists(links))
    return query


def periods_of_provider(user, provider_id: int, action: str = "view", ends_on_field: str = "ends_on"):
    """The condition on reporting periods (``ends_on_field`` names their last day) whose business of one provider
    ``user`` may see for ``action``: all for its own people; through a commissioner, those ending on or after the
    start of a contract the provider accepted. None means every period. Part of the same query."""
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return Q(pk__in=[])
    if sees_everything(user):
        return None
    query = Q(pk__in=[])
    if own_permission:
        own = organisations_with_permission(user, own_permission).filter(content_object_id=provider_id)
        query |= Q(Exists(own))
    if via_commissioner:
        links = accepted_links(organisations_with_permission(user, via_commissioner)).filter(
            contract__provider_id=provider_id, contract__starts_on__lte=OuterRef(ends_on_field)
        )
        query |= Q(Exists(links))
    return query


def restrict_by_period(
    queryset: QuerySet, user, action: str = "view", provider_field: str = "provider", period_field: str = "period"
):
    """Narrow a queryset of things of a provider's period (returns, answers, evidence…) to what ``user`` may see:
    through a commissioner, only periods ending on or after the start of a contract the provider accepted."""
    condition = period_sight(user, action, provider_field, period_field)
    return queryset if condition is None else queryset.filter(condition)


def restrict_organisations(queryset: QuerySet, user, action: str = "view"):
    own_permission, via_commissioner = _check_action(action)
    if not is_signed_in(user):
        return queryset.none()
    if sees_everything(user):
        return queryset
    query = Q(pk__in=[])
    if own_permission:
        query |= Q(pk__in=organisations_with_permission(user, own_permission))
    if action == "view":
        query |= Q(parent_id__in=organisations_with_permission(user, own_permission))  # an ICB's places
    if via_commissioner:
        query |= Q(pk__in=commissioned_provider_ids(organisations_with_permission(user, via_commissioner)))
    if action == "manage_contracts":
        # A commissioner admin keeps the records of the providers on the (accepted) contracts their organisation
        # co-ordinates.
        coordinated = (
            accepted_links(organisations_with_permission(user, "manage_contracts"))
            .filter(role=CommissionerRole.COORDINATING)
            .values("contract__provider_id")
        )
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
    if action == "answer":
        # A provider's safeguarding lead (who signs off its returns) accepts or refuses its contracts.
        return queryset.filter(provider_id__in=organisations_with_permission(user, "submit_return"))
    if action != "view":
        raise ValueError(f"Contracts are viewed, managed or answered, not {action!r}.")
    own = organisations_with_permission(user, "view_organisation")
    via_commissioner = ContractCommissioner.objects.filter(reached_by(own)).values("contract_id")
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
