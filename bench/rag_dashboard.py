"""Benchmark: a full RAG recompute and the assurance dashboard at the scale of a large ICB.

Run with ``.venv/bin/python bench/rag_dashboard.py``. It makes its own PostgreSQL database (``sa_bench`` on the
server of ``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/sa_bench``), drops it at the end,
and prints its figures. The world: ``BENCH_PROVIDERS`` providers (default 500) on contracts naming every framework
of the shipped catalogue (``load_catalogue``), eight quarters of submitted returns (answers and submissions
bulk-created directly), and a designated professional of the ICB that commissions them all.

Timed:

- a full recompute, cold, in sets: ``compute_rag_for_returns`` over every return with no stored status, in batches
  of ``RAG_BATCH_SIZE`` (every run written), ``BENCH_RECOMPUTE_RUNS`` times (default 1), with the median and 95th
  percentile of one batch;
- the RAG of the latest quarter, cold, in sets, beside the goal (500 returns in 5 s or less); the same with its
  batches shared by ``BENCH_WORKERS`` processes (default 2), as jobs spread over Celery workers; the same quarter one
  return per call (``compute_return_rag``, the single-return task's path); and, with ``BENCH_COMPARE_ONE_BY_ONE=1``,
  by the one-by-one computation used before RAG was computed in sets (``tests/reviews/one_by_one_rag.py``);
- a recompute of the latest quarter in sets with nothing changed (every run found identical, nothing written);
- the committee report's grid (``reviews.selectors.dashboard``: every provider by every standard and metric group)
  for the latest quarter, as the designated professional: the median of ``BENCH_RUNS`` runs (default 5);
- the dashboard (``reviews.dashboard``: providers by framework, worst first, a page of 50 and a page of exceptions)
  at 50 providers (a commissioner of the first 50) and at every provider, each beside its goal: the selector's
  median against the same SQL statements replayed raw through the driver (goal: 1.5 times or less), the page
  rendered through Django's test client (goal: 300 ms or less, 300 KB of HTML or less) and its queries; then the
  ``EXPLAIN (ANALYZE, BUFFERS)`` of its main statements at every provider.

``python bench/rag_dashboard.py dashboard`` builds the world, computes every quarter in sets and gives only the
dashboard's figures; ``python bench/rag_dashboard.py year`` likewise, only the year after a threshold change (each of
its two paths starts from status tables vacuumed and analysed, as autovacuum leaves them in use).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

PROVIDERS = int(os.environ.get("BENCH_PROVIDERS", "500"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
RECOMPUTE_RUNS = int(os.environ.get("BENCH_RECOMPUTE_RUNS", "1"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
COMPARE_ONE_BY_ONE = os.environ.get("BENCH_COMPARE_ONE_BY_ONE", "") not in ("", "0")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sa_bench")
QUARTERS = [(2024, 1), (2024, 2), (2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4)]


def server_command(sql: str, database_url: str = DATABASE_URL) -> None:
    """Run ``sql`` on the server's maintenance database (creating and dropping a benchmark's own)."""
    import psycopg2

    url = urlparse(database_url)
    connection = psycopg2.connect(urlunparse(url._replace(path="/postgres")))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def database_name(database_url: str = DATABASE_URL) -> str:
    name = urlparse(database_url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"Use a plain database name in BENCH_DATABASE_URL, not {name!r}.")
    return name


def median_seconds(function, runs: int = RUNS, before=None) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def answer_values(metric, rng: random.Random, period_end: datetime.date) -> dict:
    """Plausible stored values for a metric's kind, with enough spread to give every colour."""
    kind = metric.kind
    if kind == "percentage":
        denominator = rng.randint(40, 400)
        return {"numerator": round(denominator * rng.uniform(0.7, 1.0)), "denominator": denominator}
    if kind == "count":
        return {"count": rng.randint(0, 25)}
    if kind == "policy":
        days = rng.choice([-30, 45, 200, 400, 700])
        return {
            "in_place": rng.random() > 0.05,
            "review_date": (period_end + datetime.timedelta(days=days)).isoformat(),
        }
    if kind == "audit":
        sampled = metric.sample_size or 20
        return {"sampled": sampled, "compliant": rng.randint(int(sampled * 0.7), sampled)}
    if kind == "self_assessment":
        grade = rng.choices(["compliant", "partially_compliant", "not_compliant"], weights=[6, 3, 1])[0]
        return {"grade": grade, "evidence": "Board report and audit results."}
    return {"text": "Named nurse and doctor in post; quarterly report to the board."}


