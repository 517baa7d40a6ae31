"""gunicorn's settings for Safeguard Assure: threaded workers sized from the machine, each overridable by environment.

A request here mostly waits: on PostgreSQL, on Redis, on the disk. The one CPU-heavy request is signing in
(PBKDF2 password hashing, 0.25–0.4 s of CPU, which runs outside Python's global lock). Sync workers serve one
request each, so a burst of sign-ins held every worker and every other request queued behind them. Threaded
workers (``gthread``) let a page or a save run while other threads of the same process wait or hash.

- ``WEB_CONCURRENCY``: worker processes; by default twice the CPUs this process may run on, plus one, at most
  :data:`MOST_WORKERS` (set it by hand where a CPU quota, such as ``docker run --cpus``, is smaller than that).
- ``GUNICORN_THREADS``: threads in each worker, 4 by default.
- ``GUNICORN_TIMEOUT``: seconds a worker may stay silent before it is restarted, 30 by default; also the time a
  worker has to finish its requests when stopped.
- ``GUNICORN_MAX_REQUESTS``: requests after which a worker is replaced (with up to a tenth more, at random, so
  that workers are not all replaced at once), 1000 by default; 0 never replaces them.
- ``GUNICORN_BIND``: the address, ``0.0.0.0:8000`` by default; ``--bind`` on the command line wins.

Each thread holds its own database connection, so the web server may use up to workers × threads connections
(README, Deployment).
"""

import os

#: The most worker processes the CPU count alone gives; more come only from ``WEB_CONCURRENCY``.
MOST_WORKERS = 8
DEFAULT_THREADS = 4


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity, which a container's cpuset narrows), at least one."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def whole(name: str, default: int, least: int) -> int:
    """The whole number in the environment variable ``name``, or ``default``; refused below ``least``."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}.") from None
    if number < least:
        raise SystemExit(f"{name} must be at least {least}, not {number}.")
    return number


wsgi_app = "assurance.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
worker_class = "gthread"
workers = whole("WEB_CONCURRENCY", min(2 * cpu_count() + 1, MOST_WORKERS), least=1)
threads = whole("GUNICORN_THREADS", DEFAULT_THREADS, least=1)
timeout = whole("GUNICORN_TIMEOUT", 30, least=1)
graceful_timeout = timeout
# Behind a proxy that reuses its connections; long enough to span the pause between a page and its next request.
keepalive = 5
max_requests = whole("GUNICORN_MAX_REQUESTS", 1000, least=0)
max_requests_jitter = max_requests // 10
# Workers' heartbeat files in memory: on a container's overlay file system a write can stall and get a healthy
# worker killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
