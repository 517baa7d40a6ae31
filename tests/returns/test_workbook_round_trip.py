"""The workbook round trip is exact, and a hostile workbook is refused before it is loaded.

Text is written as text (never a formula) and comes back identical; a formula typed into a cell is refused by
name; text saved before control characters were refused still downloads; a small file that unpacks to hundreds of
megabytes is refused by streaming through it, never by loading it.
"""

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from returns.archives import ArchiveLimits, ArchiveRefused, inspect_archive
from returns.excel import (
    EXCEL_CELL_CHARACTERS,
    FORMULA,
    MAX_WORKBOOK_CELLS,
    MAX_WORKBOOK_UNZIPPED_BYTES,
    CellCounter,
    WorkbookProblems,
    as_written,
    build_workbook,
    workbook_limits_in_words,
)
from returns.models import Answer
from returns.services import AnswerInput, open_return, save_answers, submit_return
from tests import hostile_files as hostile
from tests.returns.conftest import Q2_TODAY
from tests.returns.test_excel import COLUMN, draft, fill, row_of, sheet_of, upload  # noqa: F401

FORMULA_LIKE = [
    '=HYPERLINK("http://example.com","Open")',
    "=1+1",
    "+44 20 7946 0000",
    "-3 since last quarter",
    "@ward 7",
    "=",
]


def save(draft, by, answers):
    return save_answers(draft, by=by, today=Q2_TODAY, answers=answers)


def cell_of(data: bytes, catalogue, code: str, header: str):
    ws = sheet_of(load_workbook(io.BytesIO(data)), catalogue)
    return ws.cell(row_of(ws, code), COLUMN[header])


@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_text_that_looks_like_a_formula_is_written_as_text_and_comes_back_identical(world, catalogue, draft, text):
    c = catalogue
    save(
        draft,
        world.riverside_contributor,
        {
            c.narrative.pk: AnswerInput({"text": text}),
            c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": text}),
        },
    )
    downloaded = build_workbook(draft)
    for code in ("LEADS", "S11-01"):
        cell = cell_of(downloaded, c, code, "Evidence or narrative")
        assert (cell.value, cell.data_type) == (text, "s")

    assert upload(draft, downloaded, world.riverside_contributor).saved == []  # no answer changed
    assert Answer.objects.get(metric=c.narrative).values == {"text": text}

    # Typed afresh as text (Excel keeps what is typed into a cell formatted as text), it is saved as typed.
    workbook = load_workbook(io.BytesIO(downloaded))
    cell = sheet_of(workbook, c).cell(row_of(sheet_of(workbook, c), "LEADS"), COLUMN["Evidence or narrative"])
    cell.value, cell.data_type = f"{text} again", "s"
    output = io.BytesIO()
    workbook.save(output)
    upload(draft, output.getvalue(), world.riverside_lead)
    assert Answer.objects.get(metric=c.narrative).values == {"text": f"{text} again"}


def test_the_reviewers_copy_writes_text_as_text_too(world, as_person, catalogue, draft):
    c = catalogue
    text = '=HYPERLINK("http://example.com","Open")'
    save(
        draft,
        world.riverside_lead,
        {
            c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
            c.allegations.pk: AnswerInput({"count": "2"}),
            c.policy.pk: AnswerInput({"in_place": "no"}),
            c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
            c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": text}),
            c.narrative.pk: AnswerInput({"text": text}),
        },
    )
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True, today=Q2_TODAY)
    response = as_person("newham_nurse").get(reverse("returns:workbook_download", args=[draft.pk]))
    assert response.status_code == 200
    for code in ("LEADS", "S11-01"):
        cell = cell_of(response.content, c, code, "Evidence or narrative")
        assert (cell.value, cell.data_type) == (text, "s")


@pytest.mark.parametrize(
    "header,formula",
    [("Numerator", "=97+1"), ("Denominator", "=SUM(100)"), ("Number", "=2")],
)
def test_a_formula_in_a_number_cell_is_refused_by_name_and_nothing_is_saved(world, catalogue, draft, header, formula):
    code = "ALLEGATIONS" if header == "Number" else "DBS"
    other = "Denominator" if header == "Numerator" else "Numerator"
    cells = {header: formula} if code == "ALLEGATIONS" else {header: formula, other: 100}
    filled = fill(build_workbook(draft), catalogue, {code: cells, "LEADS": {"Evidence or narrative": "Dr Patel."}})
    assert cell_of(filled, catalogue, code, header).data_type == "f"  # openpyxl wrote it as Excel would
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, filled, world.riverside_contributor)
    row = row_of(sheet_of(load_workbook(io.BytesIO(filled)), catalogue), code)
    sheet = catalogue.framework.short_name
    assert f"Sheet ‘{sheet}’, row {row} ({code}), {header}: {FORMULA}" in refused.value.problems
    assert not Answer.objects.exists()


