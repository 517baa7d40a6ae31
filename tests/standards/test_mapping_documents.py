"""Mappings in catalogue documents: they round-trip, a mapping to an unknown item is refused by name, the shipped ones
resolve and cite both sources word for word."""

import copy
import datetime
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from standards.catalogue import CatalogueImportError, export_framework, import_catalogue, import_catalogues
from standards.models import Framework, Mapping, Metric, framework_of
from standards.selectors import mappings_in_force
from standards.services import create_next_version
from tests.standards.test_catalogue_documents import FIXTURES, catalogue_state, minimal_document, read
from tests.standards.test_faithful_to_source import SOURCE_FILE, SOURCES, normalise

pytestmark = pytest.mark.django_db


def target_document() -> dict:
    """Another framework ("nel-test", 2019) with a percentage metric, a policy, a standard and a point."""
    document = minimal_document()
    document["framework"].update(code="nel-test", version="2019", name="NEL test", short_name="NEL test")
    document["metrics"][0]["code"] = "NEL-SUPERVISION"
    policy = copy.deepcopy(document["metrics"][0])
    policy.update(
        code="NEL-POLICY", kind="policy", numerator_label="", denominator_label="", thresholds=[], notes=[],
        provider_types=[], services=[], review_interval_months=36,
    )  # fmt: skip
    document["metrics"].append(policy)
    return document


def source_document() -> dict:
    """The minimal document with a mapping of each kind and item, all pointing into ``target_document``."""
    document = minimal_document()
    target = {"framework": "nel-test", "version": "2019"}
    document["mappings"] = [
        {
            "kind": "same_measure",
            "source": {"metric": "TEST-SUPERVISION"},
            "target": {**target, "metric": "NEL-SUPERVISION"},
            "note": "Test row “supervision”; NEL test 1.",
        },
        {
            "kind": "same_measure",
            "source": {"standard": "1", "criterion": "1"},
            "target": {**target, "standard": "1", "criterion": "1"},
            "note": "Both: inform the LADO.",
        },
        {
            "kind": "evidence_towards",
            "source": {"metric": "TEST-SUPERVISION"},
            "target": {**target, "standard": "1"},
            "note": "Supervision evidences standard 1.",
        },
        {
            "kind": "evidence_towards",
            "source": {"standard": "1", "criterion": "1"},
            "target": {**target, "standard": "1.1"},
            "note": "The point evidences 1.1.",
        },
    ]
    return document


def load(*documents):
    return import_catalogues([(f"{i}.json", document) for i, document in enumerate(documents)])


def test_a_document_with_mappings_round_trips_and_a_second_import_changes_nothing():
    source = load(target_document(), source_document())[1].framework
    assert Mapping.objects.count() == 4
    assert export_framework(source) == source_document()
    before = catalogue_state()
    again = import_catalogue(source_document())
    assert again.changes == 0, again.details
    assert catalogue_state() == before


def test_the_mapped_framework_exports_no_mappings_of_its_own():
    target = load(target_document(), source_document())[0].framework
    assert export_framework(target) == target_document()
    assert "mappings" not in export_framework(target)


def test_documents_may_point_to_one_another_in_either_order():
    load(source_document(), target_document())
    assert Mapping.objects.count() == 4


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda m: m[2]["target"].update(standard="99"),
            "1.json: Mapping 3 points to standard 99 of nel-test 2019, which the catalogue does not have.",
        ),
        (
            lambda m: m[0]["target"].update(metric="NEL-99-X"),
            "1.json: Mapping 1 points to metric “NEL-99-X” of nel-test 2019, which the catalogue does not have.",
        ),
        (
            lambda m: m[1]["target"].update(criterion="7"),
            "1.json: Mapping 2 points to point 7 of standard 1 of nel-test 2019, which the catalogue does not have.",
        ),
        (
            lambda m: m[0]["target"].update(version="2020/21"),
            "1.json: Mapping 1 points to metric “NEL-SUPERVISION” of nel-test 2020/21, which the catalogue does not "
            "have.",
        ),
    ],
)
def test_a_mapping_to_an_item_the_catalogue_does_not_have_is_refused_by_name_and_nothing_is_loaded(change, message):
    document = source_document()
    change(document["mappings"])
    with pytest.raises(CatalogueImportError) as refused:
        load(target_document(), document)
    assert refused.value.errors == [message]
    assert not Framework.objects.exists() and not Mapping.objects.exists()


