"""Recomputes run as chunked jobs: each chunk done once, counted into its job, failures kept with their reasons;
a threshold changed in admin makes a job of the returns its version judges, and the administrator is shown it."""

import datetime
import io
import time

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.test import TestCase

from reviews import services, tasks
from reviews.models import ChunkState, RagRun, RecomputeJob, RecomputeReason, RecomputeState
from standards.models import Threshold
from standards.services import create_next_version
from tests.reviews.fixtures import make_period, providers_of, submit_directly

pytestmark = pytest.mark.django_db

RED_DBS = {"DBS": {"numerator": "80", "denominator": "100"}}  # 80%: red against 100% (amber from 95%)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(services, "RECOMPUTE_CHUNK_SIZE", 2)


@pytest.fixture
def five_returns(world, catalogue, q2):
    providers = providers_of(world.newham, catalogue.framework, 5, prefix="J")
    return [submit_directly(provider, q2, by=world.administrator).pk for provider in providers]


def start(return_ids, **options) -> RecomputeJob:
    """Make a job as the sweep and a threshold change do, outside any transaction: its chunks are sent (and, with no
    broker, done) once it is committed."""
    options = {"reason": RecomputeReason.COMMAND, "description": "A test", **options}
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.start_recompute(return_ids, **options)
    job.refresh_from_db()
    return job


def test_a_job_judges_its_returns_in_chunks_and_counts_them_as_it_goes(world, five_returns, small_chunks):
    job = start(five_returns, by=world.administrator)

    assert (job.chunks_total, job.returns_total) == (3, 5)
    assert [len(ids) for ids in job.chunks.values_list("return_ids", flat=True)] == [2, 2, 1]
    assert (job.chunks_done, job.returns_done, job.returns_changed, job.returns_failed) == (3, 5, 5, 0)
    assert job.state == RecomputeState.FINISHED and job.finished_at is not None
    assert set(RagRun.objects.current().values_list("provider_return_id", flat=True)) == set(five_returns)
    assert job.requested_by == world.administrator


def test_progress_is_counted_chunk_by_chunk_and_the_last_chunk_finishes_the_job(five_returns, small_chunks):
    job = services.start_recompute(five_returns, reason=RecomputeReason.COMMAND, description="By hand", send=False)
    chunks = list(job.chunks.order_by("number").values_list("pk", flat=True))

    services.recompute_chunk(chunks[0])
    job.refresh_from_db()
    assert (job.state, job.chunks_done, job.returns_done, job.finished_at) == (RecomputeState.RUNNING, 1, 2, None)

    services.recompute_chunk(chunks[2])
    services.recompute_chunk(chunks[1])
    job.refresh_from_db()
    assert (job.state, job.chunks_done, job.returns_done) == (RecomputeState.FINISHED, 3, 5)


