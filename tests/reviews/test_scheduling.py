"""Scheduling RAG work never blocks a submission; what was missed is caught up; a threshold recomputes its periods."""

import datetime
import logging
import socket
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

import returns.services as return_services
from assurance.celery import app
from returns.models import Evidence, Return, ReturnStatus, Submission
from returns.services import AnswerInput, open_return, return_for_revision, save_answers
from reviews import report_services, services, tasks
from reviews.models import (
    AssuranceReport,
    OverdueFlag,
    RagRun,
    RecomputeChunk,
    RecomputeJob,
    RecomputeState,
    ReportKind,
    ReportState,
)
from reviews.services import compute_return_rag, schedule_rag
from standards.models import Threshold
from standards.services import create_next_version
from tests.conftest import forget_broker_and_backend
from tests.returns.conftest import open_q2  # noqa: F401
from tests.reviews.fixtures import (  # noqa: F401
    ANSWERS,
    make_period,
    submit_directly,
    submit_through_services,
    submitted,
)

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the broker is down
PROMPTLY = 3  # seconds: a loose bound on a request while Redis is down (sending gives up in about one)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Evidence and reports go to a temporary folder, not the project's private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def broker_down():
    """The suite's Celery app sends to a broker, and keeps results in a Redis, that cannot be reached (as in
    production, where both are the one Redis), and goes back to eager afterwards."""
    changes = {"broker_url": CLOSED_PORT, "result_backend": CLOSED_PORT, "task_always_eager": False}
    saved = {key: app.conf[key] for key in changes}
    forget_broker_and_backend(app)
    app.conf.update(changes)
    yield
    forget_broker_and_backend(app)
    app.conf.update(saved)


def answered_draft(world, catalogue, period) -> Return:
    """Riverside's return for ``period``, every answer given and its policy attached, ready for the lead to submit."""
    draft = open_return(world.riverside, period, by=world.riverside_contributor)
    by_code = {m.code: m for m in vars(catalogue).values() if hasattr(m, "code") and hasattr(m, "kind")}
    given = {by_code[code].pk: AnswerInput(values) for code, values in ANSWERS.items()}
    save_answers(draft, by=world.riverside_contributor, answers=given)
    Evidence.objects.create(
        answer=draft.answers.get(metric=catalogue.policy), file=SimpleUploadedFile("p.pdf", b"%PDF-1.7"),
        original_name="p.pdf", content_type="application/pdf", size=8, uploaded_by=world.riverside_contributor,
    )  # fmt: skip
    return draft


@pytest.mark.django_db(transaction=True)  # committed for real, so the job is sent inside the request, as live
def test_with_redis_down_a_submission_through_the_api_answers_at_once_and_its_status_follows_later(
    world, catalogue, open_q2, as_person, broker_down
):
    draft = answered_draft(world, catalogue, open_q2)
    lead = as_person("riverside_lead")

    started = time.monotonic()
    response = lead.post(
        f"/api/v1/returns/{draft.pk}/submit/", {"declaration_confirmed": True}, content_type="application/json"
    )
    took = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert took < PROMPTLY, f"the submission took {took:.1f} s with Redis down"
    assert Submission.objects.filter(provider_return=draft).count() == 1
    assert Return.objects.get(pk=draft.pk).status == ReturnStatus.SUBMITTED
    assert not RagRun.objects.exists()

    forget_broker_and_backend(app)
    app.conf.update(task_always_eager=True)  # the broker is back (tasks run in-process here)
    assert tasks.recompute_missing() == 1
    assert RagRun.objects.current().get().provider_return_id == draft.pk


def test_with_redis_down_asking_for_a_report_answers_at_once_and_the_sweep_sends_it_later(
    world, catalogue, q2, submitted, as_person, broker_down, queued_reports
):
    client = as_person("newham_nurse")
    started = time.monotonic()
    response = client.post(
        "/api/v1/reports/",
        {"kind": "provider", "period": q2.pk, "provider": world.riverside.pk},
        content_type="application/json",
    )
    took = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert took < PROMPTLY, f"asking for a report took {took:.1f} s with Redis down"
    report = AssuranceReport.objects.get()
    assert report.state == ReportState.QUEUED

    later = report.requested_at + datetime.timedelta(minutes=6)
    assert report_services.requeue_stuck_reports(now=later) == [report.pk]
    assert queued_reports == [report.pk]


