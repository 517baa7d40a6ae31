"""Benchmark: the committee pack (front section, annex workbook, one provider report per provider) made by real
Celery workers through Redis, for a CCG of 50 providers and an ICB of 500, on one and on two worker processes.

Run with ``.venv/bin/python bench/reports.py``. It makes its own PostgreSQL database (``sa_report_bench`` on the
server of ``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/sa_report_bench``), drops it at the
end, and uses the Redis database of ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/12``, emptied first). The
world is the RAG benchmark's (``bench/rag_dashboard.py``): ``BENCH_PROVIDERS`` providers (default 500) on contracts
naming every framework of the shipped catalogue, eight quarters of submitted returns, the statuses of the latest two
quarters computed. An ICB commissions them all; a smaller CCG the first ``BENCH_SMALL_PROVIDERS`` (default 50).

For each number of workers in ``BENCH_REPORT_WORKERS`` (default ``2,1``: the goal's case first) and each
commissioner, fresh worker processes are started (``celery worker --pool=prefork --concurrency=1`` each, as
production runs them), the report is asked for as a person asks for it, and the benchmark waits, timing: the front
section (asked for → its PDF stored: the gather, the plan and the front's own job), and the whole pack (asked for →
the zip stored). Parts made by an earlier run are forgotten first, so every run makes every part. Then the peak
resident set (VmHWM) of every worker process, parent and child, is read before the workers stop. After the runs on
most workers, the ICB's pack is asked for once more with nothing changed: every part is reused, and only the
gather, the plan and the zip are done. Each figure is printed beside its goal (issue 14): front section ≤ 60 s,
whole pack ≤ 10 min on two workers, ≤ 1 GiB in any process.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sa_report_bench"
os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
if not os.environ["BENCH_DATABASE_URL"].rstrip("/").endswith("bench"):
    os.environ["BENCH_DATABASE_URL"] = DEFAULT_DATABASE_URL

import rag_dashboard  # noqa: E402  (the RAG benchmark's world and database handling)

SMALL = int(os.environ.get("BENCH_SMALL_PROVIDERS", "50"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
WORKER_COUNTS = [int(n) for n in os.environ.get("BENCH_REPORT_WORKERS", "2,1").split(",")]
QUEUE = "bench-reports"
#: The goals of issue 14.
FRONT_GOAL = 60  # seconds
PACK_GOAL = 10 * 60  # seconds, on two workers
MEMORY_GOAL = 1024  # MiB, any process
WAIT = 60 * 60  # seconds at most for one pack


def add_small_commissioner(count: int):
    """A CCG that is an associate on the first ``count`` providers' contracts, with a committee member."""
    from django.contrib.auth import get_user_model

    from providers.models import CommissionerRole, Contract, ContractCommissioner, Membership, Organisation, Role

    ccg = Organisation.objects.create(name="NHS Bench Small CCG", ods_code="QBS", kind="commissioner")
    contracts = Contract.objects.order_by("reference")[:count]
    ContractCommissioner.objects.bulk_create(
        ContractCommissioner(contract=c, commissioner=ccg, role=CommissionerRole.ASSOCIATE) for c in contracts
    )
    member = get_user_model().objects.create_user("bench-committee", first_name="Cam", last_name="Committee")
    Membership.objects.create(user=member, organisation=ccg, role=Role.COMMITTEE_MEMBER)
    return ccg, member


