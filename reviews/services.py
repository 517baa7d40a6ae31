"""Computing and storing the RAG status of submitted returns, and the acts of reviewing them.

Computation (``compute_return_rag``) is called by the Celery task in ``tasks.py``; everything that should make a
return's status be computed again calls :func:`schedule_rag` after its transaction commits, which never fails
the caller: with the broker down, the ``recompute_missing`` sweep (every few minutes) catches up.

Review acts (agree, override, comment, accept, follow up an action, send reminders) take the acting person,
check what they may do through :mod:`providers.scoping`, run in one transaction and keep their history.
Refusals are ``PermissionDenied`` and ``ValidationError`` with the words people see.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from simple_history.models import HistoricalRecords

from providers.models import ContractStatus, Organisation
from providers.scoping import provider_ids
from providers.services import ALREADY_DONE, when_and_who
from returns.models import ActionPlanItem, ReportingPeriod, Return, ReturnStatus, Submission
from returns.selectors import is_due, metrics_for
from standards.kinds import LONGEST_COMMENT, LONGEST_NOTE, RequirementKind, clean_typed_text, figure
from standards.models import Framework, Metric, Threshold

from .models import (
    REVIEW_COLOURS,
    ActionFollowUp,
    AnswerComment,
    AnswerReview,
    AnswerStatus,
    ChunkState,
    FrameworkStatus,
    OverdueFlag,
    RagRun,
    RecomputeChunk,
    RecomputeJob,
    RecomputeReason,
    RecomputeState,
    Reminder,
    ReturnAcceptance,
    ReviewDecision,
    StandardStatus,
)
from .rag import Colour, Status, answer_status, roll_up

logger = logging.getLogger(__name__)

NOT_IN_RETURN = "This question is not part of this return."
NO_METRIC = "Choose the question this is about."
NOT_SUBMITTED = "Only a submitted return can be reviewed."
NO_REASON = "Give the reason for changing the status."
NO_COLOUR = "Choose red, amber or green."
NO_COMMENT = "Write your comment."
NOT_A_REVIEWER = "Only a designated professional of a commissioner of this provider can review its return."
NOT_A_COMMENTER = (
    "Only the provider's own people and designated professionals of its commissioners can comment on its return."
)


def _snapshot_values(submission: Submission | None) -> dict[str, dict]:
    if submission is None:
        return {}
    return {answer["metric"]: answer["values"] for answer in submission.snapshot.get("answers", [])}


def previous_submission(provider_return: Return) -> Submission | None:
    """The latest submission of the provider's return for the immediately previous period (None when it has none)."""
    return (
        Submission.objects.filter(
            provider_return__provider=provider_return.provider,
            provider_return__period__ends_on=provider_return.period.starts_on - datetime.timedelta(days=1),
        )
        .order_by("-number")
        .first()
    )


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _day(moment) -> str:
    return f"{timezone.localdate(moment):%-d %B %Y}"


def reviewed_status(metric: Metric, status: Status, review: AnswerReview | None) -> Status:
    """The status shown for an answer once a reviewer's standing judgement is applied to what the rules gave."""
    if review is None:
        return status
    who = f"{_person(review.reviewed_by)} on {_day(review.reviewed_at)}"
    if review.decision == ReviewDecision.OVERRIDDEN:
        label = Colour(review.colour).label.lower()
        return replace(status, colour=review.colour, rule=f"set to {label} by {who}: {review.reason}")
    if metric.kind == RequirementKind.SELF_ASSESSMENT:
        return replace(status, rule=f"the provider's own grade, agreed by {who}")
    return replace(status, rule=f"{status.rule}; agreed by {who}" if status.rule else f"agreed by {who}")


#: The kinds of answer that come to a figure (:func:`standards.kinds.figure`), compared with earlier periods'.
KINDS_WITH_A_FIGURE = frozenset({RequirementKind.PERCENTAGE, RequirementKind.AUDIT, RequirementKind.COUNT})

#: Returns judged in one pass of :func:`compute_rag_for_returns` by the quarter-wide recomputes.
RAG_BATCH_SIZE = 100


def _in_force(framework: Framework, day: datetime.date) -> bool:
    return framework.effective_from <= day and (framework.effective_to is None or framework.effective_to >= day)


def _applies(metric: Metric, provider_type_code, service_codes: set, metric_types: dict, metric_services: dict) -> bool:
    """:meth:`standards.models.MetricQuerySet.applicable_to`, on rows already read."""
    types, services = metric_types.get(metric.id, set()), metric_services.get(metric.id, set())
    return (not types or provider_type_code in types) and (not services or bool(services & service_codes))


def _judge(provider_return, submission, metrics, before, reviews, due: dict) -> tuple:
    """What the rules (and reviewers' standing judgements) give for one return: nothing is read or written here.

    ``due``: whether each metric (by id) is asked in the return's period."""
    provider, period = provider_return.provider, provider_return.period
    values = _snapshot_values(submission)
    type_name = provider.provider_type.name if provider.provider_type_id else ""
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
            due=due[metric.id],
        )
        review = reviews.get(metric.id)
        if review is not None and review.values_reviewed != values.get(metric.code):
            review = None  # the answer changed since the reviewer saw it: the rules judge it until reviewed again
        computed[metric.id] = (status, review.decision if review else "")
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
                "answers": [[m.id, s.colour, s.value, s.threshold, s.rule, s.direction] for m, s in answers],
                "standards": sorted([pk, r.colour, r.explanation] for pk, r in standards.items()),
                "frameworks": sorted([pk, r.colour, r.explanation] for pk, r in framework_results.items()),
                "overall": [overall.colour, overall.explanation],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return digest, answers, standards, framework_results, overall, computed


