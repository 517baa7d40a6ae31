"""The Luton catalogue document holds what Luton CCG's quality specification says.

The source is Luton CCG's *Quality Specification: Safeguarding Children and Young People (up to the age of
19 years)* for the 2019/20 NHS Standard Contract: the safeguarding principles of its section 3 and the table of
performance metrics against Essential Standard 7, extracted from a PDF that lost and shifted cells at page
breaks. The test loads the shipped document through the importer and checks it against the specification.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from standards.catalogue import import_catalogues, import_document
from standards.models import Framework, SourceNote

DOCUMENT = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue" / "luton-children-quality-specification.json"
PROVIDER_TYPES = ["acute", "community", "mental_health", "primary_care", "care_home", "independent"]

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def luton(django_db_setup, django_db_blocker) -> Framework:
    """The document imported once for the module (an import takes a second), rolled back after its tests.

    The rest of the shipped catalogue is imported with it, as Luton's mappings point into the NEL frameworks.
    """
    documents = [(path.name, json.loads(path.read_text(encoding="utf-8"))) for path in DOCUMENT.parent.glob("*.json")]
    with django_db_blocker.unblock(), transaction.atomic():
        results = import_catalogues(documents)
        yield next(r.framework for r in results if r.framework.code == "luton-children-quality-specification")
        transaction.set_rollback(True)


def notes_on(item) -> list[SourceNote]:
    return list(item.source_notes.all())


def has_note(item, kind: str, quoted: str) -> bool:
    return any(n.kind == kind and quoted in n.text for n in notes_on(item))


# ------------------------------------------------------------------------------------------ the framework


def test_framework_is_identified_with_its_source(luton):
    assert (luton.code, luton.version, luton.short_name, luton.position) == (
        "luton-children-quality-specification",
        "2019/20",
        "Luton children",
        5,
    )
    assert luton.name == ("Quality Specification: Safeguarding Children and Young People (up to the age of 19 years)")
    assert luton.source_document == "Quality Specification: Safeguarding Children and Young People"
    assert luton.source_publisher == "Luton Clinical Commissioning Group"
    assert luton.source_date == "2019/20"
    assert luton.source_section == "1–3 and performance metrics against Essential Standard 7"
    assert str(luton.effective_from) == "2019-04-01" and luton.effective_to is None


def test_description_is_the_first_paragraph_of_1_1(luton):
    assert luton.description == (
        "Clinical Commissioning Groups (CCGs) have a responsibility (Section 11: Children Act 2004), to ensure "
        "that safeguarding and promoting the welfare of children is discharged effectively across the local "
        "health economy through its commissioning arrangements."
    )


FRAMEWORK_NOTES = [
    # kind, words the note quotes
    ("inconsistency", "Working Together to Safeguard Children 2018"),
    ("lost_text", "Health Care Plan (EHCP)"),
    ("lost_text", "“Quarterly”"),
]


@pytest.mark.parametrize(("kind", "quoted"), FRAMEWORK_NOTES)
def test_losses_and_contradictions_of_the_whole_document_are_noted(luton, kind, quoted):
    notes = luton.source_notes.filter(standard=None, criterion=None, metric=None)
    assert any(n.kind == kind and quoted in n.text for n in notes)


def test_working_together_note_names_every_place_an_edition_is_cited(luton):
    [note] = luton.source_notes.filter(standard=None, criterion=None, metric=None, kind="inconsistency")
    for place in ("1.1", "2.1", "3.2.1", "training row"):
        assert place in note.text


# --------------------------------------------------------------------------------------------- standards

STANDARDS = [
    # number, parent, top-level criteria, title begins
    ("3.1", None, 0, "Children may be vulnerable to neglect and abuse or exploitation"),
    ("3.2", None, 0, "A safeguarding children policy, which is child focused, is available to all staff."),
    ("3.2.1", "3.2", 4, "A safeguarding supervision policy that reflects a formal process"),
    ("3.3", None, 0, "A process for following up referrals to Children's Services"),
    ("3.4", None, 0, "All concerns and allegations of abuse by staff and volunteers will be taken seriously"),
    ("3.5", None, 0, "A commitment to the safer recruitment process is in place."),
    ("3.6", None, 0, "An effective complaints procedure is in place."),
    ("3.7", None, 14, "The procedures and systems should include:"),
    ("3.8", None, 0, "It is important that safeguarding policy and procedures are tailored"),
    ("ES7", None, 0, "Safeguarding people who use services from abuse"),
]


def test_holds_the_safeguarding_principles_and_essential_standard_7_in_source_order(luton):
    assert [s.number for s in luton.standards.order_by("position")] == [row[0] for row in STANDARDS]


@pytest.mark.parametrize(("number", "parent", "criteria", "title"), STANDARDS)
def test_standard_parent_criteria_and_title(luton, number, parent, criteria, title):
    standard = luton.standards.get(number=number)
    assert (standard.parent.number if standard.parent else None) == parent
    numbers = list(standard.criteria.values_list("number", flat=True))
    assert numbers == [str(n) for n in range(1, criteria + 1)]
    assert standard.title.startswith(title)


def test_3_1_is_prose_split_into_its_first_sentence_and_guidance(luton):
    standard = luton.standards.get(number="3.1")
    assert standard.title.endswith("from individuals they come across in their day-to-day lives.")
    assert standard.guidance.startswith("These threats can take a variety of different forms")
    assert standard.guidance.endswith("when determining what action to take.")


def test_3_2_1_lists_the_key_functions_of_supervision(luton):
    standard = luton.standards.get(number="3.2.1")
    texts = [c.text for c in standard.criteria.order_by("position")]
    assert [t.split(" ")[0] for t in texts] == ["management", "development", "support", "engagement/mediation"]
    assert standard.guidance.startswith("The key functions of supervision are:")
    assert "These policies should have CCG and Local safeguarding children board approval." in standard.guidance
    assert has_note(standard, "interpretation", "These policies")


def test_3_7_point_split_by_a_page_break_is_joined_and_noted(luton):
    criterion = luton.standards.get(number="3.7").criteria.get(number="6")
    assert "All staff should understand their safeguarding responsibilities. This includes being able to " in (
        criterion.text
    )
    assert "SAFEGUARDING PRINCIPLES" not in criterion.text
    assert has_note(criterion, "lost_text", "page break")


def test_3_7_intercollegiate_edition_differs_from_the_training_metric_and_is_noted(luton):
    criterion = luton.standards.get(number="3.7").criteria.get(number="9")
    assert criterion.text == "Training programmes are in line with the Intercollegiate Document (2019)."
    assert has_note(criterion, "inconsistency", "Intercollegiate Document (2014)")


def test_essential_standard_7_carries_the_table_headings(luton):
    standard = luton.standards.get(number="ES7")
    assert standard.guidance.split("\n\n") == [
        "2019/2020 NHS STANDARD CONTRACT FOR ACUTE, COMMUNITY AND MENTAL HEALTH AND LEARNING DISABILITY SERVICE "
        "(MULTILATERAL)",
        "PERFORMANCE METRICS AGAINST ESSENTIAL STANDARD 7 SAFEGUARDING PEOPLE WHO USE SERVICES FROM ABUSE",
    ]


# ----------------------------------------------------------------------------------------------- metrics

METRICS = [
    # code, kind, group, frequency, frequency as written
    ("LUT-SAFER-RECRUITMENT-AUDIT", "audit", "Safer recruitment", "annually", "Annually"),
    ("LUT-DBS", "percentage", "Safer recruitment", "quarterly", "Quarterly"),
    ("LUT-LADO-POLICY", "policy", "Allegations against staff (LADO)", "annually", "Annually"),
    ("LUT-LADO-TRAINING", "percentage", "Allegations against staff (LADO)", "quarterly", ""),
    ("LUT-ALLEGATIONS", "count", "Allegations against staff (LADO)", "quarterly", "Quarterly"),
    ("LUT-ALLEGATIONS-INVESTIGATED", "count", "Allegations against staff (LADO)", "quarterly", "Quarterly"),
    ("LUT-ALLEGATIONS-PROFESSIONAL-BODY", "count", "Allegations against staff (LADO)", "quarterly", "Quarterly"),
    ("LUT-SECTION-11", "self_assessment", "Section 11", "as_required", "As required by LSCB"),
    ("LUT-TRAINING-L1", "percentage", "Training", "quarterly", "Quarterly"),
    ("LUT-TRAINING-L2", "percentage", "Training", "quarterly", "Quarterly"),
    ("LUT-TRAINING-L3", "percentage", "Training", "quarterly", "Quarterly"),
    ("LUT-TRAINING-COURT", "percentage", "Training", "quarterly", "Quarterly"),
    ("LUT-SUPERVISION", "percentage", "Supervision", "quarterly", "Quarterly"),
    ("LUT-SUPERVISION-POLICY", "policy", "Supervision", "quarterly", "Quarterly"),
    ("LUT-SUPERVISION-CHILDRENS-DEPARTMENTS", "percentage", "Supervision", "quarterly", "Quarterly"),
    ("LUT-AE-INJURIES", "percentage", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-ADMISSIONS-SELF-HARM", "count", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-ADMISSIONS-SUBSTANCE-MISUSE", "count", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-NOT-CHAPERONED", "percentage", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-CHAPERONE-POLICY", "policy", "Children in hospital and A&E", "annually", "Annual Audit"),
    ("LUT-UNDER-16-CHILDRENS-WARD", "percentage", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-UNDER-16-ADULT-WARDS", "count", "Children in hospital and A&E", "quarterly", "Quarterly"),
    ("LUT-MIDWIFERY-INFORMATION-SHARING", "narrative", "Maternity and information sharing", "quarterly", ""),
    ("LUT-ADDITIONAL-INFORMATION-SHARING", "count", "Maternity and information sharing", "quarterly", ""),
    ("LUT-UNBORN-REFERRALS", "count", "Maternity and information sharing", "quarterly", ""),
    ("LUT-DA-PATERNAL-DETAILS", "audit", "Domestic abuse", "quarterly", ""),
    ("LUT-DA-REFERRALS-POLICE", "count", "Domestic abuse", "quarterly", ""),
    ("LUT-DA-REFERRALS-SOCIAL-CARE", "count", "Domestic abuse", "quarterly", ""),
    ("LUT-DA-REFERRALS-MARAC", "count", "Domestic abuse", "quarterly", ""),
    ("LUT-CSE-MISSING-REPORTING", "count", "Child sexual exploitation and missing", "quarterly", "Quarterly"),
    ("LUT-FGM", "count", "Harmful practices", "quarterly", ""),
    ("LUT-HONOUR-BASED-VIOLENCE", "count", "Harmful practices", "quarterly", ""),
    ("LUT-FORCED-MARRIAGE", "count", "Harmful practices", "quarterly", ""),
    ("LUT-GANGS", "count", "Harmful practices", "quarterly", ""),
    ("LUT-PREVENT-WRAP", "percentage", "Radicalisation (Prevent)", "monthly", "Monthly"),
    ("LUT-SLAVERY", "count", "Slavery and trafficking", "quarterly", ""),
    ("LUT-CSE-MISSING-INTELLIGENCE", "count", "Child sexual exploitation and missing", "quarterly", ""),
    ("LUT-MATERNITY-RECORDS-AUDIT", "audit", "Child sexual exploitation and missing", "quarterly", ""),
    ("LUT-TRAFFICKING-REFERRED", "percentage", "Slavery and trafficking", "quarterly", "Quarterly"),
    ("LUT-REVIEWS-REFERRED-TO-LSCB", "count", "Learning from reviews", "annually", ""),
    (
        "LUT-REVIEWS-LEARNING",
        "narrative",
        "Learning from reviews",
        "annually",
        "Annual audit of SCR actions. Annual report Annually",
    ),
    ("LUT-GUN-KNIFE-CRIME", "count", "Gun and knife crime", "quarterly", "Quarterly"),
    ("LUT-AUDIT-PROGRAMME", "narrative", "Audit programme", "six_monthly", "6 monthly"),
    ("LUT-LSCB-ATTENDANCE", "percentage", "Partnership (LSCB)", "six_monthly", "6 monthly"),
    (
        "LUT-CARE-PLANNING-AUDIT",
        "audit",
        "Care planning",
        "annually",
        "Annually Subject to CCG escalation process where appropriate",
    ),
    ("LUT-EARLY-CORE", "percentage", "Early intervention", "six_monthly", "6 monthly"),
    ("LUT-EARLY-TARGETED", "percentage", "Early intervention", "six_monthly", "6 monthly"),
    ("LUT-EARLY-FURTHER-ASSESSED", "percentage", "Early intervention", "six_monthly", "6 monthly"),
    ("LUT-ADULTS-POSING-RISK", "narrative", "Adults who may pose a risk", "quarterly", ""),
    ("LUT-CARE-LEAVERS-HEALTH-HISTORY", "percentage", "Care leavers", "six_monthly", "6 monthly"),
    ("LUT-CARE-LEAVERS-LEAVING-SERVICE", "percentage", "Care leavers", "six_monthly", "6 monthly"),
    ("LUT-CARE-LEAVERS-PATHWAY-PLAN", "percentage", "Care leavers", "six_monthly", "6 monthly"),
    ("LUT-CARE-LEAVERS-MENTAL-HEALTH", "percentage", "Care leavers", "six_monthly", "6 monthly"),
]


def test_has_one_metric_per_requirement_in_table_order(luton):
    assert [m.code for m in luton.metrics.order_by("position")] == [row[0] for row in METRICS]


@pytest.mark.parametrize(("code", "kind", "group", "frequency", "as_written"), METRICS)
def test_metric_kind_group_and_frequency(luton, code, kind, group, frequency, as_written):
    metric = luton.metrics.get(code=code)
    assert (metric.kind, metric.group, metric.standard.number) == (kind, group, "ES7")
    assert (metric.frequency, metric.frequency_as_written) == (frequency, as_written)
    assert metric.title and metric.source_reference.startswith("Performance metrics table")
    if not as_written:
        # The table gives this row no frequency, so the one chosen is explained beside it.
        assert "interpretation" in [n.kind for n in notes_on(metric)]


THRESHOLDS = {
    # code: {provider type (None for every type): (green from, amber from, as written)}
    "LUT-DBS": {None: ("100", "95", "100%")},
    "LUT-LADO-TRAINING": {None: ("90", "85", "90% of relevant staff trained")},
    "LUT-TRAINING-L1": {None: ("90", "85", "90% of eligible staff are trained to appropriate level")},
    "LUT-TRAINING-L2": {None: ("90", "85", "90% of eligible staff are trained to appropriate level")},
    "LUT-TRAINING-L3": {None: ("90", "85", "90% of eligible staff are trained to appropriate level")},
    "LUT-TRAINING-COURT": {None: ("100", "95", "100% staff trained /supported who are required to attend court.")},
    "LUT-SUPERVISION": {
        "acute": ("50", "45", "Acute Hospital : 50%"),
        "community": ("100", "95", "Community : 100%"),
    },
    "LUT-PREVENT-WRAP": {None: ("85", "80", "WRAP Training to achieve 85%")},
    "LUT-TRAFFICKING-REFERRED": {None: ("100", "95", "Record of cases 100% referred to relevant authority.")},
    "LUT-LSCB-ATTENDANCE": {None: ("75", "70", "75% attendance at LSCB and subgroups")},
    **{
        f"LUT-CARE-LEAVERS-{part}": {None: ("100", "95", "100% of care leavers")}
        for part in ("HEALTH-HISTORY", "LEAVING-SERVICE", "PATHWAY-PLAN", "MENTAL-HEALTH")
    },
}


@pytest.mark.parametrize("code", [row[0] for row in METRICS])
def test_metric_thresholds_are_those_the_table_states(luton, code):
    metric = luton.metrics.get(code=code)
    thresholds = {t.provider_type_id: (t.green_from, t.amber_from, t.as_written) for t in metric.thresholds.all()}
    expected = {
        provider_type: (Decimal(green), Decimal(amber), as_written)
        for provider_type, (green, amber, as_written) in THRESHOLDS.get(code, {}).items()
    }
    assert thresholds == expected


@pytest.mark.parametrize(
    ("provider_type", "green", "amber"),
    [
        ("community", Decimal("100"), Decimal("95")),
        ("acute", Decimal("50"), Decimal("45")),
    ],
)
def test_supervision_threshold_depends_on_the_provider_type(luton, provider_type, green, amber):
    threshold = luton.metrics.get(code="LUT-SUPERVISION").threshold_for(provider_type)
    assert threshold.provider_type_id == provider_type
    assert (threshold.green_from, threshold.amber_from) == (green, amber)


def test_acute_supervision_threshold_covers_the_first_six_months(luton):
    threshold = luton.metrics.get(code="LUT-SUPERVISION").threshold_for("acute")
    assert threshold.note == "first 6mths of the year"


@pytest.mark.parametrize("provider_type", ["mental_health", "primary_care", "care_home", "independent"])
def test_supervision_is_monitored_without_a_colour_where_the_source_sets_no_threshold(luton, provider_type):
    metric = luton.metrics.get(code="LUT-SUPERVISION")
    assert metric.threshold_for(provider_type) is None
    assert has_note(metric, "interpretation", "none for other types of provider")


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_training_threshold_is_90_for_every_provider_type(luton, provider_type):
    for level in (1, 2, 3):
        threshold = luton.metrics.get(code=f"LUT-TRAINING-L{level}").threshold_for(provider_type)
        assert (threshold.green_from, threshold.amber_from) == (Decimal("90"), Decimal("85"))


APPLICABILITY = {
    # code: (provider types, services); every other metric applies to every provider and service
    "LUT-SAFER-RECRUITMENT-AUDIT": ([], ["children"]),
    "LUT-DBS": ([], ["children"]),
    "LUT-SUPERVISION-CHILDRENS-DEPARTMENTS": ([], ["children"]),
    "LUT-AE-INJURIES": ([], ["emergency_department"]),
    "LUT-ADMISSIONS-SELF-HARM": ([], ["inpatient"]),
    "LUT-ADMISSIONS-SUBSTANCE-MISUSE": ([], ["inpatient"]),
    "LUT-UNDER-16-CHILDRENS-WARD": ([], ["inpatient"]),
    "LUT-UNDER-16-ADULT-WARDS": ([], ["inpatient"]),
    "LUT-MIDWIFERY-INFORMATION-SHARING": ([], ["maternity"]),
    "LUT-ADDITIONAL-INFORMATION-SHARING": ([], ["maternity"]),
    "LUT-UNBORN-REFERRALS": ([], ["maternity"]),
    "LUT-DA-PATERNAL-DETAILS": ([], ["maternity"]),
    "LUT-CSE-MISSING-REPORTING": (
        [],
        ["emergency_department", "looked_after_children", "mental_health", "sexual_health"],
    ),
    "LUT-MATERNITY-RECORDS-AUDIT": ([], ["maternity"]),
    "LUT-EARLY-CORE": (["community"], []),
    "LUT-EARLY-TARGETED": (["community"], []),
    "LUT-EARLY-FURTHER-ASSESSED": (["community"], []),
    "LUT-ADULTS-POSING-RISK": ([], ["mental_health"]),
    **{
        f"LUT-CARE-LEAVERS-{part}": ([], ["looked_after_children"])
        for part in ("HEALTH-HISTORY", "LEAVING-SERVICE", "PATHWAY-PLAN", "MENTAL-HEALTH")
    },
}


@pytest.mark.parametrize("code", [row[0] for row in METRICS])
def test_metric_applies_to_the_providers_and_services_the_table_names(luton, code):
    metric = luton.metrics.get(code=code)
    provider_types = sorted(metric.provider_types.values_list("code", flat=True))
    services = sorted(metric.services.values_list("code", flat=True))
    assert (provider_types, services) == APPLICABILITY.get(code, ([], []))


def test_early_intervention_is_asked_only_of_community_providers(luton):
    codes = set(luton.metrics.applicable_to("acute", ["children"]).values_list("code", flat=True))
    assert not codes & {"LUT-EARLY-CORE", "LUT-EARLY-TARGETED", "LUT-EARLY-FURTHER-ASSESSED"}
    codes = set(luton.metrics.applicable_to("community", []).values_list("code", flat=True))
    assert {"LUT-EARLY-CORE", "LUT-EARLY-TARGETED", "LUT-EARLY-FURTHER-ASSESSED"} <= codes


def test_only_the_harms_counted_are_trends_where_lower_is_better(luton):
    assert set(luton.metrics.filter(higher_is_better=False).values_list("code", flat=True)) == {
        "LUT-ADMISSIONS-SELF-HARM",
        "LUT-ADMISSIONS-SUBSTANCE-MISUSE",
        "LUT-NOT-CHAPERONED",
        "LUT-UNDER-16-ADULT-WARDS",
    }


def test_audit_sample_sizes_are_the_twenty_records_the_table_names(luton):
    sizes = dict(luton.metrics.filter(kind="audit").values_list("code", "sample_size"))
    assert sizes == {
        "LUT-SAFER-RECRUITMENT-AUDIT": 20,
        "LUT-DA-PATERNAL-DETAILS": None,
        "LUT-MATERNITY-RECORDS-AUDIT": 20,
        "LUT-CARE-PLANNING-AUDIT": None,
    }


def test_policies_have_a_review_date_but_no_interval(luton):
    policies = luton.metrics.filter(kind="policy")
    assert set(policies.values_list("code", flat=True)) == {
        "LUT-LADO-POLICY",
        "LUT-SUPERVISION-POLICY",
        "LUT-CHAPERONE-POLICY",
    }
    assert all(p.review_interval_months is None for p in policies)


def test_every_percentage_says_what_it_counts_and_out_of_what(luton):
    for metric in luton.metrics.filter(kind="percentage"):
        assert metric.numerator_label and metric.denominator_label, metric.code


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        (
            "LUT-DBS",
            "description",
            "Enhanced Disclosure and Barring Service(DBS) checks for all staff working with children",
        ),
        ("LUT-SECTION-11", "threshold_as_written", "Full compliance"),
        (
            "LUT-TRAINING-L1",
            "threshold_as_written",
            "Number of eligible staff at each level Number and % who have received training at their appropriate level",
        ),
        ("LUT-SUPERVISION", "description", "Safeguarding Children Supervision"),
        ("LUT-ADMISSIONS-SUBSTANCE-MISUSE", "threshold_as_written", "."),
        ("LUT-PREVENT-WRAP", "method_of_measurement", "Report on UNIQUE 2"),
        ("LUT-CSE-MISSING-INTELLIGENCE", "threshold_as_written", "Quarterly Audit"),
        ("LUT-AUDIT-PROGRAMME", "threshold_as_written", "Evidence of"),
        (
            "LUT-DA-REFERRALS-MARAC",
            "description",
            "Number of referrals for DA to Police Social Care Multi Agency Risk Assessment Conference (MARAC)",
        ),
    ],
)
def test_cells_are_kept_as_printed(luton, code, field, value):
    assert getattr(luton.metrics.get(code=code), field) == value


METRIC_NOTES = [
    # code, kind, words the note quotes
    ("LUT-LADO-TRAINING", "interpretation", "Frequency of Reporting cell of this row empty"),
    ("LUT-SECTION-11", "interpretation", "Method of Measurement cell is empty"),
    ("LUT-TRAINING-L1", "interpretation", "one percentage per level"),
    ("LUT-TRAINING-L1", "interpretation", "columns of the training row look shifted"),
    ("LUT-TRAINING-L1", "inconsistency", "Intercollegiate Document (2019)"),
    ("LUT-TRAINING-L2", "inconsistency", "Intercollegiate Document (2019)"),
    ("LUT-TRAINING-L3", "inconsistency", "Intercollegiate Document (2019)"),
    ("LUT-TRAINING-COURT", "interpretation", "columns of the training row look shifted"),
    ("LUT-SUPERVISION", "lost_text", "Evidence of a robust safeguarding supervision/peer"),
    ("LUT-SUPERVISION-CHILDRENS-DEPARTMENTS", "interpretation", "monitored without a colour"),
    ("LUT-AE-INJURIES", "interpretation", "“rate”"),
    ("LUT-ADMISSIONS-SUBSTANCE-MISUSE", "interpretation", "full stop"),
    ("LUT-CHAPERONE-POLICY", "interpretation", "Annual Audit"),
    ("LUT-FGM", "interpretation", "Harmful Practices heading row"),
    ("LUT-GANGS", "interpretation", "Harmful Practices heading row"),
    ("LUT-SLAVERY", "interpretation", "no threshold, method of measurement or frequency"),
    ("LUT-CSE-MISSING-INTELLIGENCE", "interpretation", "Quarterly Audit"),
    ("LUT-MATERNITY-RECORDS-AUDIT", "interpretation", "unclear which row it belongs to"),
    ("LUT-TRAFFICKING-REFERRED", "interpretation", "Panel (CSEP)"),
    ("LUT-REVIEWS-REFERRED-TO-LSCB", "lost_text", "page break"),
    ("LUT-REVIEWS-LEARNING", "lost_text", "page break"),
    ("LUT-AUDIT-PROGRAMME", "lost_text", "“Evidence of”"),
    ("LUT-CARE-PLANNING-AUDIT", "lost_text", "if the risk to the child increases"),
    ("LUT-EARLY-CORE", "interpretation", "(Community only)"),
    ("LUT-ADULTS-POSING-RISK", "lost_text", "Appropriate referral/action"),
]


@pytest.mark.parametrize(("code", "kind", "quoted"), METRIC_NOTES)
def test_metric_source_problems_are_noted(luton, code, kind, quoted):
    assert has_note(luton.metrics.get(code=code), kind, quoted)


def test_importing_the_document_again_changes_nothing(luton):
    again = import_document(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    assert again.pk == luton.pk
    assert again.history.count() == luton.history.count() == 1
