"""The safeguarding adults and provider duties catalogue documents hold what the NEL commissioning policy says.

Both come from the North East London *Safeguarding through Commissioning Policy* (March 2019): the eleven
safeguarding adults standards of the 5.1 table with the guidance of 5.2, and the provider duties of sections
6.0–15.0. Each test loads the shipped document through the importer and checks it against the policy,
including the places where the policy contradicts itself and the catalogue must say so.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from standards.catalogue import export_framework, import_document
from standards.models import AssuranceCriterion, Framework, Metric, ProviderType, Service, SourceNote, Standard

CATALOGUE = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue"
PROVIDER_TYPES = ["acute", "community", "mental_health", "primary_care", "care_home", "independent"]
NHS_TRUST_TYPES = ["acute", "community", "mental_health"]

pytestmark = pytest.mark.django_db


def read(name: str) -> dict:
    return json.loads((CATALOGUE / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker) -> dict[str, Framework]:
    """Both documents imported once for the module, in a transaction rolled back after its last test.

    Each test still runs in its own savepoint (pytest-django's ``django_db``), so none sees another's changes.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield {
            name: import_document(read(f"{name}.json")) for name in ("nel-safeguarding-adults", "nel-provider-duties")
        }
        transaction.set_rollback(True)


@pytest.fixture
def adults(catalogue) -> Framework:
    return catalogue["nel-safeguarding-adults"]


@pytest.fixture
def duties(catalogue) -> Framework:
    return catalogue["nel-provider-duties"]


def notes_on(item) -> list[SourceNote]:
    return list(item.source_notes.all())


def framework_notes(framework: Framework) -> list[SourceNote]:
    return list(framework.source_notes.filter(standard=None, criterion=None, metric=None))


def criterion_counts(standard: Standard) -> tuple[int, int]:
    numbers = list(standard.criteria.values_list("number", flat=True))
    return len([n for n in numbers if "." not in n]), len([n for n in numbers if "." in n])


def time_rules(framework: Framework) -> dict:
    return {
        (c.standard.number, c.number): (c.time_rule, c.time_rule_kind, c.time_limit, c.time_unit)
        for c in AssuranceCriterion.objects.filter(standard__framework=framework).exclude(time_rule_kind="")
    }


@pytest.mark.parametrize("name", ["nel-safeguarding-adults.json", "nel-provider-duties.json"])
def test_shipped_document_is_exactly_what_the_exporter_writes_back(name):
    document = read(name)
    assert export_framework(import_document(document)) == document


# ------------------------------------------------------------------------------------ safeguarding adults

# The 5.1 table, word for word.
ADULTS_TITLES = {
    "1": "Processes for safe recruitment and managing allegations against staff who work with adults with care "
    "and support needs",
    "2": "Safeguarding strategies, policies and procedures including a chaperoning policy",
    "3": "Effective training of all staff in safeguarding adults, the Mental Capacity Act and Deprivation of "
    "Liberty Safeguards, and Prevent commensurate with their role and consistent with national guidance",
    "4": "Policies, arrangements and records to ensure consent to care and treatment is obtained in line with "
    "legislation and guidance including the Mental Capacity Act 2005",
    "5": "Effective supervision arrangements for staff working with adults at risk of abuse or neglect",
    "6": "Effective arrangements for information sharing and working in partnership with other agencies "
    "including the Safeguarding Adults Board",
    "7": "Active engagement with local multi agency adult safeguarding procedures",
    "8": "Provision of a named lead for adult safeguarding, a Mental Capacity Act and Deprivation of Liberty lead, "
    "a Prevent lead and a lead for adult safeguarding at each hospital where applicable",
    "9": "Provider organisation annual safeguarding adults report",
    "10": "Effective arrangements for identifying, preventing and reducing domestic abuse",
    "11": "Effective arrangements for implementing the Prevent and Channel duties ('to have due regard to the need "
    "to prevent people from being drawn into terrorism when exercising their functions') (Applies to NHS Trusts "
    "and NHS Foundation Trusts)",
}


def test_adults_framework_is_identified_with_its_source(adults):
    assert (adults.code, adults.version, adults.position) == ("nel-safeguarding-adults", "2019", 3)
    assert (adults.name, adults.short_name) == ("Safeguarding adults standards", "Safeguarding adults")
    assert adults.source_document == "Safeguarding through Commissioning Policy"
    assert adults.source_publisher == "North East London Commissioning Alliance"
    assert (adults.source_date, adults.source_section) == ("March 2019", "5.1–5.2")
    assert str(adults.effective_from) == "2019-04-01" and adults.effective_to is None


def test_adults_description_is_the_5_1_lead_sentence_and_the_paragraph_after_the_table(adults):
    lead, after_table = adults.description.split("\n\n")
    assert lead == (
        "The ‘Commissioner safeguarding and MCA requirements’ in service condition 32.4.2 above include the "
        "following standards for safeguarding adults:"
    )
    assert after_table.startswith("Where provider organisations commission other providers to carry out services")
    assert after_table.endswith("grounds maintenance, cleaning, transport etc.")


def test_adults_missing_service_condition_32_4_2_is_noted_on_the_framework(adults):
    [note] = framework_notes(adults)
    assert note.kind == "missing_reference"
    assert "32.4.2" in note.text and "32.3.6" in note.text


def test_adults_has_the_eleven_standards_of_the_5_1_table_word_for_word(adults):
    standards = list(adults.standards.order_by("position"))
    assert [s.number for s in standards] == [str(n) for n in range(1, 12)]
    assert {s.number: s.title for s in standards} == ADULTS_TITLES
    assert all(s.parent is None for s in standards)


ADULTS_CRITERIA = [
    # standard, top-level points, sub-points, guidance begins ("" when none)
    ("1", 1, 6, ""),
    ("2", 6, 17, ""),
    ("3", 1, 6, "Safeguarding adults training for staff should be commensurate"),
    ("4", 0, 0, "Consent to care and treatment is the principle"),
    ("5", 4, 4, ""),
    ("6", 3, 5, ""),
    ("7", 0, 0, "The 'local multi agency adult safeguarding procedures' are the 'Pan-London Procedures'"),
    ("8", 0, 0, "These roles should be clearly defined in job descriptions"),
    ("9", 0, 0, "Commissioners should review providers' annual safeguarding adults reports"),
    ("10", 2, 5, ""),
    ("11", 0, 0, "Prevent is part of the UK's Counter Terrorism Strategy known as CONTEST."),
]


@pytest.mark.parametrize(("number", "points", "sub_points", "guidance"), ADULTS_CRITERIA)
def test_adults_standard_has_every_point_and_its_guidance_from_5_2(adults, number, points, sub_points, guidance):
    standard = adults.standards.get(number=number)
    assert criterion_counts(standard) == (points, sub_points)
    assert standard.guidance.startswith(guidance) and bool(standard.guidance) == bool(guidance)


@pytest.mark.parametrize(
    ("standard", "point", "text"),
    [
        ("1", "1", "Provider organisations should:"),
        ("1", "1.3", "have a policy and process for managing allegations against staff"),
        ("2", "1.9", "how professional disagreements are resolved"),
        ("2", "2.8", "working within agreed operational guidelines to maintain best practice"),
        ("2", "4", "Providers should have a Mental Capacity Act (MCA) policy. The Mental Capacity Act: A guide"),
        ("3", "1.4", "Ensure that 85% of relevant staff are up to date with the level of training they need at"),
        ("5", "2.4", "Contribute to organisational responsibility for competent accountable performance"),
        ("6", "3", "Providers will promote inter-agency working and work in partnership with:"),
        ("10", "1.5", "emotional'"),
    ],
)
def test_adults_points_sit_in_5_2_order_under_their_lead_in(adults, standard, point, text):
    criterion = AssuranceCriterion.objects.get(standard__framework=adults, standard__number=standard, number=point)
    assert criterion.text.startswith(text)


def test_adults_guidance_is_attached_by_subject_not_by_the_5_2_heading_number(adults):
    training, consent = adults.standards.get(number="3"), adults.standards.get(number="4")
    assert "training" in training.title and "85%" in training.criteria.get(number="1.4").text
    assert "consent" in consent.title and "For consent to be valid" in consent.guidance
    assert training.source_reference == "5.1 table Standard 3; 5.2 Standard 4"
    assert consent.source_reference == "5.1 table Standard 4; 5.2 Standard 3"


ADULTS_STANDARD_NOTES = [
    # standard, words the inconsistency note quotes
    ("2", "a Mental Capacity Act policy"),
    ("3", "the block headed “Standard 4” is about training"),
    ("4", "the block headed “Standard 3” is about consent"),
    ("5", "adults with care and support needs"),
    ("8", "a clinical lead"),
    ("10", "domestic violence and abuse"),
    ("11", "(Applies to NHS Trusts and NHS Foundation Trusts)"),
]


@pytest.mark.parametrize(("number", "quoted"), ADULTS_STANDARD_NOTES)
def test_adults_table_and_5_2_disagreements_are_noted(adults, number, quoted):
    notes = notes_on(adults.standards.get(number=number))
    assert [n.kind for n in notes] == ["inconsistency"]
    assert quoted in notes[0].text


def test_adults_standards_where_table_and_5_2_agree_have_no_note(adults):
    noted = {n.standard.number for n in SourceNote.objects.filter(framework=adults, standard__isnull=False)}
    assert noted == {number for number, _ in ADULTS_STANDARD_NOTES}


def test_adults_time_rule_is_the_three_yearly_recruitment_review(adults):
    assert time_rules(adults) == {
        ("1", "1.1"): ("regularly reviewed - as a minimum every three years", "at_least_every", 3, "years"),
    }


ADULTS_METRICS = [
    # code, kind, standard, group, frequency, review interval in months, provider types
    *[(f"ADULTS-{n:02d}", "self_assessment", str(n), "Self-assessment", "annually", None, []) for n in range(1, 11)],
    ("ADULTS-11", "self_assessment", "11", "Self-assessment", "annually", None, NHS_TRUST_TYPES),
    ("ADULTS-03-TRAINING-SAFEGUARDING", "percentage", "3", "Training", "quarterly", None, []),
    ("ADULTS-03-TRAINING-MCA-DOLS", "percentage", "3", "Training", "quarterly", None, []),
    ("ADULTS-03-TRAINING-PREVENT", "percentage", "3", "Training", "quarterly", None, []),
    ("ADULTS-01-SAFE-RECRUITMENT-POLICY", "policy", "1", "Policies and procedures", "annually", 36, []),
    ("ADULTS-01-ALLEGATIONS-POLICY", "policy", "1", "Policies and procedures", "annually", None, []),
    ("ADULTS-02-MCA-POLICY", "policy", "2", "Policies and procedures", "annually", None, []),
    ("ADULTS-02-CHAPERONING-POLICY", "policy", "2", "Policies and procedures", "annually", None, []),
    ("ADULTS-02-PREVENT-POLICY", "policy", "2", "Policies and procedures", "annually", None, []),
    ("ADULTS-09-ANNUAL-REPORT", "policy", "9", "Annual report", "annually", 12, []),
]


def test_adults_has_exactly_its_metrics(adults):
    assert [m.code for m in adults.metrics.order_by("position")] == [row[0] for row in ADULTS_METRICS]


@pytest.mark.parametrize(("code", "kind", "standard", "group", "frequency", "review", "types"), ADULTS_METRICS)
def test_adults_metric_definition(adults, code, kind, standard, group, frequency, review, types):
    metric = adults.metrics.get(code=code)
    assert (metric.kind, metric.standard.number, metric.group) == (kind, standard, group)
    assert (metric.frequency, metric.frequency_as_written) == (frequency, "")
    assert metric.review_interval_months == review
    assert sorted(metric.provider_types.values_list("code", flat=True)) == sorted(types)
    assert not metric.services.exists()
    # The policy sets none of these a reporting frequency, so each chosen one is explained.
    assert "interpretation" in [n.kind for n in notes_on(metric)]


@pytest.mark.parametrize("number", [str(n) for n in range(1, 12)])
def test_adults_self_assessment_describes_its_table_standard(adults, number):
    metric = adults.metrics.get(code=f"ADULTS-{int(number):02d}")
    assert metric.title.startswith(f"Standard {number} self-assessment: ")
    assert metric.description == ADULTS_TITLES[number]


def test_adults_prevent_standard_applies_to_nhs_trust_types_with_a_note_for_independents(adults):
    metric = adults.metrics.get(code="ADULTS-11")
    assert metric in Metric.objects.filter(framework=adults).applicable_to("acute", [])
    assert metric not in Metric.objects.filter(framework=adults).applicable_to("independent", [])
    assert any("NHS Trusts and NHS Foundation Trusts" in n.text and "independent" in n.text for n in notes_on(metric))


TRAINING_METRICS = ["ADULTS-03-TRAINING-SAFEGUARDING", "ADULTS-03-TRAINING-MCA-DOLS", "ADULTS-03-TRAINING-PREVENT"]


@pytest.mark.parametrize("code", TRAINING_METRICS)
def test_adults_training_is_measured_separately_for_each_subject_with_a_note(adults, code):
    metric = adults.metrics.get(code=code)
    assert metric.description == (
        "Ensure that 85% of relevant staff are up to date with the level of training they need at any one time"
    )
    assert metric.threshold_as_written == "85% of relevant staff"
    assert metric.numerator_label and metric.denominator_label == "Relevant staff"
    texts = " ".join(n.text for n in notes_on(metric))
    assert "“Standard 4”" in texts and "separately" in texts and "quarterly" in texts


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
@pytest.mark.parametrize("code", TRAINING_METRICS)
def test_adults_training_threshold_is_85_for_every_provider_type(adults, code, provider_type):
    assert ProviderType.objects.filter(code=provider_type).exists()
    threshold = adults.metrics.get(code=code).threshold_for(provider_type)
    assert (threshold.green_from, threshold.amber_from, threshold.as_written) == (Decimal("85"), Decimal("80"), "85%")
    assert threshold.provider_type is None


def test_adults_only_the_training_metrics_have_thresholds(adults):
    with_thresholds = Metric.objects.filter(framework=adults, thresholds__isnull=False).distinct()
    assert sorted(with_thresholds.values_list("code", flat=True)) == sorted(TRAINING_METRICS)


# ------------------------------------------------------------------------------------------ provider duties

# Section headings, word for word; 8.1–8.4 sit under 8.0.
DUTIES_STANDARDS = [
    ("6.0", None, "Responding to abuse and neglect"),
    ("7.0", None, "Managing Safeguarding, Serious Incidents and Complaints"),
    ("8.0", None, "Statutory Reviews"),
    ("8.1", "8.0", "Child Safeguarding Practice Reviews"),
    ("8.2", "8.0", "Child Death Reviews"),
    ("8.3", "8.0", "Safeguarding Adult Reviews"),
    ("8.4", "8.0", "Domestic Homicide Reviews"),
    ("9.0", None, "Consent for children and young people"),
    ("10.0", None, "Children and young people and adults in hospital"),
    ("11.0", None, "Adult mental health services"),
    ("12.0", None, "Transition arrangements"),
    ("13.0", None, "Risks to particularly vulnerable children and young people"),
    ("14.0", None, "Record keeping"),
    ("15.0", None, "Quality assurance"),
]


def test_duties_framework_is_identified_with_its_source(duties):
    assert (duties.code, duties.version, duties.position) == ("nel-provider-duties", "2019", 4)
    assert (duties.name, duties.short_name) == ("Provider safeguarding duties", "Provider duties")
    assert duties.source_document == "Safeguarding through Commissioning Policy"
    assert duties.source_publisher == "North East London Commissioning Alliance"
    assert (duties.source_date, duties.source_section) == ("March 2019", "6.0–15.0")
    assert str(duties.effective_from) == "2019-04-01" and duties.effective_to is None
    assert "sections 6 to 15" in duties.description


def test_duties_has_a_standard_per_section_under_its_heading(duties):
    standards = list(duties.standards.order_by("position"))
    assert [(s.number, s.parent.number if s.parent else None, s.title) for s in standards] == DUTIES_STANDARDS


DUTIES_CRITERIA = [
    # section, top-level points, sub-points, guidance begins ("" when none)
    ("6.0", 1, 0, ""),
    ("7.0", 6, 5, ""),
    ("8.0", 1, 5, "Mental health homicide reviews are carried out under separate arrangements"),
    ("8.1", 6, 2, "Child Safeguarding Practice Reviews (CSPR) are conducted in accordance with Chapter 4"),
    ("8.2", 1, 0, "The Children and Social Work Act 2017 requires significant changes"),
    ("8.3", 2, 0, "A Safeguarding Adult Review (SAR) is a multi-agency review"),
    ("8.4", 6, 2, "For further information on DHRs see"),
    ("9.0", 2, 0, ""),
    ("10.0", 2, 0, ""),
    ("11.0", 4, 0, ""),
    ("12.0", 3, 0, "The NHS mandate asks NHS England to ensure the smooth transition"),
    ("13.0", 4, 9, "Further examples and guidance can be found in the London Child Protection Procedures"),
    ("14.0", 1, 8, ""),
    ("15.0", 1, 6, ""),
]


@pytest.mark.parametrize(("number", "points", "sub_points", "guidance"), DUTIES_CRITERIA)
def test_duties_section_has_every_duty_and_its_background(duties, number, points, sub_points, guidance):
    standard = duties.standards.get(number=number)
    assert criterion_counts(standard) == (points, sub_points)
    assert standard.guidance.startswith(guidance) and bool(standard.guidance) == bool(guidance)


@pytest.mark.parametrize(
    ("standard", "point", "text"),
    [
        ("7.0", "4", "These policies and procedures should include:"),
        ("7.0", "4.5", "As and where required, notification to CQC and other regulatory bodies."),
        ("8.0", "1.5", "LeDER"),
        ("8.1", "6", "Providers must keep the Designated Nurse updated on the progress of any action plans"),
        ("8.3", "2", "Providers must keep the Adult Safeguarding Lead updated on the progress of any action plans"),
        ("8.4", "6", "All providers have legal obligation to support and take active part"),
        ("10.0", "2", "When a child has been, or will be accommodated in hospital for three months or more"),
        ("11.0", "1", "All inpatient mental health services must have policies and procedures relating to children"),
        ("13.0", "4.6", "Disabled children. Expertise in both safeguarding and disability"),
        ("14.0", "1.4", "staff trained in Prevent at different levels"),
        (
            "15.0",
            "1.6",
            "Develop an annual audit schedule for safeguarding in agreement with designated professionals.",
        ),
    ],
)
def test_duties_points_sit_in_source_order(duties, standard, point, text):
    criterion = AssuranceCriterion.objects.get(standard__framework=duties, standard__number=standard, number=point)
    assert criterion.text.startswith(text)


def test_duties_time_rules(duties):
    assert time_rules(duties) == {
        ("10.0", "2"): ("three months or more", "duration_of_at_least", 3, "months"),
        ("15.0", "1.1"): (
            "an annual report on safeguarding children and an annual report on safeguarding adults",
            "every",
            1,
            "years",
        ),
        ("15.0", "1.2"): ("on a quarterly basis", "every", 3, "months"),
        ("15.0", "1.6"): ("an annual audit schedule", "every", 1, "years"),
    }


DUTIES_NOTES = [
    # section, point (None for the section itself), kind, words the note quotes
    ("8.0", None, "missing_reference", "LeDER"),
    ("8.4", None, "inconsistency", "“SCR”"),
    ("8.4", None, "inconsistency", "“LSCB”"),
    ("10.0", None, "inconsistency", "says nothing about adults"),
    ("7.0", "2", "inconsistency", "from the organisation's named professionals"),
    ("12.0", "2", "interpretation", "Our community and acute health providers"),
    ("12.0", "3", "interpretation", "duty on the CCG"),
    ("15.0", "1.3", "interpretation", "NSAB"),
]


@pytest.mark.parametrize(("standard", "criterion", "kind", "quoted"), DUTIES_NOTES)
def test_duties_source_problems_are_noted(duties, standard, criterion, kind, quoted):
    item = Standard.objects.get(framework=duties, number=standard)
    if criterion is not None:
        item = item.criteria.get(number=criterion)
    assert any(n.kind == kind and quoted in n.text for n in notes_on(item))


DUTIES_SELF_ASSESSMENTS = [
    ("DUTIES-06", "6.0", []),
    ("DUTIES-07", "7.0", []),
    ("DUTIES-08-1", "8.1", []),
    ("DUTIES-08-2", "8.2", []),
    ("DUTIES-08-3", "8.3", []),
    ("DUTIES-08-4", "8.4", []),
    ("DUTIES-09", "9.0", []),
    ("DUTIES-10", "10.0", []),
    ("DUTIES-11", "11.0", ["mental_health"]),
    ("DUTIES-12", "12.0", []),
    ("DUTIES-13", "13.0", []),
    ("DUTIES-14", "14.0", []),
    ("DUTIES-15", "15.0", []),
]

DUTIES_METRICS = [
    # code, kind, standard, frequency, review interval in months, provider types, services
    *[
        (code, "self_assessment", number, "annually", None, types, [])
        for code, number, types in DUTIES_SELF_ASSESSMENTS
    ],
    ("DUTIES-07-INCIDENTS-POLICY", "policy", "7.0", "annually", None, [], []),
    ("DUTIES-08-REVIEW-ACTION-PLANS", "narrative", "8.0", "quarterly", None, [], []),
    ("DUTIES-09-CONSENT-POLICY", "policy", "9.0", "annually", None, [], []),
    ("DUTIES-10-LONG-STAY-NOTIFIED", "percentage", "10.0", "quarterly", None, [], ["inpatient"]),
    ("DUTIES-11-CHILD-VISITING-POLICY", "policy", "11.0", "annually", None, ["mental_health"], ["inpatient"]),
    ("DUTIES-12-TRANSITION-PROTOCOL", "policy", "12.0", "annually", None, [], []),
    ("DUTIES-15-ANNUAL-REPORT-CHILDREN", "policy", "15.0", "annually", 12, [], []),
    ("DUTIES-15-AUDIT-SCHEDULE", "policy", "15.0", "annually", 12, [], []),
    ("DUTIES-15-CQC-REGISTRATION", "narrative", "15.0", "annually", None, [], []),
]


def test_duties_has_exactly_its_metrics(duties):
    assert [m.code for m in duties.metrics.order_by("position")] == [row[0] for row in DUTIES_METRICS]
    # Section 8.0 is assessed through its subsections; timeliness of the dashboard is measured by the system.
    assert not duties.metrics.filter(standard__number="8.0", kind="self_assessment").exists()


@pytest.mark.parametrize(("code", "kind", "standard", "frequency", "review", "types", "services"), DUTIES_METRICS)
def test_duties_metric_definition(duties, code, kind, standard, frequency, review, types, services):
    metric = duties.metrics.get(code=code)
    assert (metric.kind, metric.standard.number) == (kind, standard)
    assert (metric.frequency, metric.frequency_as_written) == (frequency, "")
    assert metric.review_interval_months == review
    assert sorted(metric.provider_types.values_list("code", flat=True)) == types
    assert sorted(metric.services.values_list("code", flat=True)) == services
    # The policy sets none of these a reporting frequency, so each chosen one is explained.
    assert "interpretation" in [n.kind for n in notes_on(metric)]


@pytest.mark.parametrize(("code", "number", "types"), DUTIES_SELF_ASSESSMENTS)
def test_duties_self_assessment_describes_its_section(duties, code, number, types):
    metric = duties.metrics.get(code=code)
    assert metric.title.startswith(f"Section {number} self-assessment: ")
    assert metric.description == duties.standards.get(number=number).title


def test_duties_inpatient_service_is_listed_with_its_name(duties):
    assert Service.objects.get(code="inpatient").name == "Inpatient wards"


def test_duties_long_stay_notification_is_a_duty_recorded_as_100_percent(duties):
    metric = duties.metrics.get(code="DUTIES-10-LONG-STAY-NOTIFIED")
    assert metric.description.startswith("When a child has been, or will be accommodated in hospital for three")
    assert metric.threshold_as_written == "must notify"
    assert "three months or more" in metric.numerator_label and "three months or more" in metric.denominator_label
    assert any("duty" in n.text and "100%" in n.text for n in notes_on(metric))


@pytest.mark.parametrize("provider_type", PROVIDER_TYPES)
def test_duties_long_stay_threshold_is_100_for_every_provider_type(duties, provider_type):
    threshold = duties.metrics.get(code="DUTIES-10-LONG-STAY-NOTIFIED").threshold_for(provider_type)
    assert (threshold.green_from, threshold.amber_from) == (Decimal("100"), Decimal("95"))
    assert (threshold.provider_type, threshold.as_written) == (None, "must notify")


def test_duties_only_the_long_stay_metric_has_a_threshold(duties):
    with_thresholds = Metric.objects.filter(framework=duties, thresholds__isnull=False).distinct()
    assert list(with_thresholds.values_list("code", flat=True)) == ["DUTIES-10-LONG-STAY-NOTIFIED"]


def test_duties_child_visiting_policy_applies_to_mental_health_inpatient_wards_only(duties):
    metric = duties.metrics.get(code="DUTIES-11-CHILD-VISITING-POLICY")
    applicable = Metric.objects.filter(framework=duties)
    assert metric in applicable.applicable_to("mental_health", ["inpatient"])
    assert metric not in applicable.applicable_to("mental_health", ["children"])
    assert metric not in applicable.applicable_to("acute", ["inpatient"])