def _insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert plain rows (values in the order of ``fields``) into a model's table.

    The statuses of a batch of returns are thousands of rows: building a model instance for each, as
    ``bulk_create`` does, took longer than judging them. On PostgreSQL they go in one ``COPY``, written as CSV by
    Python's C writer: every value quoted (so an empty text stays empty), and a quoted empty value read as null
    only in the nullable columns (booleans here; no text column is nullable). Elsewhere (SQLite, for the demo)
    they go in one ``executemany``.
    """
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = ", ".join(ops.quote_name(f.column) for f in model_fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            nullable = [ops.quote_name(f.column) for f in model_fields if f.null]
            if any(f.null and f.get_internal_type() in ("CharField", "TextField") for f in model_fields):
                raise ValueError("A nullable text column would read an empty text as null.")
            text = io.StringIO()
            csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
            text.seek(0)
            force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
            sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv{force_null})"
            started = time.monotonic()
            cursor.cursor.copy_expert(sql, text)
            if connection.queries_logged:  # the driver's COPY bypasses Django's log: counted like any statement
                took = f"{time.monotonic() - started:.3f}"
                connection.queries_log.append({"sql": f"{sql} -- {len(rows)} rows", "time": took})
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


def compute_rag_for_returns(return_ids) -> dict[int, RagRun | None]:
    """Judge the latest submission of each of these returns and store the results as their current runs.

    The set-based computation of RAG: whatever the number of returns, everything is read in a fixed number of
    queries (the returns, their latest submissions, contracts, framework versions, metrics with their
    applicability and thresholds, earlier periods' submissions, reviewers' judgements and current runs), the pure
    rules of :mod:`reviews.rag` judge each answer, and the runs are written with bulk inserts in one transaction,
    so every run is stored whole or not at all. A return whose current run already gives what the rules give
    (the same fingerprint) is left as it is. Returns each id's current run, or None for a return never submitted
    (or not found). Call it with batches of about :data:`RAG_BATCH_SIZE` returns.

    The thresholds are those of the framework versions in force when each period started, so a threshold changed
    in a later version never changes a result. A reviewer's standing judgement of an answer (an
    :class:`AnswerReview` made on the values submitted) gives the colour shown and its rule; the colour and rule
    the rules gave are stored beside it.
    """
    from providers.models import Contract

    ids = sorted({int(pk) for pk in return_ids})
    result: dict[int, RagRun | None] = dict.fromkeys(ids)
    returns = {r.pk: r for r in Return.objects.filter(pk__in=ids).select_related("provider__provider_type", "period")}
    # Every submission of these returns, the latest last (a return is seldom submitted more than twice); read so
    # rather than with DISTINCT ON, which only PostgreSQL has.
    latest = {
        s.provider_return_id: s for s in Submission.objects.filter(provider_return_id__in=returns).order_by("number")
    }
    returns = {pk: r for pk, r in returns.items() if pk in latest}
    if not returns:
        return result
    provider_ids_ = {r.provider_id for r in returns.values()}
    starts = [r.period.starts_on for r in returns.values()]
    ends = [r.period.ends_on for r in returns.values()]

    # The framework versions each return answers: its provider's accepted contracts during the period name the
    # frameworks, and the version in force when the period starts judges it (returns.selectors.frameworks_for).
    contracts = defaultdict(list)
    for provider_id, starts_on, ends_on, code in (
        Contract.objects.accepted()
        .filter(
            provider_id__in=provider_ids_, starts_on__lte=max(ends), ends_on__gte=min(starts), frameworks__isnull=False
        )
        .values_list("provider_id", "starts_on", "ends_on", "frameworks__code")
    ):
        contracts[provider_id].append((starts_on, ends_on, code))
    codes = {code for rows in contracts.values() for _, _, code in rows}
    versions = list(Framework.objects.filter(code__in=codes).order_by("position", "code", "pk"))
    frameworks_of: dict[int, list[Framework]] = {}
    for pk, provider_return in returns.items():
        period = provider_return.period
        named = {
            code
            for starts_on, ends_on, code in contracts[provider_return.provider_id]
            if starts_on <= period.ends_on and ends_on >= period.starts_on
        }
        frameworks_of[pk] = [f for f in versions if f.code in named and _in_force(f, period.starts_on)]

    framework_ids = {f.pk for frameworks in frameworks_of.values() for f in frameworks}
    position = {f.pk: f.position for f in versions}
    metrics_read = sorted(
        Metric.objects.filter(framework_id__in=framework_ids).prefetch_related(
            Prefetch("thresholds", queryset=Threshold.objects.order_by("pk"))
        ),
        key=lambda m: (position[m.framework_id], m.position, m.pk),
    )
    metric_types, metric_services = defaultdict(set), defaultdict(set)
    metric_ids = [m.pk for m in metrics_read]
    for metric_id, type_code in Metric.provider_types.through.objects.filter(metric_id__in=metric_ids).values_list(
        "metric_id", "providertype_id"
    ):
        metric_types[metric_id].add(type_code)
    for metric_id, service_code in Metric.services.through.objects.filter(metric_id__in=metric_ids).values_list(
        "metric_id", "service_id"
    ):
        metric_services[metric_id].add(service_code)
    provider_services = defaultdict(set)
    for provider_id, service_code in Organisation.services.through.objects.filter(
        organisation_id__in=provider_ids_
    ).values_list("organisation_id", "service_id"):
        provider_services[provider_id].add(service_code)

    # What each metric's figure is compared with: the immediately previous period's figure (named ""), or, when
    # that period has none (no return submitted, or the question not answered), the latest period's in the year
    # before that has one, named ("Q1 2025/26") so that the explanation says which period it is compared with.
    # Here: the latest submission of every return of these providers in the year before any of the periods.
    latest_of_return = Submission.objects.filter(provider_return=OuterRef("provider_return")).order_by("-number")
    earlier = defaultdict(list)
    for submission in (
        Submission.objects.filter(
            provider_return__provider_id__in=provider_ids_,
            provider_return__period__ends_on__lt=max(starts),
            provider_return__period__ends_on__gte=min(starts) - datetime.timedelta(days=365),
            number=Subquery(latest_of_return.values("number")[:1]),
        )
        .select_related("provider_return__period")
        .order_by("-provider_return__period__ends_on")
    ):
        earlier[submission.provider_return.provider_id].append(submission)

    reviews = defaultdict(dict)
    for review in AnswerReview.objects.filter(provider_return_id__in=returns).select_related("reviewed_by"):
        reviews[review.provider_return_id][review.metric_id] = review

    judged = {}
    due_in = {}
    asked = {}  # the metrics a return answers, for each combination of frameworks, provider type and services
    for pk, provider_return in returns.items():
        provider, period = provider_return.provider, provider_return.period
        in_frameworks = frozenset(f.pk for f in frameworks_of[pk])
        key = (in_frameworks, provider.provider_type_id, frozenset(provider_services[provider.pk]))
        if key not in asked:
            metrics = [
                m
                for m in metrics_read
                if m.framework_id in in_frameworks
                and _applies(m, provider.provider_type_id, key[2], metric_types, metric_services)
            ]
            # Only these kinds have a figure to compare with an earlier period's (standards.kinds.figure).
            figured = {metric.code: metric.kind for metric in metrics if metric.kind in KINDS_WITH_A_FIGURE}
            asked[key] = (metrics, figured)
        metrics, kinds = asked[key]
        immediately_before = period.starts_on - datetime.timedelta(days=1)
        before: dict[str, tuple[dict, str]] = {}
        for submission in earlier[provider.pk]:
            earlier_period = submission.provider_return.period
            if not (period.starts_on - datetime.timedelta(days=365) <= earlier_period.ends_on < period.starts_on):
                continue
            name = "" if earlier_period.ends_on == immediately_before else earlier_period.label.split(" (")[0]
            for answer in submission.snapshot.get("answers", []):
                code, values = answer["metric"], answer["values"]
                if code in kinds and code not in before and figure(kinds[code], values) is not None:
                    before[code] = (values, name)
        if period.pk not in due_in:  # whether each metric is asked depends on the quarter alone
            due_in[period.pk] = {metric.id: is_due(metric, period) for metric in metrics_read}
        judged[pk] = _judge(provider_return, latest[pk], metrics, before, reviews[pk], due_in[period.pk])

    with transaction.atomic():
        # Runs of one return are written one at a time (the returns are locked); a duplicate of the current result
        # is not written.
        list(Return.objects.select_for_update().filter(pk__in=returns).order_by("pk").values_list("pk", flat=True))
        current = {run.provider_return_id: run for run in RagRun.objects.filter(provider_return_id__in=returns,
                                                                               is_current=True)}  # fmt: skip
        changed = [pk for pk in returns if current.get(pk) is None or current[pk].fingerprint != judged[pk][0]]
        for pk in returns:
            result[pk] = current.get(pk)
        if not changed:
            return result
        runs = RagRun.objects.bulk_create(
            RagRun(
                provider_return_id=pk, submission=latest[pk], fingerprint=judged[pk][0],
                colour=judged[pk][4].colour, explanation=judged[pk][4].explanation,
            )
            for pk in changed
        )  # fmt: skip
        answer_rows, standard_rows, framework_rows = [], [], []
        for run in runs:
            _, answers, standards, framework_results, _, computed = judged[run.provider_return_id]
            answer_rows += [
                (run.pk, metric.id, s.colour, s.value[:200], s.threshold[:200], s.rule, s.direction,
                 s.direction_is_better, computed[metric.id][0].colour, computed[metric.id][0].rule[:300],
                 computed[metric.id][1])
                for metric, s in answers
            ]  # fmt: skip
            standard_rows += [(run.pk, pk, r.colour, r.explanation[:300]) for pk, r in standards.items()]
            framework_rows += [(run.pk, pk, r.colour, r.explanation[:300]) for pk, r in framework_results.items()]
        _insert(
            AnswerStatus,
            ["run", "metric", "colour", "value", "threshold", "rule", "direction", "direction_is_better",
             "computed_colour", "computed_rule", "review_decision"],
            answer_rows,
        )  # fmt: skip
        _insert(StandardStatus, ["run", "standard", "colour", "explanation"], standard_rows)
        _insert(FrameworkStatus, ["run", "framework", "colour", "explanation"], framework_rows)
        RagRun.objects.filter(provider_return_id__in=changed, is_current=True).update(is_current=False)
        RagRun.objects.filter(pk__in=[run.pk for run in runs]).update(is_current=True)
        for run in runs:
            run.is_current = True
            result[run.provider_return_id] = run
    return result


def compute_return_rag(provider_return: Return) -> RagRun | None:
    """Judge the return's latest submission and store the result as its current run, all or nothing: the
    set-based computation (:func:`compute_rag_for_returns`) of one return.

    Returns the current run (unchanged when nothing changed), or None when the return was never submitted.
    """
    return compute_rag_for_returns([provider_return.pk])[provider_return.pk]


# Scheduling: never blocks the person whose action asked for it.


def schedule_rag(return_id: int, *, expires: float | None = None) -> bool:
    """Queue the computation of a return's RAG status; False (logged, not raised) when the broker is down.

    Call it with ``transaction.on_commit(lambda: schedule_rag(return_id))`` so the worker reads what was committed.
    Sending gives up within about a second (``CELERY_TASK_PUBLISH_RETRY_POLICY`` and the broker timeouts in
    settings), and stores no result, so it never holds up the request. A return left uncomputed is found by the
    ``recompute_missing`` sweep, every few minutes, once the broker is back. ``expires`` (seconds): a job not
    started by then is dropped (the sweep's own, sent again by the next sweep).
    """
    from .tasks import compute_rag  # the task module imports this one

    try:
        compute_rag.apply_async((return_id,), expires=expires)
    except Exception:  # kombu's OperationalError, redis's ConnectionError, or anything else from the broker
        logger.warning(
            "Could not queue the RAG computation of return %s; recompute_missing will queue it later.",
            return_id,
            exc_info=True,
        )
        return False
    return True


def returns_missing_rag():
    """Returns submitted at least once whose latest submission has no current run, or whose run judged an older one."""
    latest = Submission.objects.filter(provider_return=OuterRef("pk")).order_by("-number").values("pk")[:1]
    judged = RagRun.objects.filter(provider_return=OuterRef("pk"), is_current=True, submission_id=OuterRef("latest"))
    return (
        Return.objects.annotate(latest=Subquery(latest))
        .filter(latest__isnull=False)
        .exclude(Exists(judged))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def queue_missing_rag() -> RecomputeJob | None:
    """Recompute every return whose status is missing or out of date (found in one query) as one chunked job.

    Returns already in a chunk still waiting to be done are left to that chunk, so a sweep every few minutes never
    queues the same returns twice while a job is under way; chunks whose task was never sent (the broker was down)
    or was lost are sent again first (:func:`send_lost_chunks`). None when nothing is missing.
    """
    send_lost_chunks()
    waiting = set()
    for return_ids in RecomputeChunk.objects.filter(state=ChunkState.QUEUED).values_list("return_ids", flat=True):
        waiting.update(return_ids)
    missing = [pk for pk in returns_missing_rag() if pk not in waiting]
    return start_recompute(
        missing, reason=RecomputeReason.SWEEP, description="Statuses missing or out of date, found by the sweep"
    )


def returns_governed_by(framework: Framework):
    """Submitted returns judged by this framework version: periods starting while it is in force, on a contract
    naming the framework."""
    in_force = Q(period__starts_on__gte=framework.effective_from)
    if framework.effective_to:
        in_force &= Q(period__starts_on__lte=framework.effective_to)
    on_contract = Organisation.objects.filter(
        contracts_as_provider__frameworks__code=framework.code, contracts_as_provider__status=ContractStatus.ACCEPTED
    ).values("pk")
    submitted = Submission.objects.filter(provider_return=OuterRef("pk"))
    return (
        Return.objects.filter(in_force, Exists(submitted), provider__in=on_contract)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def recompute_framework(framework_id: int, *, by=None) -> RecomputeJob | None:
    """Recompute, as one chunked job, every submitted return that this framework version judges (a threshold of it
    changed, by ``by``); None when it judges none or is gone."""
    framework = Framework.objects.filter(pk=framework_id).first()
    if framework is None:
        return None
    who = f" by {_person(by)}" if by is not None else ""
    return start_recompute(
        returns_governed_by(framework), reason=RecomputeReason.THRESHOLD, framework=framework, by=by,
        description=f"A threshold of {framework} changed{who}",
    )  # fmt: skip


def threshold_changed(sender, instance: Threshold, **kwargs) -> None:
    """A threshold was saved or deleted: once committed, recompute the returns its framework version judges.

    Several thresholds of one version changed in one transaction (a catalogue import) queue the returns once.
    """
    framework_id = Metric.objects.filter(pk=instance.metric_id).values_list("framework_id", flat=True).first()
    if framework_id is None:
        return  # the metric is being deleted with its framework: nothing left to judge by it
    connection = transaction.get_connection()
    pending = connection.__dict__.setdefault("reviews_recompute_pending", {})
    waiting = pending.get(framework_id)
    if waiting is not None and any(entry[1] is waiting for entry in connection.run_on_commit):
        return

    request = getattr(HistoricalRecords.context, "request", None)  # the admin's request, if it was one
    user = getattr(request, "user", None)
    by = user if user is not None and user.is_authenticated else None

    def recompute():
        pending.pop(framework_id, None)
        job = recompute_framework(framework_id, by=by)
        if request is not None and by is not None and by.is_staff:  # the link leads to Django admin
            announce_recompute(request, job, framework_id)

    pending[framework_id] = recompute
    transaction.on_commit(recompute)


def announce_recompute(request, job: RecomputeJob | None, framework_id: int) -> None:
    """Tell the person whose change made the job (in Django admin) that it is under way, with a link to its
    progress."""
    from django.contrib import messages
    from django.template.defaultfilters import pluralize
    from django.urls import reverse
    from django.utils.html import format_html

    if job is None:
        framework = Framework.objects.filter(pk=framework_id).first()
        text = f"No submitted return is judged by {framework}, so no status needed computing again."
        messages.info(request, text, fail_silently=True)
        return
    url = reverse("admin:reviews_recomputejob_change", args=[job.pk])
    returns, chunks = job.returns_total, job.chunks_total
    messages.info(
        request,
        format_html(
            "The RAG status of the {} submitted return{} judged by {} is being computed again, in {} chunk{}. "
            '<a href="{}">See how far along it is</a>.',
            returns, pluralize(returns), job.framework, chunks, pluralize(chunks), url,
        ),
        fail_silently=True,
    )  # fmt: skip


# Recompute jobs: many returns judged again in chunks that Celery workers share.

#: Returns a chunk of a recompute job judges in one pass (one task, one transaction).
RECOMPUTE_CHUNK_SIZE = RAG_BATCH_SIZE
#: Errors worth trying a chunk again for: the database out of reach for a moment, a deadlock, a lost connection.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
CHUNK_FAILED = "It could not be judged: {error}. The other returns of its chunk were."


def start_recompute(
    return_ids, *, reason: str, description: str, by=None, framework=None, send: bool = True
) -> RecomputeJob | None:
    """Make a recompute job of these returns, in chunks of :data:`RECOMPUTE_CHUNK_SIZE`, and send each chunk's task
    once it is committed; None (no job) when there is no return to judge.

    Called inside a transaction, the chunks are sent after it commits; in-process (no broker) they run at once.
    ``send=False``: the caller does the chunks itself (:func:`recompute_chunk`), as ``recompute_rag --here`` does.
    """
    ids = sorted({int(pk) for pk in return_ids})
    if not ids:
        return None
    parts = [ids[start : start + RECOMPUTE_CHUNK_SIZE] for start in range(0, len(ids), RECOMPUTE_CHUNK_SIZE)]
    with transaction.atomic():
        job = RecomputeJob.objects.create(
            reason=reason, description=description[:300], framework=framework, requested_by=by,
            chunks_total=len(parts), returns_total=len(ids),
        )  # fmt: skip
        chunks = RecomputeChunk.objects.bulk_create(
            RecomputeChunk(job=job, number=number, return_ids=part) for number, part in enumerate(parts, 1)
        )
    chunk_ids = [chunk.pk for chunk in chunks]
    if send:
        transaction.on_commit(lambda: send_chunks(chunk_ids))
    return job


def send_chunks(chunk_ids: list[int]) -> int:
    """Send the tasks of these chunks; how many were sent. Stops at the first the broker refuses (logged, not
    raised): the sweep sends the rest once the broker is back."""
    from .tasks import recompute_chunk  # the task module imports this one

    sent = 0
    for chunk_id in chunk_ids:
        # Recorded before sending: in-process, the task runs (and may finish the chunk) inside apply_async.
        RecomputeChunk.objects.filter(pk=chunk_id, state=ChunkState.QUEUED).update(sent_at=timezone.now())
        try:
            recompute_chunk.apply_async((chunk_id,))
        except Exception:  # kombu's OperationalError, redis's ConnectionError, or anything else from the broker
            RecomputeChunk.objects.filter(pk__in=chunk_ids[sent:], state=ChunkState.QUEUED).update(sent_at=None)
            logger.warning(
                "Could not queue chunk %s of a recompute; recompute_missing will send it later.", chunk_id,
                exc_info=True,
            )  # fmt: skip
            break
        sent += 1
    return sent


def lost_chunks(now=None):
    """Chunks not done whose task was never sent, or sent longer ago than any chunk takes (the visibility timeout:
    by then Redis has handed an unacknowledged task to another worker, so the task itself was lost)."""
    now = now or timezone.now()
    lost_since = now - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    return (
        RecomputeChunk.objects.filter(state=ChunkState.QUEUED)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=lost_since))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def send_lost_chunks(now=None) -> int:
    """Send again the chunks whose task was never sent or was lost (a chunk done twice is done once); how many."""
    return send_chunks(list(lost_chunks(now)))


def recompute_chunk(chunk_id: int) -> RecomputeChunk | None:
    """Judge a chunk's returns (:func:`compute_rag_for_returns`) and count them into its job, in one transaction.

    Idempotent: a chunk already done is left as it is (the chunk's row is locked, so two copies of its task at once
    run one after the other). A return the rules cannot judge does not hold up the others: the chunk's returns
    are then judged one at a time and each failure is recorded with its reason. Transient database errors are
    raised, for the task to try again.
    """
    with transaction.atomic():
        chunk = RecomputeChunk.objects.select_for_update().filter(pk=chunk_id).first()
        if chunk is None or chunk.state != ChunkState.QUEUED:
            return chunk
        if connection.vendor == "postgresql":
            # Statuses are derived, and the chunk's "done" is committed with them: were the database server to crash
            # before this commit reached its disk, both would be lost together and the sweep would send the chunk
            # again. So the commit need not wait for the disk (about a sixth of a chunk's time).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        ids = chunk.return_ids
        was = dict(RagRun.objects.current().filter(provider_return_id__in=ids).values_list("provider_return_id", "pk"))
        failures = {}
        try:
            with transaction.atomic():
                runs = compute_rag_for_returns(ids)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            logger.exception("Chunk %s of recompute job %s failed; judging its returns one at a time", chunk.pk,
                             chunk.job_id)  # fmt: skip
            runs = {}
            for pk in ids:
                try:
                    with transaction.atomic():
                        runs.update(compute_rag_for_returns([pk]))
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:
                    logger.exception("Return %s could not be judged", pk)
                    failures[str(pk)] = CHUNK_FAILED.format(error=type(exc).__name__)
        changed = sum(run is not None and run.pk != was.get(pk) for pk, run in runs.items())
        _finish_chunk(chunk, ChunkState.FAILED if failures else ChunkState.DONE, failures, changed)
    _gather_statistics_after(chunk)
    return chunk


#: A job of at least this many returns, once finished, has PostgreSQL gather the status tables' statistics at once.
ANALYZE_AFTER_RETURNS = 1000
STATUS_TABLES = ("reviews_ragrun", "reviews_answerstatus", "reviews_standardstatus", "reviews_frameworkstatus")


def _gather_statistics_after(chunk: RecomputeChunk) -> None:
    """When ``chunk`` finished a large job, ``ANALYZE`` the status tables (on PostgreSQL; a second or two).

    Autovacuum would gather their statistics only once a tenth of a table has changed, and some time later; until
    then, after a quarter or a year judged again, the planner guesses a few hundred red answers where there are tens
    of thousands and the dashboard takes seconds instead of a fifth of one (``bench/rag_dashboard.py``).
    """
    if connection.vendor != "postgresql":
        return
    finished = RecomputeJob.objects.filter(
        pk=chunk.job_id, chunks_done=F("chunks_total"), returns_total__gte=ANALYZE_AFTER_RETURNS
    )
    if chunk.done_at is None or not finished.filter(finished_at=chunk.done_at).exists():
        return  # not the chunk that finished the job, or too small a job to be worth it
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(STATUS_TABLES))


def fail_chunk(chunk_id: int, reason: str) -> None:
    """Record that a chunk could not be done at all (its last try met a transient error), so its job finishes."""
    with transaction.atomic():
        chunk = RecomputeChunk.objects.select_for_update().filter(pk=chunk_id).first()
        if chunk is None or chunk.state != ChunkState.QUEUED:
            return
        _finish_chunk(chunk, ChunkState.FAILED, {str(pk): reason for pk in chunk.return_ids}, 0)


def _finish_chunk(chunk: RecomputeChunk, state: str, failures: dict, changed: int) -> None:
    """Mark the (locked) chunk done and add it to its job's counters; the last chunk finishes the job."""
    chunk.state, chunk.failures, chunk.done_at = state, failures, timezone.now()
    chunk.save(update_fields=["state", "failures", "done_at"])
    jobs = RecomputeJob.objects.filter(pk=chunk.job_id)
    # One UPDATE, so chunks finishing at once on several workers each add theirs (the row is locked until commit).
    jobs.update(
        chunks_done=F("chunks_done") + 1,
        returns_done=F("returns_done") + len(chunk.return_ids) - len(failures),
        returns_changed=F("returns_changed") + changed,
        returns_failed=F("returns_failed") + len(failures),
        state=RecomputeState.RUNNING,
    )
    jobs.filter(chunks_done=F("chunks_total"), returns_failed=0).update(
        state=RecomputeState.FINISHED, finished_at=chunk.done_at
    )
    jobs.filter(chunks_done=F("chunks_total"), returns_failed__gt=0).update(
        state=RecomputeState.FINISHED_WITH_FAILURES, finished_at=chunk.done_at
    )


# Review acts.


def may(user, provider_return: Return, action: str) -> bool:
    """:func:`returns.services.may`: the one check of a person's right to act on a return, of its period."""
    from returns.services import may as may_on_return  # returns.services imports this module

    return may_on_return(user, provider_return, action)


def _record(obj, user) -> None:
    obj._history_user = user


def _latest_submission(provider_return: Return) -> Submission | None:
    return provider_return.submissions.order_by("-number").first()


def _check_in_return(provider_return: Return, metric: Metric | None) -> None:
    if metric is None:
        raise ValidationError({"metric": NO_METRIC})
    if metric.pk not in {m.pk for m in metrics_for(provider_return.provider, provider_return.period)}:
        raise ValidationError({"metric": NOT_IN_RETURN})


def _locked_submitted(provider_return: Return) -> tuple[Return, Submission]:
    """The return, locked for the rest of the transaction, and its latest submission; refused unless submitted."""
    provider_return = Return.objects.select_for_update().get(pk=provider_return.pk)
    submission = _latest_submission(provider_return)
    if provider_return.status != ReturnStatus.SUBMITTED or submission is None:
        raise ValidationError(NOT_SUBMITTED)
    return provider_return, submission


def _review(provider_return: Return, metric: Metric | None, *, by, decision: str, colour="", reason="") -> AnswerReview:
    _check_in_return(provider_return, metric)
    with transaction.atomic():
        provider_return, submission = _locked_submitted(provider_return)
        review = AnswerReview.objects.filter(provider_return=provider_return, metric=metric).first()
        values = _snapshot_values(submission).get(metric.code)
        if review is not None and (review.submission_id, review.values_reviewed, review.decision, review.colour,
                                   review.reason) == (submission.pk, values, decision, colour, reason):  # fmt: skip
            return review  # the same judgement already stands (two reviewers at once, a retry): nothing to record
        review = review or AnswerReview(provider_return=provider_return, metric=metric)
        review.submission = submission
        review.values_reviewed = values
        review.decision, review.colour, review.reason = decision, colour, reason
        review.reviewed_by, review.reviewed_at = by, timezone.now()
        _record(review, by)
        review.save()
        return_id = provider_return.pk
        transaction.on_commit(lambda: schedule_rag(return_id))
    return review


def agree_status(provider_return: Return, metric: Metric | None, *, by) -> AnswerReview:
    """A designated professional agrees with the status of an answer (for a self-assessment, the provider's grade)."""
    if not may(by, provider_return, "review"):
        raise PermissionDenied(NOT_A_REVIEWER)
    return _review(provider_return, metric, by=by, decision=ReviewDecision.AGREED)


def override_status(provider_return: Return, metric: Metric | None, *, by, colour: str, reason: str) -> AnswerReview:
    """A designated professional sets an answer's colour, giving the reason; the status shown follows it."""
    if not may(by, provider_return, "review"):
        raise PermissionDenied(NOT_A_REVIEWER)
    colour = colour.strip().lower() if isinstance(colour, str) else ""
    reason, problem = clean_typed_text(reason, "the reason", LONGEST_COMMENT)
    errors = {}
    if colour not in REVIEW_COLOURS:
        errors["colour"] = NO_COLOUR
    if problem or not reason:
        errors["reason"] = problem or NO_REASON
    if errors:
        raise ValidationError(errors)
    return _review(provider_return, metric, by=by, decision=ReviewDecision.OVERRIDDEN, colour=colour, reason=reason)


def comment_on_answer(provider_return: Return, metric: Metric | None, *, by, text: str) -> AnswerComment:
    """A comment on an answer by the provider's own people or a designated professional; both see every comment."""
    if not (may(by, provider_return, "review") or may(by, provider_return, "edit_return")):
        raise PermissionDenied(NOT_A_COMMENTER)
    text, problem = clean_typed_text(text, "your comment", LONGEST_COMMENT)
    if problem or not text:
        raise ValidationError({"text": problem or NO_COMMENT})
    _check_in_return(provider_return, metric)
    with transaction.atomic():
        comment = AnswerComment(provider_return=provider_return, metric=metric, author=by, text=text)
        _record(comment, by)
        comment.save()
    return comment


def accept_return(provider_return: Return, *, by) -> ReturnAcceptance:
    """A designated professional accepts the latest submission of a submitted return."""
    if not may(by, provider_return, "review"):
        raise PermissionDenied(NOT_A_REVIEWER)
    with transaction.atomic():
        provider_return, submission = _locked_submitted(provider_return)
        accepted = ReturnAcceptance.objects.filter(submission=submission).select_related("accepted_by").first()
        if accepted is not None:
            raise ValidationError(
                f"This return was already accepted {when_and_who(accepted.accepted_at, accepted.accepted_by)}.",
                code=ALREADY_DONE,
            )
        acceptance = ReturnAcceptance(provider_return=provider_return, submission=submission, accepted_by=by)
        _record(acceptance, by)
        acceptance.save()
    return acceptance


def follow_up_action(item: ActionPlanItem, *, by, done: bool | None, note: str = "", today=None) -> ActionFollowUp:
    """A designated professional records whether an action of a provider's action plan is done."""
    provider_return = item.answer.provider_return
    if not may(by, provider_return, "review"):
        raise PermissionDenied("Only a designated professional of a commissioner of this provider can follow it up.")
    if done is None:
        raise ValidationError({"done": "Say whether the action is done."})
    note, problem = clean_typed_text(note, "the note", LONGEST_NOTE)
    if problem:
        raise ValidationError({"note": problem})
    if not provider_return.submissions.exists():
        raise ValidationError("An action plan can be followed up once the return has been submitted.")
    with transaction.atomic():
        # The action is locked first, so that two follow-ups at the same moment are recorded one after the other
        # (the first of an action would otherwise be created twice); the same follow-up again records nothing.
        ActionPlanItem.objects.select_for_update().get(pk=item.pk)
        follow_up = ActionFollowUp.objects.filter(item=item).first() or ActionFollowUp(item=item)
        if follow_up.pk and (follow_up.is_done, follow_up.note) == (bool(done), note):
            return follow_up
        if done and not follow_up.is_done:
            follow_up.done_on = today or timezone.localdate()
        elif not done:
            follow_up.done_on = None
        follow_up.is_done = bool(done)
        follow_up.note = note
        follow_up.updated_by, follow_up.updated_at = by, timezone.now()
        _record(follow_up, by)
        follow_up.save()
    return follow_up


# Overdue returns and reminders.


def mark_overdue(today=None) -> int:
    """Record each provider whose return for a period is overdue (nothing submitted by the deadline); how many new."""
    from .selectors import overdue_returns

    today = today or timezone.localdate()
    found = overdue_returns(today)
    existing = set(
        OverdueFlag.objects.filter(period_id__in={f.period_id for f in found}).values_list("provider_id", "period_id")
    )
    new = [
        OverdueFlag(provider_id=f.provider_id, period_id=f.period_id, found_on=today, found_as=f.found_as)
        for f in found
        if (f.provider_id, f.period_id) not in existing
    ]
    OverdueFlag.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


@dataclass
class RemindersSent:
    sent: list[Reminder] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # provider name → why no reminder went


REMINDER_SUBJECT = "Safeguarding assurance return for {period} not yet submitted"
REMINDER_BODY = """Dear {name},

{provider}'s safeguarding assurance return for {period} has not been submitted yet. {when}

Please sign in to Safeguard Assure to complete and submit it. If you have already sent it another way, please
reply to {sender} so that we can record it.

{sender}
{commissioners}
"""


def send_reminders(period: ReportingPeriod, *, by, providers) -> RemindersSent:
    """E-mail the safeguarding leads of those providers whose return for the period is still missing.

    Only a designated professional of a commissioner of every provider named may send them. Each reminder is
    recorded: who sent it, when, and to whom. Providers that have submitted, or have no lead, are skipped.
    """
    from providers.models import Membership, OrganisationKind, Role

    from .selectors import completeness_rows

    ids = [p.pk if isinstance(p, Organisation) else int(p) for p in providers]
    allowed = provider_ids(by, "review", period.ends_on)
    if allowed is not None and (
        not allowed.exists() or Organisation.objects.filter(pk__in=ids).exclude(pk__in=allowed).exists()
    ):
        raise PermissionDenied("Only a designated professional of a commissioner of these providers can remind them.")
    if not ids:
        raise ValidationError({"providers": "Choose the providers to remind."})
    rows = {row.provider_id: row for row in completeness_rows(period, Organisation.objects.filter(pk__in=ids))}
    commissioners = ", ".join(
        Organisation.objects.filter(
            kind=OrganisationKind.COMMISSIONER, memberships__user=by, memberships__role=Role.DESIGNATED_PROFESSIONAL
        )
        .distinct()
        .values_list("name", flat=True)
    )
    leads = defaultdict(list)
    for membership in Membership.objects.filter(
        organisation_id__in=ids, role=Role.PROVIDER_LEAD, user__is_active=True
    ).select_related("user"):
        if membership.user.email:
            leads[membership.organisation_id].append(membership.user)

    result, messages, planned = RemindersSent(), [], []
    for provider in Organisation.objects.filter(pk__in=ids).order_by("name"):
        row = rows.get(provider.pk)
        if row is None:
            result.skipped[provider.name] = "It has no contract in this period, so no return is expected."
            continue
        if row.state != "not_yet":
            result.skipped[provider.name] = "Its return has been submitted."
            continue
        if not leads[provider.pk]:
            result.skipped[provider.name] = "It has no safeguarding lead with an e-mail address to remind."
            continue
        when = (
            f"It was due by {period.submission_deadline:%-d %B %Y} and is now overdue."
            if row.overdue
            else f"It is due by {period.submission_deadline:%-d %B %Y}."
        )
        for lead in leads[provider.pk]:
            body = REMINDER_BODY.format(
                name=_person(lead), provider=provider.name, period=period.label, when=when, sender=_person(by),
                commissioners=commissioners,
            )  # fmt: skip
            subject = REMINDER_SUBJECT.format(period=period.label)
            reply_to = [by.email] if by.email else None
            messages.append(EmailMessage(subject, body, to=[lead.email], reply_to=reply_to))
        recipients = [lead.email for lead in leads[provider.pk]]
        planned.append(Reminder(period=period, provider=provider, sent_by=by, recipients=recipients))
    if messages:
        get_connection(fail_silently=False).send_messages(messages)
    with transaction.atomic():
        result.sent = Reminder.objects.bulk_create(planned)
    return result
