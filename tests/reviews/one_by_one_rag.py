"""The RAG computation one return at a time, as it stood before RAG was computed in sets, kept verbatim as the
reference the set-based path (:func:`reviews.services.compute_rag_for_returns`) is checked against."""

import datetime
import hashlib
import json
from collections import defaultdict

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery

from returns.models import Return, Submission
from returns.selectors import frameworks_for, is_due
from reviews.models import AnswerReview, AnswerStatus, FrameworkStatus, RagRun, StandardStatus
from reviews.rag import answer_status, roll_up
from reviews.services import _snapshot_values, reviewed_status
from standards.kinds import figure
from standards.models import Metric, Threshold


def earlier_figures(provider_return: Return, metrics) -> dict[str, tuple[dict, str]]:
    """What each metric's figure is compared with: metric code → (values, the period's name, or "").

    The values are those of the immediately previous period (named ""), or, when that period has no figure for the
    metric (no return submitted, or the question not answered), of the latest period in the year before that has
    one, named (“Q1 2025/26”) so that the explanation says which period it is compared with. Metrics with no figure
    in that year are left out. One query.
    """
    period = provider_return.period
    immediately_before = period.starts_on - datetime.timedelta(days=1)
    kinds = {metric.code: metric.kind for metric in metrics}
    found: dict[str, tuple[dict, str]] = {}
    latest = Submission.objects.filter(provider_return=OuterRef("provider_return")).order_by("-number")
    for submission in (
        Submission.objects.filter(
            provider_return__provider=provider_return.provider,
            provider_return__period__ends_on__lt=period.starts_on,
            provider_return__period__ends_on__gte=period.starts_on - datetime.timedelta(days=365),
            number=Subquery(latest.values("number")[:1]),
        )
        .select_related("provider_return__period")
        .order_by("-provider_return__period__ends_on")
    ):
        earlier = submission.provider_return.period
        name = "" if earlier.ends_on == immediately_before else earlier.label.split(" (")[0]
        for code, values in _snapshot_values(submission).items():
            if code in kinds and code not in found and figure(kinds[code], values) is not None:
                found[code] = (values, name)
    return found


def compute_one_return(provider_return: Return) -> RagRun | None:
    """Judge the return's latest submission and store the result as the current run, all or nothing.

    Returns the current run (unchanged when nothing changed), or None when the return was never submitted.
    The thresholds are those of the framework versions in force when the period started, so a threshold changed
    in a later version never changes this result. A reviewer's standing judgement of an answer (an
    :class:`AnswerReview` made on the values submitted) gives the colour shown and its rule; the colour and rule
    the rules gave are stored beside it.
    """
    submission = provider_return.submissions.order_by("-number").first()
    if submission is None:
        return None
    provider, period = provider_return.provider, provider_return.period
    frameworks = frameworks_for(provider, period)
    services = list(provider.services.values_list("code", flat=True))
    # Only the metrics' own fields and thresholds are read: no joined rows to build (this runs for every return).
    metrics = list(
        Metric.objects.filter(framework__in=frameworks)
        .applicable_to(provider.provider_type_id, services)
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.order_by("pk")))
        .order_by("framework__position", "position", "id")
    )
    values = _snapshot_values(submission)
    before = earlier_figures(provider_return, metrics)
    type_name = provider.provider_type.name if provider.provider_type_id else ""
    reviews = {
        review.metric_id: review
        for review in AnswerReview.objects.filter(provider_return=provider_return).select_related("reviewed_by")
    }

    answers, computed = [], {}
    for metric in metrics:
        status = answer_status(
            metric,
            values.get(metric.code),
            provider_type_code=provider.provider_type_id,
            provider_type_name=type_name,
            period_end=period.ends_on,
            previous_values=before.get(metric.code, (None, ""))[0],
            previous_period=before.get(metric.code, (None, ""))[1],
            due=is_due(metric, period),
        )
        review = reviews.get(metric.pk)
        if review is not None and review.values_reviewed != values.get(metric.code):
            review = None  # the answer changed since the reviewer saw it: the rules judge it until reviewed again
        computed[metric.pk] = (status, review.decision if review else "")
        answers.append((metric, reviewed_status(metric, status, review)))

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
                rule=s.rule, direction=s.direction, direction_is_better=s.direction_is_better,
                computed_colour=computed[metric.pk][0].colour, computed_rule=computed[metric.pk][0].rule[:300],
                review_decision=computed[metric.pk][1],
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
