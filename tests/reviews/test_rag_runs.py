"""Stored RAG status: computed whole or not at all, idempotent, judged by the catalogue version in force."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.models import Evidence
from returns.services import AnswerInput, open_return, save_answers, submit_return
from reviews import services
from reviews.models import AnswerStatus, RagRun, StandardStatus
from reviews.services import compute_return_rag
from reviews.tasks import compute_rag
from standards.services import create_next_version
from tests.returns.conftest import Q2_TODAY


@pytest.fixture
def submitted(world, catalogue, q2):
    c = catalogue
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    answers = {
        c.dbs.pk: AnswerInput({"numerator": "97", "denominator": "100"}),  # amber: 95 ≤ 97 < 100
        c.allegations.pk: AnswerInput({"count": "2"}),
        c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
        c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
        c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Board minutes."}),
        c.narrative.pk: AnswerInput({"text": "Dr A Patel."}),
    }
    save_answers(draft, by=world.riverside_contributor, answers=answers, today=Q2_TODAY)
    Evidence.objects.create(
        answer=draft.answers.get(metric=c.policy), file=SimpleUploadedFile("p.pdf", b"%PDF-1.7"), original_name="p.pdf",
        content_type="application/pdf", size=8, uploaded_by=world.riverside_contributor,
    )  # fmt: skip
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    return draft


def colours(run):
    return {s.metric.code: s.colour for s in run.answers.select_related("metric")}


def test_a_submitted_return_gets_a_colour_for_every_answer_standard_and_framework(submitted, catalogue):
    run = compute_return_rag(submitted)
    assert colours(run) == {
        "DBS": "amber",
        "ALLEGATIONS": "none",
        "POLICY": "green",
        "AUDIT": "none",  # no threshold for the audit here: monitored
        "S11-01": "green",
        "LEADS": "none",
        "ANNUAL": "not_due",
    }
    assert run.colour == "amber"
    assert run.explanation == "1 amber, 2 green: the worst colour, amber, is shown"
    dbs = run.answers.get(metric=catalogue.dbs)
    assert (dbs.value, dbs.threshold) == ("97.0% (97 of 100)", "green from 100%, amber from 95%")
    assert run.standards.get().colour == "amber"
    assert run.frameworks.get().framework == catalogue.framework


def test_computing_twice_gives_the_same_stored_result(submitted):
    first = compute_return_rag(submitted)
    second = compute_return_rag(submitted)
    assert second.pk == first.pk
    assert RagRun.objects.count() == 1
    assert AnswerStatus.objects.count() == 7


def test_a_run_killed_midway_leaves_the_previous_result_in_place(submitted, catalogue, monkeypatch):
    first = compute_return_rag(submitted)
    threshold = catalogue.dbs.thresholds.get()
    threshold.green_from, threshold.amber_from = 90, 85  # the same version's threshold is corrected: recompute
    threshold.save()

    insert = services._insert

    def killed(model, fields, rows):
        if model is StandardStatus:  # after the answers' statuses are written
            raise RuntimeError("worker killed")
        insert(model, fields, rows)

    monkeypatch.setattr(services, "_insert", killed)
    with pytest.raises(RuntimeError):
        compute_return_rag(submitted)
    assert list(RagRun.objects.current()) == [first]
    assert RagRun.objects.count() == 1
    assert colours(first)["DBS"] == "amber"

    monkeypatch.undo()
    second = compute_return_rag(submitted)
    assert second.pk != first.pk
    assert list(RagRun.objects.current()) == [second]
    assert colours(second)["DBS"] == "green"


def test_a_threshold_changed_in_a_later_version_does_not_change_this_periods_colours(world, submitted, catalogue):
    first = compute_return_rag(submitted)
    later = create_next_version(
        catalogue.framework, version="2026/27", effective_from=datetime.date(2026, 4, 1), user=world.administrator
    )
    threshold = later.metrics.get(code="DBS").thresholds.get()
    threshold.green_from, threshold.amber_from = 90, 85
    threshold.save()
    again = compute_return_rag(submitted)
    assert again.pk == first.pk  # the 2025/26 period is still judged by the version in force then
    assert colours(again)["DBS"] == "amber"


def test_a_return_never_submitted_has_no_colour(world, catalogue, q2):
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    assert compute_return_rag(draft) is None
    assert compute_rag(draft.pk) is None
    assert compute_rag(987654) is None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_and_stores_the_status(celery_worker_process, submitted):
    result = compute_rag.apply_async(args=[submitted.pk], queue=celery_worker_process.queue, ignore_result=False)
    run_id = result.get(timeout=60)
    run = RagRun.objects.get(pk=run_id)
    assert run.is_current and run.provider_return == submitted
    assert colours(run)["DBS"] == "amber", celery_worker_process.log()
    # The task is safe to run again: the same stored result.
    assert (
        compute_rag.apply_async(args=[submitted.pk], queue=celery_worker_process.queue, ignore_result=False).get(
            timeout=60
        )
        == run_id
    )
