"""The deployment files describe a working system, production settings pass Django's deployment checks, and
the local admin account with its known password cannot be made on a production system.

No Docker engine runs where the tests run, so docker-compose.yml and the Dockerfile are checked as text.
"""

import gzip
import http.client
import http.server
import io
import json
import os
import re
import runpy
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.core.management.utils import get_random_secret_key

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile():
    return (REPO_ROOT / "Dockerfile").read_text()


def command_of(service) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else " ".join(command.split())


def test_compose_names_the_six_services(compose):
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "beat", "proxy"}


def test_database_is_postgres_15_with_a_volume_and_a_healthcheck(compose):
    db = compose["services"]["db"]
    assert db["image"] == "postgres:15"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert set(db["environment"]) >= {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def test_redis_is_redis_7_with_a_healthcheck(compose):
    redis = compose["services"]["redis"]
    assert redis["image"] == "redis:7"
    assert "ping" in redis["healthcheck"]["test"]


def test_web_migrates_and_loads_the_catalogue_before_gunicorn_starts(compose):
    command = command_of(compose["services"]["web"])
    migrate = command.index("manage.py migrate")
    load_catalogue = command.index("manage.py load_catalogue fixtures/catalogue/")
    gunicorn = command.index("gunicorn --config gunicorn.conf.py")
    assert migrate < load_catalogue < gunicorn
    assert "&&" in command, "gunicorn must not start when a migration fails"


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("worker", "celery -A assurance worker --loglevel=info"),
        ("beat", "celery -A assurance beat --loglevel=info"),
    ],
)
def test_celery_services_run_the_assurance_app(compose, service, command):
    assert command_of(compose["services"][service]).startswith(command)


def test_web_worker_and_beat_share_one_build_environment_and_private_storage(compose):
    services = [compose["services"][name] for name in APP_SERVICES]
    web = services[0]
    assert web["build"] == "."
    for service in services:
        assert (service["build"], service.get("image")) == (web["build"], web.get("image"))
        # The web service alone collects the static files into the volume the proxy serves them from.
        assert service["environment"] | {"DJANGO_STATIC_ROOT": "/srv/static"} == web["environment"]
        assert set(service["volumes"]) | {"static-files:/srv/static"} == set(web["volumes"])
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_app_environment_configures_production(compose):
    environment = compose["services"]["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert environment["DJANGO_DEBUG"] == "false"
    assert "DJANGO_ALLOWED_HOSTS" in environment
    # The secret key must come from the operator: compose refuses to start without it.
    assert re.fullmatch(r"\$\{DJANGO_SECRET_KEY:\?[^}]+\}", environment["DJANGO_SECRET_KEY"])


def test_private_files_live_on_a_named_volume_shared_by_the_app_services(compose):
    root = compose["services"]["web"]["environment"]["PRIVATE_STORAGE_ROOT"]
    volume = next(v.split(":")[0] for v in compose["services"]["web"]["volumes"] if v.endswith(f":{root}"))
    assert volume in compose["volumes"]


def test_worker_healthcheck_asks_check_services(compose):
    assert "check_services" in compose["services"]["worker"]["healthcheck"]["test"]


def test_dockerfile_installs_the_project_and_runs_gunicorn_as_an_unprivileged_user(dockerfile):
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert lines[[i for i, line in enumerate(lines) if line.startswith("FROM")][0]] == (
        "FROM python:3.11-slim-bookworm"
    )
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "fonts-dejavu-core"):
        assert package in dockerfile
    assert "RUN pip install ." in lines
    assert "collectstatic --noinput" in dockerfile
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert next(line for line in reversed(lines) if line.startswith("CMD")) == (
        'CMD ["gunicorn", "--config", "gunicorn.conf.py"]'
    )


def test_everything_the_dockerfile_copies_is_in_the_repository(dockerfile):
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in shlex.split(line)[1:-1]:
                assert (REPO_ROOT / source).exists(), f"The Dockerfile copies {source}, which does not exist"


GUNICORN_SIZE = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS")


