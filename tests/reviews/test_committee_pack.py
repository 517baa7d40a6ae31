"""A committee pack made in parts: progress, the stuck-report sweep, the in-process path, and a real Celery worker
making a small pack through the group of part jobs and the chord's callback."""

from __future__ import annotations

import datetime
import io
import os
import time
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assurance.celery import app
from reviews import report_services
from reviews.models import AssuranceReport, ReportKind, ReportPart, ReportPartKind, ReportState
from tests.conftest import (
    a_worker_of_its_own,
    delete_queues,
    forget_broker_and_backend,
    start_worker,
    stop,
    wait_until_ready,
    worker_control,
)
from tests.reviews.fixtures import submitted  # noqa: F401

WAIT = 120  # seconds for a worker to make a small pack (two PDFs, a workbook and the zip)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Reports made here go to a temporary folder, not the project's private storage (a worker started here too)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


def ask(world, period, django_capture_on_commit_callbacks) -> AssuranceReport:
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(
            world.newham_committee, kind=ReportKind.COMMITTEE, period=period, subject=world.newham
        )
    report.refresh_from_db()
    return report


def test_in_process_the_chord_makes_every_part_then_the_pack_at_once(
    world, submitted, django_capture_on_commit_callbacks
):
    assert app.conf.task_always_eager, "tests run tasks in-process, as the one-command demo does"
    report = ask(world, submitted.period, django_capture_on_commit_callbacks)
    assert report.state == ReportState.READY, report.failure_reason
    parts = list(report.parts.order_by("position"))
    assert [p.kind for p in parts] == [ReportPartKind.FRONT, ReportPartKind.ANNEX, ReportPartKind.APPENDIX]
    assert all(p.state == ReportState.READY and p.attempts == 1 and p.size for p in parts)
    assert parts[2].provider == world.riverside
    assert report.snapshot["part"] == "front", "the report keeps its front section's data"


