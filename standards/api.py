"""The catalogue's read-only REST API: frameworks (with a JSON export of each version), standards, metrics and the
mappings between frameworks.

Anyone signed in may read the catalogue (the project's default permission, ``IsAuthenticated``); nobody
changes it through the API: it is edited in admin or imported from catalogue documents.
"""

from __future__ import annotations

import django_filters
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors
from .catalogue import export_framework
from .filters import MetricFilter
from .models import MAPPED_FRAMEWORKS, Mapping, MappingKind
from .serializers import (
    FrameworkDetailSerializer,
    FrameworkSerializer,
    MappingSerializer,
    MetricSerializer,
    StandardWithMetricsSerializer,
)


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Framework versions; one in full with its standards and metrics; its catalogue document as JSON."""

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.frameworks_in_full()
        return selectors.frameworks_with_counts()

    def get_serializer_class(self):
        return FrameworkDetailSerializer if self.action == "retrieve" else FrameworkSerializer

    @action(detail=True, methods=["get"])
    def export(self, request, pk=None, format=None):
        """The framework version as a catalogue document (``docs/catalogue-format.md``), to download."""
        framework = self.get_object()
        filename = f"{framework.code}-{framework.version}.json".replace("/", "-")
        return Response(
            export_framework(framework),
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class StandardViewSet(viewsets.ReadOnlyModelViewSet):
    """Standards of every framework version, each with its criteria, notes and metrics."""

    serializer_class = StandardWithMetricsSerializer
    filterset_fields = ["framework"]

    def get_queryset(self):
        return selectors.standards().order_by("framework__position", "framework__code", "position", "id")


class MetricViewSet(viewsets.ReadOnlyModelViewSet):
    """Metrics of every framework version, filtered like the metric search page."""

    serializer_class = MetricSerializer
    filterset_class = MetricFilter

    def get_queryset(self):
        return selectors.metrics()


class MappingFilter(django_filters.FilterSet):
    """``?kind=same_measure`` and ``?framework=<code>``: mappings with an item of that framework, either way round."""

    kind = django_filters.ChoiceFilter(choices=MappingKind.choices)
    framework = django_filters.CharFilter(method="of_framework", label="Framework code")

    class Meta:
        model = Mapping
        fields = ["kind", "framework"]

    def of_framework(self, queryset, name, value):
        return queryset.with_an_item_in(code=value)


class MappingViewSet(viewsets.ReadOnlyModelViewSet):
    """Mappings between frameworks: *same measure* (asked once of a provider answering both) or *evidence towards*
    another framework's standard, each with the note citing both sources. Edited in admin or catalogue documents."""

    serializer_class = MappingSerializer
    filterset_class = MappingFilter

    def get_queryset(self):
        return Mapping.objects.select_related(*MAPPED_FRAMEWORKS).order_by("position", "id")


def register(router) -> None:
    """Add the catalogue's routes to the project's API router."""
    router.register("frameworks", FrameworkViewSet, basename="framework")
    router.register("standards", StandardViewSet, basename="standard")
    router.register("metrics", MetricViewSet, basename="metric")
    router.register("mappings", MappingViewSet, basename="mapping")
