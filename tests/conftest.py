"""Fixtures shared by the whole test suite.

``celery_worker_process`` starts a real Celery worker against Redis and the test database, for the few tests
that must prove background work happens in a separate process; everything else runs tasks in-process.
"""

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from celery import Celery

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60  # seconds for the worker to import Django, connect and answer a ping
WORKER_STOP_TIMEOUT = 20  # seconds for a warm shutdown before the worker is killed
BROKER_TIMEOUT = 5  # seconds to connect to Redis


@dataclasses.dataclass
class CeleryWorker:
    """A running worker. Tasks sent during a test that uses it go to ``queue`` unless told otherwise.

    Queues whose names start with ``queue`` are deleted from Redis at the end of the session.
    """

    queue: str
    hostname: str
    redis_url: str
    log_path: Path

    def log(self) -> str:
        """What the worker has printed so far, to explain a failure."""
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    """A real ``celery worker`` subprocess on its own queue, using the test database and TEST_REDIS_URL.

    Started once per session. For each test that uses it (directly or through another fixture), the in-test
    Celery app sends to that worker instead of running tasks eagerly, and goes back to eager afterwards.
    """
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL is not set, so there is no Redis for a real Celery worker (bin/test sets it).")

    unique, worker = a_worker_of_its_own(redis_url, tmp_path_factory.mktemp("celery") / "worker.log")
    # A separate Celery app talks to the worker here, so the suite's app is untouched outside the tests.
    with worker_control(redis_url) as control:
        process = start_worker(worker)
        try:
            wait_until_ready(control, process, worker)
            yield worker
        finally:
            stop(process)
            delete_queues(redis_url, unique)


def a_worker_of_its_own(redis_url, log_path) -> tuple[str, CeleryWorker]:
    """A worker's settings with a queue and hostname no other test run uses (the queue's unique part first)."""
    unique = uuid.uuid4().hex[:12]
    worker = CeleryWorker(
        queue=f"test-{unique}", hostname=f"test-{unique}@{os.uname().nodename}", redis_url=redis_url, log_path=log_path
    )
    return unique, worker


@contextlib.contextmanager
def worker_control(redis_url):
    """A Celery app of its own that pings workers, failing the test at once when Redis cannot be reached."""
    with Celery("test-control", broker=redis_url, set_as_current=False) as control:
        try:
            with control.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
                connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        except Exception as error:
            pytest.fail(f"Cannot reach Redis at TEST_REDIS_URL={redis_url}: {error}")
        yield control


def start_worker(worker: CeleryWorker, *, pool: str = "solo", env: dict | None = None) -> subprocess.Popen:
    """Start ``celery worker`` on ``worker.queue`` against the test database, in a process group of its own.

    ``pool="prefork"`` runs it as production does (a parent and a child that runs the jobs); ``env`` adds to the
    environment its settings are read from. What it prints is added to ``worker.log_path``.
    """
    from django.db import connections

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "assurance.settings",
        # After django_db_setup, NAME is the name of the test database pytest-django created.
        "DATABASE_URL": database_url(connections["default"].settings_dict),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": worker.redis_url,
        "CELERY_RESULT_BACKEND": worker.redis_url,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "assurance", "worker",
        f"--pool={pool}", "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-Q", worker.queue, "-n", worker.hostname, "--loglevel=info",
    ]  # fmt: skip
    with open(worker.log_path, "ab") as log_file:
        # Output goes to a file, never a pipe: a pipe nobody reads fills up and blocks the worker.
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(autouse=True)
def _celery_app_uses_the_worker(request):
    """Point the suite's Celery app at the real worker for tests that use it, and restore it afterwards."""
    if "celery_worker_process" not in request.fixturenames:
        yield
        return
    worker = request.getfixturevalue("celery_worker_process")

    from assurance.celery import app

    changes = {
        "broker_url": worker.redis_url,
        "result_backend": worker.redis_url,
        "task_always_eager": False,
        "task_default_queue": worker.queue,
    }
    saved = {key: app.conf[key] for key in changes}
    forget_broker_and_backend(app)
    app.conf.update(changes)
    try:
        yield
    finally:
        forget_broker_and_backend(app)
        app.conf.update(saved)


def database_url(settings_dict) -> str:
    """The URL of the database ``settings_dict`` describes, for another process to connect to."""
    if settings_dict["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "celery_worker_process needs a test database another process can connect to: run the tests on "
            f"PostgreSQL (bin/test does; the database engine here is {settings_dict['ENGINE']!r})."
        )
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}{query}"


def wait_until_ready(control, process, worker):
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The Celery worker exited with code {process.returncode} before it was ready:\n{worker.log()}")
        if control.control.ping(destination=[worker.hostname], timeout=1.0):
            return
        time.sleep(0.2)
    pytest.fail(f"The Celery worker did not answer a ping within {WORKER_START_TIMEOUT} seconds:\n{worker.log()}")


def stop(process: subprocess.Popen):
    """Ask the worker to finish (warm shutdown), and kill it if it does not."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def delete_queues(redis_url, unique):
    """Remove the keys of the session's queues (and their bindings) from Redis."""
    import redis

    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=BROKER_TIMEOUT)
        keys = list(client.scan_iter(match=f"*test-{unique}*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # tidying Redis is a courtesy; the names are never reused


def forget_broker_and_backend(app):
    """Drop the Celery app's cached broker pool, routing and result backend so that new settings take effect.

    Celery builds them on first use from the settings of the moment and keeps them; there is no public API
    to discard them.
    """
    # Not closed: kombu keeps pools in a registry by URL and would hand the closed one back next time.
    app._pool = None
    app.__dict__.pop("amqp", None)
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture(autouse=True)
def migration_seeded_rows(request):
    """Tests that commit (``django_db(transaction=True)``, live server) start with the rows migrations seed.

    Their database is emptied after each of them, which removes the provider types and services that a data
    migration created; Django re-creates content types and permissions itself, and this puts back the rest.
    """
    marker = request.node.get_closest_marker("django_db")
    committing = (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames
    if not committing:
        return
    request.getfixturevalue("_django_db_helper")
    from importlib import import_module

    from django.apps import apps

    import_module("standards.migrations.0002_provider_types_and_services").seed(apps, None)
