"""Computing and storing the RAG status of a submitted return (called by the Celery task in ``tasks.py``)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from django.db import transaction
from django.db.models import Prefetch

from returns.models import Return, Submission
from returns.selectors import frameworks_for, is_due
from standards.models import Metric, Threshold

from .models import AnswerStatus, FrameworkStatus, RagRun, StandardStatus
from .rag import answer_status, roll_up


def _snapshot_values(submission: Submission | None) -> dict[str, dict]:
    if submission is None:
        return {}
    return {answer["metric"]: answer["values"] for answer in submission.snapshot.get("answers", [])}


def previous_submission(provider_return: Return) -> Submission | None:
    """The latest submission of the provider's return for the period before this one."""
    return (
        Submission.objects.filter(
            provider_return__provider=provider_return.provider,
            provider_return__period__ends_on__lt=provider_return.period.starts_on,
        )
        .order_by("-provider_return__period__ends_on", "-number")
        .first()
    )


def compute_return_rag(provider_return: Return) -> RagRun | None:
    """Judge the return's latest submission and store the result as the current run, all or nothing.

    Returns the current run (unchanged when nothing changed), or None when the return was never submitted.
    The thresholds are those of the framework versions in force when the period started, so a threshold changed
    in a later version never changes this result.
    """
    submission = provider_return.submissions.order_by("-number").first()
    if submission is None:
        return None
    provider, period = provider_return.provider, provider_return.period
    frameworks = frameworks_for(provider, period)
    services = list(provider.services.values_list("code", flat=True))
    metrics = list(
        Metric.objects.filter(framework__in=frameworks)
        .applicable_to(provider.provider_type_id, services)
        .select_related("framework", "standard")
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.select_related("provider_type")))
        .order_by("framework__position", "position", "id")
    )
    values = _snapshot_values(submission)
    before = _snapshot_values(previous_submission(provider_return))
    type_name = provider.provider_type.name if provider.provider_type_id else ""

    answers = []
    for metric in metrics:
        status = answer_status(
            metric,
            values.get(metric.code),
            provider_type_code=provider.provider_type_id,
            provider_type_name=type_name,
            period_end=period.ends_on,
            previous_values=before.get(metric.code),
            due=is_due(metric, period),
        )
        answers.append((metric, status))

    by_standard, by_framework = defaultdict(list), defaultdict(list)
    for metric, status in answers:
        if metric.standard_id:
            by_standard[metric.standard_id].append(status.colour)
        by_framework[metric.framework_id].append(status.colour)
    standards = {pk: roll_up(colours) for pk, colours in by_standard.items()}
    framework_results = {pk: roll_up(colours) for pk, colours in by_framework.items()}
    overall = roll_up(status.colour for _, status in answers)

    digest = hashlib.sha256(
        json.dumps(
            {
                "submission": submission.pk,
                "answers": [[m.pk, s.colour, s.value, s.threshold, s.rule, s.direction] for m, s in answers],
                "standards": sorted([pk, r.colour, r.explanation] for pk, r in standards.items()),
                "frameworks": sorted([pk, r.colour, r.explanation] for pk, r in framework_results.items()),
                "overall": [overall.colour, overall.explanation],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()

    with transaction.atomic():
        # Runs of one return are written one at a time; a duplicate of the current result is not written.
        Return.objects.select_for_update().get(pk=provider_return.pk)
        current = RagRun.objects.filter(provider_return=provider_return, is_current=True).first()
        if current is not None and current.fingerprint == digest:
            return current
        run = RagRun.objects.create(
            provider_return=provider_return,
            submission=submission,
            fingerprint=digest,
            colour=overall.colour,
            explanation=overall.explanation,
        )
        AnswerStatus.objects.bulk_create(
            AnswerStatus(
                run=run, metric=metric, colour=s.colour, value=s.value[:200], threshold=s.threshold[:200],
                rule=s.rule[:300], direction=s.direction, direction_is_better=s.direction_is_better,
            )
            for metric, s in answers
        )  # fmt: skip
        StandardStatus.objects.bulk_create(
            StandardStatus(run=run, standard_id=pk, colour=r.colour, explanation=r.explanation[:300])
            for pk, r in standards.items()
        )
        FrameworkStatus.objects.bulk_create(
            FrameworkStatus(run=run, framework_id=pk, colour=r.colour, explanation=r.explanation[:300])
            for pk, r in framework_results.items()
        )
        if current is not None:
            RagRun.objects.filter(pk=current.pk).update(is_current=False)
        RagRun.objects.filter(pk=run.pk).update(is_current=True)
        run.is_current = True
    return run