def build_world(rng: random.Random):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from providers.models import (
        CommissionerRole,
        Contract,
        ContractCommissioner,
        ContractStatus,
        Membership,
        Organisation,
        Role,
    )
    from returns.models import Answer, ReportingPeriod, Return, ReturnStatus, Submission, quarter_dates
    from returns.selectors import metrics_for
    from standards.models import Framework, ProviderType, Service

    call_command("load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115
    frameworks = list(Framework.objects.all())
    types = list(ProviderType.objects.values_list("code", flat=True))
    services = list(Service.objects.all())

    icb = Organisation.objects.create(name="NHS Bench Integrated Care Board", ods_code="QBE", kind="commissioner")
    associates = [
        Organisation.objects.create(name=f"NHS Bench Place {n}", ods_code=f"QB{n}", kind="commissioner")
        for n in range(4)
    ]
    providers = Organisation.objects.bulk_create(
        Organisation(
            name=f"Bench Provider {n:04d}",
            ods_code=f"B{n:04d}",
            kind="provider",
            provider_type_id=types[n % len(types)],
        )
        for n in range(PROVIDERS)
    )
    Through = Organisation.services.through
    Through.objects.bulk_create(
        Through(organisation_id=p.pk, service_id=s.pk) for p in providers for s in rng.sample(services, k=4)
    )
    contracts = Contract.objects.bulk_create(
        Contract(
            reference=f"BENCH-{n:04d}", title=f"Services of {p.name}", provider=p,
            starts_on=datetime.date(2024, 4, 1), ends_on=datetime.date(2027, 3, 31),
            status=ContractStatus.ACCEPTED, decided_at=timezone.now(),  # accepted, so the ICB sees the provider
        )
        for n, p in enumerate(providers)
    )  # fmt: skip
    ContractCommissioner.objects.bulk_create(
        [ContractCommissioner(contract=c, commissioner=icb, role=CommissionerRole.COORDINATING) for c in contracts]
        + [
            ContractCommissioner(contract=c, commissioner=associates[n % 4], role=CommissionerRole.ASSOCIATE)
            for n, c in enumerate(contracts)
        ]
    )
    FrameworkLink = Contract.frameworks.through
    FrameworkLink.objects.bulk_create(
        FrameworkLink(contract_id=c.pk, framework_id=f.pk) for c in contracts for f in frameworks
    )

    User = get_user_model()
    nurse = User.objects.create_user("bench-nurse", email="nurse@bench.example", first_name="Bea", last_name="Nurse")
    Membership.objects.create(user=nurse, organisation=icb, role=Role.DESIGNATED_PROFESSIONAL)
    lead = User.objects.create_user("bench-lead", email="lead@bench.example")

    periods = []
    for year, quarter in QUARTERS:
        _, ends_on = quarter_dates(year, quarter)
        periods.append(
            ReportingPeriod.objects.create(
                financial_year=year, quarter=quarter, submission_deadline=ends_on + datetime.timedelta(days=31),
                lock_date=ends_on + datetime.timedelta(days=61),
            )
        )  # fmt: skip

    asked = {}  # (type, services, quarter) → metrics, worked out once per combination
    provider_services = {}
    for link in Through.objects.values_list("organisation_id", "service_id"):
        provider_services.setdefault(link[0], []).append(link[1])
    answers_made = submissions_made = 0
    for period in periods:
        returns = Return.objects.bulk_create(
            Return(provider=p, period=period, status=ReturnStatus.SUBMITTED) for p in providers
        )
        answers, submissions = [], []
        for provider, provider_return in zip(providers, returns, strict=True):
            key = (provider.provider_type_id, tuple(sorted(provider_services[provider.pk])), period.quarter)
            if key not in asked:
                asked[key] = metrics_for(provider, period)
            snapshot = []
            for metric in asked[key]:
                values = answer_values(metric, rng, period.ends_on)
                answers.append(Answer(provider_return=provider_return, metric=metric, values=values, revision=1))
                snapshot.append({"metric": metric.code, "kind": metric.kind, "values": values})
            late = rng.random() < 0.1
            submissions.append(
                Submission(
                    provider_return=provider_return, number=1, submitted_by=lead, declaration="Confirmed.",
                    snapshot={"answers": snapshot}, late=late,
                )
            )  # fmt: skip
        Answer.objects.bulk_create(answers, batch_size=5000)
        Submission.objects.bulk_create(submissions, batch_size=1000)
        answers_made += len(answers)
        submissions_made += len(submissions)
    # Statistics of the tables just filled, as autovacuum would gather them after a load this size; the RAG tables
    # grow during the benchmark and are left to autovacuum, as in production.
    filled = [Organisation, Through, Contract, ContractCommissioner, FrameworkLink, Return, Answer, Submission]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in filled))
    return nurse, periods, answers_made, submissions_made


