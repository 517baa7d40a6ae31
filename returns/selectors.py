"""Reads about returns that pages, the API, Excel and services share: what a return asks, recent answers."""

from __future__ import annotations

from django.db.models import Prefetch

from providers.models import Contract, Organisation
from standards.models import QUARTERS_DUE, Framework, Frequency, Metric, Standard, Threshold

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
