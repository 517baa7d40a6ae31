"""A new quarter starts from the last (issue 16): the provider's last submitted answers that describe a state are
carried forward, each to be confirmed or changed before the return can be submitted; figures never are.

The periods here are open today (deadline and lock date in the future), so the pages and the API, which cannot
be told what day it is, can save and submit.
"""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from returns.excel import WorkbookProblems, build_workbook, read_workbook
from returns.models import ActionPlanItem, Answer, Evidence, ReportingPeriod, Return, ReturnStatus, Submission
from returns.services import (
    AnswerInput,
    ReturnProblems,
    carried_message,
    confirm_carried_answers,
    open_return,
    return_for_revision,
    save_answers,
    submit_return,
)
from reviews.models import ActionFollowUp
from tests import hostile_files
from tests.returns.test_excel import COLUMN, fill, row_of, sheet_of
from tests.returns.test_pages import add_questions, form_of, main_text, page_url, submit_url, summary_of

pytestmark = pytest.mark.django_db

PDF = hostile_files.pdf()


def open_period(financial_year: int, quarter: int) -> ReportingPeriod:
    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        financial_year=financial_year,
        quarter=quarter,
        submission_deadline=today + datetime.timedelta(days=30),
        lock_date=today + datetime.timedelta(days=60),
    )


@pytest.fixture
def first(db):
    return open_period(2025, 1)


@pytest.fixture
def second(db):
    return open_period(2025, 2)


def answers_of(c, **changes) -> dict:
    answers = {
        c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
        c.allegations.pk: AnswerInput({"count": "2"}),
        c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
        c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
        c.self_assessment.pk: AnswerInput(
            {"grade": "partially_compliant", "evidence": "Audit found gaps."},
            actions=[
                {"action": "Re-audit records", "owner": "Head of Safeguarding", "due_on": "2026-03-31"},
                {"action": "Brief the ward managers", "owner": "Named Nurse", "due_on": "2026-02-28"},
            ],
        ),
        c.narrative.pk: AnswerInput({"text": "Dr A Patel, Safeguarding Lead."}),
    }
    answers.update(changes)
    return answers


def attach(provider_return, metric, person, name="policy.pdf") -> Evidence:
    answer = Answer.objects.get(provider_return=provider_return, metric=metric)
    return Evidence.objects.create(
        answer=answer, file=SimpleUploadedFile(name, PDF), original_name=name,
        content_type="application/pdf", size=len(PDF), uploaded_by=person,
    )  # fmt: skip


def submitted(world, c, period, answers=None) -> Return:
    """Riverside's return for the period, answered (and the policy document attached) and submitted by its lead."""
    provider_return = open_return(world.riverside, period, by=world.riverside_contributor)
    save_answers(provider_return, by=world.riverside_contributor, answers=answers or answers_of(c))
    if not Evidence.objects.filter(answer__provider_return=provider_return, answer__metric=c.policy).exists():
        attach(provider_return, c.policy, world.riverside_contributor)
    confirm_carried_answers(provider_return, by=world.riverside_lead)
    submit_return(provider_return, by=world.riverside_lead, declaration_confirmed=True)
    return provider_return


def carried(provider_return) -> dict[str, Answer]:
    answers = Answer.objects.filter(provider_return=provider_return).select_related("metric", "carried_from")
    return {answer.metric.code: answer for answer in answers}


# The service ---------------------------------------------------------------------------------------------------


def test_a_new_return_starts_from_the_last_submitted_states_and_never_a_figure(world, catalogue, first, second):
    c = catalogue
    earlier = submitted(world, c, first)
    (done, _) = ActionPlanItem.objects.filter(answer__provider_return=earlier).order_by("position")
    ActionFollowUp.objects.create(
        item=done, is_done=True, done_on=datetime.date(2025, 7, 1), updated_by=world.newham_nurse
    )
    source = Submission.objects.get(provider_return=earlier)

    draft = open_return(world.riverside, second, by=world.riverside_contributor)

    answers = carried(draft)
    assert set(answers) == {"POLICY", "S11-01", "LEADS"}  # no percentage, count or audit sample
    assert answers["POLICY"].values == {"in_place": True, "review_date": "2027-03-31"}
    assert answers["S11-01"].values == {"grade": "partially_compliant", "evidence": "Audit found gaps."}
    assert answers["LEADS"].values == {"text": "Dr A Patel, Safeguarding Lead."}
    for answer in answers.values():
        assert answer.carried_from == source and answer.awaits_confirmation
        assert answer.updated_by == world.riverside_contributor
        (record,) = answer.history.all()
        assert (record.history_type, record.history_user, record.carried_from_id) == (
            "+", world.riverside_contributor, source.pk,
        )  # fmt: skip
    # Only the action a reviewer has not marked done is carried.
    assert [(i.action, i.owner, i.due_on) for i in answers["S11-01"].actions.all()] == [
        ("Brief the ward managers", "Named Nurse", datetime.date(2026, 2, 28))
    ]
    # The policy document is the same stored file, linked again.
    (old_file,) = Evidence.objects.filter(answer__provider_return=earlier)
    (new_file,) = answers["POLICY"].evidence.all()
    assert new_file.pk != old_file.pk and new_file.file.name == old_file.file.name
    assert (new_file.original_name, new_file.size) == ("policy.pdf", len(PDF))
    assert new_file.file.read() == PDF


