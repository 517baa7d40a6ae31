"""The catalogue's pages: frameworks in force, one framework in full, a standard, a metric, and metric search.

Every page needs a signed-in user. The reads come from :mod:`standards.selectors`, so that each page asks the
database a fixed number of questions however large the framework.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, ListView, TemplateView

from . import selectors
from .filters import MetricFilter
from .models import AssuranceCriterion, Framework, Metric, Standard
from .wording import band_in_words as band_in_words  # re-exported: older imports name it here
from .wording import describe_metric, mapping_lines

#: Deepest heading level the nested standards of a framework page use.
DEEPEST_HEADING = 6


@dataclass(frozen=True)
class VersionStatus:
    text: str
    key: str  # its status in assurance.status_words, which gives its tag's style


def version_status(framework: Framework, today: datetime.date) -> VersionStatus:
    """Whether a framework version is in force today, has ended, or has not started, in words."""
    if framework.effective_from > today:
        return VersionStatus("Not yet in force", "not_in_force_yet")
    if framework.effective_to and framework.effective_to < today:
        return VersionStatus("Ended", "ended")
    return VersionStatus("In force", "in_force")


@dataclass
class CriterionNode:
    """A point of assurance with its sub-points (“4.1”, “4.2” under “4”)."""

    criterion: AssuranceCriterion
    children: list[CriterionNode] = field(default_factory=list)


def criteria_tree(criteria) -> list[CriterionNode]:
    """Nest sub-points under their point by number; a sub-point whose point is missing stays at the top."""
    nodes = {criterion.number: CriterionNode(criterion) for criterion in criteria}
    top = []
    for number, node in nodes.items():
        parent = nodes.get(number.rsplit(".", 1)[0]) if "." in number else None
        (parent.children if parent else top).append(node)
    return top


@dataclass
class StandardNode:
    """A standard on a framework page, with its criteria, metrics and sub-clauses, and its heading level."""

    standard: Standard
    level: int
    criteria: list[CriterionNode]
    metrics: list[Metric]
    children: list[StandardNode] = field(default_factory=list)

    @property
    def sublevel(self) -> int:
        return min(self.level + 1, DEEPEST_HEADING)


def standards_tree(standards, metrics_by_standard: dict[int, list[Metric]], level: int = 2) -> list[StandardNode]:
    """Nest sub-clauses under their parent, keeping source order at each level."""
    children_of: dict[int | None, list[Standard]] = defaultdict(list)
    known = {standard.pk for standard in standards}
    for standard in standards:
        children_of[standard.parent_id if standard.parent_id in known else None].append(standard)

    def build(parent_id, depth_level):
        return [
            StandardNode(
                standard=standard,
                level=min(depth_level, DEEPEST_HEADING),
                criteria=criteria_tree(standard.criteria.all()),
                metrics=metrics_by_standard.get(standard.pk, []),
                children=build(standard.pk, depth_level + 1),
            )
            for standard in children_of[parent_id]
        ]

    return build(None, level)


def attach_mapping_lines(items) -> None:
    """Give each metric, point or standard its ``mapping_lines`` from its prefetched mappings."""
    for item in items:
        item.mapping_lines = mapping_lines(item)


def catalogue_crumb() -> tuple[str, str]:
    return ("Catalogue", reverse("standards:framework_list"))


class FrameworkListView(LoginRequiredMixin, TemplateView):
    """The frameworks in force today, with their other versions, and those not in force."""

    template_name = "standards/framework_list.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        groups = selectors.framework_versions_by_code(today)
        return super().get_context_data(
            today=today,
            in_force=[group for group in groups if group.current],
            not_in_force=[group for group in groups if not group.current],
            **kwargs,
        )


class FrameworkDetailView(LoginRequiredMixin, DetailView):
    """One framework version in full: its source, notes, standards with criteria and metrics."""

    template_name = "standards/framework_detail.html"
    context_object_name = "framework"

    def get_queryset(self):
        return selectors.frameworks_in_full().prefetch_related(
            *selectors.item_mapping_prefetches("metrics__"),
            *selectors.standard_mapping_prefetches("standards__"),
            *selectors.item_mapping_prefetches("standards__criteria__"),
        )

    def get_context_data(self, **kwargs):
        framework = self.object
        today = timezone.localdate()
        metrics_by_standard: dict[int | None, list[Metric]] = defaultdict(list)
        attach_mapping_lines(framework.metrics.all())
        attach_mapping_lines(framework.standards.all())
        for standard in framework.standards.all():
            attach_mapping_lines(standard.criteria.all())
        for metric in framework.metrics.all():
            metrics_by_standard[metric.standard_id].append(describe_metric(metric))
        versions = list(selectors.framework_versions(framework))
        for version in versions:
            version.status = version_status(version, today)
        return super().get_context_data(
            standards=standards_tree(list(framework.standards.all()), metrics_by_standard),
            metrics_without_standard=metrics_by_standard.get(None, []),
            status=version_status(framework, today),
            versions=versions,
            breadcrumbs=[catalogue_crumb(), (f"{framework.short_name} ({framework.version})", None)],
            **kwargs,
        )


class StandardDetailView(LoginRequiredMixin, DetailView):
    """One standard: its statement, guidance, criteria, metrics, sub-clauses and notes."""

    template_name = "standards/standard_detail.html"
    context_object_name = "standard"

    def get_queryset(self):
        return selectors.standards().prefetch_related(
            *selectors.standard_mapping_prefetches(),
            *selectors.item_mapping_prefetches("criteria__"),
            *selectors.item_mapping_prefetches("metrics__"),
        )

    def get_context_data(self, **kwargs):
        standard = self.object
        framework = standard.framework
        attach_mapping_lines([standard, *standard.criteria.all(), *standard.metrics.all()])
        node = StandardNode(
            standard=standard,
            level=2,
            criteria=criteria_tree(standard.criteria.all()),
            metrics=[describe_metric(metric) for metric in standard.metrics.all()],
        )
        return super().get_context_data(
            node=node,
            framework=framework,
            breadcrumbs=[
                catalogue_crumb(),
                (f"{framework.short_name} ({framework.version})", framework.get_absolute_url()),
                (f"Standard {standard.number}", None),
            ],
            **kwargs,
        )


class MetricDetailView(LoginRequiredMixin, DetailView):
    """Everything the catalogue holds about one metric, with its thresholds by provider type worded out."""

    template_name = "standards/metric_detail.html"
    context_object_name = "metric"

    def get_queryset(self):
        return selectors.metrics().prefetch_related(*selectors.item_mapping_prefetches())

    def get_context_data(self, **kwargs):
        metric = describe_metric(self.object)
        attach_mapping_lines([metric])
        framework = metric.framework
        return super().get_context_data(
            framework=framework,
            breadcrumbs=[
                catalogue_crumb(),
                (f"{framework.short_name} ({framework.version})", framework.get_absolute_url()),
                (metric.code, None),
            ],
            **kwargs,
        )


class MetricListView(LoginRequiredMixin, ListView):
    """Search and filter the metrics of every framework version."""

    template_name = "standards/metric_list.html"
    context_object_name = "metrics"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = MetricFilter(self.request.GET or None, queryset=selectors.metrics())
        form = self.filterset.form
        for name in form.errors:
            if name in form.fields:
                form.fields[name].widget.attrs["aria-describedby"] = f"{form[name].id_for_label}-error"
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            filter=self.filterset,
            form=self.filterset.form,
            filtered=any(value for key, value in self.request.GET.items() if key != "page"),
            breadcrumbs=[catalogue_crumb(), ("Metrics", None)],
            **kwargs,
        )
        for metric in context["metrics"]:
            describe_metric(metric)
        return context