def test_the_progress_page_and_the_api_show_parts_done_of_parts_total(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    report = ask(world, submitted.period, django_capture_on_commit_callbacks)
    # As it was midway: the front section made, the annex and the appendix not yet.
    AssuranceReport.objects.filter(pk=report.pk).update(state=ReportState.RENDERING, finished_at=None)
    report.parts.exclude(kind=ReportPartKind.FRONT).update(state=ReportState.RENDERING)
    front = report.parts.get(kind=ReportPartKind.FRONT)
    client = as_person("newham_committee")

    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    assert "1 of 3 parts done" in page
    assert '<div class="auto-refresh" data-refresh-every="3"></div>' in page, "updates itself every 3 seconds"
    assert "js/auto-refresh" in page and "Refresh to see how far it has got" in page  # and by hand, without script
    assert f'href="{reverse("reviews:report_detail", args=[report.pk])}"' in page, "and a link to refresh by hand"
    assert reverse("reviews:report_part_download", args=[report.pk, front.pk]) in page, "the front, as soon as made"
    assert reverse("reviews:report_download", args=[report.pk]) not in page, "the pack once whole, not before"
    annex = report.parts.get(kind=ReportPartKind.ANNEX)
    response = client.get(reverse("reviews:report_part_download", args=[report.pk, annex.pk]))
    assert response.status_code == 302, "a part not made yet goes back to the progress page"

    body = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert (body["parts_done"], body["parts_total"], body["download"]) == (1, 3, None)
    assert body["front_download"].endswith(f"/api/v1/reports/{report.pk}/parts/{front.pk}/download/")
    assert body["annex_download"] is None
    assert client.get(body["front_download"]).status_code == 200
    assert client.get(f"/api/v1/reports/{report.pk}/parts/{annex.pk}/download/").status_code == 409


def test_the_progress_page_asks_as_many_queries_for_many_parts_as_for_few(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    report = ask(world, submitted.period, django_capture_on_commit_callbacks)
    client = as_person("newham_committee")
    url = reverse("reviews:report_detail", args=[report.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    first = report.parts.get(kind=ReportPartKind.APPENDIX)
    ReportPart.objects.bulk_create(
        ReportPart(report=report, kind=ReportPartKind.APPENDIX, provider=world.riverside, position=10 + n,
                   snapshot_sha256="0" * 64, state=ReportState.READY, file=first.file.name, sha256=first.sha256)
        for n in range(40)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "43 provider reports" not in page and "41 provider reports" in page
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_a_failed_pack_offers_none_of_its_parts(world, submitted, as_person, django_capture_on_commit_callbacks):
    report = ask(world, submitted.period, django_capture_on_commit_callbacks)
    AssuranceReport.objects.filter(pk=report.pk).update(state=ReportState.FAILED, failure_reason="A part failed.")
    front = report.parts.get(kind=ReportPartKind.FRONT)
    client = as_person("newham_committee")
    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    assert "A part failed." in page and "Not offered: the pack could not be made." in page
    assert reverse("reviews:report_part_download", args=[report.pk, front.pk]) not in page
    response = client.get(reverse("reviews:report_part_download", args=[report.pk, front.pk]))
    assert response.status_code == 302
    assert client.get(f"/api/v1/reports/{report.pk}/parts/{front.pk}/download/").status_code == 409


def test_a_pack_whose_worker_died_is_swept_and_only_its_missing_parts_are_made(
    world, submitted, settings, django_capture_on_commit_callbacks
):
    report = ask(world, submitted.period, django_capture_on_commit_callbacks)
    made = {p.pk: (p.file.name, p.attempts) for p in report.parts.all()}
    appendix = report.parts.get(kind=ReportPartKind.APPENDIX)
    # As left by a worker killed midway through the appendix, longer ago than the visibility timeout.
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT + 60)
    AssuranceReport.objects.filter(pk=report.pk).update(
        state=ReportState.RENDERING, started_at=long_ago, finished_at=None, file="", sha256="", size=None
    )
    report.parts.update(started_at=long_ago, finished_at=long_ago)
    ReportPart.objects.filter(pk=appendix.pk).update(state=ReportState.RENDERING, file="", sha256="")

    assert list(report_services.stuck_reports()) == [report.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert report_services.requeue_stuck_reports() == [report.pk]
    report.refresh_from_db()
    assert report.state == ReportState.READY, report.failure_reason
    after = {p.pk: (p.file.name, p.attempts) for p in report.parts.all()}
    assert {pk: v for pk, v in after.items() if pk != appendix.pk} == {
        pk: v for pk, v in made.items() if pk != appendix.pk
    }, "the parts already made are not made again"
    assert after[appendix.pk][1] == 2 and after[appendix.pk][0] != made[appendix.pk][0]
    with zipfile.ZipFile(report.file.open("rb")) as pack:
        assert len([n for n in pack.namelist() if n.startswith("appendices/")]) == 1


def test_a_pack_whose_parts_are_still_being_made_is_not_stuck(world, submitted, settings):
    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=submitted.period, requested_by=world.newham_nurse,
        state=ReportState.RENDERING,
        started_at=timezone.now() - datetime.timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT + 60),
    )  # fmt: skip
    part = ReportPart.objects.create(report=report, kind=ReportPartKind.FRONT, snapshot_sha256="0" * 64)
    assert list(report_services.stuck_reports()) == [report.pk]
    ReportPart.objects.filter(pk=part.pk).update(finished_at=timezone.now())  # a worker is still at it
    assert list(report_services.stuck_reports()) == []


def test_no_report_job_may_run_as_long_as_the_visibility_timeout(settings):
    from reviews.tasks import finish_pack, render_report, render_report_part

    for task in (render_report, render_report_part, finish_pack):
        assert task.acks_late
        assert task.soft_time_limit < task.time_limit < settings.CELERY_VISIBILITY_TIMEOUT
    assert settings.CELERY_VISIBILITY_TIMEOUT <= 10 * 60
    assert render_report_part.ignore_result is False, "the chord counts its parts in the result backend"


# A real worker.


@pytest.fixture
def pack_worker(django_db_setup, tmp_path):
    """A prefork worker on a queue of its own that is also its default queue (so the parts it sends reach it), with
    the test's storage; the suite's app sends to it meanwhile."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set, so there is no Redis for a real Celery worker (bin/test sets it).")
    unique, worker = a_worker_of_its_own(redis_url, tmp_path / "worker.log")
    changes = {"broker_url": redis_url, "result_backend": redis_url, "task_always_eager": False,
               "task_default_queue": worker.queue}  # fmt: skip
    saved = {key: app.conf[key] for key in changes}
    with worker_control(redis_url) as control:
        process = start_worker(worker, pool="prefork", env={
            "CELERY_TASK_DEFAULT_QUEUE": worker.queue, "PRIVATE_STORAGE_ROOT": str(tmp_path)})  # fmt: skip
        forget_broker_and_backend(app)
        app.conf.update(changes)
        try:
            wait_until_ready(control, process, worker)
            yield worker
        finally:
            forget_broker_and_backend(app)
            app.conf.update(saved)
            stop(process)
            delete_queues(redis_url, unique)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_a_small_pack_through_the_group_of_parts_and_the_chord(world, submitted, pack_worker):
    report = report_services.request_report(
        world.newham_committee, kind=ReportKind.COMMITTEE, period=submitted.period, subject=world.newham
    )
    deadline = time.monotonic() + WAIT
    while AssuranceReport.objects.get(pk=report.pk).state in (ReportState.QUEUED, ReportState.RENDERING):
        if time.monotonic() > deadline:
            pytest.fail(f"The pack was not made within {WAIT} seconds:\n{pack_worker.log()}")
        time.sleep(0.2)
    report.refresh_from_db()
    assert report.state == ReportState.READY, (report.failure_reason, pack_worker.log())
    log = pack_worker.log()
    assert log.count("reviews.tasks.render_report_part[") >= 3 and "reviews.tasks.finish_pack[" in log
    assert report.parts.filter(state=ReportState.READY).count() == 3
    with report.file.open("rb") as stream, zipfile.ZipFile(io.BytesIO(stream.read())) as pack:
        names = pack.namelist()
    assert "1-front-section.pdf" in names and "2-annex.xlsx" in names
    assert len([n for n in names if n.startswith("appendices/")]) == 1