def main() -> None:
    name = database_name()
    server_command(f'DROP DATABASE IF EXISTS "{name}"')
    server_command(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "assurance.settings"
    os.environ.pop("CELERY_BROKER_URL", None)  # anything queued runs in-process
    os.environ["DJANGO_DEBUG"] = "false"  # as in production: no query log kept in memory
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections
        from django.test.utils import CaptureQueriesContext

        from returns.models import Return
        from reviews.models import RagRun
        from reviews.selectors import dashboard
        from reviews.services import RAG_BATCH_SIZE, RECOMPUTE_CHUNK_SIZE, compute_rag_for_returns, compute_return_rag

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        nurse, periods, answers, submissions = build_world(random.Random(20251))
        built = time.perf_counter() - started
        print(
            f"Built {PROVIDERS} providers, {len(periods)} quarters: {submissions} submitted returns, {answers} answers"
        )
        print(f"  in {built:.1f} s (migrations, catalogue and bulk inserts)")

        returns = list(Return.objects.order_by("period__ends_on", "pk").values_list("pk", "period_id"))
        batches: list[float] = []

        def in_sets(return_ids) -> None:
            for start in range(0, len(return_ids), RAG_BATCH_SIZE):
                started = time.perf_counter()
                compute_rag_for_returns(return_ids[start : start + RAG_BATCH_SIZE])
                batches.append(time.perf_counter() - started)

        def forget_runs():
            RagRun.objects.all().delete()
            batches.clear()

        all_ids = [pk for pk, _ in returns]
        cold, cold_times = median_seconds(lambda: in_sets(all_ids), runs=RECOMPUTE_RUNS, before=forget_runs)
        print(f"Full recompute in sets, cold (every run written), {len(returns)} returns, {RECOMPUTE_RUNS} run(s):")
        print(
            f"  {cold:.1f} s (runs: {fmt(cold_times)}); {len(returns) / cold:.0f} returns a second; "
            f"one batch of {RAG_BATCH_SIZE}: {percentiles(sorted(batches))}"
        )

        latest = periods[-1]
        quarter = [pk for pk, period_id in returns if period_id == latest.pk]
        forget_quarter = RagRun.objects.filter(provider_return__period=latest)

        def quarter_cold(compute) -> float:
            forget_quarter.delete()
            started = time.perf_counter()
            compute()
            return time.perf_counter() - started

        batches.clear()
        took = quarter_cold(lambda: in_sets(quarter))
        per_500 = took / len(quarter) * 500
        print(
            f"RAG of one quarter in sets, cold, {len(quarter)} returns: {took:.2f} s "
            f"({took / len(quarter) * 1000:.1f} ms a return; {per_500:.1f} s for 500 at that rate; "
            f"goal: <= 5 s for 500 returns)"
        )
        took = quarter_cold(lambda: as_recompute_job(quarter))
        print(
            f"  the same, as a recompute job (chunks of {RECOMPUTE_CHUNK_SIZE}, done in this process as without a "
            f"broker): {took:.2f} s ({took / len(quarter) * 500:.1f} s for 500 at that rate; goal: <= 5 s)"
        )
        took = quarter_cold(lambda: in_worker_processes(quarter, WORKERS))
        print(
            f"  the same, its batches shared by {WORKERS} worker processes (as Celery workers would): {took:.2f} s "
            f"({took / len(quarter) * 500:.1f} s for 500 at that rate)"
        )
        by_return = Return.objects.select_related("provider__provider_type", "period").in_bulk(quarter)
        took = quarter_cold(lambda: [compute_return_rag(by_return[pk]) for pk in quarter])
        print(
            f"  the same, one return per call (the single-return task's path): {took:.2f} s "
            f"({took / len(quarter) * 1000:.1f} ms a return)"
        )
        if COMPARE_ONE_BY_ONE:
            from tests.reviews.one_by_one_rag import compute_one_return

            took = quarter_cold(lambda: [compute_one_return(by_return[pk]) for pk in quarter])
            print(
                f"  the same, by the one-by-one computation used before RAG was computed in sets: {took:.2f} s "
                f"({took / len(quarter) * 1000:.1f} ms a return)"
            )
            forget_quarter.delete()
            in_sets(quarter)  # the dashboard below reads what the set-based path stored

        batches.clear()
        started = time.perf_counter()
        in_sets(quarter)  # the latest quarter again: the same result, found and left as it is
        print(
            f"Recompute in sets with nothing changed (nothing written), the latest quarter's {len(quarter)} returns: "
            f"{time.perf_counter() - started:.2f} s"
        )

        result = dashboard(nurse, latest)
        with CaptureQueriesContext(connection) as captured:
            dashboard(nurse, latest)
        board, board_times = median_seconds(lambda: dashboard(nurse, latest))
        cells = sum(len(row.cells) for row in result.rows)
        print(
            f"The committee report's grid, {len(result.rows)} providers x {len(result.columns)} columns ({cells} "
            f"cells, {len(result.exceptions)} exceptions), {len(captured)} queries:"
        )
        print(f"  median {board * 1000:.0f} ms of {RUNS}; runs: {fmt(board_times, 'ms')}")
        # The statuses were all written moments ago; a dashboard is read long after, once autovacuum has gathered
        # their statistics (it does after a tenth of a table changes). Without them the planner guesses a few
        # hundred red answers where there are 70,000, and scans the partial index of red answers once per metric.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        time_dashboard(nurse, latest)
        time_year_after_threshold_change(periods)
        connections.close_all()
    finally:
        server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def nurse_of_first_50(nurse):
    """A designated professional of a commissioner on the first 50 providers' contracts (associate), for the
    dashboard's figures at 50 providers in the same world."""
    from django.contrib.auth import get_user_model

    from providers.models import CommissionerRole, Contract, ContractCommissioner, Membership, Organisation, Role

    place = Organisation.objects.create(name="NHS Bench Place of 50", ods_code="QB50", kind="commissioner")
    contracts = Contract.objects.order_by("provider__name")[:50]
    ContractCommissioner.objects.bulk_create(
        ContractCommissioner(contract=c, commissioner=place, role=CommissionerRole.ASSOCIATE) for c in contracts
    )
    user = get_user_model().objects.create_user("bench-nurse-50", email="nurse50@bench.example")
    Membership.objects.create(user=user, organisation=place, role=Role.DESIGNATED_PROFESSIONAL)
    return user


def read_dashboard(user, period):
    """What the dashboard page reads: the selector, its first page of providers and its first page of exceptions."""
    from reviews.dashboard import (
        EXCEPTIONS_A_PAGE,
        PROVIDERS_A_PAGE,
        DashboardFilters,
        framework_dashboard,
    )

    result = framework_dashboard(user, DashboardFilters(period))
    return result, result.providers[0:PROVIDERS_A_PAGE], result.exceptions[0:EXCEPTIONS_A_PAGE]


def statements_of(function) -> list[tuple[str, list]]:
    """The SQL statements and parameters ``function`` sends, as the driver receives them."""
    from django.db import connection

    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        function()
    return sent


def replay_raw(statements) -> None:
    """Send ``statements`` through the driver's own cursor (psycopg2), fetching every row: the floor for the
    selector, whose own work is writing them and building the rows of the page."""
    from django.db import connection

    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()


def time_dashboard(nurse, period) -> None:
    """The dashboard's figures at 50 providers and at every provider, each beside its goal, then the EXPLAIN of its
    main statements at every provider."""
    nurse_50 = nurse_of_first_50(nurse)
    for user in (nurse_50, nurse):
        result, rows, exceptions = read_dashboard(user, period)
        statements = statements_of(lambda user=user: read_dashboard(user, period))
        replay_raw(statements)  # warm, as the selector is by the call above
        selector, selector_times = median_seconds(lambda user=user: read_dashboard(user, period))
        raw, raw_times = median_seconds(lambda statements=statements: replay_raw(statements))
        ratio = selector / raw
        print(
            f"Dashboard by framework, {result.matching} providers x {len(result.frameworks)} frameworks "
            f"(a page of {len(rows)} and {len(exceptions)} of {len(result.exceptions)} exceptions), "
            f"{len(statements)} statements:"
        )
        print(
            f"  selector median {selector * 1000:.1f} ms, its SQL replayed raw {raw * 1000:.1f} ms: "
            f"{ratio:.2f}x (goal: <= 1.5x) {'met' if ratio <= 1.5 else 'NOT MET'}; "
            f"runs {fmt(selector_times, 'ms')} / {fmt(raw_times, 'ms')}"
        )
        time_dashboard_page(user, period, result.matching)
    explain_dashboard(nurse, period)


def time_dashboard_page(user, period, providers: int) -> None:
    """Time the rendered dashboard page (the filters, the selector, the template) as ``user`` sees it."""
    import warnings

    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collectstatic here
    client = Client()
    client.force_login(user)
    url = f"/reviews/dashboard/?period={period.pk}"

    def get_page():
        response = client.get(url, secure=True)  # secure: production settings redirect plain HTTP
        if response.status_code != 200:
            raise SystemExit(f"The dashboard page answered {response.status_code}.")
        return response

    # Static files as in development: the benchmark does not run collectstatic for the manifest.
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain_static}):
        size = len(get_page().content)
        queries = []  # counted as they run: each request starts by emptying Django's own query log

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            get_page()
        page, page_times = median_seconds(get_page)
    print(
        f"  page rendered at {providers} providers: median {page * 1000:.0f} ms (goal: <= 300 ms) "
        f"{'met' if page <= 0.3 else 'NOT MET'}; {size / 1000:.0f} KB of HTML (goal: <= 300 KB) "
        f"{'met' if size <= 300_000 else 'NOT MET'}; {len(queries)} queries; runs {fmt(page_times, 'ms')}"
    )


