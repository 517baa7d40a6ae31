"""Assurance reports as real PDFs, read back: content, escaping, immutability, failures, scope and query counts."""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from returns.models import Answer, Return, ReturnStatus, Submission
from returns.services import return_for_revision
from reviews import report_services, reports
from reviews.models import AnswerStatus, AssuranceReport, KeyMeasure, RagRun, ReportKind, ReportState
from reviews.services import comment_on_answer, compute_return_rag, override_status
from standards.kinds import figure
from tests.reviews.fixtures import (  # noqa: F401
    ANSWERS,
    make_period,
    providers_of,
    submit_directly,
    submit_through_services,
    submitted,
)

MARKUP = "<b>bold</b> <script>x</script> & <img src=x>"
RED_DBS = {**ANSWERS, "DBS": {"numerator": "50", "denominator": "100"}}


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Reports and evidence made here go to a temporary folder, not the project's private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, with runs of white space made single spaces."""
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


def pdf_of(report: AssuranceReport) -> bytes:
    with report.file.open("rb") as stream:
        return stream.read()


@pytest.fixture
def quarter(world, catalogue, q1, q2):
    """Newham's quarter: Riverside on time (amber, its narrative full of markup), Eastway late with a red DBS answer
    that a nurse commented on; Q1 before it had Riverside green. DBS is a key measure."""
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks", position=0)
    world.eastway_contract.frameworks.set([catalogue.framework])
    world.chalk_hills_contract.frameworks.set([catalogue.framework])
    earlier = submit_directly(world.riverside, q1, {**ANSWERS, "DBS": {"numerator": "100", "denominator": "100"}},
                              by=world.riverside_lead)  # fmt: skip
    compute_return_rag(earlier)
    riverside = Return.objects.create(provider=world.riverside, period=q2)
    submit_through_services(world, catalogue, riverside, {**ANSWERS, "LEADS": {"text": MARKUP}})
    eastway = submit_directly(world.eastway, q2, RED_DBS, by=world.eastway_lead, late=True)
    Answer.objects.bulk_create(
        Answer(provider_return=eastway, metric=m, values=RED_DBS[m.code], revision=1)
        for m in (catalogue.dbs, catalogue.allegations, catalogue.policy, catalogue.audit, catalogue.self_assessment,
                  catalogue.narrative)
    )  # fmt: skip
    compute_return_rag(Return.objects.get(pk=riverside.pk))
    compute_return_rag(eastway)
    comment_on_answer(eastway, catalogue.dbs, by=world.newham_nurse, text="Agency staff not yet checked & chased.")
    return q2


