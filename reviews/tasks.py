"""Celery tasks of reviews: thin, idempotent and safe to retry. None keeps a result (``CELERY_TASK_IGNORE_RESULT``):
what they do is stored in the database.

``recompute_missing`` and ``requeue_stuck_reports`` (every few minutes) and ``mark_overdue`` (nightly) run from
Celery beat; see ``CELERY_BEAT_SCHEDULE``.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from returns.models import Return

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
)
def compute_rag(return_id: int) -> int | None:
    """Compute and store the RAG status of a submitted return; returns the current run's id."""
    provider_return = Return.objects.select_related("provider__provider_type", "period").filter(pk=return_id).first()
    if provider_return is None:
        return None
    run = services.compute_return_rag(provider_return)
    return run.pk if run else None


#: Tries of a chunk in all (the first and four retries) before it is recorded as failed.
CHUNK_ATTEMPTS = 5
CHUNK_RETRY_SECONDS = 5
CHUNK_UNREACHABLE = "The database could not be reached, after several tries."


@shared_task(bind=True, acks_late=True, max_retries=CHUNK_ATTEMPTS - 1)
def recompute_chunk(self, chunk_id: int) -> None:
    """Judge one chunk of a recompute job and count it into the job; a chunk already done is left alone.

    Late acknowledgement: a worker that dies midway leaves the task to be delivered again (the chunk's transaction
    was rolled back). A transient database error is tried again with a growing wait, and after the last try the
    chunk is recorded as failed so that its job still finishes. Retries are explicit, as in :func:`render_report`,
    because tasks run in-process propagate their errors.
    """
    in_process = self.request.is_eager or self.request.called_directly
    tries = CHUNK_ATTEMPTS if in_process else 1  # in-process: try again now; through a broker: retry the task
    for attempt in range(1, tries + 1):
        try:
            services.recompute_chunk(chunk_id)
            return None
        except services.TRANSIENT_ERRORS as exc:
            if not in_process and self.request.retries < self.max_retries:
                countdown = min(120, CHUNK_RETRY_SECONDS * 2**self.request.retries)
                raise self.retry(args=(chunk_id,), kwargs={}, exc=exc, countdown=countdown) from exc
            if attempt < tries:
                continue
            logger.exception("Chunk %s of a recompute could not be done", chunk_id)
            services.fail_chunk(chunk_id, CHUNK_UNREACHABLE)
    return None


@shared_task(acks_late=True)
def recompute_missing() -> int:
    """Recompute, as one chunked job, every submitted return with no status or a status of an older submission
    (and send again chunks whose task was lost); how many returns the new job holds.

    Catches up after the broker was down when a return was submitted, or its worker died computing it.
    """
    job = services.queue_missing_rag()
    return job.returns_total if job else 0


@shared_task(acks_late=True)
def requeue_stuck_reports() -> int:
    """Send again the jobs of reports queued or being made for too long; how many were sent."""
    from . import report_services

    return len(report_services.requeue_stuck_reports())


@shared_task(acks_late=True)
def mark_overdue() -> int:
    """Record the providers with nothing submitted by their period's deadline; how many newly found."""
    return services.mark_overdue()


# Assurance reports.

#: Failures worth trying again: the database or the file storage out of reach for a moment.
REPORT_TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)
#: Tries in all (the first and three retries), and the wait before each retry, doubling up to two minutes.
REPORT_ATTEMPTS = 4
REPORT_RETRY_SECONDS = 15


