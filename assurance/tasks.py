"""Project-wide background tasks: a heartbeat that proves a worker can reach the database."""

import socket

from celery import shared_task
from django.db import connection

from standards.models import Framework


@shared_task(bind=True, ignore_result=False)  # its answer is read; no other task keeps one
def heartbeat(self):
    """Open a database connection from the worker and report what it sees.

    ``manage.py check_services`` sends this to a worker and waits for the answer, so a reply proves the
    broker, the worker, the result backend and the worker's database connection all work.
    """
    connection.ensure_connection()
    return {
        "database": "ok",
        "frameworks": Framework.objects.count(),
        "hostname": self.request.hostname or socket.gethostname(),
    }
