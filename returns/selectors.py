"""Reads about returns that pages, the API, Excel and services share: what a return asks, recent answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from providers.models import Contract, Organisation
from standards.models import QUARTERS_DUE, Framework, Frequency, MappingKind, Metric, Standard, Threshold
from standards.selectors import mappings_in_force

from .models import Answer, ReportingPeriod, Return, Submission


def contracts_during(provider: Organisation, period: ReportingPeriod):
    return Contract.objects.accepted().filter(
        provider=provider, starts_on__lte=period.ends_on, ends_on__gte=period.starts_on
    )


def frameworks_for(provider: Organisation, period: ReportingPeriod) -> list[Framework]:
    """The framework versions a provider answers in a period: those its contracts name, in force when it starts."""
    codes = Framework.objects.filter(contracts__in=contracts_during(provider, period)).values("code")
    return list(Framework.objects.in_force_on(period.starts_on).filter(code__in=codes).order_by("position", "code"))


def is_due(metric: Metric, period: ReportingPeriod) -> bool:
    """Monthly and quarterly metrics are asked every quarter, six-monthly in Q2 and Q4, annual ones in Q4."""
    return metric.frequency == Frequency.AS_REQUIRED or period.quarter in QUARTERS_DUE[Frequency(metric.frequency)]


def metrics_for(provider: Organisation, period: ReportingPeriod, frameworks=None) -> list[Metric]:
    """The metrics a provider answers in a period: applicable to its type and services, and due this quarter.

    With their thresholds; the notes on the source are read only by the page that shows them (the return's page).
    """
    frameworks = frameworks if frameworks is not None else frameworks_for(provider, period)
    services = list(provider.services.values_list("code", flat=True))
    metrics = (
        Metric.objects.filter(framework__in=frameworks)
        .applicable_to(provider.provider_type_id, services)
        .select_related("framework", "standard")
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.select_related("provider_type")))
        .order_by("framework__position", "framework__code", "position", "id")
    )
    return [metric for metric in metrics if is_due(metric, period)]


@dataclass
class AskedOnce:
    """Which of a return's questions are asked once for several frameworks, by the same-measure mappings in force.

    A provider whose contracts bring in several frameworks answers a shared measure once: the first of its
    metrics in the return's order is *asked*, and its answer serves every metric of the group (each framework
    judges it by its own threshold). ``asked_for`` maps each metric of a group to the metric asked in its place;
    ``groups`` maps each asked metric to every metric its answer serves, itself first. A metric in no group is
    asked as itself.
    """

    asked_for: dict[int, Metric] = field(default_factory=dict)
    groups: dict[int, list[Metric]] = field(default_factory=dict)

    def asked(self, metric: Metric) -> Metric:
        """The metric whose question answers ``metric`` (``metric`` itself unless it is asked once elsewhere)."""
        return self.asked_for.get(metric.pk, metric)

    def is_asked(self, metric: Metric) -> bool:
        return self.asked(metric).pk == metric.pk

    def serves(self, metric: Metric) -> list[Metric]:
        """Every metric the answer to ``metric``'s question serves (``[metric]`` when it is not shared)."""
        return self.groups.get(self.asked(metric).pk, [metric])

    def others(self, metric: Metric) -> list[Metric]:
        """The other metrics of ``metric``'s group: what its answer also counts for, or where it is asked."""
        return [other for other in self.serves(metric) if other.pk != metric.pk]

    def with_copies(self, metric_ids) -> set[int]:
        """``metric_ids`` with every other metric of their groups: all the answers their questions make."""
        found = set(metric_ids)
        return found | {member.pk for pk in found if pk in self.asked_for for member in self.serves(self.asked_for[pk])}

    def questions(self, metrics: list[Metric]) -> list[Metric]:
        """The metrics asked as questions of their own: ``metrics`` without those asked once elsewhere."""
        return [metric for metric in metrics if self.is_asked(metric)]


@dataclass(frozen=True)
class MappingLinks:
    """The mappings in force among a return's metrics, read once for :func:`asked_once` and
    :func:`evidence_towards`: each *same measure* as (source, target) metric ids, each *evidence towards* as
    (source metric id, target standard id)."""

    same: tuple[tuple[int, int], ...] = ()
    towards: tuple[tuple[int, int], ...] = ()


