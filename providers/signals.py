"""Roles change permissions: whenever a membership is saved or deleted, the person's permissions follow."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership, Organisation
from .permissions import sync_permissions


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def membership_changed(sender, instance, **kwargs):
    user = get_user_model().objects.filter(pk=instance.user_id).first()
    organisation = Organisation.objects.filter(pk=instance.organisation_id).first()
    if user is not None and organisation is not None:  # both are gone when the deletion cascades from them
        sync_permissions(user, organisation)
