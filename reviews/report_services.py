"""Asking for assurance reports and making them: who may ask, the jobs' steps, and how a failure is recorded.

A report is asked for (:func:`request_report`, queued), then made by the Celery task ``reviews.tasks.render_report``
through :func:`make_report`. A provider report is one small job: gather the snapshot, render the PDF, write the file
whole and only then mark the report ready, in one transaction.

A committee report is a pack of parts (:class:`~reviews.models.ReportPart`): :func:`make_report` gathers the
committee's snapshot once, cuts it into the front section, the annex workbook and one appendix per provider (see
:mod:`reviews.report_parts`), stores the parts with the digests of their snapshots (a part whose digest matches one
already made reuses its file and is not made again), and sends a Celery ``chord``: a ``group`` of
``render_report_part`` jobs, one per part (:func:`make_part`), whose callback ``finish_pack`` (:func:`finish_pack`)
writes the pack (a zip of every part's file) and marks the report ready, or failed if any part failed for good.
More workers on the same Redis and database take more parts at once.

A ready report is left alone, so a repeated or retried job changes nothing; a job killed midway leaves the report
queued or being made, never ready with half a file, and the ``requeue_stuck_reports`` sweep sends it again. After
the last retry the report is failed with a reason people can read (:func:`mark_failed`), and they may ask again.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from providers.models import Organisation, OrganisationKind
from providers.scoping import commissioners_reached, is_signed_in, organisations_with_permission, sees_everything
from returns.models import ReportingPeriod

from . import report_parts, reports
from .models import AssuranceReport, ReportKind, ReportPart, ReportPartKind, ReportState
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
    """Commissioners whose committee reports ``user`` may ask for and read: those where they see assurance, and
    their places (an ICB's people read each place's report)."""
    commissioners = Organisation.objects.filter(kind=OrganisationKind.COMMISSIONER).order_by("name", "pk")
    if sees_everything(user):
        return commissioners
    if not is_signed_in(user):
        return commissioners.none()
    return commissioners.filter(pk__in=commissioners_reached(organisations_with_permission(user, "view_assurance")))


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


def make_report(report_id: int, *, sent_again: bool = False) -> AssuranceReport | None:
    """Make the report: a provider report whole, in this job; a committee report's parts planned and sent as a chord.

    A ready report is returned as it is (a finished report is never made again). None if there is no such report.
    ``sent_again`` (a copy of the job sent by the sweep): a report another job is still making (started, or a part
    of it started or finished, within the visibility timeout) is left to that job, so it is never made twice at once.
    """
    with transaction.atomic():
        report = AssuranceReport.objects.select_for_update().filter(pk=report_id).first()
        if (
            report is None
            or report.state in (ReportState.READY, ReportState.FAILED)
            or (sent_again and _being_made(report))
        ):
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
    if report.kind == ReportKind.COMMITTEE:
        plan_pack(report)
        send_pack(report.pk)
        report.refresh_from_db()
        return report
    snapshot = reports.gather_provider(report.provider, report.period, by=report.requested_by)
    rendered = reports.render_pdf(snapshot)
    # A new name for every attempt: a file is only ever written whole, and never over one a ready report points to.
    storage = AssuranceReport._meta.get_field("file").storage
    saved = storage.save(f"reports/{report.pk}/{uuid.uuid4().hex}.pdf", ContentFile(rendered.pdf))
    return _finish(report_id, saved, size=len(rendered.pdf), pages=rendered.page_count,
                   digest=hashlib.sha256(rendered.pdf).hexdigest(), snapshot=snapshot)  # fmt: skip


def _finish(report_id: int, saved: str, *, size: int, pages: int, digest: str, snapshot: dict) -> AssuranceReport:
    """Mark the report ready with its file ``saved``, in one transaction; if another run finished first, its file
    stands and ``saved`` is deleted."""
    storage = AssuranceReport._meta.get_field("file").storage
    try:
        with transaction.atomic():
            report = AssuranceReport.objects.select_for_update().get(pk=report_id)
            if report.state == ReportState.READY:  # another run of the job finished first
                storage.delete(saved)
                return report
            report.file.name = saved
            report.size = size
            report.page_count = pages
            report.sha256 = digest
            report.snapshot = snapshot
            report.state = ReportState.READY
            report.finished_at = timezone.now()
            report.save()
    except BaseException:
        storage.delete(saved)
        raise
    return report


# A committee pack, in parts.


def plan_pack(report: AssuranceReport) -> list[ReportPart]:
    """The committee report's parts, made once: gather the committee's snapshot (a fixed number of queries), cut it
    into parts, and store them; a part whose snapshot's digest matches a part already made is stored ready, with
    that part's file. A report planned before (a job sent again) keeps the parts it has: it records the data as it
    was when it was first gathered."""
    existing = list(report.parts.all())
    if existing:
        return existing
    full = reports.gather_committee(report.commissioner, report.period, by=report.requested_by)
    front = report_parts.front_snapshot(full)
    wanted = [(ReportPartKind.FRONT, None, front), (ReportPartKind.ANNEX, None, report_parts.annex_snapshot(full))]
    wanted += [(ReportPartKind.APPENDIX, pid, snapshot) for pid, snapshot in report_parts.appendix_snapshots(full)]
    del full
    digests = [report_parts.digest(snapshot) for _, _, snapshot in wanted]
    made = {}
    for part in (
        ReportPart.objects.filter(state=ReportState.READY, snapshot_sha256__in=digests)
        .only("pk", "kind", "provider_id", "snapshot_sha256", "file", "size", "page_count", "sha256")
        .order_by("finished_at", "pk")
    ):
        made[(part.kind, part.provider_id, part.snapshot_sha256)] = part  # the latest made wins
    now = timezone.now()
    parts = []
    for position, ((kind, provider_id, snapshot), sha) in enumerate(zip(wanted, digests, strict=True)):
        part = ReportPart(report=report, kind=kind, provider_id=provider_id, position=position, snapshot=snapshot,
                          snapshot_sha256=sha, created_at=now)  # fmt: skip
        earlier = made.get((kind, provider_id, sha))
        if earlier is not None:
            part.reused_from_id = earlier.pk
            part.file.name = earlier.file.name
            part.size, part.page_count, part.sha256 = earlier.size, earlier.page_count, earlier.sha256
            part.state = ReportState.READY
            part.finished_at = now
        parts.append(part)
    with transaction.atomic():
        locked = AssuranceReport.objects.select_for_update().get(pk=report.pk)
        if locked.parts.exists():  # another run of the job planned it first
            return list(locked.parts.all())
        ReportPart.objects.bulk_create(parts, batch_size=100)
        locked.snapshot = front
        locked.save(update_fields=["snapshot"])
    return parts


def send_pack(report_id: int) -> None:
    """Send the chord that makes the pack: a group of one job per part not yet made, then ``finish_pack``. Parts
    already made (reused, or made by an earlier run) are not sent; with none left, ``finish_pack`` alone."""
    from celery import chord

    from .tasks import finish_pack, render_report_part

    to_make = list(
        ReportPart.objects.filter(report_id=report_id)
        .exclude(state__in=(ReportState.READY, ReportState.FAILED))
        .order_by("position")
        .values_list("pk", flat=True)
    )
    if not to_make:
        finish_pack.delay(report_id)
        return
    chord(render_report_part.si(part_id) for part_id in to_make)(finish_pack.si(report_id))


def make_part(part_id: int) -> ReportPart | None:
    """Make one part of a committee pack from its own snapshot and store its file; a ready part is left alone, and
    a part of a report already finished is not made. Small: one provider's report, the front section, or the annex."""
    with transaction.atomic():
        part = ReportPart.objects.select_for_update().select_related("report").filter(pk=part_id).first()
        if part is None or part.state in (ReportState.READY, ReportState.FAILED) or part.report.is_finished:
            return part
        part.state = ReportState.RENDERING
        part.started_at = timezone.now()
        part.attempts += 1
        part.save(update_fields=["state", "started_at", "attempts"])
    snapshot = ReportPart.objects.values_list("snapshot", flat=True).get(pk=part_id)
    storage = ReportPart._meta.get_field("file").storage
    name = f"reports/{part.report_id}/parts/{uuid.uuid4().hex}.{part.extension}"
    if part.kind == ReportPartKind.ANNEX:
        with report_parts.temporary_file() as workbook:
            report_parts.write_annex(snapshot, workbook)
            size, pages = workbook.tell(), None
            workbook.seek(0)
            digest = _sha256_of(workbook)
            workbook.seek(0)
            saved = storage.save(name, File(workbook))
    else:
        rendered = reports.render_pdf(snapshot)
        size, pages, digest = len(rendered.pdf), rendered.page_count, hashlib.sha256(rendered.pdf).hexdigest()
        saved = storage.save(name, ContentFile(rendered.pdf))
        del rendered
    del snapshot
    try:
        with transaction.atomic():
            part = ReportPart.objects.select_for_update().get(pk=part_id)
            if part.state == ReportState.READY:  # another run of the job finished first
                storage.delete(saved)
                return part
            part.file.name = saved
            part.size, part.page_count, part.sha256 = size, pages, digest
            part.state = ReportState.READY
            part.failure_reason = ""
            part.finished_at = timezone.now()
            part.save(update_fields=["file", "size", "page_count", "sha256", "state", "failure_reason", "finished_at"])
    except BaseException:
        storage.delete(saved)
        raise
    return part


