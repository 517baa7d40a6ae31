"""Benchmark: many people signing in at once, then many people already signed in filling in and submitting returns.

Run with ``.venv/bin/python bench/load.py`` (``--server sync`` for the old three sync workers, ``--server
gthread``, the default, for ``gunicorn.conf.py``). It makes its own PostgreSQL database (``sa_load_bench`` on the
server of ``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/sa_load_bench``), with
``BENCH_CLIENTS`` providers (default 100) on accepted contracts naming every framework of the shipped catalogue,
each with its safeguarding lead (all with one password, hashed once at Django's full strength) and an open draft
return for the latest quarter that has ended. It then starts, on loopback only:

- gunicorn on a free port of 127.0.0.1 with production settings (``DJANGO_DEBUG=false``, static files collected
  into a temporary directory), sized as ``--server`` says;
- a real Celery worker (one process) through Redis (``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/10``,
  emptied first), which computes each submitted return's RAG status as in production.

One client first goes through everything alone (sign in, return page, save, submit), for the figures of an idle
server. Then, with one thread per client (``http.client``, a new connection per request, no redirects followed):

- phase 1: every client signs in at the same moment (a barrier releases them together): the sign-in request alone
  is timed (the form was fetched beforehand). Meanwhile ``BENCH_BYSTANDERS`` people (default 10), signed in
  before, open their return's page, released with them: what a sign-in rush does to everyone else;
- phase 2: every client, already signed in, at the same moment opens its return's page, saves an answer to every
  question (the page's form as a browser would post it) and submits the return. With ``BENCH_SPREAD_SECONDS``
  set, the clients start one after another evenly over that many seconds instead (a steady rate, not a rush).

It prints the median, 95th percentile and slowest of each kind of request beside the goal (phase 2: 95th percentile
at most 500 ms a request), the errors, the web server's CPU time in each phase, and checks that nothing was lost:
every return submitted exactly once, every answer stored with the value sent, and a RAG status for every return
(``BENCH_RAG_WAIT`` seconds allowed, default 60). Last, it counts the queries and CPU time of each kind of request
in-process (Django's test client), for one more provider. Every request has a time-out (``BENCH_REQUEST_TIMEOUT``,
120 s) and each phase a limit (``BENCH_PHASE_SECONDS``, 300 s). At the end it stops the processes it started and
drops its database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import html.parser
import http.client
import os
import runpy
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import rag_dashboard  # noqa: E402  (the benchmarks' database handling)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sa_load_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
REQUEST_TIMEOUT = float(os.environ.get("BENCH_REQUEST_TIMEOUT", "120"))
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "300"))
RAG_WAIT = float(os.environ.get("BENCH_RAG_WAIT", "60"))
BYSTANDERS = int(os.environ.get("BENCH_BYSTANDERS", "10"))
SPREAD = float(os.environ.get("BENCH_SPREAD_SECONDS", "0"))
PASSWORD = "load-bench-" + secrets.token_hex(8)
#: The goal of issue 14 for the work of people signed in.
GOAL_MS = 500

#: What the client types into each kind of answer field: complete, plausible, and needing no evidence file.
TYPED = {
    "numerator": "90",
    "denominator": "100",
    "count": "3",
    "in_place": "no",  # a policy in place would need its document attached
    "review_date": "",
    "sampled": "20",
    "compliant": "19",
    "grade": "compliant",  # short of the standard would need an action plan
    "evidence": "Board report and audit results.",
    "text": "Named nurse and doctor in post; quarterly report to the board.",
}
#: The values the client expects stored for what it typed.
STORED = {"numerator": 90, "denominator": 100, "count": 3, "in_place": False, "sampled": 20, "compliant": 19}

SERVERS = {
    # The deployment before issue 13: three sync workers, a new database connection for every request.
    "sync": {
        "arguments": ["--worker-class", "sync", "--workers", "3", "--threads", "1"],
        "environment": {"DATABASE_CONN_MAX_AGE": "0"},
    },
    # gunicorn.conf.py as it sizes itself on this machine, with the connection lifetime of docker-compose.yml.
    "gthread": {"arguments": [], "environment": {"DATABASE_CONN_MAX_AGE": "60"}},
}


# The database and the world --------------------------------------------------------------------------------------


def server_command(sql: str) -> None:
    """Run ``sql`` on the server's maintenance database (creating and dropping the benchmark's own)."""
    rag_dashboard.server_command(sql, DATABASE_URL)


def database_name() -> str:
    return rag_dashboard.database_name(DATABASE_URL)


@dataclass
class Person:
    """A provider's safeguarding lead and the draft return they fill in."""

    username: str
    return_pk: int
    questions: int


