"""Benchmark: 100 providers' safeguarding leads signing in, filling in and submitting their returns at once, driven
by locust.

Run with ``.venv/bin/python bench/load.py`` (``--server sync`` for the old three sync workers, ``--server gthread``,
the default, for ``gunicorn.conf.py``); it needs the ``bench`` extra (``pip install -e .[dev,bench]``: locust). It
makes its own PostgreSQL database (``sa_load_bench`` on the server of ``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/sa_load_bench``) with twice ``BENCH_CLIENTS`` providers (default 100), and two
more, on accepted contracts naming every framework of the shipped catalogue, each with its safeguarding lead (all
with one password, hashed once at Django's full strength) and an open draft return for the latest quarter that has
ended. It then starts, on loopback only:

- gunicorn on a free port of 127.0.0.1 with production settings (``DJANGO_DEBUG=false``, static files collected
  into a temporary directory), sized as ``--server`` says;
- a real Celery worker (one process) through Redis (``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/10``,
  emptied first), which computes each submitted return's RAG status as in production.

The people are simulated by locust, used as a library (``locust.env.Environment`` and a local runner in this
process, ``FastHttpUser``): a well-kept load tool whose users are cheap greenlets, so that 100 people at once cost
the machine little beside the server. Each person, in a browser that accepts gzip and follows no redirect, signs
in, opens the return, saves an answer to every question (the page's form as a browser posts it) and submits it,
once. The script keeps its own structure around locust (world, servers, checks), because locust alone neither
builds the providers nor checks afterwards that nothing was lost. The people arrive in three ways:

- one person alone, for the figures of an idle server;
- all at once: ``BENCH_CLIENTS`` people each fetch the sign-in form, then all sign in released in the same instant
  (the sign-ins are reported on their own line); when every one is signed in, all are released in the same instant
  to open, save and submit their return;
- arriving over ``BENCH_SPREAD_SECONDS`` (default 60): ``BENCH_CLIENTS`` other people one after another, evenly,
  each signing in on arrival and taking ``BENCH_THINK_SECONDS`` (default 10, from half to one and a half times
  that at random) to fill in the return before saving it, and as long again before submitting it.

It prints the median, 95th percentile and slowest of each kind of request beside the goal of issue 14 (95th
percentile at most 500 ms a request), the errors, the web server's CPU time, then checks that nothing was lost:
every return submitted exactly once, every answer stored with the value sent, and a RAG status for every return
(``BENCH_RAG_WAIT`` seconds allowed, default 60). Last, it counts the queries and CPU time of each kind of request
in-process (Django's test client), for one more provider. Every request has a time-out (``BENCH_REQUEST_TIMEOUT``,
120 s) and each crowd a limit (``BENCH_PHASE_SECONDS``, 300 s). At the end it stops the processes it started and
drops its database.
"""

from __future__ import annotations

# locust patches the standard library for gevent when it is imported: first, before anything opens a socket.
try:
    import locust
except ImportError:  # pragma: no cover
    raise SystemExit("bench/load.py needs locust: pip install -e '.[dev,bench]'") from None

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import html.parser  # noqa: E402
import http.client  # noqa: E402
import http.cookiejar  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import runpy  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
from locust import FastHttpUser, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import rag_dashboard  # noqa: E402  (the benchmarks' database handling)

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "100"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sa_load_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
REQUEST_TIMEOUT = float(os.environ.get("BENCH_REQUEST_TIMEOUT", "120"))
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "300"))
RAG_WAIT = float(os.environ.get("BENCH_RAG_WAIT", "60"))
SPREAD = float(os.environ.get("BENCH_SPREAD_SECONDS", "60"))
THINK = float(os.environ.get("BENCH_THINK_SECONDS", "10"))
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


class Recorder:
    """Every request the simulated people made, as locust reports them: its time, its size on the wire, its outcome."""

    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.sizes: dict[str, list[int]] = defaultdict(list)
        self.errors: list[str] = []

    def request(self, request_type, name, response_time, response_length, exception=None, response=None, **_):
        if exception is not None:
            self.errors.append(f"{name}: {exception}")
            return
        self.times[name].append(response_time / 1000)
        wire = response.headers.get("Content-Length") if response is not None else None
        self.sizes[name].append(int(wire) if wire else response_length)


@dataclass
class Scenario:
    """How the people arrive: all released in the same instant, or one after another over ``spread`` seconds
    with ``think`` seconds (on average) between opening the return and saving it, and between saving and
    submitting."""

    name: str
    spread: float = 0
    think: float = 0


class Gate:
    """Holds every person at a point until all of them have reached it, then releases them in the same instant."""

    def __init__(self, count: int):
        self.count, self.arrived, self.event = count, 0, gevent.event.Event()

    def wait(self) -> None:
        self.arrived += 1
        self._open_when_all_here()
        self.event.wait()

    def give_up(self) -> None:
        """One person will never reach the gate (a request of theirs failed): the others are not held for them."""
        if not self.event.is_set():
            self.count -= 1
            self._open_when_all_here()

    def _open_when_all_here(self) -> None:
        if self.arrived >= self.count:
            self.event.set()


