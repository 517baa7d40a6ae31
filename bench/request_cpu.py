"""Benchmark: the CPU time of each kind of request of a provider filling in its return, measured in-process.

Run with ``.venv/bin/python bench/request_cpu.py`` (``--top 25`` for more of each profile). It makes its own
PostgreSQL database (``sa_request_cpu`` on the server of ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/sa_request_cpu``), loads the shipped catalogue, and builds one provider on an
accepted contract naming every framework, with its safeguarding lead and an open draft return for the latest
quarter that has ended (as ``bench/load.py`` builds each of its providers). Through Django's test client, with
production settings (``DJANGO_DEBUG=false``: templates cached, no query log), it then measures the three requests
``bench/load.py`` makes of each person:

- the return page (GET);
- the save: the page's form posted with an answer typed into every question (as ``bench/load.py`` posts it);
- the submit: the declaration confirmed, after every answer was saved.

Each is made once unmeasured (this process's first requests compile templates and load the URLconf), then
``BENCH_RUNS`` times (default 5), each save and submit in a transaction rolled back afterwards, so that every run
starts from the same draft (``BENCH_KEEP_DATABASE=1`` keeps the database, and reuses it, for the next run).
It prints each kind's queries and the median and fastest CPU time (``process_time``:
less noisy than wall time on a shared machine), then one more run of each under ``cProfile`` with the functions
that took the most time of their own and the most time with what they called. At the end it drops its database.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import html.parser
import io
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import rag_dashboard  # noqa: E402  (the benchmarks' database handling)

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sa_request_cpu")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
#: Keep the database between runs (and reuse it when it is there), to profile again and again while changing code.
KEEP = os.environ.get("BENCH_KEEP_DATABASE", "") not in ("", "0")

#: What is typed into each kind of answer field: complete, plausible, and needing no evidence file (as load.py).
TYPED = {
    "numerator": "90",
    "denominator": "100",
    "count": "3",
    "in_place": "no",
    "review_date": "",
    "sampled": "20",
    "compliant": "19",
    "grade": "compliant",
    "evidence": "Board report and audit results.",
    "text": "Named nurse and doctor in post; quarterly report to the board.",
}


def build_return():
    """One provider on an accepted contract naming every framework, its lead, and its open draft return."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
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
    from returns.demo import quarter_of, quarters_after
    from returns.models import ReportingPeriod, quarter_dates
    from returns.services import open_return
    from standards.models import Framework, ProviderType, Service

    call_command("load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115
    icb = Organisation.objects.create(name="NHS Bench Integrated Care Board", ods_code="QBC", kind="commissioner")
    acute = ProviderType.objects.order_by("position").first()
    provider = Organisation.objects.create(
        name="Bench Provider", ods_code="B0001", kind="provider", provider_type_id=acute.pk
    )
    provider.services.set(Service.objects.all()[:4])
    contract = Contract.objects.create(
        reference="BENCH-0001", title="Services of Bench Provider", provider=provider,
        starts_on=datetime.date(2024, 4, 1), ends_on=datetime.date(2030, 3, 31),
        status=ContractStatus.ACCEPTED, decided_at=timezone.now(),
    )  # fmt: skip
    ContractCommissioner.objects.create(contract=contract, commissioner=icb, role=CommissionerRole.COORDINATING)
    contract.frameworks.set(Framework.objects.all())
    today = timezone.localdate()
    year, quarter = quarters_after(quarter_of(today), -1)  # the latest quarter that has ended
    _, ends_on = quarter_dates(year, quarter)
    period = ReportingPeriod.objects.create(
        financial_year=year, quarter=quarter, submission_deadline=max(today, ends_on) + datetime.timedelta(days=30),
        lock_date=max(today, ends_on) + datetime.timedelta(days=60),
    )  # fmt: skip
    lead = get_user_model().objects.create(username="bench-lead", email="lead@bench.example")
    Membership.objects.create(user=lead, organisation=provider, role=Role.PROVIDER_LEAD)
    return lead, open_return(provider, period, by=lead)


class AnswerForm(html.parser.HTMLParser):
    """The inputs of the return page's form with a file field (its answers): names and values as rendered."""

    def __init__(self):
        super().__init__()
        self.inside, self.textarea = False, None
        self.values: dict[str, str] = {}
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("enctype"):
            self.inside = True
        name = attributes.get("name")
        if not self.inside or not name or attributes.get("type") in ("submit", "file"):
            return
        self.names.append(name)
        if tag == "textarea":
            self.textarea, self.values[name] = name, ""
        elif attributes.get("type") not in ("radio", "checkbox") or "checked" in attributes:
            self.values[name] = attributes.get("value") or ""

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False


def filled_in(page: str) -> dict[str, str]:
    """The return page's form as a browser posts it, with every answer field typed in from :data:`TYPED`."""
    form = AnswerForm()
    form.feed(page)
    posted = dict(form.values)
    for name in form.names:
        prefix, _, field = name.partition("-")
        if prefix.startswith("m") and prefix[1:].isdigit() and field in TYPED:
            posted[name] = TYPED[field]
    posted["action"] = "save"
    return posted


def measure(client, method: str, path: str, data=None, expect: int = 200, rolled_back: bool = False):
    """One request: its response, queries and CPU seconds (in a transaction rolled back, if asked)."""
    from django.db import connection, transaction

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def send():
        return client.get(path) if method == "GET" else client.post(path, data)

    started = time.process_time()
    with connection.execute_wrapper(count):
        if rolled_back:
            with transaction.atomic():
                response = send()
                transaction.set_rollback(True)
        else:
            response = send()
    cpu = time.process_time() - started
    if response.status_code != expect:
        raise SystemExit(f"{method} {path} answered {response.status_code}, not {expect}.")
    return response, len(queries), cpu


def profile(label: str, request, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    request()
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"\n{label}: the {top} functions with the most {'own time' if order == 'tottime' else 'time'}")
        print("\n".join(lines[start : start + top + 1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=15, help="functions shown of each profile")
    top = parser.parse_args().top
    name = rag_dashboard.database_name(DATABASE_URL)
    scratch = Path(tempfile.mkdtemp(prefix="sa-request-cpu-"))
    os.environ |= {
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "assurance.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_STATIC_ROOT": str(scratch / "static"),
        "PRIVATE_STORAGE_ROOT": str(scratch / "private"),
        "LOG_LEVEL": "WARNING",
    }
    for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(key, None)  # no broker: a submission's RAG job is not the request's CPU
    if not KEEP:
        rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', DATABASE_URL)
    try:
        rag_dashboard.server_command(f'CREATE DATABASE "{name}"', DATABASE_URL)
    except Exception as error:  # kept from an earlier run
        if not KEEP or "already exists" not in str(error):
            raise
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections
        from django.test import Client

        # Static files are looked up in the manifest when pages are rendered with production settings.
        call_command("collectstatic", "--noinput", verbosity=0)

        call_command("migrate", verbosity=0)
        from returns.models import Return

        draft = Return.objects.filter(provider__ods_code="B0001").first() if KEEP else None
        if draft is None:
            lead, draft = build_return()
        else:
            from returns.models import Answer

            Return.objects.filter(pk=draft.pk).update(status="draft")
            draft.answers.all().delete()
            Answer.history.filter(provider_return_id=draft.pk).delete()  # as new: a page shows no history
            lead = draft.provider.memberships.get().user
        from returns.selectors import metrics_for

        questions = len(metrics_for(draft.provider, draft.period))
        client = Client()
        client.force_login(lead)
        url = f"/returns/{draft.pk}/"
        page = client.get(url).content.decode()
        answers = filled_in(page)
        kinds = {
            "return page": lambda: measure(client, "GET", url),
            "save": lambda: measure(client, "POST", url, answers, 302, rolled_back=True),
            "submit": lambda: measure(client, "POST", f"{url}submit/", {"confirmed": "on"}, 302, rolled_back=True),
        }
        print(
            f"One provider's return of {questions} questions; DEBUG={settings.DEBUG}; {RUNS} runs of each kind "
            "after one unmeasured; CPU time of this process (client and server alike)"
        )
        for label, request in kinds.items():
            if label == "submit":
                measure(client, "POST", url, answers, 302)  # the answers saved, for the submit to find
            request()  # unmeasured
            runs = [request() for _ in range(RUNS)]
            cpu = [run[2] * 1000 for run in runs]
            print(
                f"  {label:<12} {runs[0][1]:>4} queries, CPU median {statistics.median(cpu):>5.0f} ms, "
                f"fastest {min(cpu):>5.0f} ms"
            )
            profile(label, request, top)
        connections.close_all()
    finally:
        if not KEEP:
            rag_dashboard.server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', DATABASE_URL)


if __name__ == "__main__":
    main()