def build_world(count: int) -> list[Person]:
    """``count`` providers on accepted contracts, each with its lead (one password) and an open draft return."""
    import random

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
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
    from returns.demo import quarter_of, quarters_after
    from returns.models import ReportingPeriod, quarter_dates
    from returns.selectors import metrics_for
    from returns.services import open_return
    from standards.models import Framework, ProviderType, Service

    rng = random.Random(13)
    call_command("load_catalogue", stdout=open(os.devnull, "w"))  # noqa: SIM115
    frameworks = list(Framework.objects.all())
    types = list(ProviderType.objects.values_list("code", flat=True))
    services = list(Service.objects.all())
    icb = Organisation.objects.create(name="NHS Load Integrated Care Board", ods_code="QLB", kind="commissioner")
    providers = Organisation.objects.bulk_create(
        Organisation(
            name=f"Load Provider {n:04d}", ods_code=f"L{n:04d}", kind="provider", provider_type_id=types[n % len(types)]
        )
        for n in range(count)
    )  # fmt: skip
    Through = Organisation.services.through
    Through.objects.bulk_create(
        Through(organisation_id=p.pk, service_id=s.pk) for p in providers for s in rng.sample(services, k=4)
    )
    contracts = Contract.objects.bulk_create(
        Contract(
            reference=f"LOAD-{n:04d}", title=f"Services of {p.name}", provider=p,
            starts_on=datetime.date(2024, 4, 1), ends_on=datetime.date(2030, 3, 31),
            status=ContractStatus.ACCEPTED, decided_at=timezone.now(),
        )
        for n, p in enumerate(providers)
    )  # fmt: skip
    ContractCommissioner.objects.bulk_create(
        ContractCommissioner(contract=c, commissioner=icb, role=CommissionerRole.COORDINATING) for c in contracts
    )
    FrameworkLink = Contract.frameworks.through
    FrameworkLink.objects.bulk_create(
        FrameworkLink(contract_id=c.pk, framework_id=f.pk) for c in contracts for f in frameworks
    )

    today = timezone.localdate()
    year, quarter = quarters_after(quarter_of(today), -1)  # the latest quarter that has ended
    _, ends_on = quarter_dates(year, quarter)
    period = ReportingPeriod.objects.create(
        financial_year=year, quarter=quarter, submission_deadline=max(today, ends_on) + datetime.timedelta(days=30),
        lock_date=max(today, ends_on) + datetime.timedelta(days=60),
    )  # fmt: skip

    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once at full strength; every lead has this same hash
    leads = User.objects.bulk_create(
        User(username=f"load-lead-{n:04d}", email=f"lead{n}@load.example", password=password) for n in range(count)
    )
    people = []
    for provider, lead in zip(providers, leads, strict=True):
        Membership.objects.create(user=lead, organisation=provider, role=Role.PROVIDER_LEAD)  # grants its permissions
        provider_return = open_return(provider, period, by=lead)
        people.append(Person(lead.username, provider_return.pk, len(metrics_for(provider, period))))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return people


# A client ---------------------------------------------------------------------------------------------------------


class Forms(html.parser.HTMLParser):
    """The forms of a page, each as its fields in order: (name, type, value, checked)."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str, str, bool]]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif not self.forms:
            return
        elif tag == "input" and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            self.forms[-1].append((attributes["name"], kind, attributes.get("value") or "", "checked" in attributes))
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.forms[-1].append((self._select, "select", "", False))
        elif tag == "option" and self._select and "selected" in attributes:
            self.forms[-1].append((self._select, "option", attributes.get("value") or "", True))
        elif tag == "textarea" and attributes.get("name"):
            self._textarea, self._text = attributes["name"], []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1].append((self._textarea, "textarea", "".join(self._text).lstrip("\n"), False))
            self._textarea = None


def page_forms(body: str) -> list[list[tuple[str, str, str, bool]]]:
    parser = Forms()
    parser.feed(body)
    return parser.forms


def filled_answers(body: str) -> list[tuple[str, str]]:
    """The return page's form as a browser would post it, with every answer field typed in from :data:`TYPED`."""
    form = next((form for form in page_forms(body) if any(n.endswith("-base_revision") for n, *_ in form)), None)
    if form is None:
        raise RuntimeError("The return's page has no answer form.")
    posted: dict[str, str] = {}
    order: list[str] = []
    for name, kind, value, checked in form:
        if kind in ("checkbox", "radio") and not checked:
            continue
        if kind == "select":
            value = posted.get(name, "")  # an option marked selected follows, if any
        if name not in posted:
            order.append(name)
        posted[name] = value
    for name in order:
        prefix, _, answer_field = name.partition("-")
        if prefix.startswith("m") and prefix[1:].isdigit() and answer_field in TYPED:
            posted[name] = TYPED[answer_field]
    for name, _, _, _ in form:  # radio buttons and selects with nothing chosen yet
        prefix, _, answer_field = name.partition("-")
        if name not in posted and prefix.startswith("m") and prefix[1:].isdigit() and answer_field in TYPED:
            order.append(name)
            posted[name] = TYPED[answer_field]
    return [(name, posted[name]) for name in order] + [("action", "save")]