def mapping_links(metrics: list[Metric], period: ReportingPeriod) -> MappingLinks:
    """The mappings in force for the period that link two of the metrics, or a metric to a standard of theirs.

    One query, none when the metrics come from a single framework (a mapping always links two frameworks).
    """
    if len({metric.framework.code for metric in metrics}) < 2:
        return MappingLinks()
    ids = [metric.pk for metric in metrics]
    standards = {metric.standard_id for metric in metrics if metric.standard_id}
    found = (
        mappings_in_force(period, {metric.framework for metric in metrics})
        .filter(source_metric__in=ids)
        .filter(Q(target_metric__in=ids) | Q(target_standard__in=standards))
        .values_list("kind", "source_metric_id", "target_metric_id", "target_standard_id")
    )
    same, towards = [], []
    for kind, source, target_metric, target_standard in found:
        if kind == MappingKind.SAME_MEASURE and target_metric:
            same.append((source, target_metric))
        elif kind == MappingKind.EVIDENCE_TOWARDS and target_standard:
            towards.append((source, target_standard))
    return MappingLinks(tuple(same), tuple(towards))


def asked_once(metrics: list[Metric], period: ReportingPeriod, links: MappingLinks | None = None) -> AskedOnce:
    """Group a return's metrics (in the return's order) that are the same measure, to be asked once.

    Two of the metrics are grouped when a *same measure* mapping in force for the period links them (directly or
    through another), and they are of the same kind; the mapping counts only when both metrics are questions of
    this return (applicable to the provider and due this quarter). ``links`` when already read
    (:func:`mapping_links`: one query, none when the metrics come from a single framework).
    """
    links = links if links is not None else mapping_links(metrics, period)
    if not links.same:
        return AskedOnce()
    by_id = {metric.pk: metric for metric in metrics}
    order = {metric.pk: index for index, metric in enumerate(metrics)}
    parent = {pk: pk for pk in by_id}

    def root(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for source, target in links.same:
        if by_id[source].kind != by_id[target].kind:
            continue  # refused by the catalogue's checks; never ask two kinds of question as one
        first, second = sorted((root(source), root(target)), key=order.__getitem__)
        parent[second] = first
    grouped: dict[int, list[Metric]] = {}
    for metric in metrics:
        grouped.setdefault(root(metric.pk), []).append(metric)
    result = AskedOnce()
    for members in grouped.values():
        if len(members) < 2:
            continue
        result.groups[members[0].pk] = members
        for member in members:
            result.asked_for[member.pk] = members[0]
    return result


def evidence_towards(
    metrics: list[Metric], period: ReportingPeriod, links: MappingLinks | None = None
) -> dict[int, list[Metric]]:
    """The return's metrics that are *evidence towards* another framework's standard of the return, by standard id.

    Shown beside that standard on review pages, without being asked again. ``links`` when already read
    (:func:`mapping_links`).
    """
    links = links if links is not None else mapping_links(metrics, period)
    by_id = {metric.pk: metric for metric in metrics}
    found: dict[int, list[Metric]] = {}
    for source, standard in links.towards:
        found.setdefault(standard, []).append(by_id[source])
    order = {metric.pk: index for index, metric in enumerate(metrics)}
    for sources in found.values():
        sources.sort(key=lambda metric: order[metric.pk])
    return found


def standards_for(metrics: list[Metric]) -> dict[int, Standard]:
    return {m.standard_id: m.standard for m in metrics if m.standard_id}


def return_with_answers(pk: int):
    """A return with everything its form needs, in a fixed number of queries."""
    return (
        Return.objects.select_related("provider__provider_type", "period")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=Answer.objects.select_related("metric", "updated_by").prefetch_related("actions", "evidence"),
            ),
            "submissions",
        )
        .get(pk=pk)
    )


def recent_values(provider: Organisation, period: ReportingPeriod, metric_codes, count: int = 4) -> dict[str, list]:
    """For each metric code, the provider's submitted values in its last ``count`` earlier periods, newest first.

    Metrics are matched by code, so a new framework version continues the series of the old one.
    """
    submitted = (
        Answer.objects.filter(
            provider_return__provider=provider,
            provider_return__period__ends_on__lt=period.starts_on,
            provider_return__submissions__isnull=False,
            metric__code__in=list(metric_codes),
        )
        .select_related("metric", "provider_return__period")
        .distinct()
        .order_by("-provider_return__period__ends_on")
    )
    series: dict[str, list] = {}
    for answer in submitted:
        values = series.setdefault(answer.metric.code, [])
        if len(values) < count:
            values.append((answer.provider_return.period, answer.values))
    return series


def latest_submission(provider_return: Return) -> Submission | None:
    return provider_return.submissions.order_by("-number").first()
