"""Asking for assurance reports and making them: who may ask, the job's steps, and how a failure is recorded.

A report is asked for (:func:`request_report`, queued), then made by the Celery task ``reviews.tasks.render_report``
through :func:`make_report`: it gathers the snapshot, renders the PDF, writes the file whole and only then marks the
report ready, in one transaction. A ready report is left alone, so a repeated or retried job changes nothing; a job
killed midway leaves the report queued or being made, never ready with half a file. After the last retry the report
is failed with a reason people can read (:func:`mark_failed`), and they may ask again.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from providers.models import Organisation, OrganisationKind
from providers.scoping import is_signed_in, organisations_with_permission, sees_everything
from returns.models import ReportingPeriod

from . import reports
from .models import AssuranceReport, ReportKind, ReportState
from .selectors import assurance_provider_ids

log = logging.getLogger(__name__)

NO_KIND = "Choose a committee report or a provider report."
NO_PERIOD = "Choose the quarter the report is for."
NO_COMMISSIONER = "Choose the commissioner the committee report is for."
NO_PROVIDER = "Choose the provider the report is for."
TRANSIENT_REASON = (
    "The report could not be made because the database or file storage could not be reached, even after "
    "several tries. Ask for it again; if it fails again, tell the service desk."
)
ERROR_REASON = (
    "Something went wrong while making the report ({error}). Ask for it again; if it fails again, tell the "
    "service desk."
)


def report_commissioners(user):
    """Commissioners whose committee reports ``user`` may ask for and read: those where they see assurance."""
    commissioners = Organisation.objects.filter(kind=OrganisationKind.COMMISSIONER).order_by("name", "pk")
    if sees_everything(user):
        return commissioners
    if not is_signed_in(user):
        return commissioners.none()
    return commissioners.filter(pk__in=organisations_with_permission(user, "view_assurance"))


def report_providers(user, period: ReportingPeriod | None = None):
    """Providers whose provider reports ``user`` may ask for and read: those whose assurance they may see (for
    ``period``, when given: through a contract started by its end)."""
    providers = Organisation.objects.filter(kind=OrganisationKind.PROVIDER).order_by("name", "pk")
    ids = assurance_provider_ids(user, period.ends_on if period is not None else None)
    return providers if ids is None else providers.filter(pk__in=ids)


def may_ask_for_reports(user) -> bool:
    """Whether ``user`` may see any report at all (and so sees the Reports page)."""
    return report_commissioners(user).exists() or report_providers(user).exists()


def request_report(user, *, kind: str, period: ReportingPeriod | None, subject: Organisation | None) -> AssuranceReport:
    """Ask for a report of ``subject`` (a commissioner or a provider, by ``kind``) for ``period``; it is queued.

    Refused with messages by field when a choice is missing or is not one the person may make.
    """
    errors = {}
    if kind not in ReportKind.values:
        errors["kind"] = NO_KIND
    if period is None:
        errors["period"] = NO_PERIOD
    if kind == ReportKind.COMMITTEE:
        if subject is None or not report_commissioners(user).filter(pk=subject.pk).exists():
            errors["commissioner"] = NO_COMMISSIONER
    elif kind == ReportKind.PROVIDER and (
        subject is None or not report_providers(user, period).filter(pk=subject.pk).exists()
    ):
        errors["provider"] = NO_PROVIDER
    if errors:
        raise ValidationError(errors)
    report = AssuranceReport(
        kind=kind,
        commissioner=subject if kind == ReportKind.COMMITTEE else None,
        provider=subject if kind == ReportKind.PROVIDER else None,
        period=period,
        requested_by=user,
    )
    with transaction.atomic():
        report._history_user = user
        report.save()
        transaction.on_commit(lambda: schedule_report(report.pk))
    return report


def schedule_report(report_id: int, *, expires: float | None = None, sent_again: bool = False) -> bool:
    """Send the job that makes the report; False if it could not be sent (the report stays queued, and the
    ``requeue_stuck_reports`` sweep sends it again). Sending gives up within about a second, as
    :func:`reviews.services.schedule_rag` does. ``expires`` (seconds): a job not started by then is dropped;
    ``sent_again``: the sweep's copy, which leaves alone a report another job is making (:func:`make_report`)."""
    from .tasks import render_report

    try:
        render_report.apply_async((report_id,), {"sent_again": sent_again} if sent_again else None, expires=expires)
    except Exception:  # a broker that is down, or (tasks run in-process) the job's own last failure, recorded
        log.exception("The job making report %s could not be sent or failed", report_id)
        return False
    return True