def test_load_catalogue_names_the_unknown_item_and_imports_nothing(tmp_path):
    document = source_document()
    document["mappings"][0]["target"]["metric"] = "S11-99-X"
    (tmp_path / "a.json").write_text(json.dumps(target_document()))
    (tmp_path / "b.json").write_text(json.dumps(document))
    with pytest.raises(CommandError) as refused:
        call_command("load_catalogue", str(tmp_path), stdout=StringIO())
    assert "Nothing was imported" in str(refused.value)
    assert "b.json: Mapping 1 points to metric “S11-99-X” of nel-test 2019, which the catalogue does not have." in str(
        refused.value
    )
    assert not Framework.objects.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda m: m[0]["source"].update(metric="TEST-NOPE"),
            "mapping 1: its source, metric “TEST-NOPE”, is not a metric of this document.",
        ),
        (
            lambda m: m[1]["source"].update(criterion="9"),
            "mapping 2: its source, point 9 of standard 1, is not a point of this document.",
        ),
        (
            lambda m: m[0]["target"].update(framework="test-framework", version="2024/25"),
            "mapping 1: it points to metric “NEL-SUPERVISION” of this document's own framework; a mapping links two "
            "different frameworks.",
        ),
        (lambda m: m[0].update(kind="alike"), "mapping 1: “kind” is “alike”; it should be one of"),
        (lambda m: m[0].update(note="  "), "mapping 1: “note” must not be empty."),
        (lambda m: m.append(copy.deepcopy(m[0])), "mapping 5: the same mapping is listed earlier in the document."),
        (
            lambda m: m[0].update(source={"standard": "1"}),
            "mapping 1 source: should name “metric”, or “standard” with “criterion”.",
        ),
        (lambda m: m[0].update(colour="red"), "mapping 1: unknown key “colour” (check the spelling)."),
    ],
)
def test_a_badly_formed_mapping_is_refused_before_anything_is_loaded(change, message):
    document = source_document()
    change(document["mappings"])
    with pytest.raises(CatalogueImportError) as refused:
        load(target_document(), document)
    assert any(error.startswith("1.json: " + message) for error in refused.value.errors), refused.value.errors
    assert not Framework.objects.exists()


def test_a_same_measure_of_incompatible_items_is_refused_as_admin_refuses_it():
    document = source_document()
    document["mappings"][0]["target"]["metric"] = "NEL-POLICY"
    with pytest.raises(CatalogueImportError) as refused:
        load(target_document(), document)
    assert refused.value.errors == [
        "1.json: Mapping 1: metric “TEST-SUPERVISION” is of the kind “percentage” and metric “NEL-POLICY” of "
        "“policy”; a same measure must be of the same kind."
    ]
    assert not Framework.objects.exists()


def test_a_same_measure_already_held_the_other_way_round_is_refused():
    load(target_document(), source_document())
    reverse = target_document()
    reverse["mappings"] = [
        {
            "kind": "same_measure",
            "source": {"metric": "NEL-SUPERVISION"},
            "target": {"framework": "test-framework", "version": "2024/25", "metric": "TEST-SUPERVISION"},
            "note": "The same pair again.",
        }
    ]
    before = catalogue_state()
    with pytest.raises(CatalogueImportError) as refused:
        import_catalogue(reverse)
    assert refused.value.errors == [
        "Mapping 1: metric “TEST-SUPERVISION” of test-framework 2024/25 is already mapped as the same measure as "
        "metric “NEL-SUPERVISION” (in the document of test-framework); a pair is held once."
    ]
    assert catalogue_state() == before


def test_import_makes_the_mappings_equal_to_the_document_with_history():
    load(target_document(), source_document())
    changed = source_document()
    del changed["mappings"][3]
    changed["mappings"][0]["note"] = "A better note."
    result = import_catalogue(changed)
    assert result.changes == 2, result.details
    assert export_framework(result.framework) == changed
    assert sorted(h.history_type for h in Mapping.history.all()) == ["+", "+", "+", "+", "-", "~"]
    # Leaving ``mappings`` out removes them all.
    del changed["mappings"]
    import_catalogue(changed)
    assert not Mapping.objects.exists()