class PlainHttpCookies(http.cookiejar.DefaultCookiePolicy):
    def return_ok_secure(self, cookie, request):
        return True


class ProviderLead(FastHttpUser):
    """A provider's safeguarding lead, in a browser that accepts gzip and follows no redirects: signs in, opens
    the return, saves an answer to every question (the page's form as a browser would post it) and submits it.
    Each simulated person does this once, then stops."""

    abstract = True  # made concrete per run by :func:`run_scenario`, with its people, gates and scenario
    people: list[Person]
    scenario: Scenario
    sign_in_gate: Gate
    work_gate: Gate
    connection_timeout = network_timeout = REQUEST_TIMEOUT
    default_headers = {"Accept-Encoding": "gzip", "User-Agent": "Safeguard Assure load benchmark (locust)"}
    max_retries = 0

    def on_start(self):
        # Production settings mark the session and CSRF cookies Secure; this benchmark speaks plain HTTP on loopback
        # (as gunicorn does behind the proxy), so the browser sends them back all the same.
        self.client.cookiejar.set_policy(PlainHttpCookies())
        self.place = self.total - len(self.people)  # 0 for the first to arrive
        self.person = self.people.pop()

    @task
    def fill_in_and_submit(self):
        try:
            self.sign_in()
            self.work_gate.wait()
        except StopUser:
            self.sign_in_gate.give_up()
            self.work_gate.give_up()
            raise
        if self.scenario.spread:  # arriving one after another
            gevent.sleep(self.scenario.spread * self.place / max(self.total, 1))
        url = f"/returns/{self.person.return_pk}/"
        page = self.expect("GET", url, "return page", 200)
        self.pause()
        self.expect("POST", url, "save", 302, data=urlencode(filled_answers(page)))
        self.pause()
        fields = {"csrfmiddlewaretoken": csrf_token(page), "confirmed": "on"}
        self.expect("POST", f"{url}submit/", "submit", 302, data=urlencode(fields))
        raise StopUser()

    def sign_in(self):
        """Every person of the crowd signs in at the same instant (the sign-in form was fetched beforehand)."""
        token = csrf_token(self.expect("GET", "/accounts/login/", "sign-in form", 200, timed=False))
        self.sign_in_gate.wait()
        fields = {"csrfmiddlewaretoken": token, "username": self.person.username, "password": PASSWORD}
        self.expect("POST", "/accounts/login/", "sign-in", 302, data=urlencode(fields))

    def pause(self):
        if self.scenario.think:
            gevent.sleep(random.uniform(0.5, 1.5) * self.scenario.think)

    def expect(self, method, path, name, status, data=None, timed=True) -> str:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
        with self.client.request(
            method, path, name=name if timed else f"({name})", data=data, headers=headers, allow_redirects=False,
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != status:
                why = f" ({type(response.error).__name__}: {response.error})" if response.error else ""
                response.failure(f"answered {response.status_code}, not {status}{why}")
                raise StopUser()
            return response.text or ""


@dataclass
class Phase:
    """A part of a run: its wall-clock seconds and the web server's CPU seconds meanwhile."""

    wall: float = 0
    cpu: float = 0


def run_scenario(port: int, people: list[Person], scenario: Scenario, server_cpu) -> tuple[Recorder, Phase, Phase]:
    """Run ``people`` through :class:`ProviderLead` with locust in this process: what they met, then the sign-ins'
    phase and the work's (from the moment the last person signed in), each with the server's CPU (``server_cpu()``
    gives its CPU seconds so far)."""
    recorder = Recorder()
    count = len(people)
    work_gate = Gate(count)
    lead = type(
        "Lead",
        (ProviderLead,),
        {
            "abstract": False, "host": f"http://127.0.0.1:{port}", "people": list(reversed(people)),
            "scenario": scenario, "sign_in_gate": Gate(count), "work_gate": work_gate, "total": count,
        },
    )  # fmt: skip
    environment = Environment(user_classes=[lead], events=locust.events)
    environment.events.request.add_listener(recorder.request)
    runner = environment.create_local_runner()
    signing_in, working = Phase(), Phase()
    started, cpu = time.perf_counter(), server_cpu()
    runner.start(count, spawn_rate=100)  # the gates line them up however fast they come
    work_gate.event.wait(PHASE_SECONDS)
    signing_in.wall, signing_in.cpu = time.perf_counter() - started, server_cpu() - cpu
    started, cpu = time.perf_counter(), server_cpu()
    deadline = started + PHASE_SECONDS
    while runner.user_count and time.perf_counter() < deadline:
        gevent.sleep(0.1)
    working.wall, working.cpu = time.perf_counter() - started, server_cpu() - cpu
    if runner.user_count:
        print(f"  {runner.user_count} people had not finished after {PHASE_SECONDS:.0f} s; stopped")
    runner.quit()
    environment.events.request.remove_listener(recorder.request)
    return recorder, signing_in, working


def phase_lines(recorder: Recorder, signing_in: Phase, working: Phase, work: list[str], sign_in_note: str) -> None:
    signed_in = len(recorder.times["sign-in"])
    print(summary("sign-in", recorder.times["sign-in"], None) + f"   ({sign_in_note})")
    print(
        f"  {signed_in} signed in within {signing_in.wall:.1f} s; web server CPU {signing_in.cpu:.1f} s, "
        f"{signing_in.cpu / max(signed_in, 1) * 1000:.0f} ms a sign-in"
    )
    for name in work:
        print(summary(name, recorder.times.get(name, []), GOAL_MS))
    every = [t for name in work for t in recorder.times[name]]
    print(summary("all three", every, GOAL_MS))
    print(
        f"  done within {working.wall:.1f} s; web server CPU {working.cpu:.1f} s, "
        f"{working.cpu / max(len(every), 1) * 1000:.0f} ms a request"
    )


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


def report(recorder: Recorder, names: list[str], goal_ms: int | None) -> None:
    for name in names:
        print(summary(name, recorder.times.get(name, []), goal_ms))


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

        print(f"Load benchmark (locust {locust.__version__}), {server} server, {CLIENTS} people in each crowd; load "
              f"average before: {load_average()}")  # fmt: skip
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        people = build_world(2 * CLIENTS + 2)
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
            f"DATABASE_CONN_MAX_AGE={environment['DATABASE_CONN_MAX_AGE']}; Celery: 1 worker process; "
            "the simulated browsers (locust, this process) ask for gzip and follow no redirects"
        )

        alone, profiled = people[0], people[1]
        rush, steady = people[2 : 2 + CLIENTS], people[2 + CLIENTS :]
        work = ["return page", "save", "submit"]
        server_cpu = lambda: process_tree_cpu(gunicorn.pid)  # noqa: E731
        recorder, _, _ = run_scenario(port, [alone], Scenario("alone"), server_cpu)
        print(
            "One person alone: "
            + ", ".join(f"{n} {recorder.times[n][0] * 1000:.0f} ms" for n in ["sign-in", *work] if recorder.times[n])
        )
        kilobytes = recorder.sizes["return page"][0] / 1024 if recorder.sizes["return page"] else 0
        print(f"  the return page: {kilobytes:.0f} KB on the wire (gzip)")
        errors = list(recorder.errors)

        time.sleep(2)
        print(
            f"\nAll at once ({len(rush)} people; load average {load_average()}): every person signs in in the same "
            "instant; when all are signed in, every one opens their return, saves it and submits it, all released "
            "in the same instant"
        )
        recorder, signing_in, working = run_scenario(port, rush, Scenario("at once"), server_cpu)
        phase_lines(recorder, signing_in, working, work, f"{len(rush)} sign-ins at once, on their own")
        errors += recorder.errors

        time.sleep(2)
        print(
            f"\nArriving over {SPREAD:.0f} s ({len(steady)} other people; load average {load_average()}): signed in "
            f"beforehand (all at once again), then one after another, evenly over {SPREAD:.0f} s, each opens their "
            f"return, takes {THINK * 0.5:.0f}–{THINK * 1.5:.0f} s to fill it in, saves it, takes as long again to "
            "check it, and submits it"
        )
        recorder, signing_in, working = run_scenario(port, steady, Scenario("steady", SPREAD, THINK), server_cpu)
        phase_lines(recorder, signing_in, working, work, "beforehand, all at once, not part of the goal")
        errors += recorder.errors

        print(f"\nErrors: {len(errors)}   goal: none")
        for error in errors[:10]:
            print(f"  {error}")
        timeouts = (scratch / "gunicorn.log").read_text(errors="replace").count("WORKER TIMEOUT")
        if timeouts:
            print(f"  gunicorn killed {timeouts} workers that stayed silent past their time-out, with their requests")
        submitted = [alone] + rush + steady  # every one of them should now be submitted
        lost = check_nothing_lost(submitted)
        answers = sum(p.questions for p in submitted)
        print(
            f"Nothing lost: {len(submitted)} returns submitted once each and {answers} answers stored as sent"
            if not lost
            else f"LOST OR DOUBLED: {len(lost)} problems   goal: none"
        )
        for problem in lost[:10]:
            print(f"  {problem}")
        rated, waited = wait_for_rag(submitted)
        print(f"RAG status for {rated} of {len(submitted)} returns ({waited:.1f} s after the last submit)   goal: all")

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
