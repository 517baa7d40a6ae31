"""Check that the services Safeguard Assure depends on answer: the database, the broker and a worker.

An operator runs ``manage.py check_services`` after a deployment; the Docker worker uses it as its
healthcheck. It prints one plain-English line per service and exits non-zero if any of them failed.
"""

import os
import time

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from assurance.celery import app as celery_app
from assurance.tasks import heartbeat
from standards.models import Framework


class Command(BaseCommand):
    help = (
        "Check the database and, when CELERY_BROKER_URL is set, the broker and a worker round trip. "
        "Exits non-zero if any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="Seconds to wait for each service before calling it down (default 10).",
        )
        parser.add_argument(
            "--queue",
            default=None,
            help="Queue to send the worker heartbeat to (default: the default task queue).",
        )

    def handle(self, *args, timeout=10.0, queue=None, **options):
        self.timeout = timeout
        working = {"database": self.check_database()}
        if not celery_app.conf.broker_url or celery_app.conf.task_always_eager:
            self.report(True, "Background tasks: run in-process (CELERY_BROKER_URL is not set); no broker to check.")
        else:
            working["broker"] = self.check_broker()
            if working["broker"]:
                working["worker"] = self.check_worker(queue or celery_app.conf.task_default_queue)
            else:
                working["worker"] = self.report(False, "Worker: not checked, because the broker cannot be reached.")
        failures = [name for name, ok in working.items() if not ok]
        if failures:
            raise CommandError(f"Not working: {', '.join(failures)}.")
        self.stdout.write(self.style.SUCCESS("All services are working."))

    def check_database(self):
        # libpq otherwise waits for the operating system's TCP timeout, which can be minutes.
        os.environ.setdefault("PGCONNECT_TIMEOUT", str(max(1, round(self.timeout))))
        where = f"{connection.vendor} database {connection.settings_dict['NAME']!s}"
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            return self.report(False, f"Database: cannot connect to the {where}: {_first_line(error)}")
        try:
            frameworks = Framework.objects.count()
        except DatabaseError as error:
            return self.report(
                False,
                f"Database: connected to the {where}, but cannot read the catalogue (has 'manage.py migrate' "
                f"been run?): {_first_line(error)}",
            )
        return self.report(True, f"Database: connected to the {where}; the catalogue holds {frameworks} frameworks.")

    def check_broker(self):
        with celery_app.connection_for_write(connect_timeout=self.timeout) as broker:
            where = broker.as_uri(include_password=not broker.password)  # never print a password
            try:
                broker.ensure_connection(max_retries=1, timeout=self.timeout)
            except Exception as error:  # kombu raises transport-specific errors
                return self.report(False, f"Broker: cannot connect to {where}: {_first_line(error)}")
        return self.report(True, f"Broker: connected to {where}.")

    def check_worker(self, queue):
        started = time.monotonic()
        try:
            result = heartbeat.apply_async(queue=queue, expires=self.timeout)
            answer = result.get(timeout=self.timeout, disable_sync_subtasks=False)
        except CeleryTimeoutError:
            return self.report(
                False,
                f"Worker: no worker answered on the queue '{queue}' within {self.timeout:g} seconds. Is one "
                "running ('celery -A assurance worker')?",
            )
        except Exception as error:  # the result backend or the task itself can fail in many ways
            return self.report(False, f"Worker: the heartbeat on the queue '{queue}' failed: {_first_line(error)}")
        seconds = time.monotonic() - started
        return self.report(
            True,
            f"Worker: {answer['hostname']} answered on the queue '{queue}' in {seconds:.1f} seconds and reached "
            f"the database ({answer['frameworks']} frameworks).",
        )

    def report(self, ok, message):
        """Print one check's outcome and return whether it passed."""
        self.stdout.write(self.style.SUCCESS(message) if ok else self.style.ERROR(message))
        return ok


def _first_line(error):
    text = str(error).strip() or error.__class__.__name__
    return text.splitlines()[0]
