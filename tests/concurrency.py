"""Two (or more) real transactions on PostgreSQL at the same moment, for the tests that a state change is made once.

Each call runs in its own thread, so with its own database connection. To make the race happen every time rather
than now and then, the row the service locks is held by a third transaction until every call is waiting for it:
all of them have read whatever they read before locking, and then take the lock one after the other. Use it from
tests marked ``django_db(transaction=True)``, whose data the threads can see.
"""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction

WAIT = 5.0  # seconds: far beyond what the calls take, so that only a hang reaches it


def waiting_for_a_lock() -> int:
    """How many connections to this database are waiting for a row lock now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # read afresh, not as when this transaction first looked
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def at_once(locked_row, *calls) -> list:
    """Run each call in its own thread and connection while ``locked_row`` is locked by another transaction, let
    them go once all wait for it; what each returned, or the exception it raised, in the order of the calls."""
    outcomes: list = [None] * len(calls)
    started = threading.Barrier(len(calls) + 1, timeout=WAIT)

    def run(index, call):
        try:
            started.wait()
            outcomes[index] = call()
        except Exception as raised:  # the outcome the test asserts on
            outcomes[index] = raised
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    with transaction.atomic():
        type(locked_row).objects.select_for_update().get(pk=locked_row.pk)
        for thread in threads:
            thread.start()
        started.wait()
        deadline = time.monotonic() + WAIT
        # A call that ends without waiting for the lock (refused before it) is not waited for.
        while waiting_for_a_lock() < sum(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(WAIT)
    return outcomes
