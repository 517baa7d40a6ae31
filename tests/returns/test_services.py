"""Saving, submitting and revising returns: nothing typed is lost, nothing submitted is overwritten."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.models import Answer, Evidence, Return, ReturnStatus, Submission
from returns.selectors import metrics_for
from returns.services import (
    AnswerInput,
    EditConflict,
    ReturnProblems,
    confirm_carried_answers,
    open_return,
    reopen_period,
    return_for_revision,
    save_answers,
    submit_return,
)
from tests.returns.conftest import Q2_TODAY


@pytest.fixture
def draft(world, catalogue, q2):
    return open_return(world.riverside, q2, by=world.riverside_contributor)


def complete_answers(c, overrides=None):
    answers = {
        c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
        c.allegations.pk: AnswerInput({"count": "2"}),
        c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
        c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
        c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Board minutes, March 2025."}),
        c.narrative.pk: AnswerInput({"text": "Dr A Patel, Safeguarding Lead."}),
    }
    answers.update(overrides or {})
    return answers


def attach_policy(draft, catalogue, person):
    answer = draft.answers.get(metric=catalogue.policy)
    Evidence.objects.create(
        answer=answer, file=SimpleUploadedFile("policy.pdf", b"%PDF-1.7"), original_name="policy.pdf",
        content_type="application/pdf", size=8, uploaded_by=person,
    )  # fmt: skip


def test_a_return_asks_what_applies_to_the_provider_and_is_due_this_quarter(world, catalogue, q2):
    codes = [m.code for m in metrics_for(world.riverside, q2)]
    assert codes == ["DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"]  # no annual, no maternity-only
    world.riverside.services.add("maternity")
    assert "MATERNITY" in [m.code for m in metrics_for(world.riverside, q2)]
    assert metrics_for(world.eastway, q2) == []  # Eastway's contract carries no framework here


def test_a_draft_saves_with_whatever_is_filled_in_and_records_who(world, catalogue, draft):
    c = catalogue
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={c.dbs.pk: AnswerInput({"numerator": "", "denominator": "40"})},
        today=Q2_TODAY,
    )
    answer = Answer.objects.get(metric=c.dbs)
    assert answer.values == {"numerator": None, "denominator": 40}
    assert answer.revision == 1
    assert answer.history.get().history_user == world.riverside_contributor


def test_a_wrong_value_is_refused_with_its_message_and_nothing_is_saved(world, catalogue, draft):
    c = catalogue
    with pytest.raises(ReturnProblems) as refused:
        save_answers(
            draft,
            by=world.riverside_contributor,
            today=Q2_TODAY,
            answers={
                c.dbs.pk: AnswerInput({"numerator": "120", "denominator": "100"}),
                c.allegations.pk: AnswerInput({"count": "3"}),
            },
        )
    assert refused.value.by_metric == {"DBS": {"numerator": "“Checked” cannot be more than “Staff”."}}
    assert not Answer.objects.exists()


def test_a_second_person_saving_over_a_changed_answer_is_told_and_nothing_is_lost(world, catalogue, draft):
    c = catalogue
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={c.allegations.pk: AnswerInput({"count": "3"}, base_revision=0)},
        today=Q2_TODAY,
    )
    with pytest.raises(EditConflict) as conflict:
        save_answers(
            draft,
            by=world.riverside_lead,
            answers={c.allegations.pk: AnswerInput({"count": "5"}, base_revision=0)},
            today=Q2_TODAY,
        )
    (found,) = conflict.value.conflicts
    assert (
        found.metric == c.allegations
        and found.saved_by == world.riverside_contributor
        and found.saved_values == {"count": 3}
    )
    assert Answer.objects.get(metric=c.allegations).values == {"count": 3}
    # Having seen the other person's answer, the second person saves from the new revision.
    save_answers(
        draft,
        by=world.riverside_lead,
        answers={c.allegations.pk: AnswerInput({"count": "5"}, base_revision=1)},
        today=Q2_TODAY,
    )
    assert Answer.objects.get(metric=c.allegations).values == {"count": 5}


def test_saving_the_same_value_someone_else_saved_is_not_a_conflict(world, catalogue, draft):
    c = catalogue
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={c.allegations.pk: AnswerInput({"count": "3"}, base_revision=0)},
        today=Q2_TODAY,
    )
    save_answers(
        draft,
        by=world.riverside_lead,
        answers={c.allegations.pk: AnswerInput({"count": "3"}, base_revision=0)},
        today=Q2_TODAY,
    )


@pytest.mark.parametrize("person", ["newham_nurse", "eastway_lead", "luton_nurse", "stranger"])
def test_only_the_providers_own_people_change_its_return(world, catalogue, draft, person):
    with pytest.raises(PermissionDenied):
        save_answers(
            draft,
            by=getattr(world, person),
            answers={catalogue.allegations.pk: AnswerInput({"count": "1"})},
            today=Q2_TODAY,
        )


def test_only_the_safeguarding_lead_submits_and_a_complete_return_is_frozen(world, catalogue, draft, q2):
    save_answers(draft, by=world.riverside_contributor, answers=complete_answers(catalogue), today=Q2_TODAY)
    attach_policy(draft, catalogue, world.riverside_contributor)
    with pytest.raises(PermissionDenied):
        submit_return(draft, by=world.riverside_contributor, declaration_confirmed=True, today=Q2_TODAY)
    submission = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    draft.refresh_from_db()
    assert draft.status == ReturnStatus.SUBMITTED
    assert submission.number == 1 and not submission.late
    assert "Riverside University Hospitals NHS Trust" in submission.declaration
    assert {a["metric"]: a["values"] for a in submission.snapshot["answers"]}["DBS"] == {
        "numerator": 98,
        "denominator": 100,
    }
    with pytest.raises(ReturnProblems, match="has been submitted"):
        save_answers(
            draft,
            by=world.riverside_lead,
            answers={catalogue.allegations.pk: AnswerInput({"count": "9"})},
            today=Q2_TODAY,
        )
    with pytest.raises(ValidationError, match="cannot be changed"):
        submission.save()


def test_submitting_lists_every_missing_or_invalid_answer(world, catalogue, draft):
    c = catalogue
    answers = complete_answers(c)
    del answers[c.narrative.pk]
    answers[c.self_assessment.pk] = AnswerInput({"grade": "partially_compliant", "evidence": "Audit under way."})
    save_answers(draft, by=world.riverside_contributor, answers=answers, today=Q2_TODAY)
    with pytest.raises(ReturnProblems) as refused:
        submit_return(draft, by=world.riverside_lead, declaration_confirmed=False, today=Q2_TODAY)
    problems = refused.value
    assert problems.general == ["Confirm the declaration to submit the return."]
    assert problems.by_metric == {
        "POLICY": {"evidence": "Attach the policy document."},
        "S11-01": {"actions": "Add at least one action, with its owner and due date, to meet the standard."},
        "LEADS": {"text": "Enter your answer."},
    }
    assert Return.objects.get().status == ReturnStatus.DRAFT


def test_an_action_plan_is_kept_with_its_answer_and_each_row_is_checked(world, catalogue, draft):
    c = catalogue
    rows = [
        {"action": "Re-audit files", "owner": "Head of HR", "due_on": "2026-01-31"},
        {"action": "", "owner": "", "due_on": ""},
    ]
    given = AnswerInput({"grade": "partially_compliant", "evidence": "Audit under way."}, actions=rows)
    save_answers(draft, by=world.riverside_contributor, answers={c.self_assessment.pk: given}, today=Q2_TODAY)
    (item,) = Answer.objects.get(metric=c.self_assessment).actions.all()
    assert (item.action, item.owner, item.due_on) == ("Re-audit files", "Head of HR", datetime.date(2026, 1, 31))
    bad = AnswerInput(
        {"grade": "not_compliant", "evidence": "x"}, actions=[{"action": "Train staff", "owner": "", "due_on": "soon"}]
    )
    with pytest.raises(ReturnProblems) as refused:
        save_answers(draft, by=world.riverside_contributor, answers={c.self_assessment.pk: bad}, today=Q2_TODAY)
    assert refused.value.by_metric["S11-01"] == {
        "actions-1-owner": "Action 1: say who owns the action.",
        "actions-1-due_on": "Action 1: enter the due date as a real date, like 2026-03-31.",
    }


def test_an_unusual_value_must_be_confirmed_before_submission_and_the_confirmation_is_kept(world, catalogue, q1, q2):
    c = catalogue
    earlier = open_return(world.riverside, q1, by=world.riverside_contributor)
    save_answers(
        earlier,
        by=world.riverside_contributor,
        answers=complete_answers(c, {c.dbs.pk: AnswerInput({"numerator": "100", "denominator": "100"})}),
        today=datetime.date(2025, 7, 10),
    )
    attach_policy(earlier, c, world.riverside_contributor)
    submit_return(earlier, by=world.riverside_lead, declaration_confirmed=True, today=datetime.date(2025, 7, 10))

    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    result = save_answers(
        draft,
        by=world.riverside_contributor,
        answers=complete_answers(c, {c.dbs.pk: AnswerInput({"numerator": "40", "denominator": "100"})}),
        today=Q2_TODAY,
    )
    assert "This comes to 40.0%, far from your recent figures (100.0% in Q1 2025/26)" in result.warnings["DBS"]
    attach_policy(draft, c, world.riverside_contributor)
    with pytest.raises(ReturnProblems) as refused:
        submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    assert "far from your recent figures" in refused.value.by_metric["DBS"]["confirm_unusual"]
    confirm = AnswerInput(
        {"numerator": "40", "denominator": "100"}, confirm_unusual=True, unusual_note="New starters awaiting checks."
    )
    result = save_answers(draft, by=world.riverside_lead, answers={c.dbs.pk: confirm}, today=Q2_TODAY)
    assert result.warnings == {}
    confirm_carried_answers(draft, by=world.riverside_lead, today=Q2_TODAY)  # the policy, self-assessment, narrative
    submission = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    (dbs,) = [a for a in submission.snapshot["answers"] if a["metric"] == "DBS"]
    assert dbs["unusual_value_confirmed"] and dbs["unusual_value_note"] == "New starters awaiting checks."


def test_returned_for_revision_then_resubmitted_keeps_every_version(world, catalogue, draft):
    c = catalogue
    save_answers(draft, by=world.riverside_contributor, answers=complete_answers(c), today=Q2_TODAY)
    attach_policy(draft, c, world.riverside_contributor)
    first = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    for outsider in (world.luton_nurse, world.newham_committee, world.riverside_lead):
        with pytest.raises(PermissionDenied):
            return_for_revision(draft, by=outsider, comments="Please check.")
    with pytest.raises(ValidationError, match="Say what the provider needs to revise"):
        return_for_revision(draft, by=world.newham_nurse, comments=" ")
    request = return_for_revision(
        draft, by=world.newham_nurse, comments="The DBS figure excludes bank staff; include them."
    )
    assert request.submission == first
    draft.refresh_from_db()
    assert draft.status == ReturnStatus.RETURNED

    revised = {c.dbs.pk: AnswerInput({"numerator": "97", "denominator": "110"}, base_revision=1)}
    save_answers(draft, by=world.riverside_contributor, answers=revised, today=Q2_TODAY)
    second = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=datetime.date(2025, 11, 3))
    assert second.number == 2 and second.late
    first.refresh_from_db()
    values = lambda s: {a["metric"]: a["values"] for a in s.snapshot["answers"]}["DBS"]  # noqa: E731
    assert values(first) == {"numerator": 98, "denominator": 100}
    assert values(second) == {"numerator": 97, "denominator": 110}
    assert [h.history_user for h in Answer.objects.get(metric=c.dbs).history.order_by("history_date")] == [
        world.riverside_contributor, world.riverside_contributor,
    ]  # fmt: skip
    assert Submission.objects.count() == 2


def test_after_the_lock_date_nothing_changes_until_an_administrator_reopens(world, catalogue, draft, q2):
    locked_day = datetime.date(2025, 12, 1)
    with pytest.raises(ReturnProblems, match="was locked on 30 November 2025"):
        save_answers(
            draft,
            by=world.riverside_contributor,
            answers={catalogue.allegations.pk: AnswerInput({"count": "1"})},
            today=locked_day,
        )
    with pytest.raises(PermissionDenied):
        reopen_period(q2, by=world.newham_admin, until=datetime.date(2099, 1, 1))
    reopen_period(q2, by=world.administrator, until=datetime.date(2099, 1, 1))
    assert q2.history.first().history_user == world.administrator
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={catalogue.allegations.pk: AnswerInput({"count": "1"})},
        today=locked_day,
    )


def test_returns_are_seen_by_the_provider_and_its_commissioners_only(world, catalogue, draft):
    assert list(Return.objects.restrict(world.riverside_contributor)) == [draft]
    assert list(Return.objects.restrict(world.newham_nurse)) == [draft]
    assert list(Return.objects.restrict(world.luton_nurse)) == []
    assert list(Return.objects.restrict(world.eastway_lead)) == []
