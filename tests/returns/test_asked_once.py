"""Ask once (issue 16): a measure that several frameworks on a provider's contracts share is asked once, and each
framework judges that one answer by its own threshold, each colour with its own explanation.

Riverside holds two contracts here: Newham's names a NEL-like framework whose training measure is green from 85%,
Luton's a Luton-like framework whose same measure is green from 90%, declared *the same measure* by a mapping. Both
also ask the same allegations policy.
"""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from returns.excel import FIRST_ROW, HEADERS, build_workbook, framework_sheets, read_workbook
from returns.models import Answer, Evidence, Submission
from returns.selectors import asked_once, metrics_for
from returns.services import (
    AnswerInput,
    ReturnProblems,
    asked_elsewhere,
    attach_evidence,
    confirm_carried_answers,
    open_return,
    remove_evidence,
    save_answers,
    submit_return,
)
from reviews.models import AnswerStatus
from reviews.services import compute_return_rag, override_status
from standards.models import Mapping, MappingKind
from tests.factories import FrameworkFactory, MetricFactory, StandardFactory, ThresholdFactory
from tests.providers.factories import ContractFactory
from tests.returns.test_carry_forward import PDF, open_period
from tests.returns.test_pages import form_of, main_text, page_url

pytestmark = pytest.mark.django_db


class Shared:
    """Two frameworks sharing a training measure (85% and 90% thresholds) and an allegations policy."""

    def __init__(self, world):
        self.nel = FrameworkFactory(code="nel-test", short_name="NEL children", position=1)
        self.luton = FrameworkFactory(code="luton-test", short_name="Luton children", position=2)
        nel_standard = StandardFactory(framework=self.nel, number="11", title="Training")
        luton_standard = StandardFactory(framework=self.luton, number="ES7", title="Essential standard 7")
        percentage = {"kind": "percentage", "numerator_label": "Trained", "denominator_label": "Relevant staff"}
        policy = {"kind": "policy", "numerator_label": "", "denominator_label": "", "review_interval_months": 36}
        self.nel_training = MetricFactory(framework=self.nel, standard=nel_standard, code="N-TRAINING", **percentage)
        self.luton_training = MetricFactory(
            framework=self.luton, standard=luton_standard, code="L-TRAINING", **percentage
        )
        ThresholdFactory(metric=self.nel_training, green_from=85, amber_from=80, as_written="85%")
        ThresholdFactory(metric=self.luton_training, green_from=90, amber_from=85, as_written="90%")
        self.nel_policy = MetricFactory(framework=self.nel, standard=nel_standard, code="N-POLICY", **policy)
        self.luton_policy = MetricFactory(framework=self.luton, standard=luton_standard, code="L-POLICY", **policy)
        self.luton_only = MetricFactory(
            framework=self.luton, standard=luton_standard, code="L-COUNT", kind="count", numerator_label="",
            denominator_label="",
        )  # fmt: skip
        for source, target in ((self.luton_training, self.nel_training), (self.luton_policy, self.nel_policy)):
            Mapping.objects.create(
                kind=MappingKind.SAME_MEASURE, source_metric=source, target_metric=target, note="Both ask it."
            )
        Mapping.objects.create(
            kind=MappingKind.EVIDENCE_TOWARDS, source_metric=self.luton_only, target_standard=nel_standard,
            note="Allegations counted evidence the allegations process.",
        )  # fmt: skip
        self.nel_standard = nel_standard
        world.riverside_contract.frameworks.set([self.nel])
        self.luton_contract = ContractFactory(provider=world.riverside, coordinating=world.luton, reference="LUT-9")
        self.luton_contract.frameworks.set([self.luton])


@pytest.fixture
def shared(world):
    return Shared(world)


@pytest.fixture
def period(db):
    return open_period(2025, 2)


@pytest.fixture
def draft(world, shared, period):
    return open_return(world.riverside, period, by=world.riverside_contributor)


def answer_of(provider_return, metric) -> Answer | None:
    return Answer.objects.filter(provider_return=provider_return, metric=metric).first()


def complete(world, shared, draft, numerator="88"):
    """Answer every question once (the shared ones under the NEL metric, asked first) and attach the policy."""
    s = shared
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={
            s.nel_training.pk: AnswerInput({"numerator": numerator, "denominator": "100"}, base_revision=0),
            s.nel_policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}, base_revision=0),
            s.luton_only.pk: AnswerInput({"count": "3"}, base_revision=0),
        },
    )
    upload = SimpleUploadedFile("allegations.pdf", PDF, content_type="application/pdf")
    attach_evidence(draft, s.nel_policy, upload, by=world.riverside_contributor)


# Which questions are asked once ------------------------------------------------------------------------------------