def vm_hwm_mb(pid: int) -> float | None:
    """A process's peak resident set (VmHWM) in MiB, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def group_members(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` (a worker's parent and its pool's children)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def start_workers(count: int, environment: dict, scratch: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = open(scratch / f"worker-{n}.log", "ab")  # noqa: SIM115  (closed with the benchmark)
        command = [sys.executable, "-m", "celery", "-A", "assurance", "worker", "--pool=prefork", "--concurrency=1",
                   "--without-gossip", "--without-mingle", "-Q", QUEUE, "-n", f"bench{n}@{socket.gethostname()}",
                   "--loglevel=WARNING"]  # fmt: skip
        workers.append(subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True))  # fmt: skip
    from assurance.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        answered = app.control.ping(timeout=1) or []
        if len(answered) >= count:
            return workers
        if any(w.poll() is not None for w in workers):
            break
    raise SystemExit(f"The workers did not start; see {scratch}/worker-*.log")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_workers(workers: list[subprocess.Popen]) -> dict[int, float]:
    """Read the peak resident set of every worker process, then stop them (each its own process group). The CPU
    seconds they used in all are kept under the key 0."""
    peaks = {}
    cpu = 0.0
    for worker in workers:
        for pid in group_members(worker.pid):
            peak = vm_hwm_mb(pid)
            if peak is not None:
                peaks[pid] = peak
                cpu += cpu_seconds(pid)
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    return {0: cpu, **peaks}


def make_pack(commissioner, period, person) -> dict:
    """Ask for the committee report as a person does and wait for the workers to make it; its figures."""
    from reviews import report_services
    from reviews.models import AssuranceReport, ReportPartKind, ReportState

    started = time.perf_counter()
    report = report_services.request_report(person, kind="committee", period=period, subject=commissioner)
    front_at = None
    deadline = time.monotonic() + WAIT
    while True:
        state = AssuranceReport.objects.values_list("state", flat=True).get(pk=report.pk)
        if front_at is None and report.parts.filter(kind=ReportPartKind.FRONT, state=ReportState.READY).exists():
            front_at = time.perf_counter() - started
        if state in (ReportState.READY, ReportState.FAILED):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"The pack was not made within {WAIT} s")
        time.sleep(0.2)
    pack_seconds = time.perf_counter() - started
    report.refresh_from_db()
    if report.state != ReportState.READY:
        raise SystemExit(f"The pack failed: {report.failure_reason}")
    parts = list(report.parts.values_list("kind", "size", "page_count", "reused_from_id"))
    made = sorted(
        (finished - started).total_seconds()
        for started, finished in report.parts.filter(reused_from=None).values_list("started_at", "finished_at")
        if started and finished
    )
    front = next(p for p in parts if p[0] == ReportPartKind.FRONT)
    annex = next(p for p in parts if p[0] == ReportPartKind.ANNEX)
    return {
        "front": front_at if front_at is not None else pack_seconds, "pack": pack_seconds, "parts": len(parts),
        "reused": sum(1 for p in parts if p[3] is not None), "pages": report.page_count, "size": report.size,
        "front_pages": front[2], "front_size": front[1], "annex_size": annex[1],
        "part_median": statistics.median(made) if made else 0.0, "part_max": max(made, default=0.0),
        "plan": (report.parts.order_by("created_at").values_list("created_at", flat=True).first()
                 - report.requested_at).total_seconds(),
    }  # fmt: skip


def verdict(ok: bool) -> str:
    return "meets the goal" if ok else "DOES NOT meet the goal"


def report_run(label: str, workers: int, figures: dict, peaks: dict[int, float]) -> None:
    mb = 1024 * 1024
    print(f"{label}, {workers} worker process{'es' if workers > 1 else ''}: {figures['parts']} parts "
          f"({figures['reused']} reused), {figures['pages']} pages in all, pack {figures['size'] / mb:.1f} MB "
          f"(front {figures['front_pages']} pages, {figures['front_size'] / 1024:.0f} KB; "
          f"annex {figures['annex_size'] / 1024:.0f} KB)", flush=True)  # fmt: skip
    print(f"  gather + plan (asked for → parts stored): {figures['plan']:.1f} s")
    print(f"  front section (asked for → its PDF stored): {figures['front']:.1f} s   goal ≤ {FRONT_GOAL} s: "
          f"{verdict(figures['front'] <= FRONT_GOAL)}")  # fmt: skip
    goal = ""
    if workers == 2:
        goal = f"   goal ≤ {PACK_GOAL // 60} min on 2 workers: {verdict(figures['pack'] <= PACK_GOAL)}"
    print(f"  whole pack (asked for → zip stored): {figures['pack']:.1f} s ({figures['pack'] / 60:.1f} min){goal}")
    cpu = peaks.pop(0, 0.0)
    print(f"  each part's own job: median {figures['part_median']:.1f} s, longest {figures['part_max']:.1f} s; "
          f"CPU used by the workers in all: {cpu:.0f} s (on {workers} otherwise idle core{'s' if workers > 1 else ''}, "
          f"about {cpu / workers / 60:.1f} min); load average now {os.getloadavg()[0]:.1f}")  # fmt: skip
    if peaks:
        listed = ", ".join(f"{peak:.0f}" for peak in sorted(peaks.values(), reverse=True))
        print(f"  peak resident set (VmHWM) of every worker process, MiB: {listed}   goal ≤ {MEMORY_GOAL} MiB: "
              f"{verdict(max(peaks.values()) <= MEMORY_GOAL)}", flush=True)  # fmt: skip


def main() -> None:
    name = rag_dashboard.database_name()
    scratch = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    environment = {
        **os.environ,
        "DATABASE_URL": rag_dashboard.DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "assurance.settings",
        "DJANGO_DEBUG": "false",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "PRIVATE_STORAGE_ROOT": str(scratch / "private"),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(environment)
    rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rag_dashboard.server_command(f'CREATE DATABASE "{name}"')
    workers: list[subprocess.Popen] = []
    try:
        import django

        django.setup()
        import logging

        import redis
        from django.core.management import call_command
        from django.db import connections

        from providers.models import Organisation
        from returns.models import Return
        from reviews.models import ReportPart
        from reviews.services import RAG_BATCH_SIZE, compute_rag_for_returns

        logging.getLogger("weasyprint").setLevel(logging.WARNING)
        logging.getLogger("fontTools").setLevel(logging.WARNING)
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        nurse, periods, answers, submissions = rag_dashboard.build_world(random.Random(20251))
        latest = periods[-1]
        ids = list(Return.objects.filter(period__in=periods[-2:]).order_by("pk").values_list("pk", flat=True))
        for first in range(0, len(ids), RAG_BATCH_SIZE):
            compute_rag_for_returns(ids[first : first + RAG_BATCH_SIZE])
        ccg, committee = add_small_commissioner(SMALL)
        icb = Organisation.objects.get(ods_code="QBE")
        print(f"Built {rag_dashboard.PROVIDERS} providers, {len(periods)} quarters: {submissions} submitted returns, "
              f"{answers} answers, statuses of the latest two quarters, in {time.perf_counter() - started:.0f} s; "
              f"load average {os.getloadavg()[0]:.1f} (figures measured while other work ran)", flush=True)  # fmt: skip
        connections.close_all()
        redis.Redis.from_url(REDIS_URL).flushdb()

        for count in WORKER_COUNTS:
            for label, commissioner, person in ((ccg.name, ccg, committee), (icb.name, icb, nurse)):
                ReportPart.objects.all().delete()  # every part made afresh
                workers = start_workers(count, environment, scratch)
                figures = make_pack(commissioner, latest, person)
                peaks = stop_workers(workers)
                workers = []
                report_run(label, count, figures, peaks)
            if count == max(WORKER_COUNTS):  # the ICB's parts are all made: asked again, every one is reused
                workers = start_workers(count, environment, scratch)
                figures = make_pack(icb, latest, nurse)
                peaks = stop_workers(workers)
                workers = []
                report_run(f"{icb.name}, asked for again with nothing changed", count, figures, peaks)
        print(f"  (the benchmark's own process: peak {vm_hwm_mb(os.getpid()):.0f} MiB, building the world included)")
        connections.close_all()
    finally:
        if workers:
            stop_workers(workers)
        rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
