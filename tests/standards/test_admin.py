"""Django admin for the catalogue: every model's pages load, changes are recorded with who and when."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from standards.catalogue import import_document
from standards.models import (
    AssuranceCriterion,
    Framework,
    Metric,
    ProviderType,
    Service,
    SourceNote,
    Standard,
    Threshold,
)
from tests.standards.test_catalogue_documents import minimal_document

CATALOGUE_MODELS = [Framework, Standard, AssuranceCriterion, Metric, Threshold, SourceNote, ProviderType, Service]


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("catalogue-admin", "admin@example.org", "x" * 16)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def framework():
    return import_document(minimal_document())


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
@pytest.mark.parametrize("model", CATALOGUE_MODELS, ids=lambda m: m.__name__)
def test_admin_list_add_change_and_history_pages_load(admin_client, framework, model):
    obj = model.objects.first()
    assert obj is not None
    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "changelist") + "?q=supervision",
        admin_url(model, "add"),
        admin_url(model, "change", obj.pk),
        admin_url(model, "history", obj.pk),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_admin_filters_metrics_by_kind_and_provider_type(admin_client, framework):
    response = admin_client.get(admin_url(Metric, "changelist") + "?kind=percentage&provider_types__code__exact=acute")
    assert response.status_code == 200
    assert "TEST-SUPERVISION" in response.content.decode()
    response = admin_client.get(admin_url(Metric, "changelist") + "?kind=count")
    assert "TEST-SUPERVISION" not in response.content.decode()


def metric_form_data(metric, **changes):
    thresholds = list(metric.thresholds.all())
    data = {
        "framework": metric.framework_id,
        "standard": metric.standard_id or "",
        "code": metric.code,
        "title": metric.title,
        "group": metric.group,
        "kind": metric.kind,
        "position": metric.position,
        "description": metric.description,
        "threshold_as_written": metric.threshold_as_written,
        "method_of_measurement": metric.method_of_measurement,
        "source_reference": metric.source_reference,
        "frequency": metric.frequency,
        "frequency_as_written": metric.frequency_as_written,
        "provider_types": [p.pk for p in metric.provider_types.all()],
        "services": [s.pk for s in metric.services.all()],
        "numerator_label": metric.numerator_label,
        "denominator_label": metric.denominator_label,
        "sample_size": metric.sample_size or "",
        "review_interval_months": metric.review_interval_months or "",
        "higher_is_better": "on" if metric.higher_is_better else "",
        "thresholds-TOTAL_FORMS": len(thresholds),
        "thresholds-INITIAL_FORMS": len(thresholds),
        "thresholds-MIN_NUM_FORMS": 0,
        "thresholds-MAX_NUM_FORMS": 1000,
        "source_notes-TOTAL_FORMS": 0,
        "source_notes-INITIAL_FORMS": 0,
        "source_notes-MIN_NUM_FORMS": 0,
        "source_notes-MAX_NUM_FORMS": 1000,
    }
    for i, t in enumerate(thresholds):
        data.update(
            {
                f"thresholds-{i}-id": t.pk,
                f"thresholds-{i}-metric": metric.pk,
                f"thresholds-{i}-provider_type": t.provider_type_id or "",
                f"thresholds-{i}-green_from": t.green_from,
                f"thresholds-{i}-amber_from": t.amber_from,
                f"thresholds-{i}-as_written": t.as_written,
                f"thresholds-{i}-note": t.note,
            }
        )
    data.update(changes)
    return data


@pytest.mark.django_db
def test_changing_a_threshold_in_admin_is_recorded_with_who_when_and_what(admin_client, administrator, framework):
    metric = framework.metrics.get()
    response = admin_client.post(
        admin_url(Metric, "change", metric.pk),
        metric_form_data(metric, **{"thresholds-0-green_from": "55", "thresholds-0-amber_from": "50"}),
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    threshold = metric.thresholds.get(provider_type="acute")
    assert threshold.green_from == 55
    latest = threshold.history.first()
    assert latest.history_user == administrator
    assert latest.history_type == "~"
    delta = latest.diff_against(latest.prev_record)
    assert {(c.field, str(c.old), str(c.new)) for c in delta.changes} >= {("green_from", "50.00", "55.00")}
    history_page = admin_client.get(admin_url(Threshold, "history", threshold.pk)).content.decode()
    assert "catalogue-admin" in history_page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes,message",
    [
        ({"thresholds-0-green_from": "120"}, "Ensure this value is less than or equal to 100"),
        ({"thresholds-0-amber_from": "60"}, "Amber must start at or below the threshold"),
        ({"kind": "count", "numerator_label": "", "denominator_label": ""}, "has no thresholds"),
        ({"denominator_label": ""}, "Say what the denominator counts"),
    ],
)
def test_admin_refuses_an_invalid_metric_and_changes_nothing(admin_client, framework, changes, message):
    metric = framework.metrics.get()
    response = admin_client.post(admin_url(Metric, "change", metric.pk), metric_form_data(metric, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    metric.refresh_from_db()
    assert metric.kind == "percentage"
    assert metric.thresholds.get(provider_type="acute").green_from == 50


@pytest.mark.django_db
def test_admin_imports_a_document_and_lists_every_problem_of_a_bad_one(admin_client):
    url = reverse("admin:standards_framework_import")
    assert admin_client.get(url).status_code == 200
    bad = minimal_document()
    bad["metrics"][0]["thresholds"][0]["green_from"] = "150"
    bad["metrics"][0]["kind"] = "percent"
    response = admin_client.post(url, {"document": SimpleUploadedFile("bad.json", json.dumps(bad).encode())})
    page = response.content.decode()
    assert response.status_code == 200
    assert "must be a percentage from 0 to 100; it is 150" in page
    assert "“kind” is “percent”" in page
    assert Framework.objects.count() == 0
    response = admin_client.post(
        url, {"document": SimpleUploadedFile("good.json", json.dumps(minimal_document()).encode())}
    )
    assert response.status_code == 302
    assert Framework.objects.get().history.get().history_user.username == "catalogue-admin"


@pytest.mark.django_db
def test_admin_exports_a_framework_as_a_document(admin_client, framework):
    response = admin_client.post(
        admin_url(Framework, "changelist"), {"action": "export_document", "_selected_action": [framework.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="test-framework-2024-25.json"'
    assert json.loads(response.content) == minimal_document()


@pytest.mark.django_db
def test_admin_makes_the_next_version(admin_client, framework):
    url = admin_url(Framework, "changelist")
    form = admin_client.post(url, {"action": "make_next_version", "_selected_action": [framework.pk]})
    assert form.status_code == 200 and "Make the new version" in form.content.decode()
    clash = admin_client.post(
        url,
        {
            "action": "make_next_version",
            "_selected_action": [framework.pk],
            "apply": "1",
            "version": "2024/25",
            "effective_from": "2025-04-01",
        },
    )
    assert "already exists" in clash.content.decode()
    done = admin_client.post(
        url,
        {
            "action": "make_next_version",
            "_selected_action": [framework.pk],
            "apply": "1",
            "version": "2025/26",
            "effective_from": "2025-04-01",
        },
    )
    assert done.status_code == 302
    assert list(Framework.objects.order_by("effective_from").values_list("version", "effective_to")) == [
        ("2024/25", __import__("datetime").date(2025, 3, 31)),
        ("2025/26", None),
    ]


@pytest.mark.django_db
def test_admin_is_refused_to_people_who_are_not_staff(client, django_user_model, framework):
    client.force_login(django_user_model.objects.create_user("nurse", password="x" * 16))
    response = client.get(admin_url(Metric, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