def ask(world, person, kind, subject, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(getattr(world, person), kind=kind, period=period, subject=subject)
    report.refresh_from_db()
    return report


def test_a_committee_report_holds_every_part_the_committee_tables(world, quarter, django_capture_on_commit_callbacks):
    report = ask(world, "newham_committee", ReportKind.COMMITTEE, world.newham, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert report.state == ReportState.READY, report.failure_reason
    data = pdf_of(report)
    pages = pdf_pages(data)
    assert report.page_count == len(pages) and report.size == len(data)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert all(page.count("OFFICIAL-SENSITIVE") >= 2 for page in pages), "marked at the top and bottom of each page"
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    cover, contents = pages[0], pages[1]
    for words in ("Safeguarding assurance report", "NHS Newham CCG", quarter.label, "Newham Committee", "Made on"):
        assert words.replace("Newham Committee", "") in cover
    for entry in ("Executive summary", "RAG matrix", "Exceptions", "Trends of the key measures", "Action plans",
                  "Appendix", world.riverside.name, world.eastway.name):  # fmt: skip
        assert entry in contents
    assert re.search(r"Executive summary\s?\.*\s?3", contents), "the contents list gives page numbers"
    text = " ".join(pages)
    assert "What changed since the last quarter" in text
    assert "Better" in text or "Worse" in text, "Riverside went from green in Q1 to amber"
    assert "Agency staff not yet checked & chased." in text, "an exception carries the reviewer's comment"
    assert "DBS checks" in text
    assert world.chalk_hills.name not in text, "Luton's provider is not Newham's"
    appendix = [p for p in pages if "Every answer of" in p]
    assert [world.eastway.name in appendix[0], world.riverside.name in appendix[1]] == [True, True]


def test_markup_a_provider_typed_appears_as_text_in_the_pdf(world, quarter, django_capture_on_commit_callbacks):
    report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert MARKUP in " ".join(pdf_pages(pdf_of(report)))


def test_a_report_keeps_the_data_as_it_was_and_a_new_one_shows_the_change(
    world, catalogue, quarter, django_capture_on_commit_callbacks
):
    first = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter, django_capture_on_commit_callbacks)
    before = pdf_of(first)
    riverside = Return.objects.get(provider=world.riverside, period=quarter)
    override_status(riverside, catalogue.dbs, by=world.newham_nurse, colour="red", reason="Checks found missing.")
    compute_return_rag(riverside)

    first.refresh_from_db()
    assert pdf_of(first) == before and hashlib.sha256(before).hexdigest() == first.sha256
    with django_capture_on_commit_callbacks(execute=True):
        report_services.schedule_report(first.pk)  # the job again: a ready report is left alone
    first.refresh_from_db()
    assert (first.attempts, pdf_of(first)) == (1, before)

    second = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter, django_capture_on_commit_callbacks)
    assert second.sha256 != first.sha256
    assert "Checks found missing." in " ".join(pdf_pages(pdf_of(second)))
    assert "Checks found missing." not in " ".join(pdf_pages(before))


def test_a_return_sent_back_for_revision_is_reported_as_submitted_not_as_redrafted(world, catalogue, quarter):
    riverside = Return.objects.get(provider=world.riverside, period=quarter)
    return_for_revision(riverside, by=world.newham_nurse, comments="Say more about the leads.")
    answers = Answer.objects.filter(provider_return=riverside)
    answers.filter(metric=catalogue.narrative).update(values={"text": "Half-written redraft"})
    answers.filter(metric=catalogue.dbs).update(values={"numerator": "1", "denominator": "100"})

    snapshot = reports.gather_committee(world.newham, quarter, by=world.newham_nurse)
    (entry,) = [p for p in snapshot["providers"] if p["name"] == world.riverside.name]
    typed = {a["code"]: a["typed"] for a in entry["answers"]}
    assert typed[catalogue.narrative.code] == MARKUP
    (dbs,) = entry["trends"]
    figures = [pt["figure"] for pt in dbs["trend"]["points"] if pt["figure"]]
    assert "1" not in figures and figures[-1] == reports._number(figure("percentage", ANSWERS["DBS"]))


def test_a_transient_failure_is_retried_then_recorded_with_a_reason_and_no_file(
    world, quarter, django_capture_on_commit_callbacks
):
    with mock.patch.object(reports, "render_pdf", side_effect=OperationalError("connection lost")) as render:
        report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert render.call_count == 4, "the first try and three retries"
    assert (report.state, report.attempts, report.file.name, report.sha256) == (ReportState.FAILED, 4, "", "")
    assert report.failure_reason == report_services.TRANSIENT_REASON


def test_an_error_in_making_the_pdf_fails_at_once_with_a_reason(world, quarter, django_capture_on_commit_callbacks):
    with mock.patch.object(reports, "render_pdf", side_effect=ValueError("bad layout")):
        report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert (report.state, report.attempts, report.file.name) == (ReportState.FAILED, 1, "")
    assert "Something went wrong while making the report (ValueError). Ask for it again" in report.failure_reason


def test_a_job_killed_after_writing_its_file_never_leaves_a_ready_report(world, quarter, settings):
    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=quarter, requested_by=world.newham_nurse
    )
    killed = mock.patch.object(AssuranceReport, "save", side_effect=[None, OperationalError("killed")])
    with killed, pytest.raises(OperationalError):
        report_services.make_report(report.pk)
    report.refresh_from_db()
    assert report.state != ReportState.READY and report.file.name == ""
    assert not list((settings.STORAGES["default"]["OPTIONS"]["location"] / "reports").rglob("*.pdf"))


