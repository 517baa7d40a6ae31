"""Catalogue documents: shipped fixtures round-trip losslessly, re-import changes nothing, bad ones are refused."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from standards.catalogue import (
    CatalogueImportError,
    export_framework,
    import_catalogue,
    import_catalogues,
    import_document,
)
from standards.models import AssuranceCriterion, Framework, Mapping, Metric, SourceNote, Standard, Threshold

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "catalogue").glob("*.json"))
CATALOGUE_MODELS = [Framework, Standard, AssuranceCriterion, Metric, Threshold, SourceNote, Mapping]


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_shipped_catalogue() -> dict[str, Framework]:
    """Every shipped document, imported together (Luton's mappings point into the NEL frameworks)."""
    results = import_catalogues([(path.name, read(path)) for path in FIXTURES])
    return {result.framework.code: result.framework for result in results}


def minimal_document() -> dict:
    """A small valid document: one standard with a timed criterion, one percentage metric with two thresholds."""
    return {
        "format": "safeguard-assure-catalogue",
        "format_version": 1,
        "framework": {
            "code": "test-framework",
            "version": "2024/25",
            "name": "Test framework",
            "short_name": "Test",
            "description": "For tests.",
            "source": {"document": "A document", "publisher": "A publisher", "date": "2024", "section": "1"},
            "effective_from": "2024-04-01",
            "effective_to": None,
            "position": 9,
            "notes": [{"kind": "lost_text", "text": "A row was lost at a page break."}],
        },
        "services": [{"code": "maternity", "name": "Maternity"}],
        "standards": [
            {
                "number": "1",
                "parent": None,
                "title": "Processes for safe recruitment.",
                "guidance": "",
                "source_reference": "1",
                "notes": [],
                "criteria": [
                    {
                        "number": "1",
                        "text": "Inform the LADO within one working day.",
                        "source_reference": "",
                        "time_rule": {
                            "text": "within one working day",
                            "kind": "within",
                            "limit": 1,
                            "unit": "working_days",
                        },
                        "notes": [],
                    }
                ],
            },
            {
                "number": "1.1",
                "parent": "1",
                "title": "A sub-clause.",
                "guidance": "",
                "source_reference": "",
                "notes": [],
                "criteria": [],
            },
        ],
        "metrics": [
            {
                "code": "TEST-SUPERVISION",
                "title": "Staff receiving supervision",
                "standard": "1",
                "group": "Supervision",
                "kind": "percentage",
                "description": "Number of eligible staff who have received supervision",
                "threshold_as_written": "Community : 100% Acute Hospital : 50%",
                "method_of_measurement": "",
                "frequency": "quarterly",
                "frequency_as_written": "Quarterly",
                "provider_types": ["acute", "community"],
                "services": ["maternity"],
                "numerator_label": "Staff supervised",
                "denominator_label": "Eligible staff",
                "sample_size": None,
                "review_interval_months": None,
                "higher_is_better": True,
                "source_reference": "",
                "thresholds": [
                    {
                        "provider_type": "acute",
                        "green_from": "50",
                        "amber_from": "45",
                        "as_written": "50%",
                        "note": "first 6mths",
                    },
                    {
                        "provider_type": "community",
                        "green_from": "100",
                        "amber_from": "95",
                        "as_written": "100%",
                        "note": "",
                    },
                ],
                "notes": [{"kind": "interpretation", "text": "Other types are monitored without a colour."}],
            }
        ],
    }


def catalogue_state() -> dict:
    """Every catalogue row and history row count, to prove that a refused import changed nothing."""
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in CATALOGUE_MODELS}
    state["history"] = {model.__name__: model.history.count() for model in CATALOGUE_MODELS}
    return state