def test_a_drafts_edits_after_the_submission_are_never_carried(world, catalogue, first, second):
    c = catalogue
    earlier = submitted(world, c, first)
    return_for_revision(earlier, by=world.newham_nurse, comments="Name the deputy too.")
    save_answers(earlier, by=world.riverside_contributor, answers={c.narrative.pk: AnswerInput({"text": "Draft."})})

    draft = open_return(world.riverside, second, by=world.riverside_contributor)

    assert carried(draft)["LEADS"].values == {"text": "Dr A Patel, Safeguarding Lead."}


def test_nothing_is_carried_from_a_return_never_submitted(world, catalogue, first, second):
    never = open_return(world.riverside, first, by=world.riverside_contributor)
    save_answers(never, by=world.riverside_contributor, answers=answers_of(catalogue))

    assert carried(open_return(world.riverside, second, by=world.riverside_contributor)) == {}


def test_nothing_is_carried_from_another_providers_return(world, catalogue, first, second):
    eastway = Return.objects.create(provider=world.eastway, period=first, status=ReturnStatus.SUBMITTED)
    entry = {"metric": "LEADS", "framework": f"{catalogue.framework.code} {catalogue.framework.version}",
             "kind": "narrative", "values": {"text": "Eastway's lead."}, "actions": [], "evidence": []}  # fmt: skip
    Submission.objects.create(
        provider_return=eastway, number=1, submitted_by=world.eastway_lead, declaration="Declared.",
        snapshot={"answers": [entry]},
    )  # fmt: skip

    assert carried(open_return(world.riverside, second, by=world.riverside_contributor)) == {}


def test_metrics_are_matched_by_code_within_the_framework_and_what_no_longer_exists_is_skipped(
    world, catalogue, first, second
):
    framework = catalogue.framework
    earlier = Return.objects.create(provider=world.riverside, period=first, status=ReturnStatus.SUBMITTED)

    def entry(code, framework_code=framework.code, version="2018/19", kind="narrative", text="Kept."):
        return {"metric": code, "framework": f"{framework_code} {version}", "kind": kind,
                "values": {"text": text}, "actions": [], "evidence": []}  # fmt: skip

    snapshot = {
        "answers": [
            entry("LEADS"),  # an earlier version of the same framework: carried
            entry("LEADS", framework_code="another-framework", text="Not this one."),
            entry("RETIRED", text="A question no longer asked."),
            entry("DBS", kind="percentage"),  # a figure
        ]
    }
    Submission.objects.create(
        provider_return=earlier, number=1, submitted_by=world.riverside_lead, declaration="D.", snapshot=snapshot
    )

    answers = carried(open_return(world.riverside, second, by=world.riverside_contributor))

    assert {code: a.values for code, a in answers.items()} == {"LEADS": {"text": "Kept."}}


def test_the_latest_submission_of_the_latest_submitted_period_is_the_one_carried(world, catalogue, first, second):
    c = catalogue
    submitted(world, c, first, answers_of(c) | {c.narrative.pk: AnswerInput({"text": "Q1."})})
    later = submitted(world, c, second, answers_of(c) | {c.narrative.pk: AnswerInput({"text": "Q2, first."})})
    return_for_revision(later, by=world.newham_nurse, comments="Again.")
    save_answers(later, by=world.riverside_contributor, answers={c.narrative.pk: AnswerInput({"text": "Q2, second."})})
    submit_return(later, by=world.riverside_lead, declaration_confirmed=True)

    third = open_return(world.riverside, open_period(2025, 3), by=world.riverside_contributor)

    leads = carried(third)["LEADS"]
    assert leads.values == {"text": "Q2, second."}
    assert leads.carried_from == later.submissions.get(number=2)


