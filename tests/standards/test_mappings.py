"""Mappings between frameworks: same measure as, evidence towards; constraints, validation, versions, pages, admin."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from standards.models import Mapping, MappingKind, mapping_problems
from standards.selectors import mappings_in_force
from tests.factories import (
    AssuranceCriterionFactory,
    FrameworkFactory,
    MetricFactory,
    StandardFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SAME, EVIDENCE = MappingKind.SAME_MEASURE, MappingKind.EVIDENCE_TOWARDS


@pytest.fixture
def two():
    """Luton's and NEL's items that the tests map: percentages, policies, criteria and a standard of each."""
    luton = FrameworkFactory(code="luton-children", short_name="Luton children", version="2019/20")
    nel = FrameworkFactory(code="nel-section-11-children", short_name="Section 11 children", version="2019")
    luton_standard = StandardFactory(framework=luton, number="ES7", title="Safeguarding people who use services")
    nel_standard = StandardFactory(framework=nel, number="10", title="Processes for safe recruitment")
    return SimpleNamespace(
        luton=luton,
        nel=nel,
        nel_standard=nel_standard,
        luton_dbs=MetricFactory(
            standard=luton_standard, code="LUT-DBS", title="Staff with an enhanced DBS check", denominator_label="Staff"
        ),
        nel_dbs=MetricFactory(standard=nel_standard, code="S11-DBS", title="DBS checks", denominator_label=" staff."),
        luton_policy=MetricFactory(standard=luton_standard, policy=True, code="LUT-LADO-POLICY", title="LADO"),
        nel_policy=MetricFactory(standard=nel_standard, policy=True, code="S11-ALLEGATIONS", title="Allegations"),
        luton_point=AssuranceCriterionFactory(standard=luton_standard, number="1", text="Inform the LADO."),
        nel_point=AssuranceCriterionFactory(standard=nel_standard, number="4.1", text="Inform the LADO in a day."),
    )


def make(**fields):
    fields.setdefault("note", "Luton row “DBS”; NEL 4.1 Standard 10.")
    with transaction.atomic():
        return Mapping.objects.create(**fields)


# ----------------------------------------------------------------------------------------- database constraints


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(lambda t: {"kind": SAME, "target_metric": t.nel_dbs}, id="no source"),
        pytest.param(
            lambda t: {
                "kind": EVIDENCE,
                "source_metric": t.luton_dbs,
                "source_criterion": t.luton_point,
                "target_standard": t.nel_standard,
            },  # fmt: skip
            id="two sources",
        ),
        pytest.param(
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_standard": t.nel_standard},
            id="same measure to a standard",
        ),
        pytest.param(
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_criterion": t.nel_point},
            id="same measure from a metric to a point",
        ),
        pytest.param(
            lambda t: {"kind": EVIDENCE, "source_metric": t.luton_dbs, "target_metric": t.nel_dbs},
            id="evidence towards a metric",
        ),
        pytest.param(
            lambda t: {
                "kind": EVIDENCE,
                "source_metric": t.luton_dbs,
                "target_standard": t.nel_standard,
                "target_metric": t.nel_dbs,
            },  # fmt: skip
            id="two targets",
        ),
        pytest.param(lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_metric": t.luton_dbs}, id="self"),
        pytest.param(
            lambda t: {"kind": SAME, "source_criterion": t.nel_point, "target_criterion": t.nel_point},
            id="point to itself",
        ),
        pytest.param(
            lambda t: {"kind": "alike", "source_metric": t.luton_dbs, "target_metric": t.nel_dbs}, id="unknown kind"
        ),
        pytest.param(
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_metric": t.nel_dbs, "note": ""},
            id="no note",
        ),
    ],
)
def test_the_database_refuses_a_mapping_whose_kind_source_and_target_do_not_fit(two, fields):
    with pytest.raises(IntegrityError):
        make(**fields(two))
    assert not Mapping.objects.exists()


@pytest.mark.parametrize(
    "first, second",
    [
        pytest.param(
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_metric": t.nel_dbs},
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_metric": t.nel_dbs},
            id="the same pair twice",
        ),
        pytest.param(
            lambda t: {"kind": SAME, "source_metric": t.luton_dbs, "target_metric": t.nel_dbs},
            lambda t: {"kind": SAME, "source_metric": t.nel_dbs, "target_metric": t.luton_dbs},
            id="the same pair the other way round",
        ),
        pytest.param(
            lambda t: {"kind": SAME, "source_criterion": t.luton_point, "target_criterion": t.nel_point},
            lambda t: {"kind": SAME, "source_criterion": t.nel_point, "target_criterion": t.luton_point},
            id="two points either way round",
        ),
        pytest.param(
            lambda t: {"kind": EVIDENCE, "source_metric": t.luton_dbs, "target_standard": t.nel_standard},
            lambda t: {"kind": EVIDENCE, "source_metric": t.luton_dbs, "target_standard": t.nel_standard},
            id="evidence towards the same standard twice",
        ),
        pytest.param(
            lambda t: {"kind": EVIDENCE, "source_criterion": t.luton_point, "target_standard": t.nel_standard},
            lambda t: {"kind": EVIDENCE, "source_criterion": t.luton_point, "target_standard": t.nel_standard},
            id="a point as evidence towards the same standard twice",
        ),
    ],
)
def test_a_pair_is_held_once(two, first, second):
    make(**first(two))
    with pytest.raises(IntegrityError):
        make(**second(two))
    assert Mapping.objects.count() == 1


def test_each_kind_of_mapping_is_stored(two):
    make(kind=SAME, source_metric=two.luton_dbs, target_metric=two.nel_dbs)
    make(kind=SAME, source_criterion=two.luton_point, target_criterion=two.nel_point)
    make(kind=EVIDENCE, source_metric=two.luton_dbs, target_standard=two.nel_standard)
    make(kind=EVIDENCE, source_criterion=two.luton_point, target_standard=two.nel_standard)
    assert Mapping.objects.count() == 4


def test_removing_a_mapped_target_is_refused_but_removing_the_source_removes_its_mapping(two):
    make(kind=SAME, source_metric=two.luton_dbs, target_metric=two.nel_dbs)
    with pytest.raises(ProtectedError):
        two.nel_dbs.delete()
    two.luton_dbs.delete()
    assert not Mapping.objects.exists()


# ----------------------------------------------------------------------------------------------- validation


def test_two_percentages_counting_out_of_the_same_people_are_the_same_measure(two):
    # "Staff" and " staff." are the same words once case, spacing and a final full stop are set aside.
    assert mapping_problems(SAME, two.luton_dbs, two.nel_dbs) == []
    assert mapping_problems(SAME, two.luton_policy, two.nel_policy) == []
    assert mapping_problems(SAME, two.luton_point, two.nel_point) == []
    assert mapping_problems(EVIDENCE, two.luton_dbs, two.nel_standard) == []
    assert mapping_problems(EVIDENCE, two.luton_point, two.nel_standard) == []


def test_percentages_out_of_different_people_are_not_the_same_measure(two):
    level_1 = MetricFactory(framework=two.luton, code="LUT-L1", denominator_label="Staff eligible for level 1")
    [problem] = mapping_problems(SAME, level_1, two.nel_dbs)
    assert problem == (
        "metric “LUT-L1” counts out of “Staff eligible for level 1” and metric “S11-DBS” out of “ staff.”; a same "
        "measure counts out of the same people (word the denominators alike if they are), otherwise map it as "
        "evidence towards the standard."
    )


@pytest.mark.parametrize(
    "source, target, expected",
    [
        ({"policy": True}, {}, "“A” is of the kind “policy” and metric “B” of “percentage”"),
        ({"audit": True, "sample_size": 20}, {"audit": True, "sample_size": 30}, "samples 20 records"),
        ({"count": True, "higher_is_better": False}, {"count": True}, "disagree which way is better"),
    ],
)
def test_items_of_different_kinds_or_samples_or_directions_are_not_the_same_measure(two, source, target, expected):
    a = MetricFactory(framework=two.luton, code="A", **source)
    b = MetricFactory(framework=two.nel, code="B", **target)
    problems = mapping_problems(SAME, a, b)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_mapping_links_two_different_frameworks_and_items_that_fit_its_kind(two):
    other_version = FrameworkFactory(code="nel-section-11-children", version="2020", short_name="Section 11 children")
    later = MetricFactory(framework=other_version, code="S11-DBS", denominator_label="Staff")
    assert mapping_problems(SAME, two.nel_dbs, later) == [
        "metric “S11-DBS” and metric “S11-DBS” are both of nel-section-11-children; a mapping links two different "
        "frameworks."
    ]
    assert mapping_problems(SAME, two.luton_dbs, two.nel_point) == [
        "A same measure links a metric to another framework's metric, or a point to a point."
    ]
    assert mapping_problems(EVIDENCE, two.luton_dbs, two.nel_dbs) == [
        "Evidence towards links to another framework's standard."
    ]
    assert mapping_problems(SAME, None, two.nel_dbs) == [
        "Choose the metric or point of assurance it starts from and what it maps to."
    ]


def test_the_model_refuses_what_validation_refuses(two):
    mapping = Mapping(kind=SAME, source_metric=two.luton_dbs, target_metric=two.nel_policy, note="A note.")
    with pytest.raises(ValidationError) as refused:
        mapping.full_clean()
    assert "a same measure must be of the same kind" in str(refused.value)


# ----------------------------------------------------------------------------------------- in force, by version


@pytest.fixture
def versions():
    """Luton 2019/20 (open-ended) mapped to NEL 2019 (ends 31 March 2020) and, changed, to NEL 2020 (from 1 April)."""
    luton = FrameworkFactory(code="luton", version="2019/20", effective_from=datetime.date(2019, 4, 1))
    nel_2019 = FrameworkFactory(
        code="nel",
        version="2019",
        effective_from=datetime.date(2019, 4, 1),
        effective_to=datetime.date(2020, 3, 31),
    )
    nel_2020 = FrameworkFactory(code="nel", version="2020", effective_from=datetime.date(2020, 4, 1))
    sc32 = FrameworkFactory(code="sc32", version="2019", effective_from=datetime.date(2019, 4, 1))
    source = MetricFactory(framework=luton, code="LUT-DBS", denominator_label="Staff")
    nel_dbs = MetricFactory(framework=nel_2019, denominator_label="Staff")
    old = make(kind=SAME, source_metric=source, target_metric=nel_dbs)
    new = make(kind=EVIDENCE, source_metric=source, target_standard=StandardFactory(framework=nel_2020))
    other = make(kind=EVIDENCE, source_metric=source, target_standard=StandardFactory(framework=sc32))
    return SimpleNamespace(old=old, new=new, other=other, luton=luton, nel_2019=nel_2019, nel_2020=nel_2020)


@pytest.mark.parametrize(
    "day, expected",
    [
        (datetime.date(2019, 3, 31), set()),  # before any version
        (datetime.date(2019, 4, 1), {"old"}),  # the first day of both first versions
        (datetime.date(2020, 3, 31), {"old"}),  # the last day of NEL 2019
        (datetime.date(2020, 4, 1), {"new"}),  # NEL 2020 governs from here: the changed mapping only
        (datetime.date(2026, 12, 6), {"new"}),
    ],
)
def test_a_mapping_is_in_force_only_while_both_versions_are(versions, day, expected):
    found = mappings_in_force(day, frameworks=["luton", "nel"])
    assert {name for name in ("old", "new") if getattr(versions, name) in found} == expected
    assert versions.other not in found  # sc32 was not asked for


def test_mappings_in_force_for_a_period_use_the_versions_in_force_when_it_starts(versions):
    q4 = SimpleNamespace(starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2020, 3, 31))
    q1 = SimpleNamespace(starts_on=datetime.date(2020, 4, 1), ends_on=datetime.date(2020, 6, 30))
    assert list(mappings_in_force(q4)) == [versions.old, versions.other]
    assert list(mappings_in_force(q1, frameworks=[versions.luton, versions.nel_2020])) == [versions.new]
    # A version that is not in force for the period names no mapping.
    assert list(mappings_in_force(q1, frameworks=[versions.luton, versions.nel_2019])) == []


def test_mappings_in_force_are_read_in_a_fixed_number_of_queries(versions):
    with CaptureQueriesContext(connection) as queries:
        for mapping in mappings_in_force(datetime.date(2019, 6, 1)):
            str(mapping.source.framework), str(mapping.target.framework)
    assert len(queries) == 1


# ------------------------------------------------------------------------------------------------------ pages


@pytest.fixture
def mapped(two):
    make(
        kind=SAME,
        source_metric=two.luton_policy,
        target_metric=two.nel_policy,
        note="Luton row “Management of allegations”; NEL 4.1 Standard 10 point 4.",
    )
    make(kind=EVIDENCE, source_metric=two.luton_dbs, target_standard=two.nel_standard, note="Luton DBS; NEL 10.")
    make(kind=SAME, source_criterion=two.luton_point, target_criterion=two.nel_point, note="Both: tell the LADO.")
    return two


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_metric_page_shows_its_mappings_either_way_with_links_and_notes(signed_in_client, mapped):
    page = signed_in_client.get(mapped.nel_policy.get_absolute_url())
    text = text_of(page)
    assert "Same measure as LUT-LADO-POLICY: LADO (Luton children 2019/20, metric LUT-LADO-POLICY)" in text
    assert "Note: Luton row “Management of allegations”; NEL 4.1 Standard 10 point 4." in text
    assert f'href="{mapped.luton_policy.get_absolute_url()}"' in page.content.decode()

    page = signed_in_client.get(mapped.luton_dbs.get_absolute_url())
    assert (
        "Evidence towards Standard 10: Processes for safe recruitment (Section 11 children 2019, standard 10)"
        in text_of(page)
    )
    assert f'href="{mapped.nel_standard.get_absolute_url()}"' in page.content.decode()


def test_the_standard_page_shows_the_evidence_from_other_frameworks_and_its_points_and_metrics_mappings(
    signed_in_client, mapped
):
    page = signed_in_client.get(mapped.nel_standard.get_absolute_url())
    text = text_of(page)
    assert "Evidence from other frameworks" in text
    assert "Evidenced by LUT-DBS: Staff with an enhanced DBS check (Luton children 2019/20, metric LUT-DBS)" in text
    assert "Luton DBS; NEL 10." in text
    assert "Same measure as Inform the LADO. (Luton children 2019/20, standard ES7, point 1)" in text
    assert "Same measure as LUT-LADO-POLICY: LADO" in text
    luton_standard = mapped.luton_point.standard
    assert f'href="{luton_standard.get_absolute_url()}#criterion-{mapped.luton_point.pk}"' in page.content.decode()
    # The link lands on the point.
    target = signed_in_client.get(luton_standard.get_absolute_url()).content.decode()
    assert f'id="criterion-{mapped.luton_point.pk}"' in target


def test_the_framework_page_shows_the_mappings_of_its_metrics_points_and_standards(signed_in_client, mapped):
    text = text_of(signed_in_client.get(mapped.nel.get_absolute_url()))
    assert "Evidenced by LUT-DBS: Staff with an enhanced DBS check (Luton children 2019/20, metric LUT-DBS)" in text
    assert "Same measure as LUT-LADO-POLICY: LADO (Luton children 2019/20, metric LUT-LADO-POLICY)" in text
    assert "Same measure as Inform the LADO. (Luton children 2019/20, standard ES7, point 1)" in text
    assert "Why they are mapped" in text and "Both: tell the LADO." in text

    text = text_of(signed_in_client.get(mapped.luton.get_absolute_url()))
    towards = "Evidence towards Standard 10: Processes for safe recruitment (Section 11 children 2019, standard 10)"
    assert towards in text
    assert "Same measure as S11-ALLEGATIONS: Allegations (Section 11 children 2019, metric S11-ALLEGATIONS)" in text


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_catalogue_pages_ask_the_same_number_of_queries_however_many_mappings(signed_in_client, two):
    pages = [two.nel.get_absolute_url(), two.nel_standard.get_absolute_url(), two.nel_dbs.get_absolute_url()]
    make(kind=SAME, source_metric=two.luton_dbs, target_metric=two.nel_dbs)
    one = [count_queries(signed_in_client, url) for url in pages]
    for n in range(4):
        other = FrameworkFactory(code=f"other-{n}")
        make(
            kind=SAME,
            source_metric=MetricFactory(framework=other, denominator_label="Staff"),
            target_metric=two.nel_dbs,
        )
        make(kind=EVIDENCE, source_metric=MetricFactory(framework=other), target_standard=two.nel_standard)
        point = AssuranceCriterionFactory(standard=StandardFactory(framework=other))
        make(kind=SAME, source_criterion=point, target_criterion=two.nel_point)
        make(kind=EVIDENCE, source_criterion=point, target_standard=two.nel_standard)
    assert Mapping.objects.count() == 17
    assert [count_queries(signed_in_client, url) for url in pages] == one


# ------------------------------------------------------------------------------------------------------- API


def test_the_api_lists_mappings_with_both_items_and_filters_by_kind_and_framework(signed_in_client, mapped):
    body = signed_in_client.get(reverse("mapping-list")).json()

    assert body["count"] == 3
    first = body["results"][0]
    assert first["kind"] == "same_measure" and first["kind_display"] == "Same measure as"
    assert first["source"] == {
        "type": "metric", "id": mapped.luton_policy.pk, "code": "LUT-LADO-POLICY", "title": "LADO",
        "framework": "luton-children", "framework_version": "2019/20", "framework_id": mapped.luton.pk,
    }  # fmt: skip
    assert first["target"]["code"] == "S11-ALLEGATIONS" and first["note"].startswith("Luton row")
    evidence = signed_in_client.get(reverse("mapping-list"), {"kind": "evidence_towards"}).json()["results"]
    assert [(m["source"]["code"], m["target"]["type"], m["target"]["number"]) for m in evidence] == [
        ("LUT-DBS", "standard", "10")
    ]
    points = signed_in_client.get(reverse("mapping-list"), {"framework": "luton-children"}).json()["results"]
    assert {m["source"]["type"] for m in points} == {"metric", "criterion"}
    assert signed_in_client.get(reverse("mapping-list"), {"framework": "nobody"}).json()["count"] == 0


def test_the_api_reads_mappings_in_a_fixed_number_of_queries(signed_in_client, mapped):
    one = count_queries(signed_in_client, reverse("mapping-list"))
    other = FrameworkFactory(code="other")
    for _ in range(5):
        make(kind=EVIDENCE, source_metric=MetricFactory(framework=other), target_standard=mapped.nel_standard)
    assert count_queries(signed_in_client, reverse("mapping-list")) == one


# ------------------------------------------------------------------------------------------------------ admin


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="catalogue-admin", is_staff=True, is_superuser=True))
    return client


def test_admin_lists_mappings_with_filters_by_kind_and_framework(admin_client, mapped):
    url = reverse("admin:standards_mapping_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert "metric “LUT-LADO-POLICY” of Luton children 2019/20" in text
    assert "standard 10 of Section 11 children 2019" in text
    assert "3 mappings" in text
    assert text_of(admin_client.get(url, {"kind": "evidence_towards"})).count("of Luton children 2019/20") == 1
    assert "3 mappings" in text_of(admin_client.get(url, {"framework": mapped.nel.pk}))
    other = FrameworkFactory(code="other")
    assert "0 mappings" in text_of(admin_client.get(url, {"framework": other.pk}))
    assert admin_client.get(url, {"q": "LADO"}).status_code == 200


def test_admin_adds_a_mapping_with_its_history_and_refuses_one_that_is_not_the_same_measure(admin_client, two):
    add = reverse("admin:standards_mapping_add")
    assert admin_client.get(add).status_code == 200
    form = {"kind": SAME, "source_metric": two.luton_dbs.pk, "target_metric": two.nel_policy.pk, "note": "A note."}
    page = admin_client.post(add, form)
    assert page.status_code == 200
    assert "a same measure must be of the same kind" in text_of(page)
    assert not Mapping.objects.exists()

    form["target_metric"] = two.nel_dbs.pk
    assert admin_client.post(add, {**form, "position": 0}).status_code == 302
    mapping = Mapping.objects.get()
    change = reverse("admin:standards_mapping_change", args=[mapping.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {**form, "position": 0, "note": "A better note."}).status_code == 302
    assert [(h.history_type, h.note, h.history_user.username) for h in mapping.history.order_by("history_id")] == [
        ("+", "A note.", "catalogue-admin"),
        ("~", "A better note.", "catalogue-admin"),
    ]
    history = admin_client.get(reverse("admin:standards_mapping_history", args=[mapping.pk]))
    assert history.status_code == 200


def test_admin_refuses_the_same_pair_the_other_way_round(admin_client, two):
    make(kind=SAME, source_metric=two.luton_dbs, target_metric=two.nel_dbs)
    form = {"kind": SAME, "source_metric": two.nel_dbs.pk, "target_metric": two.luton_dbs.pk, "note": "A note."}
    page = admin_client.post(reverse("admin:standards_mapping_add"), {**form, "position": 0})
    assert page.status_code == 200
    assert "These two metrics are already mapped." in text_of(page)
    assert Mapping.objects.count() == 1


def test_admin_autocomplete_finds_items_by_their_framework(admin_client, two):
    url = reverse("admin:autocomplete")
    found = admin_client.get(
        url,
        {"app_label": "standards", "model_name": "mapping", "field_name": "target_standard", "term": "Section 11 10"},
    ).json()
    assert [r["id"] for r in found["results"]] == [str(two.nel_standard.pk)]
