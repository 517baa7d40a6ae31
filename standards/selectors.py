"""Reads of the catalogue that the pages and the API share.

Each function returns a queryset (or objects) with the joins and prefetches its page needs, so that a page
asks the database a fixed number of questions however many standards or metrics a framework holds.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import MAPPED_FRAMEWORKS, AssuranceCriterion, Framework, Mapping, Metric, SourceNote, Standard, Threshold


def _count_of(model, **outer) -> Coalesce:
    """A correlated sub-query counting ``model`` rows of each outer row (cheaper than joining twice)."""
    counts = (
        model.objects.filter(**{name: OuterRef(ref) for name, ref in outer.items()})
        .order_by()
        .values(*outer)
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counts), 0)


def frameworks_with_counts() -> QuerySet[Framework]:
    """Every framework version, with ``standard_count`` and ``metric_count`` annotated."""
    return Framework.objects.annotate(
        standard_count=_count_of(Standard, framework="pk"),
        metric_count=_count_of(Metric, framework="pk"),
    )


@dataclass
class FrameworkVersions:
    """The versions of one framework code: the one in force today (if any), and the others either side."""

    code: str
    current: Framework | None
    older: list[Framework] = field(default_factory=list)
    newer: list[Framework] = field(default_factory=list)

    @property
    def listed(self) -> Framework:
        return self.current or (self.newer or self.older)[0]


def framework_versions_by_code(day: datetime.date | None = None) -> list[FrameworkVersions]:
    """Frameworks grouped by code, each with the version in force on ``day`` (today by default)."""
    day = day or timezone.localdate()
    in_force = set(Framework.objects.in_force_on(day).values_list("pk", flat=True))
    by_code: dict[str, list[Framework]] = defaultdict(list)
    for framework in frameworks_with_counts():
        by_code[framework.code].append(framework)
    groups = []
    for code, versions in by_code.items():
        versions.sort(key=lambda f: f.effective_from, reverse=True)
        current = next((f for f in versions if f.pk in in_force), None)
        if current is None:
            groups.append(
                FrameworkVersions(
                    code=code,
                    current=None,
                    older=[f for f in versions if f.effective_from <= day],
                    newer=[f for f in versions if f.effective_from > day],
                )
            )
        else:
            groups.append(
                FrameworkVersions(
                    code=code,
                    current=current,
                    older=[f for f in versions if f.effective_from < current.effective_from],
                    newer=[f for f in versions if f.effective_from > current.effective_from],
                )
            )
    return groups


def framework_versions(framework: Framework) -> QuerySet[Framework]:
    """Every version of ``framework``'s code, newest first (``framework`` itself included)."""
    return Framework.objects.filter(code=framework.code).order_by("-effective_from")


def _notes() -> QuerySet[SourceNote]:
    return SourceNote.objects.order_by("position", "id")


def _thresholds() -> QuerySet[Threshold]:
    return Threshold.objects.select_related("provider_type").order_by("provider_type__position", "id")


def metric_prefetches(prefix: str = "") -> list[Prefetch | str]:
    """Prefetches that let a metric show its applicability, thresholds and notes with no further query."""
    return [
        Prefetch(f"{prefix}thresholds", queryset=_thresholds()),
        f"{prefix}provider_types",
        f"{prefix}services",
        Prefetch(f"{prefix}source_notes", queryset=_notes()),
    ]


def criteria_prefetch(prefix: str = "") -> Prefetch:
    return Prefetch(
        f"{prefix}criteria",
        queryset=AssuranceCriterion.objects.order_by("position", "id").prefetch_related(
            Prefetch("source_notes", queryset=_notes())
        ),
    )


def metrics() -> QuerySet[Metric]:
    """Metrics with their framework and standard joined and everything shown about them prefetched."""
    return (
        Metric.objects.select_related("framework", "standard")
        .prefetch_related(*metric_prefetches())
        .order_by("framework__position", "framework__code", "-framework__effective_from", "position", "id")
    )


def standards() -> QuerySet[Standard]:
    """Standards with their framework and parent, criteria, sub-clauses, metrics and notes."""
    return Standard.objects.select_related("framework", "parent").prefetch_related(
        criteria_prefetch(),
        Prefetch("source_notes", queryset=_notes()),
        Prefetch("children", queryset=Standard.objects.order_by("position", "id")),
        Prefetch(
            "metrics",
            queryset=Metric.objects.order_by("position", "id").prefetch_related(*metric_prefetches()),
        ),
    )


def frameworks_in_full() -> QuerySet[Framework]:
    """Frameworks with every standard, criterion, metric, threshold and note prefetched.

    Notes on the framework itself are in ``framework_notes``; ``source_notes`` would hold every note.
    """
    return Framework.objects.prefetch_related(
        Prefetch(
            "standards",
            queryset=Standard.objects.order_by("position", "id").prefetch_related(
                criteria_prefetch(), Prefetch("source_notes", queryset=_notes())
            ),
        ),
        Prefetch(
            "metrics",
            queryset=Metric.objects.order_by("position", "id").prefetch_related(*metric_prefetches()),
        ),
        Prefetch(
            "source_notes",
            queryset=_notes().filter(Q(standard__isnull=True, criterion__isnull=True, metric__isnull=True)),
            to_attr="framework_notes",
        ),
    )


def _mappings_to_sources() -> QuerySet[Mapping]:
    return Mapping.objects.select_related("source_metric__framework", "source_criterion__standard__framework")


def _mappings_to_targets() -> QuerySet[Mapping]:
    return Mapping.objects.select_related(
        "target_metric__framework", "target_criterion__standard__framework", "target_standard__framework"
    )


def item_mapping_prefetches(prefix: str = "") -> list[Prefetch]:
    """Prefetches that let metrics or criteria (at ``prefix``) show their mappings, either way, with no query more."""
    return [
        Prefetch(f"{prefix}source_mappings", queryset=_mappings_to_targets()),
        Prefetch(f"{prefix}target_mappings", queryset=_mappings_to_sources()),
    ]


def standard_mapping_prefetches(prefix: str = "") -> list[Prefetch]:
    """Prefetches that let standards (at ``prefix``) show the items of other frameworks mapped as evidence to them."""
    return [Prefetch(f"{prefix}evidence_mappings", queryset=_mappings_to_sources())]


def mappings_in_force(period_or_day, frameworks=None) -> QuerySet[Mapping]:
    """The mappings in force for a reporting period (or on a day), with both their items joined.

    A mapping links items of two framework versions, and is in force only when both versions are: a period is judged
    by the versions in force on its first day (``starts_on``), so a mapping changed in a later version governs only
    the periods that version governs. ``frameworks`` (framework codes, or framework versions) narrows them to the
    mappings whose both items belong to those frameworks, such as the frameworks of a provider's contracts.
    """
    day = getattr(period_or_day, "starts_on", period_or_day)
    versions = Framework.objects.in_force_on(day)
    if frameworks is not None:
        frameworks = list(frameworks)
        codes = [f for f in frameworks if isinstance(f, str)]
        ids = [f.pk for f in frameworks if isinstance(f, Framework)]
        versions = versions.filter(Q(code__in=codes) | Q(pk__in=ids))
    versions = versions.values("pk")
    return (
        Mapping.objects.filter(
            Q(source_metric__framework__in=versions) | Q(source_criterion__standard__framework__in=versions)
        )
        .filter(
            Q(target_metric__framework__in=versions)
            | Q(target_criterion__standard__framework__in=versions)
            | Q(target_standard__framework__in=versions)
        )
        .select_related(*MAPPED_FRAMEWORKS)
        .order_by("position", "id")
    )
