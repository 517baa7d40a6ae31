"""Seed the vocabulary of provider types and services that thresholds and applicability refer to."""

from django.db import migrations

PROVIDER_TYPES = [
    ("acute", "Acute hospital"),
    ("community", "Community health services"),
    ("mental_health", "Mental health services"),
    ("primary_care", "Primary care (GP practice)"),
    ("care_home", "Care home"),
    ("independent", "Independent or third sector"),
]

SERVICES = [
    ("children", "Children's services"),
    ("adults", "Adults' services"),
    ("maternity", "Maternity"),
    ("emergency_department", "Emergency department (A&E)"),
    ("inpatient", "Inpatient wards"),
    ("looked_after_children", "Looked-after children's health"),
    ("mental_health", "Mental health services"),
    ("sexual_health", "Sexual health"),
    ("learning_disability", "Learning disability services"),
]


def seed(apps, schema_editor):
    ProviderType = apps.get_model("standards", "ProviderType")
    Service = apps.get_model("standards", "Service")
    for position, (code, name) in enumerate(PROVIDER_TYPES):
        ProviderType.objects.update_or_create(code=code, defaults={"name": name, "position": position})
    for position, (code, name) in enumerate(SERVICES):
        Service.objects.update_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("standards", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
