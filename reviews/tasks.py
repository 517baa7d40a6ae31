"""Celery tasks of reviews: thin, idempotent and safe to retry."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from returns.models import Return

from .services import compute_return_rag


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
    run = compute_return_rag(provider_return)
    return run.pk if run else None