def _sha256_of(stream) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def part_attempts(part_id: int) -> int:
    """How many times a job has started making this part."""
    return ReportPart.objects.filter(pk=part_id).values_list("attempts", flat=True).first() or 0


def mark_part_failed(part_id: int, reason: str) -> None:
    """Record that a part could not be made and why (its pack is then failed by ``finish_pack``)."""
    ReportPart.objects.filter(pk=part_id).exclude(state=ReportState.READY).update(
        state=ReportState.FAILED, failure_reason=reason, finished_at=timezone.now()
    )


def part_label(part: ReportPart) -> str:
    """A part as people name it: "the front section", "the appendix of Riverside Hospital"."""
    if part.kind == ReportPartKind.APPENDIX:
        return f"the appendix of {part.provider.name}"
    return f"the {part.get_kind_display().lower()}"


PART_FAILED_REASON = (
    "The committee pack could not be made: {what} could not be made. {reason} Nothing of this pack is offered "
    "for download."
)


def finish_pack(report_id: int) -> AssuranceReport | None:
    """Finish a committee report once its parts are done: failed, with a reason naming the parts, if any part
    failed for good; otherwise the pack (a zip of every part's file, written to disk, then stored) and the report
    ready, in one transaction. A finished report is left as it is; a pack with parts still being made (a copy of a
    job that was sent again) is left to the chord that is making them."""
    report = AssuranceReport.objects.select_related("commissioner", "period").filter(pk=report_id).first()
    if report is None or report.is_finished:
        return report
    parts = list(report.parts.select_related("provider").order_by("position"))
    failed = [p for p in parts if p.state == ReportState.FAILED]
    if failed:
        what = part_label(failed[0])
        if len(failed) > 1:
            what += f" and {len(failed) - 1} other part{'s' if len(failed) > 2 else ''}"
        mark_failed(report_id, PART_FAILED_REASON.format(what=what, reason=failed[0].failure_reason))
        return report
    if not parts or any(p.state != ReportState.READY for p in parts):
        return report
    readme = pack_readme(report, parts)
    storage = AssuranceReport._meta.get_field("file").storage
    with report_parts.temporary_file() as pack:
        report_parts.write_pack(parts, readme, pack)
        size = pack.tell()
        pack.seek(0)
        digest = _sha256_of(pack)
        pack.seek(0)
        saved = storage.save(f"reports/{report.pk}/{uuid.uuid4().hex}.zip", File(pack))
    pages = sum(p.page_count or 0 for p in parts)
    return _finish(report_id, saved, size=size, pages=pages, digest=digest, snapshot=report.snapshot)


