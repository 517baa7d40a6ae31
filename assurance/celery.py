"""The Celery application: background work (RAG computation, PDF reports) runs here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assurance.settings")

app = Celery("assurance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
