"""Scheduling RAG work never blocks a submission; what was missed is caught up; a threshold recomputes its periods."""

import datetime
import logging

import pytest
from django.db import transaction

import returns.services as return_services
from assurance.celery import app
from returns.models import ReturnStatus, Submission
from returns.services import open_return, return_for_revision
from reviews import services, tasks
from reviews.models import OverdueFlag, RagRun
from reviews.services import compute_return_rag, schedule_rag
from standards.models import Threshold
from standards.services import create_next_version
from tests.conftest import forget_broker_and_backend
from tests.reviews.fixtures import make_period, submit_directly, submit_through_services, submitted  # noqa: F401

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the broker is down


@pytest.fixture
def broker_down():
    """The suite's Celery app sends to a broker that cannot be reached, and goes back to eager afterwards."""
    changes = {"broker_url": CLOSED_PORT, "result_backend": "cache+memory://", "task_always_eager": False}
    saved = {key: app.conf[key] for key in changes}
    forget_broker_and_backend(app)
    app.conf.update(changes)
    yield
    forget_broker_and_backend(app)
    app.conf.update(saved)


@pytest.fixture
def queued(monkeypatch):
    """The ids of returns whose computation was queued, instead of sending them."""
    ids = []
    monkeypatch.setattr(services, "schedule_rag", lambda return_id: ids.append(return_id) or True)
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

    monkeypatch.setattr(tasks.compute_rag, "delay", refuse)
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

    assert tasks.recompute_missing() == 1
    assert queued == [never_computed.pk]

    compute_return_rag(never_computed)
    queued.clear()
    assert tasks.recompute_missing() == 0

    return_for_revision(submitted, by=world.newham_nurse, comments="Please check.")
    submit_through_services(world, catalogue, submitted)  # a second submission: the current run judged the first
    assert tasks.recompute_missing() == 1
    assert queued == [submitted.pk]


def test_recompute_missing_computes_them_once_the_worker_is_back(world, q1, submitted):
    assert tasks.recompute_missing() == 1  # tasks run in-process here: queued is computed
    assert RagRun.objects.current().get().provider_return == submitted
    assert tasks.recompute_missing() == 0


def test_recompute_missing_stops_while_the_broker_is_down(world, submitted, broker_down):
    assert tasks.recompute_missing() == 0
    assert list(services.returns_missing_rag()) == [submitted.pk]


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


def test_the_beat_schedule_runs_both_tasks(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks_scheduled == {"reviews.tasks.mark_overdue", "reviews.tasks.recompute_missing"}
    assert set(app.tasks) >= tasks_scheduled


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
    assert len(callbacks) == 1
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