def explain_dashboard(user, period) -> None:
    """Print the plan PostgreSQL chose, with its real timings, for each of the dashboard's statements."""
    from django.db import connection

    statements = statements_of(lambda: read_dashboard(user, period))
    names = {
        "SELECT 'status', standing": "the summary: totals, each framework's totals, the exceptions' counts",
        "SUM(CASE WHEN a.colour": "the page's framework cells",
        "exceptions AS (": "a page of exceptions",
        "LIMIT %s OFFSET %s": "a page of providers, worst first",
    }
    print("EXPLAIN (ANALYZE, BUFFERS) of the dashboard's statements, at every provider:")
    with connection.cursor() as cursor:
        for sql, params in statements:
            name = next((words for key, words in names.items() if key in sql), "the frameworks (columns)")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [line for (line,) in cursor.fetchall()]
            print(f"-- {name}: {plan[-1].strip()}")
            for line in plan[:-2]:
                print(f"   {line}")


def as_recompute_job(return_ids, description: str = "Benchmark") -> None:
    """Judge ``return_ids`` as a recompute job: its chunks sent, and run in this process (no broker here)."""
    from reviews.models import RecomputeJob, RecomputeReason
    from reviews.services import start_recompute

    job = start_recompute(return_ids, reason=RecomputeReason.COMMAND, description=description)
    job = RecomputeJob.objects.get(pk=job.pk)
    if not job.is_finished or job.returns_failed:
        raise SystemExit(f"The recompute job did not finish cleanly: {job.state}, {job.returns_failed} failed.")


