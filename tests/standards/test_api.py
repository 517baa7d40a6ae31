"""The catalogue's REST API: read-only, for signed-in people, nested in full, filterable, and exportable."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from standards.catalogue import export_framework
from tests.factories import FrameworkFactory, MetricFactory

pytestmark = pytest.mark.django_db


def api(path: str) -> str:
    return f"/api/v1/{path}"


def test_a_stranger_is_refused_every_catalogue_route(client, framework):
    standard = framework.standards.first()
    metric = framework.metrics.first()
    for path in [
        "frameworks/", f"frameworks/{framework.pk}/", f"frameworks/{framework.pk}/export/",
        "standards/", f"standards/{standard.pk}/", "metrics/", f"metrics/{metric.pk}/",
    ]:  # fmt: skip
        response = client.get(api(path))
        assert response.status_code in (401, 403), path
        assert "S11-" not in response.content.decode(), path


def test_the_catalogue_cannot_be_changed_through_the_api(signed_in_client, framework):
    assert signed_in_client.post(api("frameworks/"), {"code": "new"}).status_code == 405
    assert signed_in_client.delete(api(f"frameworks/{framework.pk}/")).status_code == 405
    metric = framework.metrics.first()
    assert signed_in_client.patch(api(f"metrics/{metric.pk}/"), {"title": "x"}).status_code == 405


@pytest.mark.parametrize(
    "path", ["frameworks/987654/", "frameworks/987654/export/", "standards/987654/", "metrics/987654/"]
)
def test_an_unknown_id_is_not_found(signed_in_client, path):
    assert signed_in_client.get(api(path)).status_code == 404


def test_the_framework_list_gives_each_version_with_its_counts(signed_in_client, framework):
    body = signed_in_client.get(api("frameworks/")).json()
    assert body["count"] == 1
    [listed] = body["results"]
    assert listed["code"] == "nel-section-11-children"
    assert listed["version"] == "2019/20"
    assert listed["standard_count"] == 2
    assert listed["metric_count"] == 3
    assert listed["source"]["document"] == "Safeguarding through Commissioning Policy"
    assert listed["export_url"].endswith(f"/api/v1/frameworks/{framework.pk}/export/")


def test_a_framework_in_full_nests_standards_criteria_metrics_thresholds_and_notes(signed_in_client, framework):
    body = signed_in_client.get(api(f"frameworks/{framework.pk}/")).json()
    assert body["notes"] == [
        {
            "kind": "lost_text",
            "kind_display": "Text lost from the source",
            "text": "Rows of the table were lost at a page break.",
        }
    ]
    standards = {standard["number"]: standard for standard in body["standards"]}
    assert list(standards) == ["11", "11.1"]
    assert standards["11.1"]["parent"] == standards["11"]["id"]
    assert [note["text"] for note in standards["11"]["notes"]] == ["The table numbers this standard 12."]
    criteria = {criterion["number"]: criterion for criterion in standards["11"]["criteria"]}
    assert list(criteria) == ["6", "6.5", "7"]
    assert criteria["6.5"]["notes"][0]["kind"] == "interpretation"
    assert criteria["7"]["time_rule"] == {
        "text": "within one working day of the allegation being made",
        "kind": "within",
        "limit": 1,
        "unit": "working_days",
        "summary": "Within 1 working day",
    }
    assert criteria["6"]["time_rule"] is None
    metrics = {metric["code"]: metric for metric in body["metrics"]}
    assert {
        (t["provider_type"], t["green_from"], t["amber_from"]) for t in metrics["S11-SUPERVISION"]["thresholds"]
    } == {
        ("community", "100.00", "95.00"),
        ("acute", "50.00", "45.00"),
    }
    assert metrics["S11-ALLEGATIONS"]["thresholds"] == []
    assert metrics["S11-ALLEGATIONS"]["standard"] is None
    assert metrics["S11-ALLEGATIONS"]["notes"][0]["kind"] == "missing_reference"


def test_the_export_is_the_catalogue_document_as_a_download(signed_in_client, framework):
    response = signed_in_client.get(api(f"frameworks/{framework.pk}/export/"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="nel-section-11-children-2019-20.json"'
    assert json.loads(response.content) == export_framework(framework)


def test_a_standard_carries_its_criteria_notes_and_metrics(signed_in_client, framework):
    standard = framework.standards.get(number="11")
    body = signed_in_client.get(api(f"standards/{standard.pk}/")).json()
    assert body["title"] == "Effective training of all staff"
    assert [criterion["number"] for criterion in body["criteria"]] == ["6", "6.5", "7"]
    assert [metric["code"] for metric in body["metrics"]] == ["S11-TRAINING"]
    assert body["metrics"][0]["thresholds"][0]["green_from"] == "85.00"


def test_the_metrics_are_filtered_like_the_search_page(signed_in_client, framework):
    other = FrameworkFactory()
    MetricFactory(framework=other, audit=True, code="LUT-AUDIT", provider_types=["acute"], services=["maternity"])

    def codes(**params):
        return sorted(metric["code"] for metric in signed_in_client.get(api("metrics/"), params).json()["results"])

    assert codes() == ["LUT-AUDIT", "S11-ALLEGATIONS", "S11-SUPERVISION", "S11-TRAINING"]
    assert codes(q="supervision") == ["S11-SUPERVISION"]
    assert codes(kind="audit") == ["LUT-AUDIT"]
    assert codes(framework=other.pk) == ["LUT-AUDIT"]
    assert "LUT-AUDIT" not in codes(provider_type="community")
    assert "LUT-AUDIT" in codes(provider_type="acute", service="maternity")
    assert codes(group="LADO") == ["S11-ALLEGATIONS"]
    assert signed_in_client.get(api("metrics/"), {"kind": "made-up"}).status_code == 400


def count_queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(api(path), params).status_code == 200
    return len(queries)


def test_the_api_asks_the_same_number_of_queries_however_large_the_catalogue(signed_in_client, catalogue_of_size):
    small = catalogue_of_size(2)
    paths = [
        f"frameworks/{small.pk}/",
        "frameworks/",
        "metrics/",
        f"standards/?framework={small.pk}",
        f"standards/{small.standards.first().pk}/",
        f"metrics/{small.metrics.first().pk}/",
    ]
    counts_small = [count_queries(signed_in_client, path) for path in paths]
    large = catalogue_of_size(20)
    paths = [path.replace(f"{small.pk}/", f"{large.pk}/").replace(f"={small.pk}", f"={large.pk}") for path in paths]
    paths[4] = f"standards/{large.standards.first().pk}/"
    paths[5] = f"metrics/{large.metrics.first().pk}/"
    assert [count_queries(signed_in_client, path) for path in paths] == counts_small