def test_a_ready_report_must_have_its_file_and_the_subject_its_kind_needs(world, quarter):
    base = {"period": quarter, "requested_by": world.newham_nurse}
    with pytest.raises(IntegrityError), transaction.atomic():
        AssuranceReport.objects.create(kind=ReportKind.COMMITTEE, provider=world.riverside, **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssuranceReport.objects.create(kind=ReportKind.PROVIDER, provider=world.riverside, commissioner=world.newham,
                                       **base)  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        AssuranceReport.objects.create(kind=ReportKind.PROVIDER, provider=world.riverside, state=ReportState.READY,
                                       **base)  # fmt: skip


def test_a_provider_report_holds_the_providers_summary_and_every_answer(
    world, quarter, django_capture_on_commit_callbacks
):
    report = ask(world, "riverside_lead", ReportKind.PROVIDER, world.riverside, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert report.state == ReportState.READY, report.failure_reason
    pages = pdf_pages(pdf_of(report))
    text = " ".join(pages)
    assert pages[0].startswith("OFFICIAL-SENSITIVE") and "Provider assurance report" in pages[0]
    assert world.riverside.name in text and f"Every answer of {world.riverside.name}" in text
    for code in ("DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"):
        assert code in text
    assert MARKUP in text
    assert world.eastway.name not in text
    assert "Providers by overall status" not in text, "one provider's report does not count other providers"
    assert "Answers Red 0 Answers Amber 1 Answers Green 2" in text
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))


@pytest.mark.parametrize(
    "person,kind,subject,allowed",
    [
        ("newham_committee", ReportKind.COMMITTEE, "newham", True),
        ("newham_nurse", ReportKind.COMMITTEE, "newham", True),
        ("luton_nurse", ReportKind.COMMITTEE, "newham", False),
        ("riverside_lead", ReportKind.COMMITTEE, "newham", False),
        ("newham_nurse", ReportKind.PROVIDER, "eastway", True),  # an associate on Eastway's contract
        ("riverside_lead", ReportKind.PROVIDER, "riverside", True),
        ("riverside_contributor", ReportKind.PROVIDER, "riverside", True),
        ("riverside_lead", ReportKind.PROVIDER, "eastway", False),
        ("luton_nurse", ReportKind.PROVIDER, "riverside", False),
        ("stranger", ReportKind.PROVIDER, "riverside", False),
    ],
)
def test_only_people_entitled_to_the_data_may_ask_for_its_report(world, quarter, person, kind, subject, allowed):
    user = getattr(world, person)
    if allowed:
        report = report_services.request_report(user, kind=kind, period=quarter, subject=getattr(world, subject))
        assert AssuranceReport.objects.restrict(user).filter(pk=report.pk).exists()
        assert not AssuranceReport.objects.restrict(world.stranger).filter(pk=report.pk).exists()
    else:
        with pytest.raises(ValidationError) as refused:
            report_services.request_report(user, kind=kind, period=quarter, subject=getattr(world, subject))
        assert refused.value.message_dict in ({"commissioner": [report_services.NO_COMMISSIONER]},
                                              {"provider": [report_services.NO_PROVIDER]})  # fmt: skip


def test_each_person_sees_only_the_reports_of_data_they_may_see(world, quarter):
    committee = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=quarter, requested_by=world.newham_nurse
    )
    riverside = AssuranceReport.objects.create(
        kind=ReportKind.PROVIDER, provider=world.riverside, period=quarter, requested_by=world.riverside_lead
    )
    people = ("newham_committee", "newham_nurse", "riverside_lead", "eastway_lead", "luton_nurse", "hackney_admin")
    seen = {name: set(AssuranceReport.objects.restrict(getattr(world, name))) for name in people}
    assert seen == {
        "newham_committee": {committee, riverside},
        "newham_nurse": {committee, riverside},
        "riverside_lead": {riverside},
        "eastway_lead": set(),
        "luton_nurse": set(),
        "hackney_admin": set(),  # Hackney commissions Eastway, not Riverside
    }