def csrf_token(body: str) -> str:
    for form in page_forms(body):
        for name, _, value, _ in form:
            if name == "csrfmiddlewaretoken":
                return value
    raise RuntimeError("The page has no CSRF token.")


class RequestFailed(Exception):
    pass


@dataclass
class Client:
    """One person's browser: its cookies, and what it timed."""

    port: int
    person: Person
    cookies: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, fields=None, *, timed: str | None = None, expect: int = 200) -> str:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        except OSError as error:
            raise RequestFailed(f"{timed or path}: {type(error).__name__}: {error}") from error
        finally:
            connection.close()
        if timed:
            self.timings[timed] = time.perf_counter() - started
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in cookie.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.status != expect:
            raise RequestFailed(f"{timed or path}: answered {response.status}, not {expect}")
        return content

    def fetch_sign_in_form(self) -> str:
        return csrf_token(self.request("GET", "/accounts/login/"))

    def sign_in(self, token: str) -> None:
        fields = {"csrfmiddlewaretoken": token, "username": self.person.username, "password": PASSWORD}
        self.request("POST", "/accounts/login/", fields, timed="sign-in", expect=302)
        if "sessionid" not in self.cookies:
            raise RequestFailed("sign-in: no session cookie")

    def fill_in_and_submit(self) -> None:
        url = f"/returns/{self.person.return_pk}/"
        page = self.request("GET", url, timed="return page")
        self.request("POST", url, filled_answers(page), timed="save", expect=302)
        fields = {"csrfmiddlewaretoken": csrf_token(page), "confirmed": "on"}
        self.request("POST", f"{url}submit/", fields, timed="submit", expect=302)


