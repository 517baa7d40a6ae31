"""Actions that change the catalogue: making the next version of a framework."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from .catalogue import CatalogueImportError, export_framework, import_catalogue
from .models import Framework


def can_edit_catalogue(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.has_perm("standards.add_framework")))


def create_next_version(framework: Framework, *, version: str, effective_from: datetime.date, user) -> Framework:
    """Copy a framework version as a new version in force from ``effective_from``.

    The current version's period of effect ends the day before, so returns of earlier periods stay judged by
    the thresholds they were judged by; the copy is then edited for the new year.
    """
    if not can_edit_catalogue(user):
        raise PermissionDenied("Only catalogue administrators can make a new version of a framework.")
    version = (version or "").strip()
    if not version:
        raise ValidationError({"version": "Enter the new version, for example “2020/21”."})
    if Framework.objects.filter(code=framework.code, version=version).exists():
        raise ValidationError({"version": f"Version {version} of this framework already exists."})
    if effective_from <= framework.effective_from:
        raise ValidationError(
            {
                "effective_from": (
                    f"The new version must start after {framework.effective_from:%d %B %Y}, when version "
                    f"{framework.version} started."
                )
            }
        )
    newer = Framework.objects.filter(code=framework.code, effective_from__gte=effective_from).exclude(pk=framework.pk)
    if newer.exists():
        raise ValidationError({"effective_from": "A newer version already starts on or after that date."})

    document = export_framework(framework)
    document["framework"]["version"] = version
    document["framework"]["effective_from"] = effective_from.isoformat()
    document["framework"]["effective_to"] = (
        framework.effective_to.isoformat()
        if framework.effective_to and framework.effective_to >= effective_from
        else None
    )
    with transaction.atomic():
        framework.effective_to = effective_from - datetime.timedelta(days=1)
        framework._history_user = user
        framework.save(update_fields=["effective_to", "updated_at"])
        try:
            return import_catalogue(document, user=user).framework
        except CatalogueImportError as refused:
            raise ValidationError(refused.errors) from refused
