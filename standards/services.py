"""Actions that change the catalogue: making the next version of a framework."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q

from .catalogue import CatalogueImportError, export_framework, import_catalogue
from .models import AssuranceCriterion, Framework, Mapping, framework_of


def can_edit_catalogue(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.has_perm("standards.add_framework")))


def create_next_version(framework: Framework, *, version: str, effective_from: datetime.date, user) -> Framework:
    """Copy a framework version as a new version in force from ``effective_from``.

    The current version's period of effect ends the day before, so returns of earlier periods stay judged by
    the thresholds they were judged by; the copy is then edited for the new year. Its mappings are copied with it,
    and so are the other frameworks' mappings to its items, made again to the same items of the new version (a
    mapping is in force only while both its versions are, so without them the new year would have none).
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
            new = import_catalogue(document, user=user).framework
        except CatalogueImportError as refused:
            raise ValidationError(refused.errors) from refused
        _map_again_into(framework, new, user)
        return new


def _map_again_into(old: Framework, new: Framework, user) -> None:
    """Make the other frameworks' mappings to items of ``old`` again, to the same items of ``new``.

    Each copy goes at the end of its source framework's mappings, so that its document lists it last.
    """
    metrics = {metric.code: metric for metric in new.metrics.all()}
    standards = {standard.number: standard for standard in new.standards.all()}
    criteria = {
        (c.standard.number, c.number): c
        for c in AssuranceCriterion.objects.filter(standard__framework=new).select_related("standard")
    }
    into_old = Q(target_metric__framework=old) | Q(target_standard__framework=old)
    into_old |= Q(target_criterion__standard__framework=old)
    incoming = Mapping.objects.filter(into_old).select_related(
        "source_metric__framework", "source_criterion__standard__framework", "target_metric",
        "target_criterion__standard", "target_standard",
    )  # fmt: skip
    next_position: dict[int, int] = {}
    for mapping in incoming:
        if mapping.target_metric_id:
            field, target = "target_metric", metrics.get(mapping.target_metric.code)
        elif mapping.target_criterion_id:
            point = mapping.target_criterion
            field, target = "target_criterion", criteria.get((point.standard.number, point.number))
        else:
            field, target = "target_standard", standards.get(mapping.target_standard.number)
        if target is None:
            continue
        source_framework = framework_of(mapping.source)
        if source_framework.pk not in next_position:
            last = Mapping.objects.filter(
                Q(source_metric__framework=source_framework) | Q(source_criterion__standard__framework=source_framework)
            ).aggregate(last=Max("position"))["last"]
            next_position[source_framework.pk] = last + 1
        copy = Mapping(
            kind=mapping.kind,
            source_metric=mapping.source_metric,
            source_criterion=mapping.source_criterion,
            note=mapping.note,
            position=next_position[source_framework.pk],
        )
        setattr(copy, field, target)
        copy._history_user = user
        copy.save()
        next_position[source_framework.pk] += 1