def test_a_formula_in_a_text_cell_is_refused_not_read_as_empty(world, catalogue, draft):
    c = catalogue
    save(draft, world.riverside_contributor, {c.narrative.pk: AnswerInput({"text": "Dr A Patel."})})
    filled = fill(build_workbook(draft), c, {"LEADS": {"Evidence or narrative": '=HYPERLINK("http://x","y")'}})
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, filled, world.riverside_contributor)
    row = row_of(sheet_of(load_workbook(io.BytesIO(filled)), c), "LEADS")
    assert refused.value.problems == [
        f"Sheet ‘{c.framework.short_name}’, row {row} (LEADS), Evidence or narrative: This cell holds a formula; "
        "type the value instead."
    ]
    assert Answer.objects.get(metric=c.narrative).values == {"text": "Dr A Patel."}


@pytest.mark.parametrize(
    "stored,shown",
    [
        ("Ring the bell\x07 twice", "Ring the bell␇ twice"),
        ("Line one\x0bLine two", "Line one\nLine two"),  # Word's manual line break
        ("Page\x0cbreak", "Page\nbreak"),
        ("Escape \x1b and \x01", "Escape ␛ and ␁"),
        ("Windows\r\nline", "Windows\nline"),
    ],
)
def test_control_characters_saved_before_they_were_refused_do_not_stop_the_download(
    world, catalogue, draft, stored, shown
):
    c = catalogue
    save(draft, world.riverside_contributor, {c.narrative.pk: AnswerInput({"text": "placeholder"})})
    Answer.objects.filter(metric=c.narrative).update(values={"text": stored})  # as saved before the rule

    downloaded = build_workbook(draft)
    assert cell_of(downloaded, c, "LEADS", "Evidence or narrative").value == shown

    # Uploaded unchanged, the row is left alone: the stored text is not replaced by what the workbook shows.
    result = upload(draft, fill(downloaded, c, {"ALLEGATIONS": {"Number": 3}}), world.riverside_contributor)
    assert [answer.metric.code for answer in result.saved] == ["ALLEGATIONS"]
    assert Answer.objects.get(metric=c.narrative).values == {"text": stored}


def test_nul_and_characters_xml_cannot_hold_are_written_as_visible_symbols():
    assert as_written("a\x00b\ufffec") == "a␀b\N{REPLACEMENT CHARACTER}c"
    assert as_written("tab\tand\nnewline") == "tab\tand\nnewline"
    assert as_written("x" * (EXCEL_CELL_CHARACTERS + 10)) == "x" * (EXCEL_CELL_CHARACTERS - 1) + "…"


def test_a_text_longer_than_an_excel_cell_downloads_cut_and_is_kept_whole_when_left_alone(world, catalogue, draft):
    c = catalogue
    text = "word " * 8000  # 40,000 characters, from before text had a limit
    save(draft, world.riverside_contributor, {c.narrative.pk: AnswerInput({"text": "placeholder"})})
    Answer.objects.filter(metric=c.narrative).update(values={"text": text.strip()})
    downloaded = build_workbook(draft)
    assert len(cell_of(downloaded, c, "LEADS", "Evidence or narrative").value) == EXCEL_CELL_CHARACTERS
    assert upload(draft, downloaded, world.riverside_contributor).saved == []
    assert Answer.objects.get(metric=c.narrative).values == {"text": text.strip()}


def test_a_cell_far_down_the_sheet_is_named_without_reading_a_million_empty_rows(world, catalogue, draft):
    workbook = load_workbook(io.BytesIO(build_workbook(draft)))
    sheet_of(workbook, catalogue).cell(1_048_576, COLUMN["Number"]).value = 7
    output = io.BytesIO()
    workbook.save(output)
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, output.getvalue(), world.riverside_contributor)
    assert refused.value.problems == [
        f"Sheet ‘{catalogue.framework.short_name}’, row 1048576: this row is not one of the questions of this "
        "sheet. Don't add, copy or move rows; type answers only in the white cells of the rows given."
    ]


# Zip bombs ---------------------------------------------------------------------------------------------------

TOO_BIG = (
    f"This workbook is far larger than a return's workbook (it unpacks to more than "
    f"{MAX_WORKBOOK_UNZIPPED_BYTES // (1024 * 1024)} MB or holds more than {MAX_WORKBOOK_CELLS:,} cells), so it was "
    "not opened. Upload the workbook you downloaded from the return's page."
)


NOT_EXCEL = (
    "This file is not an Excel workbook (.xlsx). Upload the workbook you downloaded from the return's page; "
    "if you saved it in another format (.xls, .csv, .ods), open it and save it as an Excel workbook first."
)


