from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Organisations and contracts"

    def ready(self):
        from . import signals  # noqa: F401