def test_the_chunk_that_finishes_a_large_job_gathers_the_status_tables_statistics(
    five_returns, small_chunks, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(services, "ANALYZE_AFTER_RETURNS", 5)
    job = services.start_recompute(five_returns, reason=RecomputeReason.COMMAND, description="By hand", send=False)
    chunks = list(job.chunks.order_by("number").values_list("pk", flat=True))
    analyzed = []
    for pk in chunks:
        with CaptureQueriesContext(connection) as captured:
            services.recompute_chunk(pk)
        analyzed.append(any(q["sql"].startswith("ANALYZE ") for q in captured.captured_queries))
    assert analyzed == [False, False, True]  # only the last chunk, which finished the job

    with CaptureQueriesContext(connection) as captured:
        services.recompute_chunk(chunks[-1])  # delivered again: nothing to do, nothing gathered
    assert not any(q["sql"].startswith("ANALYZE ") for q in captured.captured_queries)

    monkeypatch.setattr(services, "ANALYZE_AFTER_RETURNS", 6)  # a job smaller than that is left to autovacuum
    job = services.start_recompute(five_returns, reason=RecomputeReason.COMMAND, description="Again", send=False)
    with CaptureQueriesContext(connection) as captured:
        for pk in job.chunks.order_by("number").values_list("pk", flat=True):
            services.recompute_chunk(pk)
    assert not any(q["sql"].startswith("ANALYZE ") for q in captured.captured_queries)


def test_a_chunk_delivered_twice_is_done_and_counted_once(five_returns, small_chunks):
    job = start(five_returns)
    runs = set(RagRun.objects.values_list("pk", flat=True))

    tasks.recompute_chunk(job.chunks.first().pk)  # a copy of the task arriving again

    job.refresh_from_db()
    assert (job.chunks_done, job.returns_done) == (3, 5)
    assert set(RagRun.objects.values_list("pk", flat=True)) == runs


def test_a_return_the_rules_cannot_judge_fails_alone_with_its_reason(five_returns, small_chunks, monkeypatch):
    broken = five_returns[1]
    compute = services.compute_rag_for_returns

    def compute_all_but_one(return_ids):
        if broken in return_ids:
            raise ValueError("an answer the rules do not understand")
        return compute(return_ids)

    monkeypatch.setattr(services, "compute_rag_for_returns", compute_all_but_one)
    job = start(five_returns)

    assert job.state == RecomputeState.FINISHED_WITH_FAILURES
    assert (job.chunks_done, job.returns_done, job.returns_failed) == (3, 4, 1)
    chunk = job.chunks.get(state=ChunkState.FAILED)
    assert chunk.failures == {str(broken): "It could not be judged: ValueError. The other returns of its chunk were."}
    judged = set(RagRun.objects.current().values_list("provider_return_id", flat=True))
    assert judged == set(five_returns) - {broken}  # the other return of its chunk was judged


def test_a_chunk_meeting_a_passing_database_error_is_tried_again(five_returns, monkeypatch):
    calls = []
    run = services.recompute_chunk

    def once_unreachable(chunk_id):
        calls.append(chunk_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return run(chunk_id)

    monkeypatch.setattr(services, "recompute_chunk", once_unreachable)
    job = start(five_returns)
    assert len(calls) == 2
    assert (job.state, job.returns_done) == (RecomputeState.FINISHED, 5)


def test_a_chunk_the_database_never_answers_for_is_recorded_failed_and_its_job_still_finishes(
    five_returns, monkeypatch
):
    def unreachable(chunk_id):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "recompute_chunk", unreachable)
    job = start(five_returns)

    assert job.state == RecomputeState.FINISHED_WITH_FAILURES
    assert (job.chunks_done, job.returns_done, job.returns_failed) == (1, 0, 5)
    assert set(job.chunks.get().failures.values()) == {tasks.CHUNK_UNREACHABLE}


def test_nothing_to_judge_makes_no_job():
    assert services.start_recompute([], reason=RecomputeReason.SWEEP, description="Nothing") is None
    assert not RecomputeJob.objects.exists()


def test_recompute_rag_judges_every_submitted_return_as_one_job(five_returns, small_chunks):
    out = io.StringIO()
    call_command("recompute_rag", stdout=out)

    job = RecomputeJob.objects.get()
    assert (job.reason, job.state, job.chunks_done, job.returns_done) == ("command", "finished", 3, 5)
    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        f"Job {job.pk}: 1 of 3 chunks, 2 of 5 returns judged",
        f"Job {job.pk}: 2 of 3 chunks, 4 of 5 returns judged",
    ]
    assert lines[-1] == "Judged 5 submitted returns again; 5 had a status that changed."


# A threshold changed for a new year.


@pytest.fixture
def next_year(world, catalogue, q2):
    """Riverside's 2025/26 Q2 return, judged by the first version, and its 2026/27 Q1 return, judged by a version in
    force from April 2026, both computed already."""
    later = create_next_version(
        catalogue.framework, version="2026/27", effective_from=datetime.date(2026, 4, 1), user=world.administrator
    )
    world.riverside_contract.ends_on = datetime.date(2027, 3, 31)
    world.riverside_contract.save()
    world.riverside_contract.frameworks.add(later)
    this_year = submit_directly(world.riverside, q2, RED_DBS, by=world.riverside_lead)
    following = submit_directly(world.riverside, make_period(2026, 1), RED_DBS, by=world.riverside_lead)
    transaction.get_connection().__dict__.pop("reviews_recompute_pending", None)  # set-up's own changes
    services.compute_rag_for_returns([this_year.pk, following.pk])
    return later, this_year, following


def dbs_colour(provider_return) -> str:
    run = RagRun.objects.current().get(provider_return=provider_return)
    return run.answers.get(metric__code="DBS").colour