def gunicorn_config(monkeypatch, cpus: int = 2, **environment) -> dict:
    """gunicorn.conf.py's settings as read on a machine of ``cpus`` CPUs with ``environment`` set."""
    for name in GUNICORN_SIZE:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    return runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (3, 7), (4, 8), (32, 8)])
def test_gunicorn_runs_twice_the_cpus_plus_one_threaded_workers_at_most_eight(monkeypatch, cpus, workers):
    config = gunicorn_config(monkeypatch, cpus=cpus)

    assert (config["worker_class"], config["workers"], config["threads"]) == ("gthread", workers, 4)


def test_gunicorn_size_and_limits_come_from_the_environment(monkeypatch):
    config = gunicorn_config(
        monkeypatch, WEB_CONCURRENCY="2", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="60", GUNICORN_MAX_REQUESTS="500"
    )

    assert (config["workers"], config["threads"]) == (2, 8)
    assert (config["timeout"], config["graceful_timeout"]) == (60, 60)
    assert (config["max_requests"], config["max_requests_jitter"]) == (500, 50)


def test_gunicorn_replaces_workers_after_a_thousand_requests_give_or_take_a_tenth(monkeypatch):
    config = gunicorn_config(monkeypatch)

    assert (config["max_requests"], config["max_requests_jitter"], config["timeout"]) == (1000, 100, 30)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEB_CONCURRENCY", "many", "WEB_CONCURRENCY must be a whole number, not 'many'."),
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be at least 1, not 0."),
        ("GUNICORN_THREADS", "0", "GUNICORN_THREADS must be at least 1, not 0."),
        ("GUNICORN_MAX_REQUESTS", "-1", "GUNICORN_MAX_REQUESTS must be at least 0, not -1."),
    ],
)
def test_gunicorn_refuses_a_size_that_is_not_a_whole_number_in_range(monkeypatch, name, value, message):
    with pytest.raises(SystemExit, match=re.escape(message)):
        gunicorn_config(monkeypatch, **{name: value})


def test_gunicorn_itself_loads_the_config_with_the_sizes_from_the_environment():
    environment = {key: value for key, value in os.environ.items() if key not in GUNICORN_SIZE}
    environment |= {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "6"}
    completed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    printed = dict(re.findall(r"^(\w+)\s+= (.*)$", completed.stdout, re.MULTILINE))
    assert printed["worker_class"] == "gthread"
    assert (printed["workers"], printed["threads"]) == ("2", "6")
    assert printed["wsgi_app"] == "assurance.wsgi:application"


def test_web_database_connections_fit_postgres_with_room_for_celery(monkeypatch, compose):
    environment = compose["services"]["web"]["environment"]
    config = gunicorn_config(monkeypatch, cpus=64)  # the most workers the CPU count alone gives

    # Each thread keeps its own connection for a while; PostgreSQL allows 100 by default.
    assert int(environment["DATABASE_CONN_MAX_AGE"]) > 0
    assert config["workers"] * config["threads"] <= 100 - 20
    # Left empty, the size is worked out from the CPUs; an operator sets it in .env.
    assert environment["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-}"
    assert environment["GUNICORN_THREADS"] == "${GUNICORN_THREADS:-}"


def test_production_settings_pass_the_deployment_checks():
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "PYTEST_"))
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "assurance.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": get_random_secret_key(),  # 50 characters
        "DJANGO_ALLOWED_HOSTS": "assure.example.nhs.uk",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "System check identified no issues" in completed.stdout, output


def test_ensure_admin_refuses_to_run_with_debug_off(settings, db):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("ensure_admin", stdout=io.StringIO())

    assert not get_user_model().objects.filter(username="admin").exists()


def test_ensure_admin_never_uses_the_default_password_with_debug_off(settings, db, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="set DEMO_ADMIN_PASSWORD"):
        call_command("ensure_admin", "--force", stdout=io.StringIO())

    assert not get_user_model().objects.filter(username="admin").exists()


