"""The SC32 and Section 11 children catalogue documents hold what the NEL commissioning policy says.

Both come from the North East London *Safeguarding through Commissioning Policy* (March 2019): service
condition SC32 from its section 3.2, the twelve Section 11 standards and their assurance points from 4.0–4.1.
Each test loads the shipped document through the importer and checks it against the policy.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from standards.catalogue import import_document
from standards.models import AssuranceCriterion, Framework, Metric, ProviderType, SourceNote, Standard

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue"
PROVIDER_TYPES = ["acute", "community", "mental_health", "primary_care", "care_home", "independent"]

pytestmark = pytest.mark.django_db


def load(name: str) -> Framework:
    return import_document(json.loads((CATALOGUE / name).read_text(encoding="utf-8")))


@pytest.fixture
def sc32() -> Framework:
    return load("nhs-contract-sc32.json")


@pytest.fixture
def section_11() -> Framework:
    return load("nel-section-11-children.json")


def notes_on(item) -> list[SourceNote]:
    return list(item.source_notes.all())


def framework_notes(framework: Framework) -> list[SourceNote]:
    return list(framework.source_notes.filter(standard=None, criterion=None, metric=None))


# --------------------------------------------------------------------------------------------------- SC32


def test_sc32_framework_is_identified_with_its_source(sc32):
    assert (sc32.code, sc32.version, sc32.short_name, sc32.position) == ("nhs-contract-sc32", "2019", "SC32", 1)
    assert sc32.name == "NHS Standard Contract service condition SC32: Safeguarding, Mental Capacity and Prevent"
    assert sc32.source_document == "Safeguarding through Commissioning Policy"
    assert sc32.source_publisher == "North East London Commissioning Alliance"
    assert (sc32.source_date, sc32.source_section) == ("March 2019", "3.2")
    assert str(sc32.effective_from) == "2019-04-01" and sc32.effective_to is None


SC32_CLAUSES = [
    ("32.1", None),
    ("32.2", None),
    ("32.2.1", "32.2"),
    ("32.2.2", "32.2"),
    ("32.2.3", "32.2"),
    ("32.2.4", "32.2"),
    ("32.3", None),
    ("32.3.1", "32.3"),
    ("32.3.2", "32.3"),
    ("32.3.3", "32.3"),
    ("32.3.4", "32.3"),
    ("32.3.5", "32.3"),
    ("32.3.6", "32.3"),
]


def test_sc32_holds_every_clause_shown_in_source_order(sc32):
    assert [s.number for s in sc32.standards.order_by("position")] == [number for number, _ in SC32_CLAUSES]


@pytest.mark.parametrize(("number", "parent"), SC32_CLAUSES)
def test_sc32_sub_clauses_sit_under_their_clause(sc32, number, parent):
    standard = sc32.standards.get(number=number)
    assert (standard.parent.number if standard.parent else None) == parent
    assert standard.criteria.count() == 0


def test_sc32_clause_split_across_table_rows_is_whole_and_noted(sc32):
    clause = sc32.standards.get(number="32.1")
    assert clause.title.endswith(
        "must take appropriate action to respond to any allegation or disclosure of abuse in accordance with the Law."
    )
    assert [n.kind for n in notes_on(clause)] == ["interpretation"]
    assert "two rows" in notes_on(clause)[0].text


def test_sc32_duty_to_inform_commissioner_stays_on_32_2_4_with_a_note(sc32):
    clause = sc32.standards.get(number="32.2.4")
    assert "kept informed at all times" in clause.title
    assert "kept informed" not in sc32.standards.get(number="32.2").title
    [note] = notes_on(clause)
    assert note.kind == "interpretation" and "all four leads" in note.text


def test_sc32_missing_clause_32_4_2_is_noted_on_the_framework(sc32):
    kinds_by_text = {n.text: n.kind for n in framework_notes(sc32)}
    assert any("32.4.2" in text and kind == "missing_reference" for text, kind in kinds_by_text.items())
    assert not sc32.standards.filter(number__startswith="32.4").exists()


SC32_METRICS = [
    # code, kind, standard, frequency, frequency as written
    ("SC32-1", "self_assessment", "32.1", "annually", ""),
    ("SC32-2", "self_assessment", "32.2", "annually", ""),
    ("SC32-2-LEADS", "narrative", "32.2", "quarterly", "at all times"),
    ("SC32-3", "self_assessment", "32.3", "annually", ""),
]


def test_sc32_has_exactly_its_metrics(sc32):
    assert [m.code for m in sc32.metrics.order_by("position")] == [row[0] for row in SC32_METRICS]


@pytest.mark.parametrize(("code", "kind", "standard", "frequency", "as_written"), SC32_METRICS)
def test_sc32_metric_kind_standard_frequency_and_applicability(sc32, code, kind, standard, frequency, as_written):
    metric = sc32.metrics.get(code=code)
    assert (metric.kind, metric.standard.number, metric.frequency) == (kind, standard, frequency)
    assert metric.frequency_as_written == as_written
    assert metric.thresholds.count() == 0
    assert not metric.provider_types.exists() and not metric.services.exists()
    # The condition sets no reporting frequency, so each chosen one is explained.
    assert "interpretation" in [n.kind for n in notes_on(metric)]


def test_sc32_leads_metric_asks_for_the_four_leads(sc32):
    metric = sc32.metrics.get(code="SC32-2-LEADS")
    assert metric.title == "Named safeguarding, CSAE, MCA/DoLS and Prevent leads"
    assert metric.description.startswith("must ensure that the Co-ordinating Commissioner is kept informed")


# ------------------------------------------------------------------------------------------ Section 11

S11_TITLES = {
    "1": "Clear line of accountability",
    "2": "A senior board level lead",
    "3": "A culture of listening to children",
    "4": "Creating a culture of safety, equality and protection within all services.",
    "5": "Clear whistleblowing procedures",
    "6": "A suite of safeguarding policies and procedures including chaperoning.",
    "7": "Clear escalation policies",
    "8": "Arrangements which set out clearly the processes for sharing information",
    "9": "Provision of Designated and Named practitioners for child safeguarding.",
    "10": "Processes for safe recruitment and managing allegations against staff",
    "11": "Effective training of all staff consistent with national guidance and local initiatives",
    "12": "Effective supervision arrangements.",
}


def test_section_11_framework_is_identified_with_its_source(section_11):
    assert (section_11.code, section_11.version, section_11.position) == ("nel-section-11-children", "2019", 2)
    assert section_11.short_name == "Section 11 children"
    assert section_11.source_section == "4.0–4.1"
    assert section_11.description.startswith("This Act places duties on a range of organisations")


def test_section_11_has_the_twelve_standards_of_the_4_0_table(section_11):
    standards = list(section_11.standards.order_by("position"))
    assert [s.number for s in standards] == [str(n) for n in range(1, 13)]
    assert all(s.parent is None and s.title.startswith(S11_TITLES[s.number]) for s in standards)


CRITERIA_COUNTS = [
    # standard, top-level points, sub-points
    ("1", 2, 0),
    ("2", 3, 0),
    ("3", 1, 0),
    ("4", 5, 0),
    ("5", 3, 0),
    ("6", 4, 13),
    ("7", 3, 0),
    ("8", 4, 0),
    ("9", 4, 0),
    ("10", 5, 4),
    ("11", 7, 7),
    ("12", 8, 5),
]


@pytest.mark.parametrize(("number", "points", "sub_points"), CRITERIA_COUNTS)
def test_section_11_standard_has_every_assurance_point_of_4_1(section_11, number, points, sub_points):
    numbers = list(section_11.standards.get(number=number).criteria.values_list("number", flat=True))
    assert len([n for n in numbers if "." not in n]) == points
    assert len([n for n in numbers if "." in n]) == sub_points


@pytest.mark.parametrize(
    ("standard", "point", "starts"),
    [
        ("6", "3", "Scope and content of policies"),
        ("6", "3.13", "linking with the local Child Death Review Panel."),
        ("10", "4", "Providers should comply with London Child Protection Procedures"),
        ("10", "4.4", "Liaising with the LSCB."),
        ("11", "6", "Providers should have in place systems and processes that:"),
        ("11", "6.5", "Ensure that 85% of relevant staff are up to date"),
        ("12", "1", "Commissioned organisations should have a document"),
        ("12", "1.5", "follow local multi-agency policy and procedures"),
    ],
)
def test_section_11_sub_lists_sit_under_their_lead_in(section_11, standard, point, starts):
    criterion = AssuranceCriterion.objects.get(standard__framework=section_11, standard__number=standard, number=point)
    assert criterion.text.startswith(starts)


def test_section_11_intro_prose_is_guidance_not_a_point(section_11):
    with_guidance = {s.number: s.guidance for s in section_11.standards.exclude(guidance="")}
    assert set(with_guidance) == {"8", "12"}
    assert with_guidance["8"].startswith("Information sharing is essential")
    assert "one of the forms of clinical supervision" in with_guidance["12"]


def test_section_11_time_rules(section_11):
    rules = {
        (c.standard.number, c.number): (c.time_rule, c.time_rule_kind, c.time_limit, c.time_unit)
        for c in AssuranceCriterion.objects.filter(standard__framework=section_11).exclude(time_rule_kind="")
    }
    assert rules == {
        ("10", "1"): ("regularly reviewed at a minimum of three yearly", "at_least_every", 3, "years"),
        ("10", "4.1"): ("within one working day of the allegation being made", "within", 1, "working_days"),
    }


S11_METRICS = [
    # code, kind, standard, group, frequency, review interval in months
    *[(f"S11-{n:02d}", "self_assessment", str(n), "Self-assessment", "annually", None) for n in range(1, 13)],
    ("S11-06-CHAPERONING-POLICY", "policy", "6", "Policies", "annually", None),
    ("S11-10-SAFER-RECRUITMENT-POLICY", "policy", "10", "Safer recruitment", "annually", 36),
    ("S11-10-ALLEGATIONS-PROCEDURE", "policy", "10", "Allegations against staff", "annually", None),
    ("S11-11-TRAINING", "percentage", "11", "Training", "quarterly", None),
    ("S11-11-TRAINING-STRATEGY", "policy", "11", "Training", "annually", None),
    ("S11-12-SUPERVISION-DOCUMENT", "policy", "12", "Supervision", "annually", None),
]


def test_section_11_has_exactly_its_metrics(section_11):
    assert [m.code for m in section_11.metrics.order_by("position")] == [row[0] for row in S11_METRICS]


@pytest.mark.parametrize(("code", "kind", "standard", "group", "frequency", "review_months"), S11_METRICS)
def test_section_11_metric_definition(section_11, code, kind, standard, group, frequency, review_months):
    metric = section_11.metrics.get(code=code)
    assert (metric.kind, metric.standard.number, metric.group) == (kind, standard, group)
    assert (metric.frequency, metric.frequency_as_written) == (frequency, "")
    assert metric.review_interval_months == review_months
    assert not metric.provider_types.exists() and not metric.services.exists()
    # The policy gives none of these a reporting frequency, so each chosen one is explained.
    assert "interpretation" in [n.kind for n in notes_on(metric)]


@pytest.mark.parametrize("number", [str(n) for n in range(1, 13)])
def test_section_11_self_assessment_describes_its_standard(section_11, number):
    metric = section_11.metrics.get(code=f"S11-{int(number):02d}")
    assert metric.title.startswith(f"Standard {number} self-assessment: ")
    assert metric.description == section_11.standards.get(number=number).title


def test_section_11_training_percentage_labels(section_11):
    metric = section_11.metrics.get(code="S11-11-TRAINING")
    assert (
        metric.numerator_label == "Relevant staff up to date with the level of safeguarding children training they need"
    )
    assert metric.denominator_label == "Relevant staff"
    assert metric.higher_is_better


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_section_11_training_threshold_is_85_for_every_provider_type(section_11, provider_type):
    assert ProviderType.objects.filter(code=provider_type).exists()
    threshold = section_11.metrics.get(code="S11-11-TRAINING").threshold_for(provider_type)
    assert (threshold.green_from, threshold.amber_from) == (Decimal("85"), Decimal("80"))
    assert threshold.provider_type is None


def test_section_11_only_the_training_metric_has_a_threshold(section_11):
    assert list(
        Metric.objects.filter(framework=section_11, thresholds__isnull=False).values_list("code", flat=True)
    ) == ["S11-11-TRAINING"]


S11_NOTES = [
    # standard, criterion (None for the standard itself), kind, words the note quotes
    ("3", None, "inconsistency", "development/ coproduction"),
    ("9", None, "inconsistency", "Designated and Named practitioners"),
    ("12", None, "interpretation", "page break"),
    ("4", "2", "interpretation", "serious untoward incident SCR notification"),
    ("6", "4", "interpretation", "paragraph after the list"),
    ("10", "4.4", "inconsistency", "LSCB"),
    ("11", "6.2", "interpretation", "mandatory induction"),
    ("12", "5", "inconsistency", "trainers"),
]


@pytest.mark.parametrize(("standard", "criterion", "kind", "quoted"), S11_NOTES)
def test_section_11_source_inconsistencies_are_noted(section_11, standard, criterion, kind, quoted):
    item = Standard.objects.get(framework=section_11, number=standard)
    if criterion is not None:
        item = item.criteria.get(number=criterion)
    assert any(n.kind == kind and quoted in n.text for n in notes_on(item))


def test_section_11_title_keeps_the_4_0_table_wording(section_11):
    assert "development/ coproduction" in section_11.standards.get(number="3").title
