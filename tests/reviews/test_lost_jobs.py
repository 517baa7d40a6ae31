"""A job lost with its whole worker comes back: Redis hands it to the next worker once the visibility timeout has
passed, and the result is stored."""

import os
import signal
import time

import pytest
from django.db import connection, transaction

from assurance.celery import app
from returns.models import Return
from reviews.models import RagRun
from reviews.tasks import compute_rag
from tests.conftest import (
    a_worker_of_its_own,
    delete_queues,
    forget_broker_and_backend,
    start_worker,
    stop,
    wait_until_ready,
    worker_control,
)
from tests.reviews.fixtures import submit_directly

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 2  # seconds, for these workers only (10 minutes in production: CELERY_VISIBILITY_TIMEOUT)
WAIT = 30  # seconds: a healthy worker takes well under one


@pytest.fixture
def restartable_worker(django_db_setup, tmp_path):
    """A worker on a queue of its own, run as production runs it (prefork), with a short visibility timeout:
    ``start()`` starts it (again), waiting until it answers; the suite's app sends to it meanwhile."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set, so there is no Redis for a real Celery worker (bin/test sets it).")
    unique, worker = a_worker_of_its_own(redis_url, tmp_path / "worker.log")
    processes = []
    changes = {"broker_url": redis_url, "result_backend": redis_url, "task_always_eager": False}
    saved = {key: app.conf[key] for key in changes}
    with worker_control(redis_url) as control:

        def start():
            process = start_worker(worker, pool="prefork", env={"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)})
            processes.append(process)
            wait_until_ready(control, process, worker)
            return process

        forget_broker_and_backend(app)
        app.conf.update(changes)
        try:
            yield worker, start
        finally:
            forget_broker_and_backend(app)
            app.conf.update(saved)
            for process in processes:
                stop(process)
            delete_queues(redis_url, unique)


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def wait_for(condition, what: str, log) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {WAIT} seconds:\n{log()}")
        time.sleep(0.1)


def test_a_job_whose_whole_worker_was_killed_midway_is_done_by_the_next_worker(
    world, catalogue, q2, restartable_worker
):
    worker, start = restartable_worker
    submitted = submit_directly(world.riverside, q2, by=world.riverside_lead)
    first = start()

    # The test holds the return's row, so the job stops midway: computed, waiting to write its run.
    with transaction.atomic():
        Return.objects.select_for_update().get(pk=submitted.pk)
        compute_rag.apply_async((submitted.pk,), queue=worker.queue)
        sent = time.monotonic()
        wait_for(waiting_for_a_lock, "The worker did not start the job", worker.log)
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, parent and child, as when its machine is lost
        first.wait(timeout=WAIT)
    time.sleep(0.5)
    assert not RagRun.objects.exists()  # nothing written by the killed job

    time.sleep(max(0, sent + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    start()  # a worker restarted puts back the jobs out longer than the visibility timeout, then does them

    wait_for(lambda: RagRun.objects.current().filter(provider_return=submitted).exists(), "No status", worker.log)
    assert RagRun.objects.count() == 1, worker.log()
