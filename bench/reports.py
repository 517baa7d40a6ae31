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
size, the gather's number of queries, and the peak memory. Each report is made in a fresh process, as a Celery worker
would make it, so the peak resident set printed (VmHWM) is the report's own, not the world building's; with
``BENCH_TRACEMALLOC=1`` each such process also makes it once more under tracemalloc for Python's peak allocations.
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
    """This process's peak resident set in MB: VmHWM, which starts afresh in a new program (ru_maxrss does not: on
    Linux it carries the parent's peak across fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
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


def one_report(commissioner_id: int, period_id: int, person_id: int) -> dict:
    """Make one committee report as the job does (gather + render, no file write), in this process; its figures.

    Run in a fresh process (see :func:`time_report`), so that its peak resident set is the report's own, as a
    Celery worker making it would see, and not the benchmark's world building.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from providers.models import Organisation
    from returns.models import ReportingPeriod
    from reviews import reports

    commissioner = Organisation.objects.get(pk=commissioner_id)
    period = ReportingPeriod.objects.get(pk=period_id)
    person = get_user_model().objects.get(pk=person_id)
    rss_before = max_rss_mb()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        snapshot = reports.gather_committee(commissioner, period, by=person)
    gathered = time.perf_counter()
    rendered = reports.render_pdf(snapshot)
    done = time.perf_counter()
    figures = {
        "providers": len(snapshot["providers"]), "queries": len(captured), "gather": gathered - started,
        "render": done - gathered, "total": done - started, "pages": rendered.page_count, "size": len(rendered.pdf),
        "rss_before": rss_before, "rss_peak": max_rss_mb(),
    }  # fmt: skip
    if TRACE:
        tracemalloc.start()
        reports.render_pdf(reports.gather_committee(commissioner, period, by=person))
        figures["traced"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return figures


def time_report(label: str, commissioner, period, person, runs: int) -> None:
    """Time ``runs`` committee reports, each made in a fresh process, and print the medians and the peak memory."""
    import json
    import subprocess

    results = []
    for _ in range(runs):
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(commissioner.pk), str(period.pk), str(person.pk)],
            env=os.environ.copy(), capture_output=True, text=True, check=False,
        )  # fmt: skip
        if child.returncode != 0:
            raise SystemExit(f"The report failed in its process:\n{child.stderr[-3000:]}")
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(figures)
        print(f"  ({label}: one run, {figures['total']:.1f} s, {figures['pages']} pages, "
              f"peak resident set {figures['rss_peak']:.0f} MB)", flush=True)  # fmt: skip

    def median(key):
        return statistics.median(r[key] for r in results)

    last = results[-1]
    traced = [r["traced"] for r in results if "traced" in r]
    print(f"Committee report, {label}: {last['providers']} providers, {last['pages']} pages, "
          f"{last['size'] / 1024:.0f} KB; gather asks {last['queries']} queries")  # fmt: skip
    runs_text = ", ".join(f"{r['total']:.2f}" for r in results)
    print(f"  gather + render: median {median('total'):.2f} s of {runs} (runs: {runs_text} s)")
    print(f"  of which gather: median {median('gather'):.2f} s; render: median {median('render'):.2f} s")
    print(f"  peak memory of the process making it: median {median('rss_peak'):.0f} MB resident "
          f"(max {max(r['rss_peak'] for r in results):.0f} MB; {median('rss_before'):.0f} MB before it began)"
          + (f"; {max(traced):.0f} MB of Python allocations at peak (tracemalloc)" if traced else ""))  # fmt: skip


def setup_django() -> None:
    os.environ["DATABASE_URL"] = rag_dashboard.DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "assurance.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def main() -> None:
    name = rag_dashboard.database_name()
    rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}"')
    rag_dashboard.server_command(f'CREATE DATABASE "{name}"')
    try:
        setup_django()
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

        connections.close_all()
        time_report(f"{ccg.name}", ccg, latest, committee, RUNS)
        if LARGE_RUNS:
            time_report(f"{icb.name}", icb, latest, nurse, LARGE_RUNS)
        connections.close_all()
    finally:
        rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        import json

        setup_django()
        print(json.dumps(one_report(*(int(a) for a in sys.argv[2:5]))))
    else:
        main()
