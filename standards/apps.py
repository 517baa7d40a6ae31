import importlib

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def vocabulary_after_migrate(sender, apps=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Put back the provider types and services its migration seeded when their table is empty again.

    ``manage.py flush`` empties every table and then sends ``post_migrate`` (as it does for content types and
    permissions): a database flushed that way (a test that commits its own transactions is followed by one) would
    otherwise have no provider types, which the return form, the catalogue and the dashboards cannot do without.
    A vocabulary in use is never touched, so what administrators changed stays as they left it.
    """
    apps = apps or global_apps  # migrate sends the models as migrated; flush sends none
    try:
        ProviderType = apps.get_model("standards", "ProviderType")
    except LookupError:  # migrating backwards, before the vocabulary existed
        return
    if ProviderType.objects.using(using).exists():
        return
    seeding = importlib.import_module("standards.migrations.0002_provider_types_and_services")
    seeding.seed(apps, None)


class StandardsConfig(AppConfig):
    name = "standards"
    verbose_name = "Standards catalogue"

    def ready(self):
        post_migrate.connect(vocabulary_after_migrate, sender=self)
