"""The provider types and services its migration seeds are there whenever the database is: after a flush too, and an
administrator's changes to them are never undone."""

import importlib

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

from standards.models import ProviderType, Service

SEEDING = importlib.import_module("standards.migrations.0002_provider_types_and_services")


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_has_its_provider_types_and_services_again():
    call_command("flush", interactive=False, verbosity=0)
    assert list(ProviderType.objects.order_by("position").values_list("code", "name")) == SEEDING.PROVIDER_TYPES
    assert list(Service.objects.order_by("position").values_list("code", "name")) == SEEDING.SERVICES


@pytest.mark.django_db
def test_a_vocabulary_in_use_is_left_as_administrators_left_it():
    ProviderType.objects.filter(code="primary_care").update(name="General practice")
    ProviderType.objects.filter(code="care_home").delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert ProviderType.objects.get(code="primary_care").name == "General practice"
    assert not ProviderType.objects.filter(code="care_home").exists()