def test_a_threshold_lowered_for_a_new_year_recomputes_that_years_returns_only(world, next_year):
    later, this_year, following = next_year
    assert dbs_colour(this_year) == dbs_colour(following) == "red"

    with TestCase.captureOnCommitCallbacks(execute=True):
        Threshold.objects.filter(metric__framework=later, metric__code="DBS").update(green_from=80, amber_from=70)
        services.recompute_framework(later.pk, by=world.administrator)

    job = RecomputeJob.objects.get()
    assert (job.reason, job.framework, job.returns_total, job.state) == ("threshold", later, 1, "finished")
    assert job.description == f"A threshold of {later} changed by {world.administrator.get_full_name()}"
    assert dbs_colour(following) == "green"  # judged again by the new year's threshold
    assert dbs_colour(this_year) == "red"  # last year's return kept last year's threshold and was not queued


@pytest.mark.django_db(transaction=True)  # committed for real, as in admin: the job is made after the save commits
def test_an_administrator_changing_a_threshold_in_admin_is_shown_the_job_and_its_progress(world, next_year, client):
    later, this_year, following = next_year
    threshold = Threshold.objects.get(metric__framework=later, metric__code="DBS")
    client.force_login(world.administrator)

    response = client.post(
        f"/admin/standards/threshold/{threshold.pk}/change/",
        {"metric": threshold.metric_id, "provider_type": "", "green_from": "80", "amber_from": "70",
         "as_written": threshold.as_written, "note": threshold.note},
        follow=True,
    )  # fmt: skip

    assert response.status_code == 200
    job = RecomputeJob.objects.get()
    assert job.requested_by == world.administrator and job.framework == later
    messages = [str(m) for m in get_messages(response.wsgi_request)] or [str(m) for m in response.context["messages"]]
    (shown,) = [m for m in messages if "being computed again" in m]
    assert f'href="/admin/reviews/recomputejob/{job.pk}/change/"' in shown
    assert f"the 1 submitted return judged by {later} is being computed again, in 1 chunk." in shown
    assert dbs_colour(following) == "green" and dbs_colour(this_year) == "red"

    page = client.get(f"/admin/reviews/recomputejob/{job.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 of 1" in text and "Finished" in text and str(world.administrator) in text
    assert "data-refresh-every" not in text  # finished: the page no longer updates itself


def test_the_job_page_shows_how_far_along_it_is_and_its_failures(world, admin_client, five_returns, small_chunks):
    job = services.start_recompute(five_returns, reason=RecomputeReason.COMMAND, description="By hand", send=False)
    first, second, _ = job.chunks.order_by("number")
    services.recompute_chunk(first.pk)
    services.fail_chunk(second.pk, "The database could not be reached, after several tries.")

    page = admin_client.get(f"/admin/reviews/recomputejob/{job.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "2 of 3" in text  # chunks
    assert "2 of 5" in text  # returns done
    assert '<progress max="5" value="4">' in text and "80%" in text
    assert "The database could not be reached, after several tries." in text
    assert 'data-refresh-every="5"' in text  # not finished: the page updates itself every few seconds
    listing = admin_client.get("/admin/reviews/recomputejob/")
    assert listing.status_code == 200 and "By hand" in listing.content.decode()


def test_the_job_pages_cannot_change_a_job(admin_client, five_returns):
    job = start(five_returns)
    response = admin_client.post(f"/admin/reviews/recomputejob/{job.pk}/change/", {"description": "Changed"})
    assert response.status_code == 403
    assert admin_client.get("/admin/reviews/recomputejob/add/").status_code == 403
    assert admin_client.post(f"/admin/reviews/recomputejob/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.description == "A test"


# On a real worker.

WAIT = 60  # seconds; a healthy worker does these chunks in well under one


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)  # the worker reads what the test committed
def test_a_real_worker_does_a_chunked_job_to_the_end(five_returns, small_chunks, celery_worker_process):
    job = services.start_recompute(five_returns, reason=RecomputeReason.SWEEP, description="Through Redis")
    assert job.chunks_total == 3

    deadline = time.monotonic() + WAIT
    while not RecomputeJob.objects.get(pk=job.pk).is_finished:
        if time.monotonic() > deadline:
            pytest.fail(f"The job did not finish within {WAIT} seconds:\n{celery_worker_process.log()}")
        time.sleep(0.2)

    job.refresh_from_db()
    assert (job.state, job.chunks_done, job.returns_done, job.returns_failed) == ("finished", 3, 5, 0)
    assert set(RagRun.objects.current().values_list("provider_return_id", flat=True)) == set(five_returns)
    assert all(chunk.sent_at and chunk.done_at for chunk in job.chunks.all())
