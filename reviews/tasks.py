"""Celery tasks of reviews: thin, idempotent and safe to retry.

``recompute_missing`` (hourly) and ``mark_overdue`` (nightly) run from Celery beat; see ``CELERY_BEAT_SCHEDULE``.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from returns.models import Return

from . import services


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
)
def compute_rag(return_id: int) -> int | None:
    """Compute and store the RAG status of a submitted return; returns the current run's id."""
    provider_return = Return.objects.select_related("provider__provider_type", "period").filter(pk=return_id).first()
    if provider_return is None:
        return None
    run = services.compute_return_rag(provider_return)
    return run.pk if run else None


@shared_task(acks_late=True)
def recompute_missing() -> int:
    """Queue every submitted return with no status, or a status of an older submission; how many were queued.

    Catches up after the broker or the worker was down when a return was submitted.
    """
    return len(services.queue_missing_rag())


@shared_task(acks_late=True)
def mark_overdue() -> int:
    """Record the providers with nothing submitted by their period's deadline; how many newly found."""
    return services.mark_overdue()