def run_together(clients: list[Client], step, label: str, spread: float = 0) -> float:
    """Run ``step(client)`` in one thread per client, all released at once, or one after another evenly over
    ``spread`` seconds; the phase's wall-clock seconds."""
    barrier = threading.Barrier(len(clients) + 1, timeout=PHASE_SECONDS)

    def work(client: Client, place: int):
        try:
            barrier.wait()
            time.sleep(spread * place / len(clients))
            step(client)
        except (RequestFailed, RuntimeError, threading.BrokenBarrierError) as error:
            client.errors.append(f"{label}: {error}")

    threads = [threading.Thread(target=work, args=(client, n), daemon=True) for n, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    deadline = started + PHASE_SECONDS
    for thread in threads:
        thread.join(max(deadline - time.perf_counter(), 0))
    unfinished = sum(thread.is_alive() for thread in threads)
    if unfinished:
        print(f"  {unfinished} clients had not finished {label} after {PHASE_SECONDS:.0f} s; left running")
    return time.perf_counter() - started


# The servers -------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], environment: dict, log: Path) -> subprocess.Popen:
    """Start ``command`` in its own process group, its output in ``log``."""
    with open(log, "wb") as output:
        return subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen | None) -> None:
    """Stop a process this benchmark started, and its children (its own process group), waiting for them."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_until_serving(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped on starting:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/accounts/login/")
            if connection.getresponse().status == 200:
                connection.close()
                return
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def process_tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and its children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(fields[1])
        if root in (pid, parent):
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def server_workers(root: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == root:
                count += 1
    return count


# Figures ----------------------------------------------------------------------------------------------------------


def nearest_rank(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(int(len(ordered) * share + 0.999999) - 1, 0))]


def summary(label: str, times: list[float], goal_ms: int | None) -> str:
    if not times:
        return f"  {label:<12} no answers"
    p50, p95, slowest = statistics.median(times), nearest_rank(times, 0.95), max(times)
    line = f"  {label:<12} {len(times):>4}  p50 {p50 * 1000:>6.0f} ms  p95 {p95 * 1000:>6.0f} ms"
    line += f"  max {slowest * 1000:>6.0f} ms"
    if goal_ms is not None:
        line += f"   goal p95 ≤ {goal_ms} ms: {'met' if p95 * 1000 <= goal_ms else 'MISSED'}"
    return line


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Checks and the in-process profile ---------------------------------------------------------------------------------


def check_nothing_lost(people: list[Person]) -> list[str]:
    """What went wrong with the returns: each submitted once, with every answer stored as typed."""
    from django.db.models import Count

    from returns.models import Answer, Return, ReturnStatus

    problems = []
    returns = Return.objects.filter(pk__in=[p.return_pk for p in people]).annotate(
        submitted=Count("submissions", distinct=True), answered=Count("answers", distinct=True)
    )
    by_pk = {r.pk: r for r in returns}
    for person in people:
        found = by_pk[person.return_pk]
        if found.status != ReturnStatus.SUBMITTED or found.submitted != 1:
            problems.append(f"{person.username}: status {found.status}, {found.submitted} submissions")
        if found.answered != person.questions:
            problems.append(f"{person.username}: {found.answered} answers stored of {person.questions} sent")
    for answer in Answer.objects.filter(provider_return__in=[p.return_pk for p in people]):
        for name, value in answer.values.items():
            if name in STORED and value != STORED[name]:
                problems.append(f"answer {answer.pk}: {name} is {value!r}, not {STORED[name]!r} as sent")
    return problems


def wait_for_rag(people: list[Person]) -> tuple[int, float]:
    """How many of the returns have a RAG status, waiting up to ``RAG_WAIT`` seconds; and the seconds waited."""
    from reviews.models import RagRun

    started = time.monotonic()
    pks = [p.return_pk for p in people]
    while True:
        done = RagRun.objects.filter(provider_return__in=pks).values("provider_return").distinct().count()
        if done == len(pks) or time.monotonic() - started > RAG_WAIT:
            return done, time.monotonic() - started
        time.sleep(0.5)


def profile_in_process(person: Person) -> None:
    """Queries and CPU time of each kind of request, for one person, through Django's test client."""
    from django.db import connection
    from django.test import Client as TestClient

    client = TestClient()
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def measure(label, method, path, data=None, expect=200):
        queries.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(count):
            response = client.get(path) if method == "GET" else client.post(path, data)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if response.status_code != expect:
            raise SystemExit(f"In-process {label} answered {response.status_code}, not {expect}.")
        print(f"  {label:<12} {len(queries):>4} queries, {cpu * 1000:>5.0f} ms of CPU, {wall * 1000:>5.0f} ms")
        return response

    # Once unmeasured first: this process's first requests load the URLconf and compile the templates.
    client.post("/accounts/login/", {"username": person.username, "password": PASSWORD})
    client.get(f"/returns/{person.return_pk}/")
    client.get(f"/returns/{person.return_pk}/submit/")
    client.logout()
    measure("sign-in", "POST", "/accounts/login/", {"username": person.username, "password": PASSWORD}, 302)
    url = f"/returns/{person.return_pk}/"
    page = measure("return page", "GET", url).content.decode()
    posted: dict[str, list[str]] = {}
    for name, value in filled_answers(page):
        posted.setdefault(name, []).append(value)
    measure("save", "POST", url, posted, 302)
    measure("submit", "POST", f"{url}submit/", {"confirmed": "on"}, 302)


