# Safeguard Assure: one image for the web server (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PRIVATE_STORAGE_ROOT=/data/private

# The libraries WeasyPrint needs to lay out and render PDF reports, and their fonts: Noto for every script a
# provider may type (Latin, Arabic and Urdu, Bengali, Gujarati, Gurmukhi, Tamil... in core, Chinese in cjk, emoji).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
        fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

# Only what the app runs on: not .venv, var/ or anything else a working copy may hold.
COPY manage.py gunicorn.conf.py ./
COPY assurance ./assurance
COPY standards ./standards
COPY providers ./providers
COPY returns ./returns
COPY reviews ./reviews
COPY templates ./templates
COPY static ./static
COPY fixtures ./fixtures

# Static files are collected with production settings, so that WhiteNoise's manifest matches what it serves.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only-not-used-at-run-time \
    python manage.py collectstatic --noinput

RUN useradd --system --create-home --uid 1000 safeguard \
    && mkdir -p "$PRIVATE_STORAGE_ROOT" /srv/static \
    && chown safeguard "$PRIVATE_STORAGE_ROOT" /srv/static
USER safeguard

EXPOSE 8000
# Threaded workers sized from the CPUs the container may use (gunicorn.conf.py; WEB_CONCURRENCY, GUNICORN_THREADS).
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
