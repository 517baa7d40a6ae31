"""Benchmark: the committee assurance report (gather the snapshot, render the PDF) for 50 and for 500 providers.

Run with ``.venv/bin/python bench/reports.py``. It makes its own PostgreSQL database (``sa_reports_bench`` on the
server of ``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/sa_reports_bench``), drops it at the
end, and prints its figures. The world is the RAG benchmark's (``bench/rag_dashboard.py``): ``BENCH_PROVIDERS``
providers (default 500) on contracts naming every framework of the shipped catalogue, eight quarters of submitted
returns, with the statuses of the latest two quarters computed (this quarter and the one it is compared with). An
ICB commissions them all; a smaller CCG commissions the first 50 (``BENCH_SMALL_PROVIDERS``).

Timed, for each commissioner: the committee report as the job makes it (gather + render, not the file write),
``BENCH_REPORT_RUNS`` times for the CCG (default 3) and ``BENCH_LARGE_REPORT_RUNS`` times for the ICB (default 1:
it is minutes of work), with the median, the split between gathering and rendering, the page count and the PDF
size, the gather's number of queries, and the peak memory: the growth of the process's resident set (ru_maxrss)
over the runs, and (``BENCH_TRACEMALLOC=1``) Python's allocations in one extra run under tracemalloc.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

os.environ.setdefault(
    "BENCH_DATABASE_URL",
    os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sa_reports_bench"),
)
if not os.environ["BENCH_DATABASE_URL"].rstrip("/").endswith("bench"):
    os.environ["BENCH_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/sa_reports_bench"

import rag_dashboard  # noqa: E402  (the RAG benchmark's world, database handling and value generator)

SMALL = int(os.environ.get("BENCH_SMALL_PROVIDERS", "50"))
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "3"))
#: Runs for the whole ICB: one report of every provider is minutes of work, so once by default.
LARGE_RUNS = int(os.environ.get("BENCH_LARGE_REPORT_RUNS", "1"))
#: Python's peak allocations under tracemalloc, in one extra run of the CCG's report: tracing makes it several
#: times slower, so only when asked (``BENCH_TRACEMALLOC=1``); the resident set's growth is always printed.
TRACE = os.environ.get("BENCH_TRACEMALLOC", "") == "1"


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def time_report(label: str, commissioner, period, person, runs: int, *, trace: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews import reports

    with CaptureQueriesContext(connection) as captured:
        snapshot = reports.gather_committee(commissioner, period, by=person)
    queries = len(captured)
    providers = len(snapshot["providers"])

    gathers, renders, totals = [], [], []
    rss_before = max_rss_mb()
    rendered = None
    for _ in range(runs):
        started = time.perf_counter()
        snapshot = reports.gather_committee(commissioner, period, by=person)
        gathered = time.perf_counter()
        rendered = reports.render_pdf(snapshot)
        done = time.perf_counter()
        gathers.append(gathered - started)
        renders.append(done - gathered)
        totals.append(done - started)
        print(f"  ({label}: one run, {done - started:.1f} s, {rendered.page_count} pages)", flush=True)
    rss_growth = max_rss_mb() - rss_before

    traced = ""
    if trace:
        tracemalloc.start()
        reports.render_pdf(reports.gather_committee(commissioner, period, by=person))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        traced = f"{peak / 2**20:.0f} MB of Python allocations (tracemalloc, one run); "

    print(f"Committee report, {label}: {providers} providers, {rendered.page_count} pages, "
          f"{len(rendered.pdf) / 1024:.0f} KB; gather asks {queries} queries")  # fmt: skip
    print(f"  gather + render: median {statistics.median(totals):.2f} s of {runs} "
          f"(runs: {', '.join(f'{t:.2f}' for t in totals)} s)")  # fmt: skip
    print(f"  of which gather: median {statistics.median(gathers):.2f} s; render: median "
          f"{statistics.median(renders):.2f} s")  # fmt: skip
    print(f"  peak memory: {traced}"
          f"resident set grew {rss_growth:.0f} MB to {max_rss_mb():.0f} MB")  # fmt: skip


def main() -> None:
    name = rag_dashboard.database_name()
    rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}"')
    rag_dashboard.server_command(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = rag_dashboard.DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "assurance.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        import logging

        logging.getLogger("weasyprint").setLevel(logging.WARNING)
        logging.getLogger("fontTools").setLevel(logging.WARNING)
        from django.core.management import call_command
        from django.db import connections

        from providers.models import Organisation
        from returns.models import Return
        from reviews.services import compute_return_rag

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        nurse, periods, answers, submissions = rag_dashboard.build_world(random.Random(20251))
        latest = periods[-1]
        for provider_return in Return.objects.select_related("provider__provider_type", "period").filter(
            period__in=periods[-2:]
        ):
            compute_return_rag(provider_return)
        ccg, committee = add_small_commissioner(SMALL)
        icb = Organisation.objects.get(ods_code="QBE")
        built = time.perf_counter() - started
        print(
            f"Built {rag_dashboard.PROVIDERS} providers, {len(periods)} quarters: {submissions} submitted returns, "
            f"{answers} answers, statuses of the latest two quarters, in {built:.0f} s"
        )

        time_report(f"{ccg.name}", ccg, latest, committee, RUNS, trace=TRACE)
        if LARGE_RUNS:
            time_report(f"{icb.name}", icb, latest, nurse, LARGE_RUNS, trace=False)
        connections.close_all()
    finally:
        rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
