"""Background work reaches a real Celery worker, which reads the same database the app writes."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from assurance.celery import app as celery_app
from assurance.tasks import heartbeat
from tests.factories import FrameworkFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

RESULT_TIMEOUT = 30  # seconds; a healthy worker answers in well under one


def test_worker_sees_frameworks_the_app_has_committed(celery_worker_process):
    FrameworkFactory.create_batch(2)

    result = heartbeat.apply_async(queue=celery_worker_process.queue)
    answer = result.get(timeout=RESULT_TIMEOUT)

    assert answer == {"database": "ok", "frameworks": 2, "hostname": celery_worker_process.hostname}, (
        celery_worker_process.log()
    )


def test_tasks_the_app_sends_without_a_queue_reach_the_worker(celery_worker_process):
    answer = heartbeat.delay().get(timeout=RESULT_TIMEOUT)

    assert answer["hostname"] == celery_worker_process.hostname


def test_check_services_reports_database_broker_and_worker_working(celery_worker_process):
    FrameworkFactory()
    output = io.StringIO()

    call_command("check_services", queue=celery_worker_process.queue, timeout=RESULT_TIMEOUT, stdout=output)

    lines = output.getvalue().splitlines()
    assert lines[0].startswith("Database: connected to the postgresql database"), lines
    assert lines[0].endswith("the catalogue holds 1 frameworks."), lines
    assert lines[1].startswith("Broker: connected to redis://"), lines
    assert lines[2].startswith(f"Worker: {celery_worker_process.hostname} answered"), lines
    assert lines[2].endswith("(1 frameworks)."), lines
    assert lines[-1] == "All services are working."


def test_check_services_fails_when_no_worker_listens_on_the_queue(celery_worker_process):
    unattended_queue = f"{celery_worker_process.queue}-unattended"  # deleted with the worker's queue
    output = io.StringIO()

    with pytest.raises(CommandError, match="Not working: worker"):
        call_command("check_services", queue=unattended_queue, timeout=1, stdout=output)

    assert f"no worker answered on the queue '{unattended_queue}' within 1 seconds" in output.getvalue()


def test_check_services_without_a_broker_checks_only_the_database(db):
    output = io.StringIO()

    call_command("check_services", stdout=output)

    assert "Background tasks: run in-process" in output.getvalue()
    assert output.getvalue().splitlines()[-1] == "All services are working."


def test_tests_without_the_worker_go_back_to_running_tasks_in_process():
    # pytest-django runs tests without database access after those with it, so this runs after the tests
    # above: the worker's settings must not leak out of them.
    assert celery_app.conf.task_always_eager is (not settings.CELERY_BROKER_URL)
    assert celery_app.conf.task_default_queue == "celery"