def test_a_same_measure_of_two_frameworks_on_the_contracts_is_asked_once_under_the_first(world, shared, period):
    s = shared
    metrics = metrics_for(world.riverside, period)
    asked = asked_once(metrics, period)

    assert [m.code for m in asked.questions(metrics)] == ["N-TRAINING", "N-POLICY", "L-COUNT"]
    assert asked.asked(s.luton_training) == s.nel_training
    assert [m.code for m in asked.serves(s.nel_training)] == ["N-TRAINING", "L-TRAINING"]
    assert [m.code for m in asked.others(s.luton_policy)] == ["N-POLICY"]
    assert asked.serves(s.luton_only) == [s.luton_only]


def test_a_provider_with_one_of_the_frameworks_is_asked_it_as_usual(world, shared, period):
    shared.luton_contract.frameworks.clear()
    metrics = metrics_for(world.riverside, period)

    with CaptureQueriesContext(connection) as queries:
        asked = asked_once(metrics, period)

    assert asked.groups == {} and len(queries) == 0  # one framework: nothing to ask, nothing read
    assert [m.code for m in asked.questions(metrics)] == ["N-TRAINING", "N-POLICY"]


def test_a_mapping_governs_only_the_periods_its_versions_govern(world, shared, period):
    """A new Luton version from Q3 drops the mapping: Q2 still asks once, Q3 asks each framework's own."""
    s = shared
    s.luton.effective_to = datetime.date(2025, 9, 30)
    s.luton.save()
    next_version = FrameworkFactory(
        code="luton-test", version="2025/26 Q3", short_name="Luton children",
        effective_from=datetime.date(2025, 10, 1), position=2,
    )  # fmt: skip
    MetricFactory(framework=next_version, code="L-TRAINING", numerator_label="Trained", denominator_label="Staff")
    q3 = open_period(2025, 3)

    assert asked_once(metrics_for(world.riverside, period), period).groups
    assert asked_once(metrics_for(world.riverside, q3), q3).groups == {}


# Saving once, for every framework ---------------------------------------------------------------------------------


def test_one_answer_is_kept_for_each_framework_it_serves_and_the_other_metric_is_not_asked(world, shared, draft):
    s = shared
    result = save_answers(
        draft,
        by=world.riverside_contributor,
        answers={s.nel_training.pk: AnswerInput({"numerator": "88", "denominator": "100"}, base_revision=0)},
    )

    assert [a.metric.code for a in result.saved] == ["N-TRAINING"]  # one question answered
    nel, luton = answer_of(draft, s.nel_training), answer_of(draft, s.luton_training)
    assert nel.values == luton.values == {"numerator": 88, "denominator": 100}
    assert luton.updated_by == world.riverside_contributor
    assert luton.history.first().history_user == world.riverside_contributor

    with pytest.raises(ReturnProblems) as refused:
        save_answers(
            draft,
            by=world.riverside_contributor,
            answers={s.luton_training.pk: AnswerInput({"numerator": "1", "denominator": "100"}, base_revision=1)},
        )
    assert refused.value.by_metric == {"L-TRAINING": {"metric": asked_elsewhere(s.nel_training)}}
    assert "asked once, as N-TRAINING in NEL children" in asked_elsewhere(s.nel_training)
    assert answer_of(draft, s.luton_training).values == {"numerator": 88, "denominator": 100}


def test_evidence_goes_with_the_answer_to_every_framework_and_leaves_with_it(world, shared, draft):
    s = shared
    upload = SimpleUploadedFile("allegations.pdf", PDF, content_type="application/pdf")
    evidence = attach_evidence(draft, s.nel_policy, upload, by=world.riverside_contributor)

    copies = Evidence.objects.filter(answer__provider_return=draft, answer__metric=s.luton_policy)
    assert [(e.file.name, e.original_name) for e in copies] == [(evidence.file.name, "allegations.pdf")]
    with pytest.raises(ReturnProblems) as refused:
        attach_evidence(draft, s.luton_policy, upload, by=world.riverside_contributor)
    assert refused.value.by_metric["L-POLICY"]["metric"] == asked_elsewhere(s.nel_policy)

    remove_evidence(evidence, by=world.riverside_contributor)
    assert not Evidence.objects.filter(answer__provider_return=draft).exists()


def test_a_submission_holds_the_one_answer_for_each_framework_even_one_copied_before_the_mapping(world, shared, draft):
    s = shared
    complete(world, shared, draft)
    # An answer saved under the Luton metric before the frameworks were mapped, unlike the one now asked.
    Answer.objects.filter(provider_return=draft, metric=s.luton_training).update(values={"numerator": 1})

    submission = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)

    values = {entry["metric"]: entry["values"] for entry in submission.snapshot["answers"]}
    assert values["L-TRAINING"] == values["N-TRAINING"] == {"numerator": 88, "denominator": 100}
    assert values["L-POLICY"] == values["N-POLICY"]
    files = {entry["metric"]: [f["name"] for f in entry["evidence"]] for entry in submission.snapshot["answers"]}
    assert files["L-POLICY"] == files["N-POLICY"] == ["allegations.pdf"]


