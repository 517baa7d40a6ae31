"""Reads of organisations, contracts and people that pages and the API share, each prefetched once.

They take a queryset already narrowed by ``restrict(user, action)`` and add what the pages show, so that a
list costs the same few queries however many rows it has.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from standards.models import Framework

from .models import ContractCommissioner, Membership


def organisations(queryset: QuerySet) -> QuerySet:
    """Organisations with their provider type and services."""
    return queryset.select_related("provider_type").prefetch_related("services")


def contracts(queryset: QuerySet) -> QuerySet:
    """Contracts with their provider, commissioners (co-ordinating and associates), frameworks, and who proposed
    and answered them."""
    return queryset.select_related("provider__provider_type", "proposed_by", "decided_by").prefetch_related(
        Prefetch(
            "commissioner_links",
            queryset=ContractCommissioner.objects.select_related("commissioner").order_by(
                "-role", "commissioner__name"
            ),
        ),
        Prefetch("frameworks", queryset=Framework.objects.order_by("position", "code", "-effective_from")),
    )


def memberships(queryset: QuerySet) -> QuerySet:
    """Memberships with the person and the organisation."""
    return queryset.select_related("user", "organisation")


def members_of(organisation, user) -> QuerySet[Membership]:
    """The members of an organisation, for someone who manages them."""
    return (
        Membership.objects.restrict(user, "manage_members")
        .filter(organisation=organisation)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "role")
    )
