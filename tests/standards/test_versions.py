"""Framework versions: a new year's thresholds never change how last year's returns are judged."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from standards.catalogue import export_framework, import_document
from standards.models import Framework
from standards.services import create_next_version
from tests.standards.test_catalogue_documents import minimal_document

APRIL_2025 = datetime.date(2025, 4, 1)


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("catalogue-admin", "admin@example.org", "x" * 16)


@pytest.fixture
def framework():
    return import_document(minimal_document())


def supervision_threshold(framework, provider_type):
    return framework.metrics.get(code="TEST-SUPERVISION").threshold_for(provider_type)


@pytest.mark.django_db
def test_next_version_copies_everything_and_ends_the_previous_version(framework, administrator):
    new = create_next_version(framework, version="2025/26", effective_from=APRIL_2025, user=administrator)
    framework.refresh_from_db()
    assert framework.effective_to == datetime.date(2025, 3, 31)
    assert new.effective_from == APRIL_2025 and new.effective_to is None
    old_document, new_document = export_framework(framework), export_framework(new)
    for key in ("standards", "metrics", "services"):
        assert new_document[key] == old_document[key]
    assert new.history.get().history_user == administrator


@pytest.mark.django_db
def test_changing_a_threshold_in_the_new_version_leaves_last_years_threshold_alone(framework, administrator):
    new = create_next_version(framework, version="2025/26", effective_from=APRIL_2025, user=administrator)
    threshold = supervision_threshold(new, "acute")
    threshold.green_from = 60
    threshold.amber_from = 55
    threshold.save()

    in_force_last_year = Framework.objects.in_force_on(datetime.date(2024, 12, 31)).get(code="test-framework")
    in_force_this_year = Framework.objects.in_force_on(datetime.date(2025, 6, 30)).get(code="test-framework")
    assert in_force_last_year == framework
    assert in_force_this_year == new
    assert supervision_threshold(in_force_last_year, "acute").green_from == 50
    assert supervision_threshold(in_force_this_year, "acute").green_from == 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    "version,start,message",
    [
        ("2024/25", APRIL_2025, "already exists"),
        ("", APRIL_2025, "Enter the new version"),
        ("2023/24", datetime.date(2024, 4, 1), "must start after"),
    ],
)
def test_next_version_refuses_a_clash(framework, administrator, version, start, message):
    with pytest.raises(ValidationError, match=message):
        create_next_version(framework, version=version, effective_from=start, user=administrator)
    framework.refresh_from_db()
    assert framework.effective_to is None
    assert Framework.objects.count() == 1


@pytest.mark.django_db
def test_only_catalogue_administrators_make_versions(framework, django_user_model):
    reader = django_user_model.objects.create_user("reader", password="x" * 16)
    with pytest.raises(PermissionDenied):
        create_next_version(framework, version="2025/26", effective_from=APRIL_2025, user=reader)
    assert Framework.objects.count() == 1


@pytest.mark.django_db
def test_threshold_for_a_provider_type_falls_back_to_the_one_for_every_type(framework):
    metric = framework.metrics.get()
    assert metric.threshold_for("acute").green_from == 50
    assert metric.threshold_for("care_home") is None  # no threshold of its own and no general one
    general = metric.thresholds.get(provider_type="community")
    general.provider_type = None
    general.save()
    assert metric.threshold_for("care_home").green_from == 100
    assert metric.threshold_for("acute").green_from == 50


@pytest.mark.django_db
def test_metrics_apply_by_provider_type_and_service(framework):
    from standards.models import Metric

    metric = framework.metrics.get()  # acute and community, maternity only
    assert list(Metric.objects.applicable_to("acute", ["maternity", "children"])) == [metric]
    assert list(Metric.objects.applicable_to("acute", ["children"])) == []
    assert list(Metric.objects.applicable_to("care_home", ["maternity"])) == []
    metric.provider_types.clear()
    metric.services.clear()
    assert list(Metric.objects.applicable_to("care_home", [])) == [metric]