def do_chunk(chunk_id: int) -> None:
    """One worker process's job: one chunk of a recompute job, as the Celery task does it."""
    from reviews.services import recompute_chunk

    recompute_chunk(chunk_id)


def time_year_after_threshold_change(periods) -> None:
    """A framework version in force from the world's second year (April 2025) and one of its thresholds changed:
    the returns of that year are recomputed as a chunked job, as an administrator's change in admin makes it, in
    this process; then, from the same starting point, with the job's chunks shared by ``WORKERS`` processes."""
    import multiprocessing

    from django.contrib.auth import get_user_model
    from django.db import connections, transaction

    from reviews.models import RagRun, RecomputeJob, RecomputeReason
    from reviews.services import returns_governed_by, start_recompute
    from standards.models import Threshold
    from standards.services import create_next_version

    admin = get_user_model().objects.create_superuser("bench-admin", "admin@bench.example", first_name="Ada")
    year_starts = datetime.date(QUARTERS[4][0], 4, 1)
    threshold = (
        Threshold.objects.filter(metric__kind="percentage", provider_type__isnull=True)
        .select_related("metric__framework")
        .order_by("metric__framework__position", "metric__position")
        .first()
    )
    old = threshold.metric.framework
    new = create_next_version(old, version="bench", effective_from=year_starts, user=admin)
    # Making the version saved its thresholds, which already recomputed its returns (in-process): now the change.
    year = list(returns_governed_by(new))
    settle_status_tables()
    quarters = len({period.pk for period in periods if period.starts_on >= year_starts})
    before = list(RagRun.objects.current().filter(provider_return_id__in=year).values_list("pk", flat=True))
    changed = Threshold.objects.get(metric__framework=new, metric__code=threshold.metric.code, provider_type=None)
    jobs_before = RecomputeJob.objects.count()

    started = time.perf_counter()
    with transaction.atomic():
        changed.green_from -= 5
        changed.amber_from -= 5
        changed.save()  # once committed, the returns the version judges are recomputed as a job
    took = time.perf_counter() - started
    job = RecomputeJob.objects.order_by("-pk").first()
    assert RecomputeJob.objects.count() == jobs_before + 1 and job.is_finished, "the change made no finished job"
    print(
        f"A year after a threshold change ({new.short_name or new.name} {new.version} in force from "
        f"{year_starts:%-d %B %Y}; green from {changed.green_from}%): {job.returns_total} returns of {quarters} "
        f"quarters, {job.chunks_total} chunks, {job.returns_changed} statuses changed"
    )
    print(
        f"  as the recompute job the change made, in this process: {took:.2f} s, {took / quarters:.2f} s a quarter "
        f"(goal: <= 5 s a quarter)"
    )

    # The same job from the same starting point: the runs it made are removed and the earlier ones made current.
    RagRun.objects.current().filter(provider_return_id__in=year).exclude(pk__in=before).delete()
    RagRun.objects.filter(pk__in=before).update(is_current=True)
    settle_status_tables()  # as the first path found them: no dead rows of the undone job for it to wade through
    started = time.perf_counter()
    job = start_recompute(year, reason=RecomputeReason.THRESHOLD, description="Benchmark", framework=new, send=False)
    chunk_ids = list(job.chunks.order_by("number").values_list("pk", flat=True))
    connections.close_all()  # each forked process opens its own connection
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        pool.map(do_chunk, chunk_ids, chunksize=1)
    took = time.perf_counter() - started
    job.refresh_from_db()
    assert job.is_finished and not job.returns_failed, "the job shared by processes did not finish cleanly"
    print(
        f"  the same job, its chunks shared by {WORKERS} worker processes (as Celery workers would): {took:.2f} s, "
        f"{took / quarters:.2f} s a quarter (goal: <= 5 s a quarter); {job.returns_changed} statuses changed"
    )