def test_sending_stores_no_result_except_for_the_heartbeat_whose_answer_is_read():
    from assurance.tasks import heartbeat

    assert app.conf.task_ignore_result is True
    sent_by_the_app = [
        tasks.compute_rag, tasks.recompute_chunk, tasks.render_report, tasks.recompute_missing,
        tasks.requeue_stuck_reports,
    ]  # fmt: skip
    assert all(task.ignore_result for task in sent_by_the_app)
    assert tasks.mark_overdue.ignore_result
    assert heartbeat.ignore_result is False


@pytest.fixture
def broker_silent():
    """A Redis that takes connections but never answers (hung, or behind a broken network)."""
    with socket.create_server(("127.0.0.1", 0)) as server:  # the kernel accepts into the backlog; nobody reads
        url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        changes = {"broker_url": url, "result_backend": url, "task_always_eager": False}
        saved = {key: app.conf[key] for key in changes}
        forget_broker_and_backend(app)
        app.conf.update(changes)
        yield
        forget_broker_and_backend(app)
        app.conf.update(saved)


def test_a_redis_that_never_answers_holds_sending_for_about_a_second(world, submitted, broker_silent):
    started = time.monotonic()
    assert schedule_rag(submitted.pk) is False
    took = time.monotonic() - started
    assert took < PROMPTLY, f"sending took {took:.1f} s to a Redis that does not answer"