def test_removing_an_item_another_framework_maps_to_is_refused_by_name():
    load(target_document(), source_document())
    target = target_document()
    target["standards"] = target["standards"][:1]  # drops standard 1.1, which the test framework's point evidences
    before = catalogue_state()
    with pytest.raises(CatalogueImportError) as refused:
        import_catalogue(target)
    assert refused.value.errors == [
        "This document removes standard 1.1, which a mapping of test-framework 2024/25 points to (from its point 1 "
        "of standard 1). Change or remove that mapping first."
    ]
    assert catalogue_state() == before


def test_the_next_version_of_a_framework_keeps_its_mappings(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "x" * 16)
    source = load(target_document(), source_document())[1].framework
    new = create_next_version(source, version="2025/26", effective_from=datetime.date(2025, 4, 1), user=admin)
    assert export_framework(new)["mappings"] == source_document()["mappings"]
    assert Mapping.objects.count() == 8


def test_the_next_version_of_a_mapped_framework_is_mapped_again_from_the_other_frameworks(django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "a@example.org", "x" * 16)
    target, source = (result.framework for result in load(target_document(), source_document()))
    new = create_next_version(target, version="2025", effective_from=datetime.date(2025, 4, 1), user=admin)

    exported = export_framework(source)
    assert exported["mappings"][:4] == source_document()["mappings"]
    again = copy.deepcopy(source_document()["mappings"])
    for mapping in again:
        mapping["target"]["version"] = "2025"
    assert exported["mappings"][4:] == again
    assert {h.history_user for h in Mapping.history.filter(target_standard__framework=new)} == {admin}

    def mapped_versions(day):
        return [framework_of(mapping.target).version for mapping in mappings_in_force(day)]

    # Each governs its own years: the old version's until 31 March 2025, the copies from 1 April.
    assert mapped_versions(datetime.date(2025, 3, 31)) == ["2019"] * 4
    assert mapped_versions(datetime.date(2025, 4, 1)) == ["2025"] * 4
    # The source's document, exported with the new mappings, imports again unchanged.
    assert import_catalogue(exported).changes == 0


# ------------------------------------------------------------------------------------------- the shipped ones


@pytest.fixture
def shipped():
    call_command("load_catalogue", stdout=StringIO())
    return [(path, mapping) for path in FIXTURES for mapping in read(path).get("mappings", [])]


def test_every_shipped_mapping_resolves(shipped):
    assert len(shipped) >= 20
    assert Mapping.objects.count() == len(shipped)
    for mapping in Mapping.objects.all():
        mapping.full_clean()  # the same validation as admin's


def test_the_shipped_catalogue_maps_the_measures_the_two_documents_share(shipped):
    def targets(code):
        metric = Metric.objects.get(code=code, framework__code="luton-children-quality-specification")
        return {
            (m.kind, m.target.framework.code, m.target.number if m.target_standard_id else m.target.code)
            for m in metric.source_mappings.all()
        }

    s11 = "nel-section-11-children"
    for level in ("1", "2", "3"):
        assert targets(f"LUT-TRAINING-L{level}") == {("evidence_towards", s11, "11")}
    assert targets("LUT-DBS") == {("evidence_towards", s11, "10")}
    assert targets("LUT-SAFER-RECRUITMENT-AUDIT") == {("evidence_towards", s11, "10")}
    assert targets("LUT-SUPERVISION") == {("evidence_towards", s11, "12")}
    assert targets("LUT-SUPERVISION-POLICY") == {("same_measure", s11, "S11-12-SUPERVISION-DOCUMENT")}
    assert targets("LUT-PREVENT-WRAP") == {("evidence_towards", "nel-safeguarding-adults", "3")}
    assert targets("LUT-LADO-POLICY") == {("same_measure", s11, "S11-10-ALLEGATIONS-PROCEDURE")}
    assert targets("LUT-LSCB-ATTENDANCE") == {("evidence_towards", s11, "2"), ("evidence_towards", s11, "9")}
    assert targets("LUT-SECTION-11") == {("evidence_towards", s11, str(n)) for n in range(1, 13)}


def test_every_shipped_note_cites_both_sources_in_their_own_words(shipped):
    sources = {name: normalise((SOURCES / file).read_text(encoding="utf-8")) for name, file in SOURCE_FILE.items()}
    both = " ".join(sources.values())
    for path, mapping in shipped:
        note = mapping["note"]
        assert "Luton" in note and "NEL" in note, note
        quoted = re.findall(r"“([^”]+)”", note)
        assert quoted, note
        missing = [q for q in quoted if normalise(q) not in both and normalise(q).rstrip(".") not in both]
        assert not missing, f"{path.name}: quoted words not in either source: {missing}"