def pack_readme(report: AssuranceReport, parts) -> str:
    """The pack's read-me: what each file is and, for parts taken unchanged from an earlier report, that their first
    page gives the day they were first made (their figures are this report's: nothing they show has changed)."""
    lines = [
        f"{report.filename}: the committee pack of {report.commissioner.name} for {report.period.label}.",
        "1-front-section.pdf: the front section the committee tables.",
        "2-annex.xlsx: the annex workbook, the full lists.",
        f"appendices/: {len(parts) - 2} provider reports, one per provider.",
    ]
    reused = [part for part in parts if part.reused_from_id]
    if reused:
        lines += [
            "",
            f"{len(reused)} of these {len(parts)} files had not changed since an earlier report and are that report's "
            "files: their “Made on” and “Requested by” are of the report they were first made for, and what they "
            "show is the same today. They are:",
            *(f"  {report_parts.member_name(part)}" for part in reused),
        ]
    return "\n".join(lines) + "\n"


def _recent_part_work(since):
    """Whether a part of the report (an outer ``pk``) started or finished since ``since``: its pack is being made."""
    return Exists(
        ReportPart.objects.filter(report=OuterRef("pk")).filter(Q(started_at__gte=since) | Q(finished_at__gte=since))
    )


def _being_made(report: AssuranceReport) -> bool:
    """Whether a job started making the report, or one of its parts, recently enough to be still at it."""
    recently = timezone.now() - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    if report.state != ReportState.RENDERING or report.started_at is None:
        return False
    return report.started_at >= recently or (
        AssuranceReport.objects.filter(pk=report.pk).filter(_recent_part_work(recently)).exists()
    )


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
    not be sent, or vanished), or being made with no job started or finished on it (the report's own, or one of its
    parts') for longer than the broker's visibility timeout, which is longer than any one job may run (the worker
    making it died, and Redis has not handed the job back yet)."""
    now = now or timezone.now()
    queued_since = now - datetime.timedelta(minutes=settings.LOST_JOB_SWEEP_MINUTES)
    started_since = now - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT)
    return (
        AssuranceReport.objects.filter(
            Q(state=ReportState.QUEUED, requested_at__lt=queued_since)
            | (Q(state=ReportState.RENDERING, started_at__lt=started_since) & ~_recent_part_work(started_since))
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