def settle_status_tables() -> None:
    """``VACUUM ANALYZE`` the status tables, as autovacuum leaves them in use some time after a recompute: the rows
    that a recompute (or the benchmark undoing one) left dead are cleared, so that each timed path starts from the
    same settled tables and autovacuum does not start meanwhile."""
    from django.db import connection

    from reviews.services import STATUS_TABLES

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE " + ", ".join(STATUS_TABLES))


def judge_batch(return_ids) -> None:
    """One worker process's job: a batch judged in sets, on the process's own database connection."""
    from reviews.services import compute_rag_for_returns

    compute_rag_for_returns(return_ids)


def in_worker_processes(return_ids, workers: int) -> None:
    """Judge ``return_ids`` in batches shared among ``workers`` processes, as jobs spread over Celery workers."""
    import multiprocessing

    from django.db import connections

    from reviews.services import RAG_BATCH_SIZE

    connections.close_all()  # each forked process opens its own connection
    batches = [return_ids[start : start + RAG_BATCH_SIZE] for start in range(0, len(return_ids), RAG_BATCH_SIZE)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(judge_batch, batches, chunksize=1)


def percentiles(times: list[float]) -> str:
    """The median and 95th percentile of sorted durations, in milliseconds."""
    if not times:
        return "none"
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"median {statistics.median(times) * 1000:.1f} ms, 95th percentile {p95 * 1000:.1f} ms"


def fmt(times, unit="s") -> str:
    if unit == "ms":
        return ", ".join(f"{t * 1000:.0f}" for t in times) + " ms"
    return ", ".join(f"{t:.1f}" for t in times) + " s"


def dashboard_only(year: bool = False) -> None:
    """Build the world, compute every quarter in sets, and give the dashboard's figures alone (with ``year``, the
    year after a threshold change alone)."""
    name = database_name()
    server_command(f'DROP DATABASE IF EXISTS "{name}"')
    server_command(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "assurance.settings"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from returns.models import Return
        from reviews.services import RAG_BATCH_SIZE, compute_rag_for_returns

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        nurse, periods, answers, submissions = build_world(random.Random(20251))
        print(f"Built {PROVIDERS} providers, {len(periods)} quarters: {submissions} returns, {answers} answers")
        latest = periods[-1]
        every_return = list(Return.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(every_return), RAG_BATCH_SIZE):  # every quarter, as the tables hold in use
            compute_rag_for_returns(every_return[start : start + RAG_BATCH_SIZE])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"  and every quarter's RAG, in {time.perf_counter() - started:.0f} s in all")
        if year:
            time_year_after_threshold_change(periods)
        else:
            time_dashboard(nurse, latest)
        connections.close_all()
    finally:
        server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if sys.argv[1:] in (["dashboard"], ["year"]):
        dashboard_only(year=sys.argv[1] == "year")
    else:
        main()
