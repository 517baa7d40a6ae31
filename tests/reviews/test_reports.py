"""Assurance reports as real files, read back (a provider report's PDF, a committee pack's zip of PDFs and a
workbook): content, escaping, immutability, failures, scope and query counts."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from returns.models import Answer, Return, ReturnStatus, Submission
from returns.services import return_for_revision
from reviews import report_parts, report_services, reports
from reviews.models import AnswerStatus, AssuranceReport, KeyMeasure, RagRun, ReportKind, ReportPart, ReportState
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


def pack_of(report: AssuranceReport) -> dict[str, bytes]:
    """A committee pack's files by name."""
    with report.file.open("rb") as stream, zipfile.ZipFile(io.BytesIO(stream.read())) as pack:
        return {name: pack.read(name) for name in pack.namelist()}


def appendix_text(pack: dict[str, bytes], provider) -> str:
    (name,) = [n for n in pack if n.startswith("appendices/") and provider.ods_code in n]
    return " ".join(pdf_pages(pack[name]))


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


def test_a_committee_report_is_a_pack_of_its_front_section_annex_and_each_providers_report(
    world, quarter, django_capture_on_commit_callbacks
):
    report = ask(world, "newham_committee", ReportKind.COMMITTEE, world.newham, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert report.state == ReportState.READY, report.failure_reason
    data = pdf_of(report)
    assert report.size == len(data) and report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.filename.endswith(".zip")
    pack = pack_of(report)
    appendices = sorted(n for n in pack if n.startswith("appendices/"))
    assert set(pack) == {"0-read-me.txt", "1-front-section.pdf", "2-annex.xlsx", *appendices}
    assert [world.eastway.ods_code in appendices[0], world.riverside.ods_code in appendices[1]] == [True, True]
    pdfs = [pack["1-front-section.pdf"], *(pack[n] for n in appendices)]
    assert report.page_count == sum(len(PdfReader(io.BytesIO(p)).pages) for p in pdfs)

    pages = pdf_pages(pack["1-front-section.pdf"])
    assert all(page.count("OFFICIAL-SENSITIVE") >= 2 for page in pages), "marked at the top and bottom of each page"
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    cover, contents = pages[0], pages[1]
    for words in ("Safeguarding assurance report", "NHS Newham CCG", quarter.label, "Made on"):
        assert words in cover
    for entry in ("Executive summary", "Framework matrix", "Exceptions by provider", "Trends of the key measures",
                  "Action plans", "What else is in the pack"):  # fmt: skip
        assert entry in contents
    assert re.search(r"Executive summary\s?\.*\s?3", contents), "the contents list gives page numbers"
    text = " ".join(pages)
    assert "What changed since the last quarter" in text
    assert "Better" in text or "Worse" in text, "Riverside went from green in Q1 to amber"
    assert "Providers by type and overall status" in text
    assert re.search(rf"{world.eastway.name}.*Red R 1 · A 0 · G \d", text), "the worst colour in words, with counts"
    assert f"{world.eastway.name} (1 exception)" in text, "exceptions grouped by provider"
    assert "Agency staff not yet checked & chased." in text, "an exception carries the reviewer's comment"
    assert "DBS checks" in text
    assert world.chalk_hills.name not in text, "Luton's provider is not Newham's"
    assert "Every answer of" not in text, "answers are in the appendices"

    for provider in (world.eastway, world.riverside):
        appendix = appendix_text(pack, provider)
        assert "Provider assurance report" in appendix and f"Every answer of {provider.name}" in appendix
        assert "Appendix of the committee pack of NHS Newham CCG" in appendix
    assert world.riverside.name not in appendix_text(pack, world.eastway)

    annex = load_workbook(io.BytesIO(pack["2-annex.xlsx"]), read_only=True)
    assert annex.sheetnames == ["About", "Providers by framework", "Exceptions", "Actions", "Key measures"]
    matrix = list(annex["Providers by framework"].values)
    assert {row[0] for row in matrix[1:]} == {world.eastway.name, world.riverside.name}
    exceptions = list(annex["Exceptions"].values)
    assert exceptions[1][0] == world.eastway.name and "Agency staff not yet checked & chased." in exceptions[1][6]


def test_markup_a_provider_typed_appears_as_text_in_the_pack(world, quarter, django_capture_on_commit_callbacks):
    report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    assert MARKUP in appendix_text(pack_of(report), world.riverside)


def test_a_report_keeps_the_data_as_it_was_and_a_new_one_shows_the_change_remaking_only_changed_parts(
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

    with mock.patch.object(reports, "render_pdf", wraps=reports.render_pdf) as render:
        second = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert second.sha256 != first.sha256
    pack = pack_of(second)
    assert "Checks found missing." in " ".join(pdf_pages(pack["1-front-section.pdf"]))
    assert "Checks found missing." not in " ".join(pdf_pages(pack_of(first)["1-front-section.pdf"]))
    # Eastway's appendix has not changed: its part reuses the first report's file and is not drawn again.
    parts = {p.provider_id: p for p in second.parts.all()}
    eastway, earlier = parts[world.eastway.pk], first.parts.get(provider=world.eastway)
    assert (eastway.reused_from_id, eastway.file.name) == (earlier.pk, earlier.file.name)
    assert eastway.sha256 == earlier.sha256
    assert parts[world.riverside.pk].reused_from_id is None
    assert render.call_count == 2, "the front section and Riverside's appendix; not Eastway's"
    readme = pack["0-read-me.txt"].decode()
    assert "had not changed since an earlier report" in readme
    reused_names = readme.split("They are:\n", 1)[1].split()
    assert reused_names == sorted(name for name in pack if name.startswith("appendices/") and "Riverside" not in name)
    assert "had not changed" not in pack_of(first)["0-read-me.txt"].decode()


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
        report = ask(world, "riverside_lead", ReportKind.PROVIDER, world.riverside, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert render.call_count == 4, "the first try and three retries"
    assert (report.state, report.attempts, report.file.name, report.sha256) == (ReportState.FAILED, 4, "", "")
    assert report.failure_reason == report_services.TRANSIENT_REASON


def test_a_part_failing_for_good_fails_the_pack_with_a_reason_naming_it_and_offers_nothing(
    world, quarter, django_capture_on_commit_callbacks
):
    real = reports.render_pdf

    def appendix_fails(snapshot):
        if snapshot["subject"]["name"] == world.riverside.name:
            raise OperationalError("connection lost")
        return real(snapshot)

    with mock.patch.object(reports, "render_pdf", side_effect=appendix_fails) as render:
        report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert render.call_count == 2 + 4, "the front, Eastway's appendix, and Riverside's tried four times"
    assert (report.state, report.file.name, report.sha256) == (ReportState.FAILED, "", "")
    assert report.failure_reason.startswith(
        f"The committee pack could not be made: the appendix of {world.riverside.name} could not be made. "
    )
    assert report_services.TRANSIENT_REASON in report.failure_reason
    failed = report.parts.get(provider=world.riverside)
    assert (failed.state, failed.attempts, failed.file.name) == (ReportState.FAILED, 4, "")
    assert report.parts.filter(state=ReportState.READY).count() == 3, "the other parts were made"


def test_an_error_in_making_the_pdfs_fails_at_once_with_a_reason(world, quarter, django_capture_on_commit_callbacks):
    with mock.patch.object(reports, "render_pdf", side_effect=ValueError("bad layout")) as render:
        report = ask(world, "newham_nurse", ReportKind.COMMITTEE, world.newham, quarter,
                     django_capture_on_commit_callbacks)  # fmt: skip
    assert render.call_count == 3, "each PDF part once, none retried"
    assert (report.state, report.attempts, report.file.name) == (ReportState.FAILED, 1, "")
    assert "the front section and 2 other parts could not be made" in report.failure_reason
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
    assert not ReportPart.objects.exists(), "the parts are stored with the report's snapshot, or not at all"
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
def test_the_front_section_stays_as_long_for_200_providers_as_for_1_and_the_annex_holds_them_all(
    world, catalogue, count, tmp_path
):
    q1, q2 = make_period(2025, 1), make_period(2025, 2)
    KeyMeasure.objects.create(metric_code="DBS", heading="DBS checks")
    bulk_quarter(world, catalogue, count, q2, earlier=q1)
    full = reports.gather_committee(world.newham, q2, by=world.newham_nurse)
    front = report_parts.front_snapshot(full)
    pages = pdf_pages(reports.render_pdf(front).pdf)
    assert all("OFFICIAL-SENSITIVE" in page for page in pages)
    assert len(pages) <= 16, "bounded whatever the number of providers"
    text = " ".join(pages)
    providers = count + 1  # and Riverside, of the world
    shown = min(providers, report_parts.FRONT_MATRIX_ROWS)
    assert len(front["framework_matrix"]["rows"]) == shown
    if providers > report_parts.FRONT_MATRIX_ROWS:
        assert f"{providers - shown} more providers of {providers} in the annex workbook" in text
    else:
        assert "more provider" not in text
    ranks = [reports.RANK[row["overall"]["colour"]] for row in front["framework_matrix"]["rows"]]
    assert ranks == sorted(ranks), "worst first"
    assert len(report_parts.appendix_snapshots(full)) == providers

    path = tmp_path / "annex.xlsx"
    with open(path, "wb") as annex:
        report_parts.write_annex(report_parts.annex_snapshot(full), annex)
    rows = list(load_workbook(path, read_only=True)["Providers by framework"].values)
    assert len({row[0] for row in rows[1:]}) == providers


def test_the_annex_writes_text_as_text_never_as_a_formula(tmp_path):
    formula = '=HYPERLINK("http://evil.example","click")'
    snapshot = {
        "title": "Safeguarding assurance report", "subject": {"name": formula, "ods_code": "X"},
        "period": {"label": "Q1"}, "made_at": "now", "requested_by": "@SUM(A1)",
        "framework_matrix": {"frameworks": ["F"], "rows": [
            {"name": formula, "ods_code": "+1", "provider_type": "-1", "state": "Submitted",
             "overall": {"label": "Red"}, "cells": {"F": {"label": "Red", "counts": dict.fromkeys(
                 ("red", "amber", "green", "none"), 1)}}}]},
        "exceptions": [], "actions": [{"provider": formula, "metric_code": "X", "action": formula, "owner": "=1+1",
                                       "due_on": "1 May 2025", "state": "Due"}],
        "trends": [], "provider_trends": [],
    }  # fmt: skip
    path = tmp_path / "annex.xlsx"
    with open(path, "wb") as annex:
        report_parts.write_annex(snapshot, annex)
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert formula in [c.value for c in book["Actions"]["C"]] and "=1+1" in [c.value for c in book["Actions"]["D"]]