def _gather(report: AssuranceReport) -> dict:
    if report.kind == ReportKind.COMMITTEE:
        return reports.gather_committee(report.commissioner, report.period, by=report.requested_by)
    return reports.gather_provider(report.provider, report.period, by=report.requested_by)


def make_report(report_id: int, *, sent_again: bool = False) -> AssuranceReport | None:
    """Make the report from nothing: gather, render, write the file whole, then mark it ready in one transaction.

    A ready report is returned as it is (a finished report is never made again). None if there is no such report.
    ``sent_again`` (a copy of the job sent by the sweep): a report another job started making within the visibility
    timeout is left to that job, so a report is never made twice at once.
    """
    with transaction.atomic():
        report = AssuranceReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.state == ReportState.READY or (sent_again and _being_made(report)):
            return report
        report.state = ReportState.RENDERING
        report.started_at = timezone.now()
        report.finished_at = None
        report.failure_reason = ""
        report.attempts += 1
        report.save(update_fields=["state", "started_at", "finished_at", "failure_reason", "attempts"])

    report = AssuranceReport.objects.select_related("commissioner", "provider", "period", "requested_by").get(
        pk=report_id
    )
    snapshot = _gather(report)
    rendered = reports.render_pdf(snapshot)
    digest = hashlib.sha256(rendered.pdf).hexdigest()
    # A new name for every attempt: a file is only ever written whole, and never over one a ready report points to.
    name = f"reports/{report.pk}/{uuid.uuid4().hex}.pdf"
    storage = AssuranceReport._meta.get_field("file").storage
    saved = storage.save(name, ContentFile(rendered.pdf))
    try:
        with transaction.atomic():
            report = AssuranceReport.objects.select_for_update().get(pk=report_id)
            if report.state == ReportState.READY:  # another run of the job finished first
                storage.delete(saved)
                return report
            report.file.name = saved
            report.size = len(rendered.pdf)
            report.page_count = rendered.page_count
            report.sha256 = digest
            report.snapshot = snapshot
            report.state = ReportState.READY
            report.finished_at = timezone.now()
            report.save()
    except BaseException:
        storage.delete(saved)
        raise
    return report


def _being_made(report: AssuranceReport) -> bool:
    """Whether a job started making the report recently enough to be still at it."""
    recently = timezone.now() - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    return report.state == ReportState.RENDERING and report.started_at is not None and report.started_at >= recently


def failure_reason(exc: BaseException) -> str:
    """What people read when a report could not be made."""
    if isinstance(exc, DatabaseError | OSError):
        return TRANSIENT_REASON
    return ERROR_REASON.format(error=type(exc).__name__)


def attempts_of(report_id: int) -> int:
    """How many times the job has started making this report."""
    return AssuranceReport.objects.filter(pk=report_id).values_list("attempts", flat=True).first() or 0


def mark_failed(report_id: int, reason: str) -> None:
    """Record that the report could not be made and why; a ready report is left as it is."""
    with transaction.atomic():
        report = AssuranceReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.state == ReportState.READY:
            return
        report.state = ReportState.FAILED
        report.failure_reason = reason
        report.finished_at = timezone.now()
        report.save(update_fields=["state", "failure_reason", "finished_at"])


# Reports whose job was lost.


def stuck_reports(now=None):
    """Reports whose job was lost (found in one query): queued for longer than a sweep's interval (the job could
    not be sent, or vanished), or being made for longer than the broker's visibility timeout, which is longer than
    any report takes (the worker making it died, and Redis has not handed the job back yet)."""
    now = now or timezone.now()
    queued_since = now - datetime.timedelta(minutes=settings.LOST_JOB_SWEEP_MINUTES)
    started_since = now - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    return (
        AssuranceReport.objects.filter(
            Q(state=ReportState.QUEUED, requested_at__lt=queued_since)
            | Q(state=ReportState.RENDERING, started_at__lt=started_since)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def requeue_stuck_reports(now=None) -> list[int]:
    """Send again the job of every report whose job was lost; the ids sent.

    Safe to repeat: a report made meanwhile is left as it is (:func:`make_report`), and each job sent here expires
    by the next sweep, so copies never pile up behind a busy worker.
    """
    sent = []
    expires = settings.LOST_JOB_SWEEP_MINUTES * 60
    for report_id in stuck_reports(now):
        if not schedule_report(report_id, expires=expires, sent_again=True):
            break  # the broker is down: the next sweep tries again
        sent.append(report_id)
    return sent