#: Every report job's limits: it is stopped (soft, then hard) well before the broker's visibility timeout, so Redis
#: never hands a job that is still running to a second worker (see ``REPORT_TASK_TIME_LIMIT`` in settings).
REPORT_LIMITS = {
    "soft_time_limit": max(1, settings.REPORT_TASK_TIME_LIMIT * 9 // 10),
    "time_limit": settings.REPORT_TASK_TIME_LIMIT,
}


@shared_task(bind=True, acks_late=True, max_retries=REPORT_ATTEMPTS - 1, **REPORT_LIMITS)
def render_report(self, report_id: int, sent_again: bool = False) -> int | None:
    """Make an assurance report: a provider report's PDF (gather, render, store), or a committee report's parts,
    planned and sent as a chord (see :mod:`reviews.report_services`); a finished report is left alone. Returns its id.

    A transient failure is tried again with a growing wait; after the last try, or at once for any other error,
    the report is recorded as failed with a reason people can read. The retries are counted by the report's own
    ``attempts``, so a job killed and delivered again counts too. Retries are explicit rather than Celery's
    ``autoretry_for`` because tasks run in-process here propagate their errors (``CELERY_TASK_EAGER_PROPAGATES``),
    which would skip both the retries and the failure handler. ``sent_again``: a copy sent by the
    ``requeue_stuck_reports`` sweep, which leaves alone a report another job is still making; its retries do not.
    """
    from . import report_services

    try:
        report = report_services.make_report(report_id, sent_again=sent_again)
    except REPORT_TRANSIENT_ERRORS as exc:
        attempts = report_services.attempts_of(report_id)
        if attempts < REPORT_ATTEMPTS:
            if self.request.is_eager or self.request.called_directly:
                return self.run(report_id)  # in-process: try again now
            countdown = min(120, REPORT_RETRY_SECONDS * 2 ** (attempts - 1))
            raise self.retry(args=(report_id,), kwargs={}, exc=exc, countdown=countdown) from exc
        report_services.mark_failed(report_id, report_services.failure_reason(exc))
        return None
    except Exception as exc:
        logger.exception("Report %s could not be made", report_id)
        report_services.mark_failed(report_id, report_services.failure_reason(exc))
        return None
    return report.pk if report else None


#: Tries of one part in all, and the first wait before a retry (doubling up to a minute): a part is seconds of work.
PART_ATTEMPTS = 4
PART_RETRY_SECONDS = 5


@shared_task(bind=True, acks_late=True, ignore_result=False, max_retries=PART_ATTEMPTS - 1, **REPORT_LIMITS)
def render_report_part(self, part_id: int) -> int:
    """Make one part of a committee pack (the front section, the annex or one provider's appendix); idempotent.

    One job of the chord's group: it keeps its result (``ignore_result=False``) because the chord counts finished
    jobs in the result backend. It never fails the chord: a transient failure is retried with a growing wait, and
    after the last try, or at once for any other error (a part running past its soft time limit too), the part is
    recorded as failed with its reason, which ``finish_pack`` turns into the pack's.
    """
    from . import report_services

    try:
        report_services.make_part(part_id)
    except REPORT_TRANSIENT_ERRORS as exc:
        attempts = report_services.part_attempts(part_id)
        if attempts < PART_ATTEMPTS:
            if self.request.is_eager or self.request.called_directly:
                return self.run(part_id)
            raise self.retry(exc=exc, countdown=min(60, PART_RETRY_SECONDS * 2 ** (attempts - 1))) from exc
        report_services.mark_part_failed(part_id, report_services.failure_reason(exc))
    except Exception as exc:
        logger.exception("Part %s of a report could not be made", part_id)
        report_services.mark_part_failed(part_id, report_services.failure_reason(exc))
    return part_id


@shared_task(bind=True, acks_late=True, max_retries=REPORT_ATTEMPTS - 1, **REPORT_LIMITS)
def finish_pack(self, report_id: int) -> int | None:
    """The chord's callback: write the committee pack from its parts and mark the report ready (or failed, when a
    part failed for good). Idempotent: a finished report is left as it is."""
    from . import report_services

    try:
        report_services.finish_pack(report_id)
    except REPORT_TRANSIENT_ERRORS as exc:
        if self.request.retries < REPORT_ATTEMPTS - 1 and not (self.request.is_eager or self.request.called_directly):
            raise self.retry(exc=exc, countdown=REPORT_RETRY_SECONDS * 2**self.request.retries) from exc
        report_services.mark_failed(report_id, report_services.failure_reason(exc))
    except Exception as exc:
        logger.exception("The pack of report %s could not be made", report_id)
        report_services.mark_failed(report_id, report_services.failure_reason(exc))
    return report_id