def test_the_shipped_catalogue_has_a_document_for_each_framework():
    assert [p.name for p in FIXTURES] == [
        "luton-children-quality-specification.json",
        "nel-provider-duties.json",
        "nel-safeguarding-adults.json",
        "nel-section-11-children.json",
        "nhs-contract-sc32.json",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_shipped_document_round_trips_losslessly(path):
    document = read(path)
    framework = load_shipped_catalogue()[document["framework"]["code"]]
    assert export_framework(framework) == document


@pytest.mark.django_db
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_importing_the_same_document_twice_changes_nothing(path):
    document = read(path)
    load_shipped_catalogue()
    before = catalogue_state()
    second = import_catalogue(copy.deepcopy(document))
    assert not second.created
    assert second.changes == 0, second.details
    assert catalogue_state() == before


@pytest.mark.django_db
def test_export_then_import_into_another_installation_gives_the_same_catalogue():
    document = minimal_document()
    exported = export_framework(import_document(document))
    Framework.objects.all().delete()  # a fresh installation
    assert Framework.objects.count() == 0
    again = export_framework(import_document(exported))
    assert again == exported == document


@pytest.mark.django_db
def test_import_makes_the_version_equal_to_the_document():
    import_document(minimal_document())
    changed = minimal_document()
    changed["metrics"][0]["thresholds"] = [changed["metrics"][0]["thresholds"][1]]  # drop the acute threshold
    changed["standards"] = changed["standards"][:1]  # drop the sub-clause
    changed["framework"]["notes"] = []
    result = import_catalogue(changed)
    assert result.changes > 0
    framework = result.framework
    assert list(framework.standards.values_list("number", flat=True)) == ["1"]
    metric = framework.metrics.get()
    assert [(t.provider_type_id, t.green_from) for t in metric.thresholds.all()] == [("community", 100)]
    assert not framework.source_notes.filter(standard=None, criterion=None, metric=None).exists()
    assert export_framework(framework) == changed


@pytest.mark.django_db
def test_import_records_who_made_each_change(django_user_model):
    admin = django_user_model.objects.create_user("nurse", password="x" * 14)
    framework = import_document(minimal_document(), user=admin)
    metric = framework.metrics.get()
    assert framework.history.get().history_user == admin
    assert {h.history_user for h in Threshold.history.filter(metric_id=metric.pk)} == {admin}


def mutate(change):
    document = minimal_document()
    change(document)
    return document


def _del(mapping, key):
    del mapping[key]


BAD_DOCUMENTS = [
    ("not an object", lambda d: ["a", "list"], "should be an object"),
    ("wrong format", lambda d: mutate(lambda x: x.update(format="something-else")), "“format” should be"),
    (
        "newer format version",
        lambda d: mutate(lambda x: x.update(format_version=2)),
        "is not one this installation reads",
    ),
    ("missing framework name", lambda d: mutate(lambda x: _del(x["framework"], "name")), "missing key “name”"),
    ("missing metrics", lambda d: mutate(lambda x: _del(x, "metrics")), "missing key “metrics”"),
    ("unknown key", lambda d: mutate(lambda x: x["framework"].update(colour="red")), "unknown key “colour”"),
    ("bad date", lambda d: mutate(lambda x: x["framework"].update(effective_from="1/4/2024")), "a date written like"),
    (
        "ends before it starts",
        lambda d: mutate(lambda x: x["framework"].update(effective_to="2020-01-01")),
        "“effective_to” is before “effective_from”",
    ),
    ("wrong kind", lambda d: mutate(lambda x: x["metrics"][0].update(kind="percent")), "“kind” is “percent”"),
    (
        "wrong frequency",
        lambda d: mutate(lambda x: x["metrics"][0].update(frequency="weekly")),
        "“frequency” is “weekly”",
    ),
    (
        "threshold over 100%",
        lambda d: mutate(lambda x: x["metrics"][0]["thresholds"][1].update(green_from="120")),
        "must be a percentage from 0 to 100; it is 120",
    ),
    (
        "amber above green",
        lambda d: mutate(lambda x: x["metrics"][0]["thresholds"][0].update(amber_from="60")),
        "“amber_from” (60) must not be above “green_from” (50)",
    ),
    (
        "threshold not a number",
        lambda d: mutate(lambda x: x["metrics"][0]["thresholds"][0].update(green_from="fifty")),
        "should be a percentage such as",
    ),
    (
        "two thresholds for one type",
        lambda d: mutate(lambda x: x["metrics"][0]["thresholds"][1].update(provider_type="acute")),
        "there is already a threshold for acute",
    ),
    (
        "unknown provider type",
        lambda d: mutate(lambda x: x["metrics"][0].update(provider_types=["hospice"])),
        "“hospice” in “provider_types” is not a known provider type",
    ),
    (
        "unknown service",
        lambda d: mutate(lambda x: x["metrics"][0].update(services=["dentistry"])),
        "“dentistry” in “services” is not a known service",
    ),
    (
        "thresholds on a count",
        lambda d: mutate(lambda x: x["metrics"][0].update(kind="count", numerator_label="", denominator_label="")),
        "has no thresholds",
    ),
    (
        "percentage without denominator",
        lambda d: mutate(lambda x: x["metrics"][0].update(denominator_label="")),
        "Say what the denominator counts",
    ),
    (
        "sample size on a percentage",
        lambda d: mutate(lambda x: x["metrics"][0].update(sample_size=20)),
        "Only an audit sample has a sample size",
    ),
    (
        "duplicate metric code",
        lambda d: mutate(lambda x: x["metrics"].append(copy.deepcopy(x["metrics"][0]))),
        "the code “TEST-SUPERVISION” is used by an earlier metric",
    ),
    (
        "metric under a missing standard",
        lambda d: mutate(lambda x: x["metrics"][0].update(standard="99")),
        "“standard” “99” is not the number of a standard",
    ),
    (
        "parent listed later",
        lambda d: mutate(lambda x: x["standards"].reverse()),
        "“parent” “1” is not the number of a standard listed before it",
    ),
    (
        "half a time rule",
        lambda d: mutate(lambda x: _del(x["standards"][0]["criteria"][0]["time_rule"], "unit")),
        "missing key “unit”",
    ),
    (
        "bad metric code",
        lambda d: mutate(lambda x: x["metrics"][0].update(code="test supervision")),
        "may only hold upper-case letters",
    ),
    (
        "note of unknown kind",
        lambda d: mutate(lambda x: x["framework"]["notes"].append({"kind": "typo", "text": "x"})),
        "“kind” is “typo”",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,make,message", BAD_DOCUMENTS, ids=[b[0] for b in BAD_DOCUMENTS])
def test_bad_document_is_refused_with_a_clear_message_and_changes_nothing(name, make, message):
    import_document(minimal_document())  # an existing version that a bad update must leave alone
    before = catalogue_state()
    with pytest.raises(CatalogueImportError) as refused:
        import_document(make(None))
    assert any(message in error for error in refused.value.errors), refused.value.errors
    assert catalogue_state() == before


@pytest.mark.django_db
def test_every_problem_in_a_document_is_listed_at_once():
    document = minimal_document()
    document["metrics"][0]["thresholds"][1]["green_from"] = "150"
    document["metrics"][0]["kind"] = "percent"
    del document["framework"]["short_name"]
    with pytest.raises(CatalogueImportError) as refused:
        import_document(document)
    assert len(refused.value.errors) == 3
    assert refused.value.errors[0].startswith("framework: missing key “short_name”")


@pytest.mark.django_db
def test_a_version_overlapping_another_of_the_same_framework_is_refused():
    import_document(minimal_document())
    overlapping = minimal_document()
    overlapping["framework"]["version"] = "2025/26"
    overlapping["framework"]["effective_from"] = "2025-04-01"
    with pytest.raises(CatalogueImportError) as refused:
        import_document(overlapping)
    assert "Version 2024/25 of this framework is already in force" in refused.value.errors[0]
    assert Framework.objects.count() == 1


@pytest.mark.django_db
def test_load_catalogue_command_loads_the_shipped_catalogue_and_is_idempotent():
    out = StringIO()
    call_command("load_catalogue", stdout=out)
    assert Framework.objects.count() == len(FIXTURES)
    assert out.getvalue().count("created") == len(FIXTURES)
    out = StringIO()
    call_command("load_catalogue", *map(str, FIXTURES), stdout=out)
    assert out.getvalue().count("unchanged") == len(FIXTURES)


@pytest.mark.django_db
def test_load_catalogue_refuses_every_document_when_one_is_bad(tmp_path):
    good = tmp_path / "a-good.json"
    good.write_text(json.dumps(minimal_document()))
    bad_document = minimal_document()
    bad_document["framework"]["code"] = "another"
    bad_document["metrics"][0]["thresholds"][0]["green_from"] = "101"
    bad = tmp_path / "b-bad.json"
    bad.write_text(json.dumps(bad_document))
    broken = tmp_path / "c-broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("load_catalogue", str(good), str(broken))
    with pytest.raises(CommandError) as refused:
        call_command("load_catalogue", str(good), str(bad))
    assert "Nothing was imported" in str(refused.value)
    assert "b-bad.json: metric TEST-SUPERVISION thresholds[0]: “green_from” must be a percentage from 0 to 100" in str(
        refused.value
    )
    assert Framework.objects.count() == 0


@pytest.mark.django_db
def test_export_catalogue_writes_the_fixtures_as_they_are(tmp_path):
    call_command("load_catalogue", stdout=StringIO())
    call_command("export_catalogue", output_dir=str(tmp_path), stdout=StringIO())
    for path in FIXTURES:
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), path.name


@pytest.mark.django_db
def test_export_catalogue_to_standard_output_writes_one_document():
    import_document(minimal_document())
    out = StringIO()
    call_command("export_catalogue", code="test-framework", to_stdout=True, stdout=out)
    assert json.loads(out.getvalue()) == minimal_document()