def test_ensure_admin_creates_then_keeps_one_superuser_with_the_demo_password(settings, db, monkeypatch):
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    output = io.StringIO()

    call_command("ensure_admin", stdout=output)
    call_command("ensure_admin", stdout=output)

    admin = get_user_model().objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff, admin.email) == (True, True, "admin@example.org")
    assert admin.check_password("safeguard-demo-admin")
    assert "password: safeguard-demo-admin" in output.getvalue()


# The reverse proxy ------------------------------------------------------------------------------------------------

NGINX_CONF = REPO_ROOT / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def nginx_conf():
    return NGINX_CONF.read_text()


def directive(conf: str, name: str) -> list[str]:
    """Every value of an nginx directive in the configuration, comments left out."""
    text = re.sub(r"#[^\n]*", "", conf)
    return [" ".join(value.split()) for value in re.findall(rf"(?m)^\s*{name}\s+([^;]+);", text)]


def megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()
    return int(number) * {"": 1 / 1024**2, "k": 1 / 1024, "m": 1, "g": 1024}[unit.lower()]


def test_only_the_proxy_is_reachable_from_outside_and_it_fronts_gunicorn(compose, nginx_conf):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["web"]["expose"] == ["8000"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert set(proxy["ports"]) == {"80:80", "443:443"}
    assert "web" in proxy["depends_on"]
    upstream = re.search(r"upstream \w+ \{\s*server ([^;]+);", nginx_conf)
    assert upstream and upstream.group(1) == "web:8000"  # gunicorn's bind in gunicorn.conf.py
    assert "0.0.0.0:8000" in (REPO_ROOT / "gunicorn.conf.py").read_text()


def test_the_proxy_limits_request_bodies_to_what_the_app_accepts(nginx_conf, settings):
    from returns.evidence import MAX_EVIDENCE_BYTES
    from returns.excel import MAX_UPLOAD_BYTES

    (limit,) = directive(nginx_conf, "client_max_body_size")
    limit_mb = megabytes(limit)
    largest_file_mb = max(MAX_EVIDENCE_BYTES, MAX_UPLOAD_BYTES) / 1024**2
    form_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024**2
    # Room for the largest file the app accepts with the largest form around it, and not a megabyte more.
    assert largest_file_mb + form_mb <= limit_mb < largest_file_mb + form_mb + 1


def test_the_proxy_serves_the_static_files_the_web_service_collects(compose, nginx_conf):
    web, proxy = compose["services"]["web"], compose["services"]["proxy"]
    assert "collectstatic --noinput" in command_of(web)
    assert command_of(web).index("collectstatic") < command_of(web).index("gunicorn")
    root = web["environment"]["DJANGO_STATIC_ROOT"]
    volume = next(v.split(":")[0] for v in web["volumes"] if v.endswith(f":{root}"))
    assert volume in compose["volumes"]
    served = next(v for v in proxy["volumes"] if v.startswith(f"{volume}:"))
    assert served.endswith(":ro")
    assert re.search(rf"location /static/ \{{\s*alias {served.split(':')[1]}/;", nginx_conf)


def test_the_proxy_compresses_and_sets_the_forwarded_headers_the_app_trusts(compose, nginx_conf):
    from django.conf import settings as django_settings

    assert directive(nginx_conf, "gzip") == ["on"]
    assert {"application/json", "text/css", "application/javascript"} <= set(
        directive(nginx_conf, "gzip_types")[0].split()
    )
    headers = dict(value.split(" ", 1) for value in directive(nginx_conf, "proxy_set_header"))
    # Set by the proxy, never passed on from the client: Django believes X-Forwarded-Proto for HTTPS.
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["Host"] == "$host"
    environment = compose["services"]["web"]["environment"]
    assert (environment["TRUSTED_PROXY_HEADER"], environment["TRUSTED_PROXY_COUNT"]) == ("X-Forwarded-For", "1")
    production = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "assurance.settings", "DJANGO_DEBUG": "false",
             "DJANGO_SECRET_KEY": get_random_secret_key() * 2},
        capture_output=True, text=True, cwd=REPO_ROOT, check=True,
    )  # fmt: skip
    assert production.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert django_settings.MIDDLEWARE.index("assurance.middleware.TextGZipMiddleware") == 1


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


