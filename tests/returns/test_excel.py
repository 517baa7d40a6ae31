"""A return downloaded as Excel, filled in offline and uploaded back: all of it is saved, or none of it."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from returns import excel
from returns.excel import ABOUT_TITLE, FIRST_ROW, HEADER_ROW, HEADERS, WorkbookProblems, build_workbook, read_workbook
from returns.models import Answer, Evidence, ReturnStatus
from returns.services import AnswerInput, ReturnProblems, open_return, save_answers, submit_return
from tests.returns.conftest import Q2_TODAY

COLUMN = {header: index for index, header in enumerate(HEADERS, start=1)}


@pytest.fixture
def draft(world, catalogue, q2):
    return open_return(world.riverside, q2, by=world.riverside_contributor)


def sheet_of(workbook, catalogue):
    return workbook[catalogue.framework.short_name]


def row_of(ws, code: str) -> int:
    for row in range(FIRST_ROW, ws.max_row + 1):
        if ws.cell(row, COLUMN["Code"]).value == code:
            return row
    raise AssertionError(f"No row for {code}")


def fill(data: bytes, catalogue, answers: dict[str, dict[str, object]]) -> bytes:
    """The workbook with these cells typed in, by metric code and column heading, as a person would."""
    workbook = load_workbook(io.BytesIO(data))
    ws = sheet_of(workbook, catalogue)
    for code, cells in answers.items():
        row = row_of(ws, code)
        for header, value in cells.items():
            ws.cell(row, COLUMN[header]).value = value
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(draft, data, person):
    return read_workbook(draft, SimpleUploadedFile("return.xlsx", data), by=person, today=Q2_TODAY)


def test_a_filled_workbook_saves_every_answer_and_records_who(world, catalogue, draft):
    c = catalogue
    filled = fill(
        build_workbook(draft),
        c,
        {
            "DBS": {"Numerator": 98, "Denominator": 100.0},  # Excel hands whole numbers back as 100.0
            "ALLEGATIONS": {"Number": "2"},
            "POLICY": {"In place": "Yes", "Review date": datetime.datetime(2027, 3, 31)},
            "AUDIT": {"Records sampled": 20, "Records compliant": 19},
            "S11-01": {"Grade": "Partially compliant", "Evidence or narrative": "Audit under way."},
            "LEADS": {"Evidence or narrative": "Dr A Patel, Safeguarding Lead."},
        },
    )
    result = upload(draft, filled, world.riverside_contributor)

    saved = {a.metric.code: a.values for a in Answer.objects.select_related("metric")}
    assert saved == {
        "DBS": {"numerator": 98, "denominator": 100},
        "ALLEGATIONS": {"count": 2},
        "POLICY": {"in_place": True, "review_date": "2027-03-31"},
        "AUDIT": {"sampled": 20, "compliant": 19},
        "S11-01": {"grade": "partially_compliant", "evidence": "Audit under way."},
        "LEADS": {"text": "Dr A Patel, Safeguarding Lead."},
    }
    assert len(result.saved) == 6
    for answer in Answer.objects.all():
        assert answer.updated_by == world.riverside_contributor
        assert answer.history.get().history_user == world.riverside_contributor


def test_dates_typed_as_text_and_no_for_in_place_are_understood(world, catalogue, draft):
    filled = fill(build_workbook(draft), catalogue, {"POLICY": {"In place": "no", "Review date": "31/03/2027"}})
    upload(draft, filled, world.riverside_contributor)
    assert Answer.objects.get().values == {"in_place": False, "review_date": "2027-03-31"}


def test_the_workbook_describes_the_return_and_is_prefilled_with_the_drafts_answers(world, catalogue, draft):
    c = catalogue
    save_answers(
        draft,
        by=world.riverside_contributor,
        today=Q2_TODAY,
        answers={
            c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
            c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
            c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Board minutes."}),
        },
    )
    workbook = load_workbook(io.BytesIO(build_workbook(draft)))
    assert workbook.sheetnames == [ABOUT_TITLE, c.framework.short_name]
    about = "\n".join(str(cell.value) for row in workbook[ABOUT_TITLE].iter_rows() for cell in row if cell.value)
    for expected in (
        "Riverside University Hospitals NHS Trust",
        "ZR1",
        "Q2 2025/26 (July to September 2025)",
        "Draft",
        "Action plans and evidence files are not in this workbook",
    ):
        assert expected in about

    ws = sheet_of(workbook, c)
    assert [ws.cell(row, COLUMN["Code"]).value for row in range(FIRST_ROW, ws.max_row + 1)] == [
        "DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS",
    ]  # fmt: skip
    dbs, policy, grade = row_of(ws, "DBS"), row_of(ws, "POLICY"), row_of(ws, "S11-01")
    assert (ws.cell(dbs, COLUMN["Numerator"]).value, ws.cell(dbs, COLUMN["Denominator"]).value) == (98, 100)
    assert ws.cell(dbs, COLUMN["Threshold for this provider"]).value == "Green from 100%, amber from 95%"
    assert ws.cell(row_of(ws, "ALLEGATIONS"), COLUMN["Threshold for this provider"]).value.startswith(
        "No threshold — monitored"
    )
    assert ws.cell(dbs, COLUMN["Standard"]).value == "1. Safe recruitment"
    assert "Numerator: Checked. Denominator: Staff." in ws.cell(dbs, COLUMN["Guidance"]).value
    assert ws.cell(policy, COLUMN["In place"]).value == "Yes"
    assert ws.cell(policy, COLUMN["Review date"]).value == datetime.datetime(2027, 3, 31)
    assert ws.cell(grade, COLUMN["Grade"]).value == "Compliant"
    revision = COLUMN["Revision at download (do not change)"]
    assert ws.cell(dbs, revision).value == 1
    assert ws.cell(row_of(ws, "ALLEGATIONS"), revision).value == 0


def test_only_the_cells_a_questions_kind_uses_are_open_and_they_are_checked(world, catalogue, draft):
    ws = sheet_of(load_workbook(io.BytesIO(build_workbook(draft))), catalogue)
    dbs, policy = row_of(ws, "DBS"), row_of(ws, "POLICY")

    assert ws.protection.sheet and not ws.protection.password
    assert not ws.cell(dbs, COLUMN["Numerator"]).protection.locked
    assert not ws.cell(dbs, COLUMN["Denominator"]).protection.locked
    for header in ("Code", "Question", "Number", "In place", "Grade", "Evidence or narrative"):
        assert ws.cell(dbs, COLUMN[header]).protection.locked, header
    assert ws.cell(dbs, COLUMN["Numerator"]).fill.fgColor.rgb.endswith("FFFFFF")
    assert not ws.cell(dbs, COLUMN["Number"]).fill.fgColor.rgb.endswith("FFFFFF")
    assert ws.cell(policy, COLUMN["Review date"]).number_format == "dd/mm/yyyy"

    def validation_of(header, row):
        coordinate = ws.cell(row, COLUMN[header]).coordinate
        (found,) = [v for v in ws.data_validations.dataValidation if coordinate in v.sqref]
        return found

    assert validation_of("In place", policy).formula1 == '"Yes,No"'
    assert validation_of("Grade", row_of(ws, "S11-01")).formula1 == '"Compliant,Partially compliant,Not compliant"'
    assert validation_of("Numerator", dbs).type == "whole"
    assert validation_of("Records sampled", row_of(ws, "AUDIT")).type == "whole"
    assert validation_of("Review date", policy).type == "date"

    assert ws.freeze_panes == f"C{FIRST_ROW}"
    assert ws.cell(HEADER_ROW, COLUMN["Code"]).font.bold
    assert ws.column_dimensions["Q"].hidden and ws.column_dimensions["R"].hidden  # metric id and revision
    assert ws.cell(dbs, COLUMN["Metric id (do not change)"]).value == catalogue.dbs.pk


def test_every_problem_is_listed_by_sheet_row_and_column_and_nothing_is_imported(world, catalogue, draft):
    sheet = catalogue.framework.short_name
    filled = fill(
        build_workbook(draft),
        catalogue,
        {
            "DBS": {"Numerator": 120, "Denominator": 100},
            "ALLEGATIONS": {"Number": "twelve"},
            "POLICY": {"In place": "Yes", "Review date": "31/02/2027"},
            "S11-01": {"Grade": "Mostly"},
            "LEADS": {"Evidence or narrative": "Fine on its own, but not imported with the rest."},
        },
    )
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, filled, world.riverside_contributor)
    assert refused.value.problems == [
        f"Sheet ‘{sheet}’, row 4 (DBS), Numerator: “Checked” cannot be more than “Staff”.",
        f"Sheet ‘{sheet}’, row 5 (ALLEGATIONS), Number: Enter the number as a whole number, like 12.",
        f"Sheet ‘{sheet}’, row 6 (POLICY), Review date: Enter the review date as a real date, like 2026-03-31.",
        f"Sheet ‘{sheet}’, row 8 (S11-01), Grade: Choose compliant, partially compliant or not compliant.",
    ]
    assert not Answer.objects.exists()


def test_a_changed_layout_is_named_by_sheet_and_row(world, catalogue, draft):
    sheet = catalogue.framework.short_name
    workbook = load_workbook(io.BytesIO(build_workbook(draft)))
    ws = workbook[sheet]
    metric_id = COLUMN["Metric id (do not change)"]
    dbs, audit = row_of(ws, "DBS"), row_of(ws, "AUDIT")
    ws.cell(audit, metric_id).value = ws.cell(dbs, metric_id).value  # a row copied over another
    ws.cell(20, COLUMN["Number"]).value = 7  # an answer typed below the questions
    ws.cell(dbs, COLUMN["Number"]).value = 3  # a locked cell the kind does not use
    output = io.BytesIO()
    workbook.save(output)
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, output.getvalue(), world.riverside_contributor)
    assert refused.value.problems == [
        f"Sheet ‘{sheet}’, row 4 (DBS), Number: This question is not answered in this column; clear the cell.",
        f"Sheet ‘{sheet}’, row 7 (DBS): this question is here again (it is first at row 4). Keep one row for each "
        "question.",
        f"Sheet ‘{sheet}’, row 20: this row is not one of the questions of this sheet. Don't add, copy or move "
        "rows; type answers only in the white cells of the rows given.",
    ]

    ws.cell(HEADER_ROW, COLUMN["Numerator"]).value = "Staff checked"
    output = io.BytesIO()
    workbook.save(output)
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, output.getvalue(), world.riverside_contributor)
    assert refused.value.problems == [
        f"Sheet ‘{sheet}’, row 3: the column headings have changed (column G should be ‘Numerator’, not ‘Staff "
        "checked’). Upload the workbook with its columns as they were downloaded."
    ]

    del workbook[sheet]
    output = io.BytesIO()
    workbook.save(output)
    with pytest.raises(WorkbookProblems, match=f"The sheet ‘{sheet}’ is missing"):
        upload(draft, output.getvalue(), world.riverside_contributor)
    assert not Answer.objects.exists()


def test_rows_left_as_downloaded_are_not_saved_and_clearing_a_row_clears_its_answer(world, catalogue, draft):
    c = catalogue
    save_answers(
        draft, by=world.riverside_lead, today=Q2_TODAY, answers={c.allegations.pk: AnswerInput({"count": "4"})}
    )
    downloaded = build_workbook(draft)
    assert upload(draft, downloaded, world.riverside_contributor).saved == []
    assert list(Answer.objects.values_list("metric__code", flat=True)) == ["ALLEGATIONS"]  # no empty answers

    upload(draft, fill(downloaded, c, {"ALLEGATIONS": {"Number": None}}), world.riverside_contributor)
    answer = Answer.objects.get()
    assert answer.values == {"count": None} and answer.updated_by == world.riverside_contributor


def test_a_workbook_of_another_return_is_refused(world, catalogue, draft, q1):
    other = open_return(world.riverside, q1, by=world.riverside_contributor)
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, build_workbook(other), world.riverside_contributor)
    assert refused.value.problems == [
        "This workbook is for another return (Riverside University Hospitals NHS Trust, Q1 2025/26 (April to June "
        "2025)). Upload it on that return's page, or download the workbook for this return and fill that in."
    ]


def test_a_file_that_is_not_an_excel_workbook_or_not_a_returns_workbook_is_refused(world, catalogue, draft):
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, b"Code,Numerator\nDBS,98\n", world.riverside_contributor)
    assert refused.value.problems[0].startswith("This file is not an Excel workbook (.xlsx).")

    output = io.BytesIO()
    Workbook().save(output)
    with pytest.raises(WorkbookProblems, match="was not downloaded from a return in Safeguard Assure"):
        upload(draft, output.getvalue(), world.riverside_contributor)


def test_a_submitted_return_cannot_be_uploaded(world, catalogue, draft):
    c = catalogue
    downloaded = build_workbook(draft)
    save_answers(
        draft,
        by=world.riverside_lead,
        today=Q2_TODAY,
        answers={
            c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
            c.allegations.pk: AnswerInput({"count": "2"}),
            c.policy.pk: AnswerInput({"in_place": "no"}),
            c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
            c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Board minutes."}),
            c.narrative.pk: AnswerInput({"text": "Dr A Patel."}),
        },
    )
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    assert draft.status == ReturnStatus.DRAFT  # as a page loaded before the submission would hold it
    with pytest.raises(WorkbookProblems, match="This return has been submitted"):
        upload(draft, fill(downloaded, c, {"ALLEGATIONS": {"Number": 9}}), world.riverside_lead)
    assert Answer.objects.get(metric=c.allegations).values == {"count": 2}
    # Its workbook is still there to read, with every answer cell locked.
    ws = sheet_of(load_workbook(io.BytesIO(build_workbook(draft))), c)
    assert ws.cell(row_of(ws, "ALLEGATIONS"), COLUMN["Number"]).protection.locked
    assert not Evidence.objects.exists()


def test_a_conflict_with_a_change_made_on_the_web_since_download_names_the_row_and_who(world, catalogue, draft):
    c = catalogue
    downloaded = build_workbook(draft)
    save_answers(
        draft,
        by=world.riverside_lead,
        today=Q2_TODAY,
        answers={c.dbs.pk: AnswerInput({"numerator": "90", "denominator": "100"}, base_revision=0)},
    )
    filled = fill(downloaded, c, {"DBS": {"Numerator": 98, "Denominator": 100}, "ALLEGATIONS": {"Number": 2}})
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, filled, world.riverside_contributor)
    (problem,) = refused.value.problems
    assert problem.startswith(
        f"Sheet ‘{c.framework.short_name}’, row 4 (DBS): {world.riverside_lead.get_full_name()} changed this answer "
        "on the web on "
    )
    assert "(it is now Numerator “90”, Denominator “100”). Nothing was imported." in problem
    assert {a.metric.code: a.values for a in Answer.objects.all()} == {"DBS": {"numerator": 90, "denominator": 100}}


def test_answers_changed_on_the_web_are_kept_when_their_rows_were_left_alone(world, catalogue, draft):
    c = catalogue
    lead = world.riverside_lead
    save_answers(draft, by=lead, today=Q2_TODAY, answers={c.allegations.pk: AnswerInput({"count": "4"})})
    downloaded = build_workbook(draft)  # ALLEGATIONS 4 at revision 1; AUDIT unanswered
    save_answers(
        draft,
        by=lead,
        today=Q2_TODAY,
        answers={
            c.allegations.pk: AnswerInput({"count": "5"}, base_revision=1),
            c.audit.pk: AnswerInput({"sampled": "20", "compliant": "18"}, base_revision=0),
        },
    )
    upload(draft, fill(downloaded, c, {"DBS": {"Numerator": 98, "Denominator": 100}}), world.riverside_contributor)
    assert {a.metric.code: a.values for a in Answer.objects.all()} == {
        "ALLEGATIONS": {"count": 5},
        "AUDIT": {"sampled": 20, "compliant": 18},
        "DBS": {"numerator": 98, "denominator": 100},
    }


@pytest.mark.parametrize("person", ["newham_nurse", "eastway_lead", "stranger"])
def test_only_people_who_may_edit_the_return_can_upload_it(world, catalogue, draft, person):
    filled = fill(build_workbook(draft), catalogue, {"ALLEGATIONS": {"Number": 1}})
    with pytest.raises(PermissionDenied):
        upload(draft, filled, getattr(world, person))
    assert not Answer.objects.exists()


def test_a_locked_period_refuses_the_upload(world, catalogue, draft):
    filled = fill(build_workbook(draft), catalogue, {"ALLEGATIONS": {"Number": 1}})
    with pytest.raises(WorkbookProblems, match="was locked on 30 November 2025"):
        read_workbook(draft, filled, by=world.riverside_contributor, today=datetime.date(2025, 12, 1))


def test_problems_found_while_saving_are_named_by_sheet_row_and_column(world, catalogue, draft, monkeypatch):
    """save_answers checks again inside its transaction; what it finds is shown in the workbook's terms."""

    def refuse(*args, **kwargs):
        raise ReturnProblems({"DBS": {"denominator": "Enter the denominator."}}, general=["The period is locked."])

    monkeypatch.setattr(excel, "save_answers", refuse)
    filled = fill(build_workbook(draft), catalogue, {"DBS": {"Numerator": 1, "Denominator": 2}})
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, filled, world.riverside_contributor)
    assert refused.value.problems == [
        "The period is locked.",
        f"Sheet ‘{catalogue.framework.short_name}’, row 4 (DBS), Denominator: Enter the denominator.",
    ]