def test_two_commissioners_see_their_own_colour_of_one_answer_each_explained(world, shared, draft):
    """88% is green against NEL's 85% and amber against Luton's 90%; a reviewer's change touches its own only."""
    s = shared
    complete(world, shared, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)

    run = compute_return_rag(draft)

    statuses = {status.metric.code: status for status in AnswerStatus.objects.filter(run=run).select_related("metric")}
    nel, luton = statuses["N-TRAINING"], statuses["L-TRAINING"]
    assert (nel.colour, luton.colour) == ("green", "amber")
    assert nel.value == luton.value == "88.0% (88 of 100)"
    assert "85%" in nel.rule and "90%" not in nel.rule
    assert "90%" in luton.rule and "85%" in luton.rule  # amber from 85% to under 90%
    assert nel.rule != luton.rule

    override_status(draft, s.luton_training, by=world.luton_nurse, colour="green", reason="Trajectory agreed.")
    run = compute_return_rag(draft)
    statuses = {status.metric.code: status for status in AnswerStatus.objects.filter(run=run).select_related("metric")}
    assert (statuses["N-TRAINING"].colour, statuses["L-TRAINING"].colour) == ("green", "green")
    assert statuses["N-TRAINING"].review_decision == ""


# Carried forward once -------------------------------------------------------------------------------------------


def test_a_shared_answer_is_carried_forward_to_every_framework_and_confirmed_once(world, shared, period):
    s = shared
    first = open_return(world.riverside, period, by=world.riverside_contributor)
    complete(world, shared, first)
    submit_return(first, by=world.riverside_lead, declaration_confirmed=True)
    q3 = open_period(2025, 3)

    draft = open_return(world.riverside, q3, by=world.riverside_contributor)

    nel, luton = answer_of(draft, s.nel_policy), answer_of(draft, s.luton_policy)
    assert nel.values == luton.values and nel.awaits_confirmation and luton.awaits_confirmation
    assert answer_of(draft, s.nel_training) is None  # a figure is never carried
    confirm_carried_answers(draft, by=world.riverside_lead, metric_ids=[s.nel_policy.pk])
    assert not answer_of(draft, s.luton_policy).awaits_confirmation
    assert Evidence.objects.filter(answer__provider_return=draft, answer__metric=s.luton_policy).count() == 1


# The page, the API and the workbook: one shape -------------------------------------------------------------------


def test_the_page_asks_the_shared_question_once_and_names_each_framework_and_threshold(world, shared, draft, as_person):
    s = shared
    client = as_person("riverside_contributor")

    response = client.get(page_url(draft))

    form = form_of(response)
    assert f"m{s.nel_training.pk}-numerator" in form and f"m{s.luton_training.pk}-numerator" not in form
    assert f"m{s.luton_policy.pk}-in_place" not in form
    text = main_text(response)
    assert "Asked once for 2 frameworks." in text
    assert "0 of 3 questions answered" in text  # the two shared measures count once each
    assert "NEL children (N-TRAINING): Green at 85% or above" in text
    assert "Luton children (L-TRAINING): Green at 90% or above" in text
    assert "This is the same measure as N-TRAINING in NEL children" in text
    assert f'href="#m{s.nel_training.pk}"' in response.content.decode()

    data = dict(form, **{f"m{s.nel_training.pk}-numerator": "88", f"m{s.nel_training.pk}-denominator": "100"})
    data[f"m{s.luton_training.pk}-numerator"] = "5"  # a hand-made post for the Luton metric is not taken
    client.post(page_url(draft), data)
    assert answer_of(draft, s.luton_training).values == {"numerator": 88, "denominator": 100}