def sweep(run=tasks.recompute_missing):
    """Run the sweep as Celery beat does, outside any transaction: what it queues once committed is sent at once
    (the test's own transaction would otherwise hold it back)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return run()


@pytest.fixture
def queued(monkeypatch):
    """The ids of returns put in the chunks of recompute jobs, in order, instead of sending the chunks' tasks (each
    chunk recorded as sent, as sending does)."""
    ids = []

    def record(chunk_ids):
        chunks = RecomputeChunk.objects.filter(pk__in=chunk_ids).order_by("pk")
        for return_ids in chunks.values_list("return_ids", flat=True):
            ids.extend(return_ids)
        chunks.update(sent_at=timezone.now())
        return len(chunk_ids)

    monkeypatch.setattr(services, "send_chunks", record)
    return ids


@pytest.fixture
def queued_reports(monkeypatch):
    """The ids of reports whose job the sweep sent again, instead of sending them."""
    ids = []
    monkeypatch.setattr(report_services, "schedule_report", lambda report_id, **options: ids.append(report_id) or True)
    return ids


def test_with_the_broker_down_a_submission_is_saved_and_nothing_escapes(
    world, catalogue, q2, broker_down, caplog, django_capture_on_commit_callbacks
):
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    caplog.set_level(logging.WARNING, logger="reviews.services")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        submission = submit_through_services(world, catalogue, draft)  # submit_return schedules the computation
    assert Submission.objects.filter(pk=submission.pk).exists()
    draft.refresh_from_db()
    assert draft.status == ReturnStatus.SUBMITTED
    assert not RagRun.objects.exists()
    assert f"Could not queue the RAG computation of return {draft.pk}" in caplog.text


def test_schedule_rag_reports_a_broker_it_cannot_reach(world, submitted, broker_down):
    assert schedule_rag(submitted.pk) is False


def test_schedule_rag_survives_any_error_from_sending(world, submitted, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("redis went away")

    monkeypatch.setattr(tasks.compute_rag, "apply_async", refuse)
    assert schedule_rag(submitted.pk) is False


def test_submitting_and_returning_for_revision_queue_the_computation(
    world, catalogue, q2, queued, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(return_services, "schedule_rag", lambda return_id: queued.append(return_id))
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    with django_capture_on_commit_callbacks(execute=True):
        submit_through_services(world, catalogue, draft)
    with django_capture_on_commit_callbacks(execute=True):
        return_for_revision(draft, by=world.newham_nurse, comments="Please check.")
    assert queued == [draft.pk, draft.pk]


def test_recompute_missing_queues_returns_with_no_status_or_an_old_one(world, catalogue, q1, q2, submitted, queued):
    never_computed = submit_directly(world.riverside, q1, by=world.riverside_lead)
    compute_return_rag(submitted)
    open_return(world.riverside, make_period(2025, 3), by=world.riverside_contributor)  # a draft: nothing to judge

    assert sweep() == 1
    assert queued == [never_computed.pk]

    compute_return_rag(never_computed)
    queued.clear()
    assert sweep() == 0

    return_for_revision(submitted, by=world.newham_nurse, comments="Please check.")
    submit_through_services(world, catalogue, submitted)  # a second submission: the current run judged the first
    assert sweep() == 1
    assert queued == [submitted.pk]


def test_recompute_missing_computes_them_once_the_worker_is_back(world, q1, submitted):
    assert sweep() == 1  # tasks run in-process here: queued is computed
    assert RagRun.objects.current().get().provider_return == submitted
    assert sweep() == 0


def test_with_the_broker_down_the_sweeps_job_waits_and_the_next_sweep_sends_it(world, submitted, broker_down):
    assert sweep() == 1  # the job is made; its chunk could not be sent
    assert list(services.returns_missing_rag()) == [submitted.pk]
    job = RecomputeJob.objects.get()
    assert job.chunks.get().sent_at is None

    forget_broker_and_backend(app)
    app.conf.update(task_always_eager=True)  # the broker is back (tasks run in-process here)
    assert sweep() == 0  # no second job for a return already waiting in a chunk: it is sent
    job.refresh_from_db()
    assert (job.state, job.chunks_done, job.returns_done) == (RecomputeState.FINISHED, 1, 1)
    assert RagRun.objects.current().get().provider_return == submitted
    assert RecomputeJob.objects.count() == 1


# Overdue.


def test_mark_overdue_records_providers_with_nothing_submitted_by_the_deadline(world, catalogue, q1, q2):
    world.eastway_contract.frameworks.set([catalogue.framework])
    world.chalk_hills_contract.frameworks.set([catalogue.framework])
    submit_directly(world.riverside, q2, by=world.riverside_lead)  # on time
    submit_directly(world.eastway, q2, by=world.eastway_lead, late=True)  # after the deadline
    open_return(world.chalk_hills, q2, by=world.administrator)  # a draft
    today = datetime.date(2025, 11, 5)

    assert services.mark_overdue(today) == 5  # Q1: all three; Q2: Eastway (late) and Chalk Hills (a draft)
    flags = {(f.provider.name, f.period.quarter, f.found_as) for f in OverdueFlag.objects.select_related("provider")}
    assert flags == {
        (world.riverside.name, 1, "not_started"),
        (world.eastway.name, 1, "not_started"),
        (world.chalk_hills.name, 1, "not_started"),
        (world.eastway.name, 2, "late"),
        (world.chalk_hills.name, 2, "draft"),
    }
    assert services.mark_overdue(today) == 0  # run again the same night: nothing new


def test_mark_overdue_waits_for_the_deadline(world, catalogue, q2):
    assert services.mark_overdue(q2.submission_deadline) == 0
    assert services.mark_overdue(q2.submission_deadline + datetime.timedelta(days=1)) == 1


def test_the_beat_schedule_runs_every_sweep(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks_scheduled == {
        "reviews.tasks.mark_overdue",
        "reviews.tasks.recompute_missing",
        "reviews.tasks.requeue_stuck_reports",
    }
    assert set(app.tasks) >= tasks_scheduled


@pytest.mark.parametrize("task", ["reviews.tasks.recompute_missing", "reviews.tasks.requeue_stuck_reports"])
def test_lost_jobs_are_swept_every_five_minutes(settings, task):
    (schedule,) = [entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == task]
    assert schedule.minute == set(range(0, 60, 5))
    assert schedule.hour == set(range(24))


def test_a_sweep_queues_no_return_already_waiting_in_a_chunk(world, q1, submitted, queued):
    other = submit_directly(world.riverside, q1, by=world.riverside_lead)
    first = sweep(services.queue_missing_rag)
    assert sorted(queued) == sorted([submitted.pk, other.pk]) and first.returns_total == 2
    queued.clear()
    assert sweep(services.queue_missing_rag) is None  # the next sweep, while the first job's chunk waits
    assert queued == [] and RecomputeJob.objects.count() == 1


def test_a_chunk_whose_task_was_lost_is_sent_again_by_the_sweep(world, submitted, queued, settings):
    sweep(services.queue_missing_rag)
    chunk = RecomputeChunk.objects.get()
    queued.clear()
    within = timezone.now() + datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT - 60)
    assert list(services.lost_chunks(within)) == []  # it may still be waiting in the queue, or being done
    later = timezone.now() + datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT + 60)
    assert list(services.lost_chunks(later)) == [chunk.pk]
    assert services.send_lost_chunks(later) == 1
    assert queued == [submitted.pk]


# Reports whose job was lost.


def report_in(world, period, state, **times) -> AssuranceReport:
    return AssuranceReport.objects.create(
        kind=ReportKind.PROVIDER, provider=world.riverside, period=period, requested_by=world.newham_nurse,
        state=state, **times,
    )  # fmt: skip


NOW = timezone.make_aware(datetime.datetime(2025, 11, 5, 12, 0))


@pytest.mark.parametrize(
    ("state", "minutes_ago", "sent_again"),
    [
        (ReportState.QUEUED, 4, False),  # its job may still be waiting in the queue
        (ReportState.QUEUED, 6, True),  # past a sweep's interval: the job could not be sent or was lost
        (ReportState.RENDERING, 9, False),  # within the visibility timeout (10 minutes): may still be being made
        (ReportState.RENDERING, 11, True),  # longer than any report job may run: its worker died
        (ReportState.READY, 600, False),
        (ReportState.FAILED, 600, False),
    ],
)
def test_the_sweep_sends_again_reports_queued_or_being_made_for_too_long(
    world, q2, queued_reports, state, minutes_ago, sent_again
):
    at = NOW - datetime.timedelta(minutes=minutes_ago)
    made = {"file": "reports/made.pdf", "sha256": "0" * 64} if state == ReportState.READY else {}
    report = report_in(world, q2, state, requested_at=at, started_at=at, **made)
    assert report_services.requeue_stuck_reports(now=NOW) == ([report.pk] if sent_again else [])
    assert queued_reports == ([report.pk] if sent_again else [])


def test_the_report_sweep_finds_every_lost_report_in_one_query(world, q2, django_assert_num_queries):
    for minutes in (6, 7, 8):
        report_in(world, q2, ReportState.QUEUED, requested_at=NOW - datetime.timedelta(minutes=minutes))
        report_in(world, q2, ReportState.RENDERING, started_at=NOW - datetime.timedelta(minutes=10 + minutes))
    with django_assert_num_queries(1):
        assert len(list(report_services.stuck_reports(NOW))) == 6


def test_the_rag_sweep_finds_every_return_without_a_status_in_one_query(world, q1, q2, django_assert_num_queries):
    for period in (q1, q2):
        submit_directly(world.riverside, period, by=world.riverside_lead)
    with django_assert_num_queries(1):
        assert len(list(services.returns_missing_rag())) == 2


def test_a_report_sent_again_after_it_was_made_is_left_as_it_is(world, catalogue, q2, submitted):
    report = report_in(world, q2, ReportState.QUEUED, requested_at=timezone.now() - datetime.timedelta(minutes=10))
    assert report_services.requeue_stuck_reports() == [report.pk]  # in-process here: made now
    report.refresh_from_db()
    assert report.state == ReportState.READY and report.attempts == 1
    assert tasks.requeue_stuck_reports() == 0
    tasks.render_report(report.pk)  # a copy of the job arriving late
    report.refresh_from_db()
    assert report.state == ReportState.READY and report.attempts == 1


# A threshold changed recomputes only what its version judges.


@pytest.fixture
def two_years(world, catalogue, q2, submitted, queued):
    """Riverside's 2025/26 Q2 return under the first version, and a 2026/27 return under the next one."""
    later = create_next_version(
        catalogue.framework, version="2026/27", effective_from=datetime.date(2026, 4, 1), user=world.administrator
    )
    world.riverside_contract.frameworks.add(later)
    next_year = submit_directly(world.riverside, make_period(2026, 1), by=world.riverside_lead)
    # Thresholds made while setting up wait for a commit that never comes in a test; forget them, so each test
    # sees only what its own change queues.
    transaction.get_connection().__dict__.pop("reviews_recompute_pending", None)
    queued.clear()
    return later, submitted, next_year


