"""The organisation search and filters, shared by the organisation list page and the organisations API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from standards.models import ProviderType

from .models import Organisation, OrganisationKind


class OrganisationFilter(django_filters.FilterSet):
    """Search organisations by name or ODS code, and narrow them by kind and provider type."""

    q = django_filters.CharFilter(
        method="search", label="Search", help_text="Words in the name, or the ODS code (like RF4 or 07T)."
    )
    kind = django_filters.ChoiceFilter(
        choices=OrganisationKind.choices,
        empty_label="Commissioners and providers",
        label="Kind",
        error_messages={"invalid_choice": "Choose a kind of organisation from the list."},
    )
    provider_type = django_filters.ModelChoiceFilter(
        queryset=ProviderType.objects.all(),
        empty_label="Any provider type",
        label="Provider type",
        error_messages={"invalid_choice": "Choose a provider type from the list."},
    )

    class Meta:
        model = Organisation
        fields = ["q", "kind", "provider_type"]

    def search(self, queryset, name, value):
        query = Q()
        for word in value.split():
            query &= Q(name__icontains=word) | Q(ods_code__iexact=word)
        return queryset.filter(query)