def test_the_api_lists_the_shared_question_once_and_refuses_an_answer_to_the_other_in_the_same_words(
    world, shared, draft, as_person
):
    s = shared
    client = as_person("riverside_contributor")
    url = reverse("return-detail", args=[draft.pk])

    body = client.get(url).json()

    codes = [metric["code"] for metric in body["metrics"]]
    assert codes == ["N-TRAINING", "N-POLICY", "L-COUNT"]
    training = body["metrics"][0]
    assert training["also_counts_for"] == [
        {"id": s.luton_training.pk, "code": "L-TRAINING", "framework": "luton-test", "framework_version": "2019/20"}
    ]
    refused = client.post(
        reverse("return-answers", args=[draft.pk]),
        {"answers": [{"metric": "L-TRAINING", "values": {"numerator": 1, "denominator": 2}, "base_revision": 0}]},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert asked_elsewhere(s.nel_training) in str(refused.json())
    saved = client.post(
        reverse("return-answers", args=[draft.pk]),
        {"answers": [{"metric": "N-TRAINING", "values": {"numerator": 88, "denominator": 100}, "base_revision": 0}]},
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["changed"] == ["N-TRAINING"]
    assert answer_of(draft, s.luton_training).values == {"numerator": 88, "denominator": 100}


def test_the_workbook_asks_it_once_round_trips_unchanged_and_saves_for_both(world, shared, draft):
    s = shared
    complete(world, shared, draft)
    sheets = {sheet.title: [m.code for m in sheet.metrics] for sheet in framework_sheets(draft)}
    assert sheets == {"NEL children": ["N-TRAINING", "N-POLICY"], "Luton children": ["L-COUNT"]}

    data = build_workbook(draft)
    workbook = load_workbook(io.BytesIO(data))
    ws = workbook["NEL children"]
    threshold = ws.cell(FIRST_ROW, HEADERS.index("Threshold for this provider") + 1).value
    assert threshold.startswith("Asked once for 2 frameworks")
    assert "Luton children (L-TRAINING): Green from 90%, amber from 85%" in threshold
    assert read_workbook(draft, data, by=world.riverside_contributor).saved == []  # round trip: nothing changes

    numerator = HEADERS.index("Numerator") + 1
    ws.cell(FIRST_ROW, numerator).value = 91
    output = io.BytesIO()
    workbook.save(output)
    result = read_workbook(draft, output.getvalue(), by=world.riverside_contributor)
    assert [a.metric.code for a in result.saved] == ["N-TRAINING"]
    assert answer_of(draft, s.luton_training).values == {"numerator": 91, "denominator": 100}


def test_saving_a_shared_answer_costs_a_fixed_number_of_queries(world, shared, draft):
    """The copies are read in one query and written in bulk, however many questions are shared."""
    s = shared

    def save(numerator):
        answers = {
            s.nel_training.pk: AnswerInput({"numerator": numerator, "denominator": "100"}),
            s.nel_policy.pk: AnswerInput({"in_place": "yes", "review_date": f"2027-03-{numerator[-1]}1"}),
        }
        with CaptureQueriesContext(connection) as queries:
            save_answers(draft, by=world.riverside_contributor, answers=answers)
        return len(queries)

    save("80")  # the copies are made
    assert save("81") == save("82")
    assert Submission.objects.count() == 0


# Reviewers and reports --------------------------------------------------------------------------------------------


def test_reviewers_see_each_frameworks_colour_of_the_one_answer_and_evidence_beside_the_other_standard(
    world, shared, draft, as_person
):
    complete(world, shared, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    compute_return_rag(draft)

    for person in ("newham_nurse", "luton_nurse"):
        response = as_person(person).get(reverse("reviews:return_review", args=[draft.pk]))
        assert response.status_code == 200
        text = main_text(response)
        assert "The provider gave this answer once for 2 frameworks" in text
        # Each card names the other framework's colour of the same answer, with its own explanation.
        assert "Luton children (L-TRAINING): Amber" in text and "NEL children (N-TRAINING): Green" in text
        luton = text.split("Luton children (L-TRAINING): Amber", 1)[1]
        assert "threshold green from 90%, amber from 85%" in luton[:300]
        standard = text.split("Evidence towards this standard from other frameworks", 1)[1]
        assert standard.split("N-TRAINING", 1)[0].count("L-COUNT") == 1  # beside NEL's standard 11, before its answers
        assert "3" in standard.split("L-COUNT", 1)[1][:200]
    one = as_person("luton_nurse").get(reverse("reviews:answer_review", args=[draft.pk, "L-TRAINING"]))
    assert "NEL children (N-TRAINING): Green" in main_text(one)  # on the answer's own page too


def test_the_provider_report_names_the_shared_answer_and_the_standard_it_is_evidence_towards(world, shared, draft):
    from reviews.reports import _answers

    complete(world, shared, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    compute_return_rag(draft)

    answers, _ = _answers(draft.period, [world.riverside.pk])

    by_code = {answer["code"]: answer for answer in answers[world.riverside.pk]}
    assert by_code["N-TRAINING"]["asked_once_with"] == ["L-TRAINING (Luton children)"]
    assert by_code["L-TRAINING"]["asked_once_with"] == ["N-TRAINING (NEL children)"]
    assert (by_code["N-TRAINING"]["colour"], by_code["L-TRAINING"]["colour"]) == ("green", "amber")
    assert by_code["L-COUNT"]["evidence_towards"] == ["NEL children, standard 11"]
    assert "asked_once_with" not in by_code["L-COUNT"]
