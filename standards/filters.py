"""The metric search and filters, shared by the metric list page and the metrics API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .kinds import RequirementKind
from .models import Framework, Frequency, Metric, ProviderType, Service


def metric_groups() -> list[tuple[str, str]]:
    """The headings metrics are listed under, for the group filter's choices."""
    groups = Metric.objects.exclude(group="").order_by("group").values_list("group", flat=True).distinct()
    return [(group, group) for group in groups]


@extend_schema_field(OpenApiTypes.STR)
class CodeChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice of a vocabulary row (provider type, service) by its code, which the API schema shows as text."""


class MetricFilter(django_filters.FilterSet):
    """Search metrics by words in their code, title or description, and narrow them by what they are."""

    q = django_filters.CharFilter(method="search", label="Search", help_text="Words in the code, title or description.")
    framework = django_filters.ModelChoiceFilter(
        queryset=Framework.objects.order_by("position", "code", "-effective_from"),
        empty_label="All frameworks",
        error_messages={"invalid_choice": "Choose a framework from the list."},
    )
    kind = django_filters.ChoiceFilter(
        choices=RequirementKind.choices,
        empty_label="All kinds",
        error_messages={"invalid_choice": "Choose a kind of metric from the list."},
    )
    frequency = django_filters.ChoiceFilter(
        choices=Frequency.choices,
        empty_label="Any frequency",
        error_messages={"invalid_choice": "Choose a frequency from the list."},
    )
    provider_type = CodeChoiceFilter(
        queryset=ProviderType.objects.all(),
        method="applies_to_provider_type",
        label="Applies to provider type",
        empty_label="Any provider type",
        error_messages={"invalid_choice": "Choose a provider type from the list."},
    )
    service = CodeChoiceFilter(
        queryset=Service.objects.all(),
        method="applies_to_service",
        label="Applies to service",
        empty_label="Any service",
        error_messages={"invalid_choice": "Choose a service from the list."},
    )
    group = django_filters.ChoiceFilter(
        choices=metric_groups,
        empty_label="Any group",
        error_messages={"invalid_choice": "Choose a group from the list."},
    )

    class Meta:
        model = Metric
        fields = ["q", "framework", "kind", "frequency", "provider_type", "service", "group"]

    def search(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(code__icontains=word) | Q(title__icontains=word) | Q(description__icontains=word)
            )
        return queryset

    def applies_to_provider_type(self, queryset, name, value):
        # A metric with no provider types listed applies to every type.
        return queryset.filter(Q(provider_types__isnull=True) | Q(provider_types=value)).distinct()

    def applies_to_service(self, queryset, name, value):
        # A metric with no services listed applies whatever services the provider runs.
        return queryset.filter(Q(services__isnull=True) | Q(services=value)).distinct()