def test_a_threshold_changed_in_a_later_version_queues_none_of_last_years_returns(
    world, two_years, queued, django_capture_on_commit_callbacks
):
    later, this_year, next_year = two_years
    threshold = Threshold.objects.get(metric__framework=later, metric__code="DBS")
    with django_capture_on_commit_callbacks(execute=True):
        threshold.green_from, threshold.amber_from = 90, 85
        threshold.save()
    assert queued == [next_year.pk]


def test_a_threshold_changed_in_last_years_version_queues_only_last_years_returns(
    world, catalogue, two_years, queued, django_capture_on_commit_callbacks
):
    _, this_year, _ = two_years
    with django_capture_on_commit_callbacks(execute=True):
        catalogue.dbs.thresholds.get().delete()
    assert queued == [this_year.pk]


def test_thresholds_changed_together_queue_each_return_once(
    world, catalogue, two_years, queued, django_capture_on_commit_callbacks
):
    _, this_year, _ = two_years
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        threshold = catalogue.dbs.thresholds.get()
        for green in (99, 98, 97):
            threshold.green_from, threshold.amber_from = green, 90
            threshold.save()
    assert sum(callback.__name__ == "recompute" for callback in callbacks) == 1
    assert queued == [this_year.pk]


def test_a_threshold_change_rolled_back_queues_nothing_and_later_changes_still_do(
    world, catalogue, two_years, queued, django_capture_on_commit_callbacks
):
    _, this_year, _ = two_years
    threshold = catalogue.dbs.thresholds.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        threshold.green_from = 99
        threshold.save()
        raise RuntimeError("the admin's form failed")
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        threshold.green_from = 98
        threshold.save()
    assert queued == [this_year.pk]


@pytest.mark.parametrize(
    ("minutes_ago", "made_by_the_copy"),
    [
        (1, False),  # another job is making it: the sweep's copy leaves it to that job
        (31, True),  # longer than the visibility timeout: that job is gone, the copy makes it
    ],
)
def test_the_sweeps_copy_never_makes_a_report_another_job_is_making(
    world, catalogue, q2, submitted, minutes_ago, made_by_the_copy
):
    started = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    report = report_in(world, q2, ReportState.RENDERING, started_at=started, attempts=1)
    tasks.render_report(report.pk, sent_again=True)
    report.refresh_from_db()
    if made_by_the_copy:
        assert report.state == ReportState.READY and report.attempts == 2
    else:
        assert report.state == ReportState.RENDERING and report.attempts == 1 and report.started_at == started


def test_the_sweep_sends_its_copies_as_copies_that_expire(world, q2, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.render_report, "apply_async", lambda *args, **options: sent.append((args, options)))
    report = report_in(world, q2, ReportState.QUEUED, requested_at=NOW - datetime.timedelta(minutes=10))
    assert report_services.requeue_stuck_reports(now=NOW) == [report.pk]
    assert sent == [(((report.pk,), {"sent_again": True}), {"expires": 300})]