def bulk_quarter(world, catalogue, count: int, period, *, prefix="P", earlier=None):
    """``count`` providers of Newham's with a submitted return and a stored status, made in bulk."""
    providers = providers_of(world.newham, catalogue.framework, count, prefix=prefix)
    for when in [p for p in (earlier, period) if p is not None]:
        returns = Return.objects.bulk_create(
            Return(provider=p, period=when, status=ReturnStatus.SUBMITTED) for p in providers
        )
        Submission.objects.bulk_create(
            Submission(provider_return=r, number=1, submitted_by=world.riverside_lead, declaration="Confirmed.",
                       snapshot={"answers": []})
            for r in returns
        )  # fmt: skip
        submissions = Submission.objects.filter(provider_return__in=returns).order_by("provider_return_id")
        runs = RagRun.objects.bulk_create(
            RagRun(provider_return=r, submission=s, fingerprint="x", colour=c, explanation="made in bulk",
                   is_current=True)
            for r, s, c in zip(returns, submissions, ["red", "amber", "green"] * count, strict=False)
        )  # fmt: skip
        AnswerStatus.objects.bulk_create(
            AnswerStatus(run=run, metric=metric, colour=colour, computed_colour=colour, value="97.0% (97 of 100)")
            for n, run in enumerate(runs)
            for metric, colour in ((catalogue.dbs, ["red", "amber", "green"][n % 3]), (catalogue.narrative, "none"))
        )
        Answer.objects.bulk_create(
            Answer(provider_return=r, metric=catalogue.dbs, values={"numerator": 90 + n % 10, "denominator": 100})
            for n, r in enumerate(returns)
        )
    return providers


def test_gathering_a_committee_report_asks_the_same_number_of_queries_for_2_and_6_providers(world, catalogue):
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks")
    q1, q2 = make_period(2025, 1), make_period(2025, 2)
    counts, sizes = [], []
    for size, prefix in ((2, "A"), (4, "B")):  # 2 providers of Newham's, then 6
        bulk_quarter(world, catalogue, size, q2, prefix=prefix, earlier=q1)
        with CaptureQueriesContext(connection) as captured:
            snapshot = reports.gather_committee(world.newham, q2, by=world.newham_nurse)
        counts.append(len(captured))
        sizes.append(len([p for p in snapshot["providers"] if p["answers"]]))
    assert sizes == [2, 6]
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("count", [1, 200])
def test_the_layout_holds_for_1_and_for_200_providers(world, catalogue, count, django_capture_on_commit_callbacks):
    q1, q2 = make_period(2025, 1), make_period(2025, 2)
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks")
    bulk_quarter(world, catalogue, count, q2, earlier=q1)
    report = ask(world, "newham_committee", ReportKind.COMMITTEE, world.newham, q2, django_capture_on_commit_callbacks)
    assert report.state == ReportState.READY, report.failure_reason
    pages = pdf_pages(pdf_of(report))
    assert all("OFFICIAL-SENSITIVE" in page for page in pages)
    matrix_pages = [p for p in pages if "Provider Overall" in p and "S1" in p]
    appendix = [p for p in pages if "Every answer of" in p]
    assert len(appendix) == count, "each provider starts on a new page"
    # The summary, matrix, exceptions, trends and actions sections, each on its own page(s), plus cover and contents.
    if count == 1:
        assert len(matrix_pages) == 1
        assert report.page_count < 12
    else:
        assert len(matrix_pages) > 1, "the matrix runs over several pages with its header on each"
        rows = [p.count("P provider") for p in matrix_pages]
        assert sum(rows) == count and all(n > 5 for n in rows[:-1]), rows
        assert report.page_count >= count + 10
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    # The contents give the page each provider's appendix starts on (a long report is drawn in parts and joined).
    first = next(n for n, page in enumerate(pages, start=1) if "Every answer of P provider 000" in page)
    assert re.search(rf"P provider 000\s?\.+\s?{first}\b", " ".join(pages[1:4])), first
    assert datetime.date.today().strftime("%Y") in pages[0]