# The run ----------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=sorted(SERVERS), default="gthread", help="how gunicorn is run")
    server = parser.parse_args().server
    name = database_name()
    scratch = Path(tempfile.mkdtemp(prefix="sa-load-bench-"))
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_", "GUNICORN_"))
    }
    environment.pop("WEB_CONCURRENCY", None)
    environment |= {
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "assurance.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "DJANGO_STATIC_ROOT": str(scratch / "static"),
        "PRIVATE_STORAGE_ROOT": str(scratch / "private"),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        **SERVERS[server]["environment"],
    }
    os.environ.update(environment)
    gunicorn = worker = None
    server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server_command(f'CREATE DATABASE "{name}"')
    try:
        import django

        django.setup()
        import redis
        from django.core.management import call_command
        from django.db import connections

        print(f"Load benchmark, {server} server, {CLIENTS} clients; load average before: {load_average()}")
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        people = build_world(CLIENTS + 2 + BYSTANDERS)
        call_command("collectstatic", "--noinput", verbosity=0)
        questions = sorted(p.questions for p in people)
        print(
            f"Built {len(people)} providers with open draft returns of {questions[0]} to {questions[-1]} questions "
            f"in {time.perf_counter() - started:.0f} s"
        )
        connections.close_all()
        redis.Redis.from_url(REDIS_URL).flushdb()

        worker = start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "assurance",
                "worker",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
            ],
            environment,
            scratch / "worker.log",
        )
        port = free_port()
        gunicorn = start(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
            + ["--access-logfile", "/dev/null", *SERVERS[server]["arguments"]],
            environment,
            scratch / "gunicorn.log",
        )
        wait_until_serving(port, gunicorn, scratch / "gunicorn.log")
        size = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
        threads = 1 if server == "sync" else size["threads"]
        print(
            f"gunicorn: {server_workers(gunicorn.pid)} {server} workers of {threads} thread(s), "
            f"DATABASE_CONN_MAX_AGE={environment['DATABASE_CONN_MAX_AGE']}; Celery: 1 worker process"
        )

        alone, profiled, bystanders, crowd = people[0], people[1], people[2 : 2 + BYSTANDERS], people[2 + BYSTANDERS :]
        single = Client(port, alone)
        single.sign_in(single.fetch_sign_in_form())
        single.fill_in_and_submit()
        print("One client alone: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in single.timings.items()))

        clients = [Client(port, person) for person in crowd]
        tokens = {client.person.username: client.fetch_sign_in_form() for client in clients}
        watching = [Client(port, person) for person in bystanders]  # signed in already, opening a page meanwhile
        for client in watching:
            client.sign_in(client.fetch_sign_in_form())
        time.sleep(2)
        cpu = process_tree_cpu(gunicorn.pid)

        def sign_in_or_look(client: Client) -> None:
            if client in watching:
                client.request("GET", f"/returns/{client.person.return_pk}/", timed="page meanwhile")
            else:
                client.sign_in(tokens[client.person.username])

        wall = run_together(clients + watching, sign_in_or_look, "sign-in")
        cpu_signing_in = process_tree_cpu(gunicorn.pid) - cpu
        signed_in = [c for c in clients if "sign-in" in c.timings and not c.errors]
        print(
            f"\nPhase 1: {len(clients)} people sign in at once, while {len(watching)} signed in already open their "
            f"return ({wall:.1f} s; load average {load_average()})"
        )
        print(summary("sign-in", [c.timings["sign-in"] for c in signed_in], None))
        print(summary("return page", [c.timings["page meanwhile"] for c in watching if c.timings], GOAL_MS))
        each = cpu_signing_in / max(len(signed_in), 1)
        print(f"  web server CPU {cpu_signing_in:.1f} s, {each * 1000:.0f} ms a sign-in")

        time.sleep(2)
        cpu = process_tree_cpu(gunicorn.pid)
        wall = run_together(signed_in, Client.fill_in_and_submit, "return", spread=SPREAD)
        cpu_working = process_tree_cpu(gunicorn.pid) - cpu
        requests_made = sum(len(c.timings) - 1 for c in signed_in)
        when = f"one after another over {SPREAD:.0f} s" if SPREAD else "at once"
        print(
            f"\nPhase 2: {len(signed_in)} people signed in open their return, save it and submit it {when} "
            f"({wall:.1f} s; load average {load_average()})"
        )
        for label in ("return page", "save", "submit"):
            print(summary(label, [c.timings[label] for c in signed_in if label in c.timings], GOAL_MS))
        every = [c.timings[k] for c in signed_in for k in ("return page", "save", "submit") if k in c.timings]
        print(summary("all three", every, GOAL_MS))
        print(f"  web server CPU {cpu_working:.1f} s, {cpu_working / max(requests_made, 1) * 1000:.0f} ms a request")

        errors = [error for client in clients + watching for error in client.errors]
        print(f"\nErrors: {len(errors)}")
        for error in errors[:10]:
            print(f"  {error}")
        submitted = [alone] + crowd  # every one of them should now be submitted
        lost = check_nothing_lost(submitted)
        answers = sum(p.questions for p in submitted)
        print(
            f"Nothing lost: {len(submitted)} returns submitted once each and {answers} answers stored as sent"
            if not lost
            else f"LOST OR DOUBLED: {len(lost)} problems"
        )
        for problem in lost[:10]:
            print(f"  {problem}")
        rated, waited = wait_for_rag(submitted)
        print(f"RAG status for {rated} of {len(submitted)} returns ({waited:.1f} s after the last submit)")

        print("\nIn-process profile of one more person (Django's test client, this process, the same database):")
        profile_in_process(profiled)
        connections.close_all()
    finally:
        stop(gunicorn)
        stop(worker)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        server_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
