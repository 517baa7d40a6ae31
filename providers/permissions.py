"""Keep each person's guardian permissions on an organisation equal to what their roles there grant."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from .models import ROLE_PERMISSIONS, Membership, Organisation, OrganisationUserObjectPermission


def sync_permissions(user, organisation: Organisation) -> None:
    """Grant exactly the permissions the person's current roles in the organisation give, and no others."""
    roles = Membership.objects.filter(user=user, organisation=organisation).values_list("role", flat=True)
    wanted = set().union(*(ROLE_PERMISSIONS[role] for role in roles)) if roles else set()
    content_type = ContentType.objects.get_for_model(Organisation)
    held = OrganisationUserObjectPermission.objects.filter(user=user, content_object=organisation)
    held_codenames = set(held.values_list("permission__codename", flat=True))
    held.exclude(permission__codename__in=wanted).delete()
    missing = wanted - held_codenames
    if missing:
        permissions = Permission.objects.filter(content_type=content_type, codename__in=missing)
        OrganisationUserObjectPermission.objects.bulk_create(
            [
                OrganisationUserObjectPermission(user=user, content_object=organisation, permission=p)
                for p in permissions
            ]
        )
