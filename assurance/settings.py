"""Settings for Safeguard Assure, all read from environment variables in this one place.

Development defaults work on a fresh machine with no servers: SQLite in ``var/`` and Celery tasks run
in-process. Set ``DATABASE_URL`` and ``CELERY_BROKER_URL`` to run on PostgreSQL and Redis; set
``DJANGO_DEBUG=false`` with a real ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS`` for production
(``manage.py check --deploy`` accepts those values).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="development-only-secret-key-change-me-in-production-0123456789abcdef",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "guardian",
    "simple_history",
    "axes",
    "csp",
    "assurance",
    "standards",
    "providers",
    "returns",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Near the top, so that it compresses the body every middleware below has finished with (README, Deployment).
    "assurance.middleware.TextGZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "assurance.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes last, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "assurance.urls"
WSGI_APPLICATION = "assurance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if "DATABASE_URL" not in env:
    # The embedded default: a SQLite file in var/, created on first use so a fresh clone needs no set-up.
    VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'safeguard-assure.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
# A connection kept between requests is checked before reuse, so one the database closed meanwhile is replaced.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", DATABASES["default"]["CONN_MAX_AGE"] != 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses sign-in for a locked-out account before any other backend is asked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after a period of inactivity, as NHS users expect of a system holding sensitive data.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: lock an account (by username and address) after repeated failed sign-ins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "assurance.views.locked_out"
# Failures are counted per account and client address, so one address's failures never lock the account for
# others. Behind a proxy, name the header it puts the client's address in and how many proxies of yours add to
# it (assurance/client_address.py); a client can forge the header, so it is read only when configured.
AXES_CLIENT_IP_CALLABLE = "assurance.client_address.client_address"
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if TRUSTED_PROXY_HEADER else 0)

# django-guardian: no anonymous user object; anonymous people see nothing.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded evidence and generated reports live outside the web root and are only ever served
    # through views that check who is asking.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("PRIVATE_STORAGE_ROOT", default=str(VAR_DIR / "private"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# Security headers on every response, pages and API alike. The Content-Security-Policy (django-csp) lets pages
# load scripts, styles, images and fonts from the app itself only: no inline script or style, no other site, no
# framing. The API's documentation page (Redoc, from a CDN) is the one page that widens it (assurance/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features no page of the app uses, switched off by the Permissions-Policy header.
PERMISSIONS_POLICY = [
    "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture", "encrypted-media", "fullscreen",
    "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
]  # fmt: skip
# Links to other sites are not told which page (and so which return or provider) they were followed from.
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Safeguard Assure <no-reply@localhost>")

# Celery: with no broker configured, tasks run in-process so that a fresh machine needs no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# The queue jobs go to when none is named, including the jobs a worker sends itself (a committee pack's parts).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Results are kept only for the tasks that say so themselves: the heartbeat of ``check_services`` (someone waits for
# its answer) and the parts of a committee pack (the chord counts them in the result backend, which is Redis).
CELERY_TASK_IGNORE_RESULT = True
# A job is acknowledged only once it has finished, and one whose worker died is put back in the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Sending a job never holds up a request for more than about a second, whatever state Redis is in: a refused
# connection is tried once more after 0.2 s, a connection that does not open gives up after 0.5 s, and Redis not
# answering after 0.5 s. The job not sent is caught up by the sweeps below.
BROKER_SEND_TIMEOUT = 0.5  # seconds
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_SEND_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}
# A job taken by a worker that vanished without a word (killed, or its machine lost) goes back to the queue once
# it has been out this long; it must be longer than the longest job, or a job still running is started twice. The
# longest jobs are a report's (a committee pack is many small jobs, see reviews/report_services.py), and each is
# stopped at REPORT_TASK_TIME_LIMIT, half of this by default.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=10 * 60)  # seconds
REPORT_TASK_TIME_LIMIT = env.int("REPORT_TASK_TIME_LIMIT", default=max(1, CELERY_VISIBILITY_TIMEOUT // 2))  # seconds
if REPORT_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("REPORT_TASK_TIME_LIMIT must be shorter than CELERY_VISIBILITY_TIMEOUT.")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": BROKER_SEND_TIMEOUT,
    "socket_timeout": BROKER_SEND_TIMEOUT,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_SEND_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = 5  # seconds; only the heartbeat's answer is read or written there
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every few minutes beat sends again what was lost: the status of returns with none (the broker was down when they
# were submitted, or the worker died computing it), and reports queued or being made for too long (reviews/tasks.py).
# What a sweep sends expires by the next sweep, so duplicates never pile up behind a busy worker.
LOST_JOB_SWEEP_MINUTES = 5
# Celery beat (``celery -A assurance beat``): times are in CELERY_TIMEZONE.
CELERY_BEAT_SCHEDULE = {
    "mark-overdue-returns-nightly": {
        "task": "reviews.tasks.mark_overdue",
        "schedule": crontab(hour=1, minute=30),
    },
    "recompute-missing-rag": {
        "task": "reviews.tasks.recompute_missing",
        "schedule": crontab(minute=f"*/{LOST_JOB_SWEEP_MINUTES}"),
    },
    "requeue-stuck-reports": {
        "task": "reviews.tasks.requeue_stuck_reports",
        "schedule": crontab(minute=f"*/{LOST_JOB_SWEEP_MINUTES}"),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "assurance.authentication.LockedOutAwareBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Standard JSON only: Infinity, NaN and deep nesting are refused with a 400 (assurance/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "assurance.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Safeguard Assure API",
    "DESCRIPTION": "Safeguarding assurance catalogue, returns and reviews.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