class EchoApp(http.server.BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers every request with the headers the proxy set."""

    def do_GET(self):
        body = json.dumps({name: self.headers.get(name) for name in ("X-Forwarded-Proto", "X-Forwarded-For")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """deploy/nginx.conf run by nginx itself, as written but for its addresses and paths: a throw-away
    certificate, loopback ports, the upstream a stand-in app, the static volume a folder. Installed by bin/test."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed; bin/test installs it (apt-get install nginx-light).")
    tmp_path = tmp_path_factory.mktemp("nginx")
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    static = tmp_path / "static"
    static.mkdir()
    (static / "site.0123abcd.css").write_text("body { color: #0b0c0c; }\n" * 40)
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoApp)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    conf = NGINX_CONF.read_text()
    for written, here in [
        ("server web:8000;", f"server 127.0.0.1:{app.server_address[1]};"),
        ("/etc/nginx/certs/", f"{certs}/"),
        ("alias /srv/static/;", f"alias {static}/;"),
        ("root /srv;", f"root {REPO_ROOT / 'deploy'};"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:80;", ""),
        ("listen [::]:443 ssl http2;", ""),
    ]:
        assert written in conf, written
        conf = conf.replace(written, here)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = conf.replace("http {", f"http {{\n{temp}\n    access_log off;", 1)
    conf = f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n{conf}"
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(
        [NGINX, "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log"), "-g",
         "daemon off; master_process off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", https_port)) == 0:
                break
        time.sleep(0.05)
    yield types.SimpleNamespace(http_port=http_port, https_port=https_port)
    server.terminate()
    server.wait(10)
    app.shutdown()


def through_proxy(proxy, method: str, path: str, body: bytes | None = None, headers=None):
    """One request over HTTPS to the proxy, certificate unchecked (it is a throw-away one)."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", proxy.https_port, context=ssl._create_unverified_context(), timeout=30
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_the_proxy_sends_plain_http_to_https(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=10)
    connection.request("GET", "/returns/?page=2")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location").startswith("https://127.0.0.1") and "/returns/?page=2" in response.getheader(
        "Location"
    )


def test_the_proxy_hands_requests_to_the_app_with_the_forwarded_headers_it_sets(proxy):
    status, _, body = through_proxy(
        proxy, "GET", "/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "6.6.6.6"}
    )
    assert status == 200
    forwarded = json.loads(body)
    assert forwarded["X-Forwarded-Proto"] == "https"  # set by the proxy, never passed on from the client
    assert forwarded["X-Forwarded-For"].split(",")[-1].strip() == "127.0.0.1"  # the right-most is the client


def test_the_proxy_serves_static_files_compressed_and_kept_for_a_year(proxy):
    status, headers, body = through_proxy(
        proxy, "GET", "/static/site.0123abcd.css", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert gzip.decompress(body).startswith(b"body {")


def test_a_body_too_large_gets_a_plain_english_page_not_nginx_s_own(proxy):
    from returns.evidence import MAX_EVIDENCE_BYTES

    files = b"x" * (MAX_EVIDENCE_BYTES + 4 * 1024**2)  # two evidence files of 7 MB each, say
    status, headers, body = through_proxy(
        proxy, "POST", "/returns/1/", body=files, headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert status == 413 and headers["Content-Type"] == "text/html"
    page = body.decode()
    assert "<h1>The files were too large to send together</h1>" in page and "Nothing was saved" in page
    assert "nginx" not in page
    # The page is the proxy's own: nobody can ask for it as a page at its address.
    status, _, _ = through_proxy(proxy, "GET", "/errors/request-too-large.html")
    assert status == 404


def test_the_page_for_a_body_too_large_names_the_limits_the_app_has():
    from returns.evidence import MAX_EVIDENCE_BYTES

    page = (REPO_ROOT / "deploy" / "errors" / "request-too-large.html").read_text()
    assert f"up to {MAX_EVIDENCE_BYTES // 1024**2} MB" in page
    assert '<html lang="en-GB">' in page and "<title>" in page