# Confirm or change ---------------------------------------------------------------------------------------------


def test_saving_a_carried_answer_unchanged_does_not_confirm_it_confirming_does_and_changing_clears_the_mark(
    world, catalogue, first, second
):
    c = catalogue
    submitted(world, c, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    policy = carried(draft)["POLICY"]
    same = {"in_place": "yes", "review_date": "2027-03-31"}

    save_answers(draft, by=world.riverside_lead, answers={c.policy.pk: AnswerInput(same, base_revision=1)})
    assert carried(draft)["POLICY"].awaits_confirmation

    confirm = AnswerInput(same, base_revision=1, confirm_carried=True)
    save_answers(draft, by=world.riverside_lead, answers={c.policy.pk: confirm})
    policy = carried(draft)["POLICY"]
    assert not policy.awaits_confirmation and policy.carried_from is not None
    assert policy.confirmed_by == world.riverside_lead and policy.confirmed_at is not None
    latest = policy.history.order_by("-history_id").first()
    assert latest.history_user == world.riverside_lead and latest.confirmed_at == policy.confirmed_at

    change = AnswerInput({"text": "Dr B Jones, Safeguarding Lead."}, base_revision=1)
    save_answers(draft, by=world.riverside_contributor, answers={c.narrative.pk: change})
    leads = carried(draft)["LEADS"]
    assert leads.carried_from is None and not leads.awaits_confirmation
    assert leads.history.order_by("-history_id").first().carried_from_id is None


def test_submitting_is_refused_until_each_carried_answer_is_confirmed_or_changed(world, catalogue, first, second):
    c = catalogue
    submitted(world, c, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    figures = {pk: a for pk, a in answers_of(c).items() if pk in (c.dbs.pk, c.allegations.pk, c.audit.pk)}
    save_answers(draft, by=world.riverside_contributor, answers=figures)

    with pytest.raises(ReturnProblems) as refused:
        submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)

    words = "Confirm the answer carried forward from Q1 2025/26 is unchanged, or change it."
    assert carried_message(carried(draft)["LEADS"]) == words
    assert refused.value.by_metric == {code: {"confirm_carried": words} for code in ("POLICY", "S11-01", "LEADS")}

    confirmed = confirm_carried_answers(draft, by=world.riverside_lead)
    assert {a.metric.code for a in confirmed} == {"POLICY", "S11-01", "LEADS"}
    assert confirm_carried_answers(draft, by=world.riverside_lead) == []  # a repeated confirmation changes nothing
    submission = submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    (leads,) = [a for a in submission.snapshot["answers"] if a["metric"] == "LEADS"]
    assert leads["carried_forward"]["from"] == "Q1 2025/26"
    assert leads["carried_forward"]["confirmed_by"] == world.riverside_lead.get_username()


# The pages -----------------------------------------------------------------------------------------------------


def test_the_form_marks_each_carried_answer_and_a_ticked_confirm_unchanged_confirms_it(
    world, as_person, catalogue, first, second
):
    c = catalogue
    submitted(world, c, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    client = as_person("riverside_contributor")

    page = client.get(page_url(draft))
    text = main_text(page)
    assert text.count("Carried forward from Q1 2025/26: confirm or change") == 3
    form = form_of(page)
    form[f"m{c.narrative.pk}-confirm_carried"] = "on"
    form["action"] = "save"
    response = client.post(page_url(draft), form)

    assert response.status_code == 302
    answers = carried(draft)
    assert not answers["LEADS"].awaits_confirmation and answers["POLICY"].awaits_confirmation
    page = main_text(client.get(page_url(draft)))
    assert "Carried forward from Q1 2025/26 and confirmed unchanged by" in page
    # In its history: where it came from, and who confirmed it.
    assert "Carried forward from Q1 2025/26: Answer: Dr A Patel, Safeguarding Lead." in page
    assert "Confirmed the answer carried forward from Q1 2025/26 is unchanged" in page


def test_the_check_page_lists_the_carried_answers_and_confirms_them_all_with_who_and_when(
    world, as_person, catalogue, first, second
):
    c = catalogue
    submitted(world, c, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    figures = {pk: a for pk, a in answers_of(c).items() if pk in (c.dbs.pk, c.allegations.pk, c.audit.pk)}
    save_answers(draft, by=world.riverside_contributor, answers=figures)
    client = as_person("riverside_lead")
    words = "Confirm the answer carried forward from Q1 2025/26 is unchanged, or change it."

    refused = client.post(submit_url(draft), {"confirmed": "on"})
    summary = summary_of(refused)
    assert words in summary and "LEADS" not in summary  # in the words of the page, not a code
    assert f'href="{page_url(draft)}#id_m{c.narrative.pk}-confirm_carried"' in summary
    assert "3 answers carried forward, not yet confirmed" in main_text(refused)
    assert Return.objects.get(pk=draft.pk).status == ReturnStatus.DRAFT

    response = client.post(reverse("returns:confirm_carried", args=[draft.pk]))
    assert response.status_code == 302 and response.url == submit_url(draft)
    page = main_text(client.get(response.url))
    assert "Confirmed 3 carried-forward answers unchanged." in page
    assert "not yet confirmed" not in page
    for answer in carried(draft).values():
        if answer.carried_from_id:
            assert answer.confirmed_by == world.riverside_lead
            assert timezone.now() - answer.confirmed_at < datetime.timedelta(minutes=1)

    assert client.post(submit_url(draft), {"confirmed": "on"}).status_code == 302
    assert Return.objects.get(pk=draft.pk).status == ReturnStatus.SUBMITTED


def test_confirming_all_is_for_the_providers_own_people(world, as_person, catalogue, first, second):
    submitted(world, catalogue, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    url = reverse("returns:confirm_carried", args=[draft.pk])

    assert as_person("newham_nurse").post(url).status_code == 403
    assert as_person("eastway_lead").post(url).status_code == 404
    assert all(a.awaits_confirmation for a in carried(draft).values())


# The API -------------------------------------------------------------------------------------------------------


def test_the_api_shows_carried_answers_confirms_one_and_refuses_to_submit_in_the_same_words(
    world, as_person, catalogue, first, second
):
    c = catalogue
    submitted(world, c, first)
    client = as_person("riverside_lead")
    opened = client.post(
        "/api/v1/returns/", {"provider": world.riverside.pk, "period": second.pk}, content_type="application/json"
    )
    assert opened.status_code == 201
    body = opened.json()
    draft = Return.objects.get(pk=body["id"])
    by_code = {m["code"]: m["answer"] for m in body["metrics"]}
    assert by_code["DBS"] is None
    assert by_code["LEADS"]["carried_forward"] == {
        "from": "Q1 2025/26", "confirmed": False, "confirmed_by": None, "confirmed_at": None,
    }  # fmt: skip
    figures = [
        {"metric": "DBS", "values": {"numerator": 98, "denominator": 100}, "base_revision": 0},
        {"metric": "ALLEGATIONS", "values": {"count": 2}, "base_revision": 0},
        {"metric": "AUDIT", "values": {"sampled": 20, "compliant": 19}, "base_revision": 0},
        {"metric": "LEADS", "values": by_code["LEADS"]["values"], "base_revision": 1, "confirm_carried": True},
    ]
    saved = client.post(f"/api/v1/returns/{draft.pk}/answers/", {"answers": figures}, content_type="application/json")
    assert saved.status_code == 200, saved.json()
    (leads,) = [a for a in saved.json()["answers"] if a["code"] == "LEADS"]
    assert leads["carried_forward"]["confirmed"] is True
    assert leads["carried_forward"]["confirmed_by"]["id"] == world.riverside_lead.pk

    refused = client.post(
        f"/api/v1/returns/{draft.pk}/submit/", {"declaration_confirmed": True}, content_type="application/json"
    )

    assert refused.status_code == 400
    words = carried_message(carried(draft)["POLICY"])
    assert refused.json()["errors"] == {"POLICY": {"confirm_carried": words}, "S11-01": {"confirm_carried": words}}


# Queries -------------------------------------------------------------------------------------------------------


FIGURES = {
    "percentage": {"numerator": "8", "denominator": "10"},
    "count": {"count": "3"},
    "audit": {"sampled": "20", "compliant": "18"},
}


def test_the_return_page_save_and_submit_ask_the_same_number_of_queries_with_3_or_30_carried_answers(
    world, as_person, catalogue, first, second
):
    c = catalogue
    client = as_person("riverside_lead")

    def queries(method, url, data=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
        assert response.status_code in (200, 302), response.content.decode()[:1000]
        return len(captured)

    def carried_forward_and_submitted(provider_return) -> tuple[int, int, int]:
        """The page's, a save's (confirming every carried answer on the form) and the submission's queries."""
        figures = {
            metric.pk: AnswerInput(FIGURES[metric.kind])
            for metric in c.framework.metrics.filter(kind__in=list(FIGURES)).exclude(code="MATERNITY")
        }
        save_answers(provider_return, by=world.riverside_contributor, answers=figures)
        client.get(page_url(provider_return))
        page = queries("get", page_url(provider_return))
        form = form_of(client.get(page_url(provider_return)))
        for name in list(form):
            if name.startswith("initial-") and name.endswith("-confirm_carried"):
                form[name.removeprefix("initial-")] = "on"
        form["action"] = "save"
        save = queries("post", page_url(provider_return), form)
        assert not any(a.awaits_confirmation for a in Answer.objects.filter(provider_return=provider_return))
        submit = queries("post", submit_url(provider_return), {"confirmed": "on"})
        assert Return.objects.get(pk=provider_return.pk).status == ReturnStatus.SUBMITTED
        return page, save, submit

    earlier = open_return(world.riverside, first, by=world.riverside_contributor)
    save_answers(earlier, by=world.riverside_contributor, answers=answers_of(c))
    attach(earlier, c.policy, world.riverside_contributor)
    submit_return(earlier, by=world.riverside_lead, declaration_confirmed=True)
    small_return = open_return(world.riverside, second, by=world.riverside_contributor)
    assert Answer.objects.filter(provider_return=small_return, carried_from__isnull=False).count() == 3
    small = carried_forward_and_submitted(small_return)

    # The same return again with 54 more questions answered, submitted, then carried into the next quarter.
    return_for_revision(small_return, by=world.newham_nurse, comments="Add the new questions.")
    add_questions(world, c, small_return, 54)
    submit_return(small_return, by=world.riverside_lead, declaration_confirmed=True)
    large_return = open_return(world.riverside, open_period(2025, 3), by=world.riverside_contributor)
    assert Answer.objects.filter(provider_return=large_return, carried_from__isnull=False).count() == 30
    large = carried_forward_and_submitted(large_return)

    assert small == large, f"page, save, submit: {small} queries with 3 carried answers, {large} with 30"
    assert large[0] <= 23 and large[2] <= 23


# The workbook --------------------------------------------------------------------------------------------------

CONFIRMED = "Carried forward: confirmed unchanged (Yes/No)"


def workbook_upload(provider_return, data, person):
    return read_workbook(provider_return, SimpleUploadedFile("return.xlsx", data), by=person)


def test_a_workbook_downloaded_and_uploaded_unchanged_leaves_carried_answers_to_confirm(
    world, catalogue, first, second
):
    submitted(world, catalogue, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    before = {code: (a.revision, a.awaits_confirmation) for code, a in carried(draft).items()}
    data = build_workbook(draft)
    ws = sheet_of(load_workbook(io.BytesIO(data)), catalogue)
    assert ws.cell(row_of(ws, "LEADS"), COLUMN[CONFIRMED]).value == "No"
    assert not ws.cell(row_of(ws, "LEADS"), COLUMN[CONFIRMED]).protection.locked
    assert ws.cell(row_of(ws, "DBS"), COLUMN[CONFIRMED]).protection.locked  # not carried

    result = workbook_upload(draft, data, world.riverside_contributor)

    assert result.saved == []
    assert {code: (a.revision, a.awaits_confirmation) for code, a in carried(draft).items()} == before


def test_yes_in_the_workbook_confirms_a_carried_answer_and_another_word_is_refused(world, catalogue, first, second):
    submitted(world, catalogue, first)
    draft = open_return(world.riverside, second, by=world.riverside_contributor)
    data = build_workbook(draft)

    with pytest.raises(WorkbookProblems) as refused:
        workbook_upload(draft, fill(data, catalogue, {"LEADS": {CONFIRMED: "Perhaps"}}), world.riverside_lead)
    row = row_of(sheet_of(load_workbook(io.BytesIO(data)), catalogue), "LEADS")
    sheet = catalogue.framework.short_name
    assert refused.value.problems == [f"Sheet ‘{sheet}’, row {row} (LEADS), {CONFIRMED}: Choose Yes or No."]
    assert carried(draft)["LEADS"].awaits_confirmation

    workbook_upload(draft, fill(data, catalogue, {"LEADS": {CONFIRMED: "Yes"}}), world.riverside_lead)

    answers = carried(draft)
    assert not answers["LEADS"].awaits_confirmation and answers["LEADS"].confirmed_by == world.riverside_lead
    assert answers["POLICY"].awaits_confirmation
    ws = sheet_of(load_workbook(io.BytesIO(build_workbook(draft))), catalogue)
    assert ws.cell(row_of(ws, "LEADS"), COLUMN[CONFIRMED]).value == "Yes"
    assert ws.cell(row_of(ws, "LEADS"), COLUMN[CONFIRMED]).protection.locked