@pytest.mark.parametrize(
    "bomb,message",
    [
        pytest.param(lambda: hostile.cells_bomb(300), TOO_BIG, id="300 MB of cells"),
        pytest.param(lambda: hostile.blank_bomb(300), TOO_BIG, id="300 MB of white space"),
        pytest.param(lambda: hostile.cells_bomb(2), TOO_BIG, id="2 MB of cells, over the cell limit only"),
        # zipfile stops at the size the header declares, and then the member's CRC is wrong: a damaged file.
        pytest.param(lambda: hostile.lying(hostile.cells_bomb(300), 2000), NOT_EXCEL, id="cells, header lying"),
        pytest.param(lambda: hostile.lying(hostile.blank_bomb(300), 2000), NOT_EXCEL, id="space, header lying"),
    ],
)
def test_a_workbook_that_unpacks_past_the_limits_is_refused_before_it_is_loaded(
    world, catalogue, draft, bomb, message, monkeypatch
):
    data = hostile.with_member(build_workbook(draft), bomb())
    assert len(data) < 2 * 1024 * 1024
    monkeypatch.setattr("returns.excel.load_workbook", pytest.fail)  # never loaded
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, data, world.riverside_contributor)
    assert refused.value.problems == [message]
    assert not Answer.objects.exists()


def test_a_workbook_with_thousands_of_parts_is_refused(world, catalogue, draft):
    parts = [hostile.member(f"xl/media/image{number}.png", b"x") for number in range(600)]
    data = hostile.zip_of([*hostile.members_of(build_workbook(draft)), *parts])
    with pytest.raises(WorkbookProblems) as refused:
        upload(draft, data, world.riverside_contributor)
    assert refused.value.problems == [TOO_BIG]


def test_the_limits_are_stated_where_a_workbook_is_uploaded(as_person, draft):
    response = as_person("riverside_contributor").get(reverse("returns:workbook_upload", args=[draft.pk]))
    assert workbook_limits_in_words() in response.content.decode()
    assert workbook_limits_in_words() == "An .xlsx file of at most 5 MB, unpacking to at most 20 MB and 50,000 cells."


def test_the_archive_check_counts_what_it_unpacks_whatever_the_headers_say():
    big = hostile.repeated_member("big.txt", b"", b"x" * 1024, 10_000, b"")  # 10 MB
    limits = ArchiveLimits(members=5, unzipped_bytes=1024 * 1024)
    with pytest.raises(ArchiveRefused) as honest:
        inspect_archive(hostile.zip_of([big]), limits)
    assert honest.value.reason == ArchiveRefused.TOO_LARGE_UNZIPPED
    with pytest.raises(ArchiveRefused) as lying:
        inspect_archive(hostile.zip_of([hostile.lying(big, 100)]), limits)
    assert lying.value.reason == ArchiveRefused.DAMAGED  # stopped at the size it declared: its CRC is wrong

    small = hostile.member("small.txt", b"hello")
    contents = inspect_archive(hostile.zip_of([small]), limits, keep=["small.txt"])
    assert (contents.names, contents.unzipped_bytes, contents.kept) == (["small.txt"], 5, {"small.txt": b"hello"})
    with pytest.raises(ArchiveRefused) as not_zip:
        inspect_archive(b"PK\x03\x04 not really", limits)
    assert not_zip.value.reason == ArchiveRefused.NOT_ZIP


@pytest.mark.parametrize("split", range(0, 24))
def test_cells_are_counted_once_wherever_a_chunk_ends(split):
    xml = b'<row><c r="A1"/><x:c r="B1"><v>1</v></x:c><c>2</c></row>'
    total = [0]
    counter = CellCounter(total)
    counter(xml[:split])
    counter(xml[split:])
    assert total == [3]


@pytest.mark.parametrize("figure", [10**400, 10**15, 123_456_789_012_345_678])
def test_a_figure_saved_before_figures_had_a_maximum_downloads_exactly_and_is_left_alone(
    world, catalogue, draft, figure
):
    c = catalogue
    save(draft, world.riverside_contributor, {c.allegations.pk: AnswerInput({"count": "1"})})
    Answer.objects.filter(metric=c.allegations).update(values={"count": figure})  # as saved before the rule
    downloaded = build_workbook(draft)
    assert cell_of(downloaded, c, "ALLEGATIONS", "Number").value == str(figure)  # text: Excel keeps 15 digits
    assert upload(draft, downloaded, world.riverside_contributor).saved == []
    assert Answer.objects.get(metric=c.allegations).values == {"count": figure}


@pytest.mark.parametrize("hostile_member", [lambda: hostile.cells_bomb(300), lambda: hostile.cells_bomb(2)])
def test_the_api_and_the_upload_page_refuse_a_zip_bomb_with_the_same_message(
    world, as_person, catalogue, open_q2, hostile_member
):
    draft = open_return(world.riverside, open_q2, by=world.riverside_contributor)  # a period open today
    data = hostile.with_member(build_workbook(draft), hostile_member())
    client = as_person("riverside_contributor")
    response = client.post(f"/api/v1/returns/{draft.pk}/workbook/", {"file": SimpleUploadedFile("return.xlsx", data)})
    assert response.status_code == 400 and response.json()["general"] == [TOO_BIG]
    page = client.post(
        reverse("returns:workbook_upload", args=[draft.pk]), {"workbook": SimpleUploadedFile("return.xlsx", data)}
    )
    assert page.status_code == 200 and html.escape(TOO_BIG) in page.content.decode()
    assert not Answer.objects.exists()
