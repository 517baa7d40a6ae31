"""A return as an Excel workbook: download it pre-filled, fill it in offline, upload it back into the draft.

:func:`build_workbook` writes an "About this return" sheet, then one sheet per framework the return asks, one
row per question, with only the cells the question's kind uses white and unlocked. Hidden columns keep each
row's metric id and the answer's revision at download, and hidden cells on the About sheet keep the return's id,
so an upload is matched to its return and rows, and an answer changed on the web since is noticed.

:func:`read_workbook` reads a filled workbook back. Every row is translated (Yes/No, grade labels, Excel dates
and numbers) and validated with :func:`standards.kinds.clean_answer`, and every problem is listed by sheet, row
and column. Only a clean workbook is saved, with one call to :func:`returns.services.save_answers`, all or
nothing. A row left exactly as it was downloaded is not sent (nor checked), so it neither overwrites nor conflicts
with a change made on the web since; a blank row therefore saves nothing, unless it had an answer when downloaded,
in which case clearing its cells clears the answer.

The round trip is exact: every value is written through :func:`put`, so text is always text (a narrative
starting with "=" is never a formula) and a character a workbook cannot hold is shown by a visible symbol; a
formula found in an uploaded answer cell is refused by name. Before openpyxl loads an upload, the zip is streamed
through by :func:`returns.archives.inspect_archive`, so a workbook that unpacks past
:data:`MAX_WORKBOOK_UNZIPPED_BYTES` or holds more than :data:`MAX_WORKBOOK_CELLS` cells is refused in
milliseconds and a few megabytes.
"""

from __future__ import annotations

import datetime
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from standards.kinds import RequirementKind, SelfAssessmentGrade, clean_answer
from standards.models import Framework, Metric

from .archives import ArchiveLimits, ArchiveRefused, inspect_archive
from .models import Answer, Return
from .selectors import asked_once, frameworks_for, metrics_for
from .services import AnswerInput, EditConflict, ReturnProblems, SaveResult, may, save_answers

#: Written to the About sheet; an upload without it was not made by :func:`build_workbook`.
WORKBOOK_FORMAT = "safeguard-assure-return/1"
ABOUT_TITLE = "About this return"
SHEET_TITLE_LENGTH = 31  # Excel's limit
TITLE_ROW, HINT_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4
#: Hidden key and value columns on the About sheet holding the workbook's identity.
IDENTITY_KEY_COLUMN, IDENTITY_VALUE_COLUMN = 25, 26

K = RequirementKind


@dataclass(frozen=True)
class Column:
    """A column of a framework sheet; ``fields`` maps each kind that answers in it to its answer field."""

    header: str
    width: float
    fields: dict[str, str] = field(default_factory=dict)
    wrap: bool = False


INFO_COLUMNS = (
    Column("Code", 18),
    Column("Question", 44, wrap=True),
    Column("Standard", 28, wrap=True),
    Column("Kind", 20, wrap=True),
    Column("Threshold for this provider", 22, wrap=True),
    Column("Guidance", 56, wrap=True),
)
ANSWER_COLUMNS = (
    Column("Numerator", 12, {K.PERCENTAGE: "numerator"}),
    Column("Denominator", 13, {K.PERCENTAGE: "denominator"}),
    Column("Number", 10, {K.COUNT: "count"}),
    Column("In place", 10, {K.POLICY: "in_place"}),
    Column("Review date", 13, {K.POLICY: "review_date"}),
    Column("Records sampled", 11, {K.AUDIT: "sampled"}, wrap=True),
    Column("Records compliant", 11, {K.AUDIT: "compliant"}, wrap=True),
    Column("Grade", 20, {K.SELF_ASSESSMENT: "grade"}),
    Column("Evidence or narrative", 50, {K.SELF_ASSESSMENT: "evidence", K.NARRATIVE: "text"}, wrap=True),
)
#: Yes or No for an answer carried forward from an earlier quarter: Yes confirms it still holds unchanged.
CARRIED = Column("Carried forward: confirmed unchanged (Yes/No)", 16, wrap=True)
METRIC_ID, REVISION = Column("Metric id (do not change)", 10), Column("Revision at download (do not change)", 10)
COLUMNS = (*INFO_COLUMNS, *ANSWER_COLUMNS, CARRIED, METRIC_ID, REVISION)
HEADERS = tuple(column.header for column in COLUMNS)
FIRST_ANSWER_COLUMN = len(INFO_COLUMNS) + 1
CARRIED_COLUMN = len(INFO_COLUMNS) + len(ANSWER_COLUMNS) + 1
METRIC_ID_COLUMN, REVISION_COLUMN = len(COLUMNS) - 1, len(COLUMNS)

WHOLE_NUMBER_FIELDS = frozenset({"numerator", "denominator", "count", "sampled", "compliant"})
YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
GRADE_BY_LABEL = {grade.label.lower(): grade.value for grade in SelfAssessmentGrade} | {
    grade.value: grade.value for grade in SelfAssessmentGrade
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%d/%m/%y")

NHS_BLUE, GREY_TEXT = "005EB8", "425563"
HEADER_FILL = PatternFill("solid", fgColor=NHS_BLUE)
INFO_FILL = PatternFill("solid", fgColor="F0F4F5")  # grey: describes the question, locked
UNUSED_FILL = PatternFill("solid", fgColor="D8DDE0")  # darker grey: not used by this kind, locked
INPUT_FILL = PatternFill("solid", fgColor="FFFFFF")
EDGE = Side(style="thin", color="AEB7BD")
STANDARD_EDGE = Side(style="medium", color=GREY_TEXT)
LOCKED, UNLOCKED = Protection(locked=True), Protection(locked=False)


class WorkbookProblems(Exception):
    """Why an uploaded workbook was not imported, one plain-English message per problem; nothing was saved."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class FrameworkSheet:
    """A framework's sheet: its title in the workbook and the questions it asks, grouped by standard."""

    title: str
    framework: Framework
    metrics: list[Metric]
    #: Questions asked once for several frameworks: the asked metric's id → the other metrics its answer serves.
    also_for: dict[int, list[Metric]] = field(default_factory=dict)


def framework_sheets(provider_return: Return) -> list[FrameworkSheet]:
    """The framework sheets of a return's workbook, worked out the same way for a download and an upload.

    Frameworks with no question due this quarter have no sheet. A measure shared by several frameworks is asked
    once (:func:`~returns.selectors.asked_once`), in the row of the metric asked; its row names the other
    frameworks it counts for, with their thresholds.
    """
    provider, period = provider_return.provider, provider_return.period
    frameworks = frameworks_for(provider, period)
    by_framework: dict[int, list[Metric]] = defaultdict(list)
    metrics = metrics_for(provider, period, frameworks)
    asked = asked_once(metrics, period)
    for metric in asked.questions(metrics):
        by_framework[metric.framework_id].append(metric)
    sheets, used = [], {ABOUT_TITLE.lower()}
    for framework in frameworks:
        metrics = by_framework.get(framework.pk)
        if not metrics:
            continue
        metrics.sort(key=_standard_order)  # a stable sort keeps the metrics' own order within a standard
        title = _sheet_title(framework.short_name or framework.code, used)
        used.add(title.lower())
        also_for = {metric.pk: asked.others(metric) for metric in metrics if asked.others(metric)}
        sheets.append(FrameworkSheet(title, framework, metrics, also_for))
    return sheets


def _standard_order(metric: Metric):
    standard = metric.standard
    return (1, 0, 0) if standard is None else (0, standard.position, standard.pk)


def _sheet_title(name: str, used: set[str]) -> str:
    """A sheet title Excel accepts (no []:*?/\\, at most 31 characters) that no other sheet has."""
    title = "".join("-" if char in "[]:*?/\\" else char for char in name).strip().strip("'") or "Framework"
    candidate, number = title[:SHEET_TITLE_LENGTH].strip(), 1
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = title[: SHEET_TITLE_LENGTH - len(suffix)].strip() + suffix
    return candidate


# Text in cells -------------------------------------------------------------------------------------------------

#: Characters a workbook cannot hold (XML 1.0 refuses them, openpyxl raises IllegalCharacterError). Text saved
#: before typed text was checked may still hold them: a bell, Word's vertical tab, NUL.
UNWRITABLE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Excel's limit on the characters of one cell; a longer text is shown cut, ending in "…".
EXCEL_CELL_CHARACTERS = 32_767


def _visible(match: re.Match) -> str:
    character = match.group()
    if character in "\x0b\x0c":
        return "\n"  # Word's line and page breaks
    code = ord(character)
    return chr(0x2400 + code) if code < 0x20 else "\N{REPLACEMENT CHARACTER}"  # ␀, ␇ ... show where one was


def as_written(text: str) -> str:
    """Text as a workbook holds it: line breaks as newlines, other control characters as visible symbols (␇).

    An upload compares a row with its answer as written here, so a row left alone is not taken for a change.
    """
    text = UNWRITABLE_CHARACTERS.sub(_visible, text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > EXCEL_CELL_CHARACTERS:
        text = text[: EXCEL_CELL_CHARACTERS - 1] + "…"
    return text


#: Excel keeps 15 significant digits of a number; a larger whole number would come back changed.
EXCEL_EXACT_WHOLE_NUMBERS = 10**15


def _excel_number(value) -> bool:
    """Whether Excel holds this number exactly: finite, and a whole number under 10^15 or a float."""
    if isinstance(value, float):
        return math.isfinite(value)
    number = Decimal(value)
    return number.is_finite() and abs(number) < EXCEL_EXACT_WHOLE_NUMBERS


def put(ws, row: int, column: int, value=None):
    """Write a value into a cell; text is always text (``=HYPERLINK(…)`` is never made a formula) and writable."""
    cell = ws.cell(row, column)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool) and not _excel_number(value):
        value = str(value)  # saved before figures had a maximum: kept exact, as text
    if isinstance(value, str):
        cell.value = as_written(value)
        cell.data_type = "s"  # openpyxl takes a text starting with "=" for a formula
    elif value is not None:
        cell.value = value
    return cell


# Download ------------------------------------------------------------------------------------------------------


def build_workbook(provider_return: Return) -> bytes:
    """The return as an .xlsx workbook, pre-filled with its current answers. The caller checks who may see it."""
    workbook = Workbook()
    workbook.properties.creator = "Safeguard Assure"
    workbook.properties.title = as_written(f"Safeguarding return: {provider_return}")
    sheets = framework_sheets(provider_return)
    answers = {answer.metric_id: answer for answer in provider_return.answers.all()}
    editable = provider_return.is_editable_by_provider

    _write_about(workbook.active, provider_return, sheets, editable)
    for sheet in sheets:
        _write_framework_sheet(workbook.create_sheet(sheet.title), provider_return, sheet, answers, editable)
    # No password: an accidental rename or deletion is blocked; anyone determined can still unprotect it.
    workbook.security = WorkbookProtection(lockStructure=True)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _instructions(editable: bool) -> list[str]:
    if not editable:
        first = [
            "This return has been submitted, so this workbook is a copy for reference and cannot be uploaded. "
            "Only a draft return, or one returned for revision, can be uploaded."
        ]
    else:
        first = [
            "Fill in the white cells only. Grey cells describe the question, or are not used by it, and are locked.",
            "Don't change the grey cells, and don't rename, add, remove or reorder sheets or columns: each row "
            "is matched to its question when you upload the workbook.",
            "Numbers are whole numbers (12, not 12.5 or 12%). Enter dates as day/month/year, like 31/03/2026. "
            "Choose In place and Grade from their lists.",
            "You can leave cells empty while the return is a draft; it can only be submitted once every "
            "answer is complete.",
            "A row you leave as it was downloaded is not changed by the upload. Clearing every cell of a row "
            "that had an answer clears that answer.",
            "An answer carried forward from your last submitted return says No under “Carried forward: confirmed "
            "unchanged”: choose Yes if it still holds, or change the answer. The return cannot be submitted until "
            "each is confirmed or changed.",
            "When you have finished, upload the workbook on the return's page in Safeguard Assure. Every answer "
            "is checked first: if anything is wrong, nothing is imported and you are told the sheet, row and "
            "column of each problem.",
            "If someone changes an answer on the web after you download this workbook and you change the same "
            "answer here, the upload stops and names those rows, so nobody's work is overwritten.",
            "Only a draft return, or one returned for revision, can be uploaded.",
        ]
    return [
        *first,
        "Action plans and evidence files are not in this workbook: add them on the return's page.",
        "A value far out of line with recent quarters is pointed out on the return's page after upload, "
        "where you confirm or correct it.",
    ]


def _write_about(ws, provider_return: Return, sheets: list[FrameworkSheet], editable: bool) -> None:
    provider, period = provider_return.provider, provider_return.period
    ws.title = ABOUT_TITLE
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 100
    put(ws, 1, 1, "Safeguarding assurance return").font = Font(size=16, bold=True, color=NHS_BLUE)
    ws.row_dimensions[1].height = 24
    generated = timezone.localtime()
    facts = [
        ("Provider", provider.name),
        ("ODS code", provider.ods_code),
        ("Period", period.label),
        ("Status", provider_return.get_status_display()),
        ("Submission deadline", f"{period.submission_deadline:%-d %B %Y}"),
        ("Generated", f"{generated:%-d %B %Y at %H:%M}"),
    ]
    row = 3
    for label, value in facts:
        put(ws, row, 1, label).font = Font(bold=True)
        put(ws, row, 2, value)
        row += 1

    row = _about_heading(ws, row + 1, "How to fill it in")
    for number, text in enumerate(_instructions(editable), start=1):
        put(ws, row, 1, f"{number}.").alignment = Alignment(horizontal="right", vertical="top")
        put(ws, row, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 15 * _lines(text, 100)
        row += 1

    row = _about_heading(ws, row + 1, "Sheets in this workbook")
    for sheet in sheets:
        framework = sheet.framework
        count = len(sheet.metrics)
        put(ws, row, 1, sheet.title).alignment = Alignment(vertical="top")
        put(ws, row, 2, f"{framework.name} ({framework.version}): {count} question{'s' * (count != 1)}")
        row += 1
    if not sheets:
        put(ws, row, 2, "This return asks no questions this quarter.")

    identity = {
        "format": WORKBOOK_FORMAT,
        "return id": provider_return.pk,
        "provider": provider.name,
        "period": period.label,
    }
    for offset, (key, value) in enumerate(identity.items(), start=1):
        put(ws, offset, IDENTITY_KEY_COLUMN, key)
        put(ws, offset, IDENTITY_VALUE_COLUMN, value)
    for column in (IDENTITY_KEY_COLUMN, IDENTITY_VALUE_COLUMN):
        ws.column_dimensions[get_column_letter(column)].hidden = True
    ws.protection.sheet = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _about_heading(ws, row: int, text: str) -> int:
    put(ws, row, 1, text).font = Font(size=13, bold=True, color=NHS_BLUE)
    return row + 1


def _write_framework_sheet(ws, provider_return: Return, sheet: FrameworkSheet, answers: dict, editable: bool):
    provider = provider_return.provider
    framework = sheet.framework
    put(ws, TITLE_ROW, 1, f"{framework.name} ({framework.version})").font = Font(size=14, bold=True, color=NHS_BLUE)
    hint = (
        f"{provider.name}, {provider_return.period.label}. Fill in the white cells; grey cells are locked. "
        "See ‘About this return’ for how to upload the workbook."
        if editable
        else f"{provider.name}, {provider_return.period.label}. Submitted: this copy is for reference only."
    )
    put(ws, HINT_ROW, 1, hint).font = Font(italic=True, color=GREY_TEXT)
    for index, column in enumerate(COLUMNS, start=1):
        cell = put(ws, HEADER_ROW, index, column.header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = Border(left=EDGE, right=EDGE, top=EDGE, bottom=EDGE)
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.column_dimensions["A"].width = min(max(len(metric.code) for metric in sheet.metrics) + 2, 36)
    for column in (METRIC_ID_COLUMN, REVISION_COLUMN):
        ws.column_dimensions[get_column_letter(column)].hidden = True

    validations = _validations()
    previous_standard = object()
    for row, metric in enumerate(sheet.metrics, start=FIRST_ROW):
        answer = answers.get(metric.pk)
        values = answer.values if answer else {}
        info = (
            metric.code,
            metric.title,
            str(metric.standard) if metric.standard else "—",
            metric.get_kind_display(),
            _thresholds_in_words(metric, sheet.also_for.get(metric.pk, []), provider.provider_type_id),
            _guidance(metric),
        )
        top = STANDARD_EDGE if metric.standard_id != previous_standard and row > FIRST_ROW else EDGE
        previous_standard = metric.standard_id
        border = Border(left=EDGE, right=EDGE, top=top, bottom=EDGE)
        for index, value in enumerate(info, start=1):
            cell = put(ws, row, index, value)
            cell.fill, cell.protection, cell.border = INFO_FILL, LOCKED, border
            cell.alignment = Alignment(wrap_text=COLUMNS[index - 1].wrap, vertical="top")
        for index, column in enumerate(ANSWER_COLUMNS, start=FIRST_ANSWER_COLUMN):
            cell = ws.cell(row, index)
            cell.border = border
            cell.alignment = Alignment(wrap_text=column.wrap, vertical="top")
            answer_field = column.fields.get(metric.kind)
            if answer_field is None:
                cell.fill, cell.protection = UNUSED_FILL, LOCKED
                continue
            cell.fill, cell.protection = INPUT_FILL, UNLOCKED if editable else LOCKED
            put(ws, row, index, _cell_value(answer_field, values.get(answer_field)))
            cell.number_format = _number_format(answer_field)
            if answer_field in validations:
                validations[answer_field].add(cell)
        _write_carried(ws, row, answer, editable, border, validations)
        put(ws, row, METRIC_ID_COLUMN, metric.pk).protection = LOCKED
        put(ws, row, REVISION_COLUMN, answer.revision if answer else 0).protection = LOCKED
        ws.row_dimensions[row].height = 15 * max(
            _lines(str(ws.cell(row, index).value or ""), column.width)
            for index, column in enumerate(COLUMNS, start=1)
            if column.wrap
        )
    for validation in {id(v): v for v in validations.values()}.values():
        if validation.sqref:
            ws.add_data_validation(validation)

    ws.freeze_panes = ws.cell(FIRST_ROW, 3)  # the header and the code and question stay in view
    # No password: accidental edits of grey cells are blocked; resizing rows and columns stays allowed.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_carried(ws, row: int, answer: Answer | None, editable: bool, border, validations) -> None:
    """The row's “confirmed unchanged” cell: No, to fill in, for a carried-forward answer awaiting confirmation."""
    cell = ws.cell(row, CARRIED_COLUMN)
    cell.border, cell.alignment = border, Alignment(vertical="top")
    if answer is None or answer.carried_from_id is None:
        cell.fill, cell.protection = UNUSED_FILL, LOCKED
        return
    put(ws, row, CARRIED_COLUMN, "No" if answer.awaits_confirmation else "Yes")
    if answer.awaits_confirmation and editable:
        cell.fill, cell.protection = INPUT_FILL, UNLOCKED
        validations["confirm_carried"].add(cell)
    else:
        cell.fill, cell.protection = INFO_FILL, LOCKED


def _validations() -> dict[str, DataValidation]:
    """Data validation for the answer fields that have one; Excel shows the message when something else is typed."""

    def checked(validation: DataValidation, error: str, prompt: str = "") -> DataValidation:
        validation.error, validation.errorTitle, validation.showErrorMessage = error, "Check this answer", True
        if prompt:
            validation.prompt, validation.showInputMessage = prompt, True
        return validation

    whole = checked(
        DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True),
        "Enter a whole number, 0 or more, like 12.",
    )
    return {
        **dict.fromkeys(WHOLE_NUMBER_FIELDS, whole),
        "in_place": checked(
            DataValidation(type="list", formula1='"Yes,No"', allow_blank=True),
            "Choose Yes or No.",
            "Is the policy or procedure in place?",
        ),
        "review_date": checked(
            # 36526 is 1 January 2000 as Excel counts days.
            DataValidation(type="date", operator="greaterThanOrEqual", formula1="36526", allow_blank=True),
            "Enter the date the policy is next due for review, like 31/03/2026.",
            "The date the policy is next due for review.",
        ),
        "confirm_carried": checked(
            DataValidation(type="list", formula1='"Yes,No"', allow_blank=True),
            "Choose Yes or No.",
            "Carried forward from your last return: choose Yes if it still holds unchanged, or change the answer.",
        ),
        "grade": checked(
            DataValidation(type="list", formula1=f'"{",".join(SelfAssessmentGrade.labels)}"', allow_blank=True),
            "Choose Compliant, Partially compliant or Not compliant.",
            "How far is the standard met?",
        ),
    }


def _cell_value(answer_field: str, value):
    """An answer value as the workbook shows it: Yes/No, grade labels, real dates, numbers."""
    if value in (None, ""):
        return None
    if answer_field == "in_place":
        return "Yes" if value else "No"
    if answer_field == "grade":
        return SelfAssessmentGrade(value).label if value in SelfAssessmentGrade.values else value
    if answer_field == "review_date":
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return value


def _number_format(answer_field: str) -> str:
    if answer_field in WHOLE_NUMBER_FIELDS:
        return "0"
    if answer_field == "review_date":
        return "dd/mm/yyyy"
    return "@"


def _lines(text: str, width: float) -> int:
    """Roughly how many lines ``text`` wraps to in a column ``width`` characters wide, at most 20."""
    per_line = max(width * 1.1, 1)
    lines = sum(max(1, math.ceil(len(paragraph) / per_line)) for paragraph in text.split("\n"))
    return min(max(lines, 1), 20)


def _percent(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}%"


def threshold_in_words(metric: Metric, provider_type_code: str | None) -> str:
    """The threshold that judges this metric for a provider of this type, e.g. “Green from 85%, amber from 80%”."""
    if metric.has_thresholds:
        threshold = metric.threshold_for(provider_type_code)
        if threshold is None:
            return "No threshold — monitored"
        if threshold.amber_from == threshold.green_from:
            return f"Green from {_percent(threshold.green_from)}, no amber band"
        return f"Green from {_percent(threshold.green_from)}, amber from {_percent(threshold.amber_from)}"
    if metric.kind == K.COUNT:
        return "No threshold — monitored as a trend"
    if metric.kind == K.POLICY:
        if metric.review_interval_months:
            return f"In place, reviewed at least every {metric.review_interval_months} months"
        return "In place"
    if metric.kind == K.SELF_ASSESSMENT:
        return "Graded by the provider, agreed by the commissioner"
    return "Narrative — not coloured"


def _thresholds_in_words(metric: Metric, also_for: list[Metric], provider_type_code: str | None) -> str:
    """The row's threshold; for a question asked once, each framework's it counts for, named."""
    own = threshold_in_words(metric, provider_type_code)
    if not also_for:
        return own
    lines = [f"Asked once for {len(also_for) + 1} frameworks, each judging it by its own threshold:"]
    for each in [metric, *also_for]:
        name = each.framework.short_name or each.framework.name
        lines.append(f"{name} ({each.code}): {threshold_in_words(each, provider_type_code)}")
    return "\n".join(lines)


def _guidance(metric: Metric) -> str:
    """What to enter for the metric's kind, then the source's description and method of measurement."""
    kind = metric.kind
    if kind == K.PERCENTAGE:
        how = f"Numerator: {metric.numerator_label}. Denominator: {metric.denominator_label}."
    elif kind == K.COUNT:
        how = "Enter the number for the quarter in Number."
    elif kind == K.POLICY:
        how = "Say whether it is in place, and the date it is next due for review."
    elif kind == K.AUDIT:
        sample = f" of {metric.sample_size} records" if metric.sample_size else ""
        how = f"Audit a sample{sample}; enter how many records you sampled and how many were compliant."
    elif kind == K.SELF_ASSESSMENT:
        how = "Choose a grade and describe the evidence that the standard is met."
    else:
        how = "Write the narrative in Evidence or narrative."
    parts = [how]
    if metric.frequency == "as_required":
        parts.append("Answer only when your commissioner asks for it.")
    description, method = metric.description.strip(), metric.method_of_measurement.strip()
    if description and description != metric.title.strip():
        parts.append(description)
    if method and method != description:
        parts.append(f"Measured by: {method}")
    return "\n".join(parts)


# Upload --------------------------------------------------------------------------------------------------------


@dataclass
class WorkbookRow:
    """One question's row as read from an uploaded workbook."""

    sheet: str
    number: int
    metric: Metric
    revision: int
    values: dict  # as translated from the cells, for save_answers
    cleaned: dict  # as clean_answer leaves them, to tell whether the row was changed
    has_stray_cells: bool = False  # a formula, or a value in a column its question does not use
    carried_cell: object = None  # the “confirmed unchanged” cell, read only for an answer awaiting confirmation
    confirm_carried: bool = False

    def where(self, header: str | None = None) -> str:
        place = f"Sheet ‘{self.sheet}’, row {self.number} ({self.metric.code})"
        return f"{place}, {header}" if header else place


def read_workbook(provider_return: Return, file, *, by, today: datetime.date | None = None) -> SaveResult:
    """Save the answers of an uploaded workbook into the draft, all or nothing.

    Raises :class:`PermissionDenied` for someone who may not edit the return and :class:`WorkbookProblems`
    listing every problem (by sheet, row and column) when anything is wrong; then nothing is saved. ``file``
    is an uploaded file, any binary file object or the workbook's bytes.
    """
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    provider_return.refresh_from_db(fields=["status"])  # it may have been submitted since the page was loaded
    if not provider_return.is_editable_by_provider:
        raise WorkbookProblems(
            [
                "This return has been submitted, so it can no longer be changed. Only a draft return, or one "
                "returned for revision, can be uploaded."
            ]
        )
    period = provider_return.period
    if period.is_locked(today):
        raise WorkbookProblems(
            [
                f"The period {period.label} was locked on {period.lock_date:%-d %B %Y}, so the workbook cannot be "
                "uploaded. Ask your commissioner to have an administrator reopen it."
            ]
        )
    workbook = _open_workbook(file)
    _check_identity(workbook, provider_return)
    rows, found = _read_rows(workbook, framework_sheets(provider_return))
    saved = {a.metric_id: a for a in Answer.objects.filter(provider_return=provider_return)}
    downloaded = _downloaded_values(provider_return, rows, saved)
    # A row left as it was downloaded is not sent, so it is not checked either: an answer saved before a rule
    # existed comes back unchanged rather than refused.
    left_alone = {row.metric.pk for row in rows if _left_as_downloaded(row, downloaded[row.metric.pk])}
    problems = [message for row, message in found if row is None or row.metric.pk not in left_alone]
    problems += _read_confirmations(rows, saved)
    if problems:
        raise WorkbookProblems(problems)

    changed = [
        row
        for row in rows
        if row.metric.pk not in left_alone
        and (downloaded[row.metric.pk] is None or _comparable(row.cleaned) != _comparable(downloaded[row.metric.pk]))
    ]
    answers = {
        row.metric.pk: AnswerInput(values=row.values, base_revision=row.revision, confirm_carried=row.confirm_carried)
        for row in changed
    }
    for row in rows:  # a carried-forward answer confirmed unchanged: sent as it is, to be confirmed
        if row.confirm_carried and row.metric.pk not in answers:
            answers[row.metric.pk] = AnswerInput(values=row.values, base_revision=row.revision, confirm_carried=True)
    try:
        return save_answers(provider_return, by=by, answers=answers, today=today)
    except ReturnProblems as refused:
        raise WorkbookProblems(_locate_problems(refused, changed)) from refused
    except EditConflict as conflict:
        raise WorkbookProblems(_describe_conflicts(conflict, changed)) from conflict


#: An upload is far smaller than this; a larger file is refused before it is opened.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: Limits checked by streaming through the zip before openpyxl loads it, so a small file that unpacks to
#: gigabytes (a "zip bomb") is refused in a fraction of a second and a few megabytes of memory. A return of a
#: few hundred questions is a few thousand cells and well under 1 MB unzipped.
MAX_WORKBOOK_UNZIPPED_BYTES = 20 * 1024 * 1024
MAX_WORKBOOK_CELLS = 50_000
MAX_WORKBOOK_PARTS = 500
WORKBOOK_LIMITS = ArchiveLimits(members=MAX_WORKBOOK_PARTS, unzipped_bytes=MAX_WORKBOOK_UNZIPPED_BYTES)
NOT_EXCEL = (
    "This file is not an Excel workbook (.xlsx). Upload the workbook you downloaded from the return's page; "
    "if you saved it in another format (.xls, .csv, .ods), open it and save it as an Excel workbook first."
)
TOO_BIG = (
    "This workbook is far larger than a return's workbook (it unpacks to more than {megabytes} MB or holds more "
    "than {cells:,} cells), so it was not opened. Upload the workbook you downloaded from the return's page."
)


def workbook_limits_in_words() -> str:
    """The upload limits as the upload page and README state them."""
    return (
        f"An .xlsx file of at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, unpacking to at most "
        f"{MAX_WORKBOOK_UNZIPPED_BYTES // (1024 * 1024)} MB and {MAX_WORKBOOK_CELLS:,} cells."
    )


class CellCounter:
    """Counts the cells of a sheet's XML as it streams past, and refuses past the limit.

    It counts the openings ``<c`` (and ``:c `` for a prefixed name such as ``<x:c r="A1">``): a few other
    elements of a sheet start so too (``<col>``, ``<cfRule>``), so the count is a little over the number of
    cells; counting bytes rather than matching a pattern is what keeps it fast.
    """

    OPENINGS = (b"<c", b":c ")
    OVERLAP = 2  # one less than the longest opening: one split between chunks is counted once

    def __init__(self, total: list[int]):
        self.total, self.tail = total, b""

    def _count(self, text: bytes) -> int:
        return sum(text.count(opening) for opening in self.OPENINGS)

    def __call__(self, chunk: bytes) -> None:
        text = self.tail + chunk
        self.total[0] += self._count(text) - self._count(self.tail)
        if self.total[0] > MAX_WORKBOOK_CELLS:
            raise ArchiveRefused(ArchiveRefused.TOO_LARGE_UNZIPPED, f"over {MAX_WORKBOOK_CELLS} cells")
        self.tail = text[-self.OVERLAP :]


def _open_workbook(file) -> Workbook:
    """The uploaded workbook loaded with its formulas (never their cached values), once it is known to be small."""
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise WorkbookProblems(
            [f"This file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, far larger than a return's workbook."]
        )
    cells = [0]
    try:
        inspect_archive(
            data,
            WORKBOOK_LIMITS,
            watch=lambda name: CellCounter(cells) if name.startswith("xl/worksheets/") else None,
        )
    except ArchiveRefused as refused:
        if refused.reason in (ArchiveRefused.TOO_LARGE_UNZIPPED, ArchiveRefused.TOO_MANY_MEMBERS):
            message = TOO_BIG.format(megabytes=MAX_WORKBOOK_UNZIPPED_BYTES // (1024 * 1024), cells=MAX_WORKBOOK_CELLS)
            raise WorkbookProblems([message]) from refused
        raise WorkbookProblems([NOT_EXCEL]) from refused
    try:
        return load_workbook(io.BytesIO(data), data_only=False)
    except Exception as error:  # openpyxl raises many kinds of error for a file that is not a workbook
        raise WorkbookProblems([NOT_EXCEL]) from error


def _check_identity(workbook: Workbook, provider_return: Return) -> None:
    identity = {}
    if ABOUT_TITLE in workbook.sheetnames:
        about = workbook[ABOUT_TITLE]
        for row in range(1, 10):
            key = about.cell(row, IDENTITY_KEY_COLUMN).value
            if key:
                identity[str(key)] = about.cell(row, IDENTITY_VALUE_COLUMN).value
    workbook_format = str(identity.get("format") or "")
    if workbook_format != WORKBOOK_FORMAT:
        if workbook_format.startswith(WORKBOOK_FORMAT.split("/")[0]):
            message = (
                "This workbook was made by an earlier version of Safeguard Assure. Download a fresh workbook "
                "from the return's page and fill that in."
            )
        else:
            message = (
                "This workbook was not downloaded from a return in Safeguard Assure, so its rows cannot be "
                "matched to questions. Download the workbook from the return's page and fill that in."
            )
        raise WorkbookProblems([message])
    if _whole(identity.get("return id")) != provider_return.pk:
        raise WorkbookProblems(
            [
                f"This workbook is for another return ({identity.get('provider')}, {identity.get('period')}). "
                "Upload it on that return's page, or download the workbook for this return and fill that in."
            ]
        )


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_rows(ws, first_row: int, last_row: int | None = None):
    """(row number, cells) for each row from ``first_row`` that has any cell, each row cut to the workbook's columns.

    Only cells the file holds are visited: one cell far down a sheet does not make a million empty rows.
    """
    cells = ws._cells  # openpyxl's own map of the cells it read, by (row, column)
    numbers = sorted({row for row, column in cells if row >= first_row and (last_row is None or row <= last_row)})
    for number in numbers:
        yield number, [cells.get((number, column)) for column in range(1, len(COLUMNS) + 1)]


def _value(cell):
    return None if cell is None else cell.value


def _is_formula(cell) -> bool:
    return cell is not None and cell.data_type == "f"


def _read_rows(workbook: Workbook, sheets: list[FrameworkSheet]) -> tuple[list[WorkbookRow], list]:
    """The question rows of the workbook, and its problems in order, each with its row (None for the layout's)."""
    rows: list[WorkbookRow] = []
    problems: list[tuple[WorkbookRow | None, str]] = []
    sheet_of_metric = {metric.pk: sheet.title for sheet in sheets for metric in sheet.metrics}
    for sheet in sheets:
        if sheet.title not in workbook.sheetnames:
            problems.append(
                (
                    None,
                    f"The sheet ‘{sheet.title}’ is missing. Upload the workbook with every sheet it was downloaded "
                    "with, and don't rename them.",
                )
            )
            continue
        ws = workbook[sheet.title]
        headers = [_value(ws._cells.get((HEADER_ROW, column))) for column in range(1, len(COLUMNS) + 1)]
        changed = [
            (index, expected, found)
            for index, (expected, found) in enumerate(zip(HEADERS, headers, strict=True), start=1)
            if str(found or "").strip() != expected
        ]
        if changed:
            index, expected, found = changed[0]
            problems.append(
                (
                    None,
                    f"Sheet ‘{sheet.title}’, row {HEADER_ROW}: the column headings have changed (column "
                    f"{get_column_letter(index)} should be ‘{expected}’, not ‘{found or ''}’). Upload the workbook "
                    "with its columns as they were downloaded.",
                )
            )
            continue
        metrics = {metric.pk: metric for metric in sheet.metrics}
        first_row_of: dict[int, int] = {}
        for number, cells in _sheet_rows(ws, FIRST_ROW):
            place = f"Sheet ‘{sheet.title}’, row {number}"
            metric_id = _whole(_value(cells[METRIC_ID_COLUMN - 1]))
            answer_cells = cells[FIRST_ANSWER_COLUMN - 1 : CARRIED_COLUMN - 1]
            if metric_id is None or metric_id not in metrics:
                if metric_id is None and all(_blank(_value(cell)) for cell in answer_cells):
                    continue  # an empty row below the questions
                elsewhere = sheet_of_metric.get(metric_id)
                problems.append(
                    (
                        None,
                        f"{place}: this row is not one of the questions of this sheet"
                        + (f" (it belongs on the sheet ‘{elsewhere}’)" if elsewhere else "")
                        + ". Don't add, copy or move rows; type answers only in the white cells of the rows given.",
                    )
                )
                continue
            metric = metrics[metric_id]
            if metric_id in first_row_of:
                problems.append(
                    (
                        None,
                        f"{place} ({metric.code}): this question is here again (it is first at row "
                        f"{first_row_of[metric_id]}). Keep one row for each question.",
                    )
                )
                continue
            first_row_of[metric_id] = number
            revision = _whole(_value(cells[REVISION_COLUMN - 1]))
            if revision is None or revision < 0:
                problems.append(
                    (
                        None,
                        f"{place} ({metric.code}): the hidden revision number of this row has been changed. "
                        "Download a fresh workbook and fill that in.",
                    )
                )
                continue
            row = WorkbookRow(sheet.title, number, metric, revision, {}, {}, carried_cell=cells[CARRIED_COLUMN - 1])
            problems.extend((row, message) for message in _read_answer(row, answer_cells))
            rows.append(row)
    return rows, problems


FORMULA = "This cell holds a formula; type the value instead."


def _read_answer(row: WorkbookRow, answer_cells) -> list[str]:
    """Fill ``row.values`` and ``row.cleaned`` from its answer cells; return its problems in column order.

    A formula is never read (neither as empty nor as the value Excel last worked out for it): it is refused.
    """
    kind = row.metric.kind
    problems: dict[str, str] = {}  # by column header, in column order
    for column, cell in zip(ANSWER_COLUMNS, answer_cells, strict=True):
        answer_field = column.fields.get(kind)
        if _is_formula(cell):
            row.has_stray_cells = True
            problems[column.header] = FORMULA
            if answer_field is not None:
                row.values[answer_field] = None
            continue
        raw = _value(cell)
        if answer_field is None:
            if not _blank(raw):
                row.has_stray_cells = True
                problems[column.header] = "This question is not answered in this column; clear the cell."
            continue
        value, problem = _translate(answer_field, raw)
        row.values[answer_field] = value
        if problem:
            problems[column.header] = problem
    row.cleaned, errors = clean_answer(kind, row.values, complete=False, labels=row.metric.answer_labels)
    for answer_field, message in errors.items():
        problems.setdefault(header_for(kind, answer_field) or "", message)
    order = {column.header: index for index, column in enumerate(ANSWER_COLUMNS)}
    return [
        f"{row.where(header or None)}: {message}"
        for header, message in sorted(problems.items(), key=lambda item: order.get(item[0], -1))
    ]


def header_for(kind: str, answer_field: str) -> str | None:
    """The column an answer field of this kind is typed in, or None for a field that has no column."""
    for column in ANSWER_COLUMNS:
        if column.fields.get(kind) == answer_field:
            return column.header
    return None


def _whole(value) -> int | None:
    if isinstance(value, bool) or _blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None


def _translate(answer_field: str, raw) -> tuple[object, str]:
    """A cell's value as clean_answer expects it, and a problem when it cannot be read as the field's kind.

    Wrong numbers, dates and grades are passed on for clean_answer to refuse, so its wording is the one shown.
    """
    if _blank(raw):
        return None, ""
    if answer_field in WHOLE_NUMBER_FIELDS:
        if isinstance(raw, float) and raw.is_integer():
            return str(int(raw)), ""  # Excel stores 12 as 12.0
        if isinstance(raw, datetime.date):
            return raw.isoformat(), ""
        return (raw if isinstance(raw, bool) else str(raw).strip()), ""
    if answer_field == "in_place":
        if isinstance(raw, bool):
            return raw, ""
        answer = YES_NO.get(str(raw).strip().lower())
        return (answer, "") if answer is not None else (None, "Choose Yes or No.")
    if answer_field == "review_date":
        if isinstance(raw, datetime.datetime):
            return raw.date(), ""
        if isinstance(raw, datetime.date):
            return raw, ""
        text = str(raw).strip()
        for date_format in DATE_FORMATS:
            try:
                return datetime.datetime.strptime(text, date_format).date(), ""
            except ValueError:
                continue
        return text, ""
    if answer_field == "grade":
        text = str(raw).strip()
        return GRADE_BY_LABEL.get(text.lower(), text), ""
    return _text(raw), ""


def _text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime.datetime):
        return f"{raw:%Y-%m-%d %H:%M}" if raw.time() != datetime.time() else raw.date().isoformat()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    return str(raw).strip()


def _comparable(values: dict) -> dict:
    return {
        key: value.isoformat() if isinstance(value, datetime.date) else value
        for key, value in values.items()
        if value not in (None, "")
    }


def _as_shown(values: dict) -> dict:
    """Values as the workbook shows them, to compare a row with what was downloaded: 12, 12.0 and "12" alike."""
    shown = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            shown[key] = value
        elif isinstance(value, datetime.date):
            shown[key] = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            shown[key] = str(int(value))
        else:
            shown[key] = as_written(str(value)).strip()
    return shown


def _read_confirmations(rows: list[WorkbookRow], saved: dict[int, Answer]) -> list[str]:
    """Read each “confirmed unchanged” cell of an answer awaiting confirmation; the problems, by sheet and row."""
    problems = []
    for row in rows:
        answer = saved.get(row.metric.pk)
        if answer is None or not answer.awaits_confirmation or row.carried_cell is None:
            continue
        if _is_formula(row.carried_cell):
            problems.append(f"{row.where(CARRIED.header)}: {FORMULA}")
            continue
        raw = _value(row.carried_cell)
        confirmed = None if _blank(raw) else raw if isinstance(raw, bool) else YES_NO.get(str(raw).strip().lower())
        if confirmed is None and not _blank(raw):
            problems.append(f"{row.where(CARRIED.header)}: Choose Yes or No.")
        row.confirm_carried = confirmed is True
    return problems


def _downloaded_values(
    provider_return: Return, rows: list[WorkbookRow], answers: dict[int, Answer] | None = None
) -> dict[int, dict | None]:
    """Each row's answer as it was when the workbook was downloaded (None when that cannot be known).

    What was downloaded is the answer at the row's revision, from its history.
    """
    if answers is None:
        answers = {a.metric_id: a for a in Answer.objects.filter(provider_return=provider_return)}
    return {row.metric.pk: _values_at(answers.get(row.metric.pk), row.revision) for row in rows}


def _left_as_downloaded(row: WorkbookRow, downloaded: dict | None) -> bool:
    """Whether the row shows exactly what was downloaded; such a row is neither checked nor sent.

    An untouched row is left out, so an answer changed on the web since the download is neither overwritten
    nor reported as a conflict.
    """
    return downloaded is not None and not row.has_stray_cells and _as_shown(row.values) == _as_shown(downloaded)


def _values_at(answer: Answer | None, revision: int) -> dict | None:
    """The answer's values at a revision ({} before its first save), or None when that cannot be known."""
    if revision == 0:
        return {}
    if answer is None:
        return None
    if answer.revision == revision:
        return answer.values
    then = answer.history.filter(revision=revision).order_by("-history_date").first()
    return then.values if then else None


def _locate_problems(refused: ReturnProblems, rows: list[WorkbookRow]) -> list[str]:
    """save_answers' problems, by metric code and field, as sheet, row and column messages."""
    rows_by_key: dict[str, list[WorkbookRow]] = defaultdict(list)
    for row in rows:
        rows_by_key[row.metric.code].append(row)
        rows_by_key[str(row.metric.pk)].append(row)
    problems = list(refused.general)
    for key, fields in refused.by_metric.items():
        for row in rows_by_key.get(key, []):
            problems.extend(
                f"{row.where(header_for(row.metric.kind, answer_field))}: {message}"
                for answer_field, message in fields.items()
            )
        if key not in rows_by_key:
            problems.extend(f"{key}: {message}" for message in fields.values())
    return problems


def _describe_conflicts(conflict: EditConflict, rows: list[WorkbookRow]) -> list[str]:
    rows_by_metric = {row.metric.pk: row for row in rows}
    problems = []
    for found in conflict.conflicts:
        row = rows_by_metric.get(found.metric.pk)
        who = (found.saved_by.get_full_name() or found.saved_by.get_username()) if found.saved_by else "Someone"
        when = f"{timezone.localtime(found.saved_at):%-d %B %Y at %H:%M}"
        place = row.where() if row else found.metric.code
        problems.append(
            f"{place}: {who} changed this answer on the web on {when}, after this workbook was downloaded "
            f"(it is now {describe_values(found.metric.kind, found.saved_values)}). Nothing was imported. Check "
            "the answer on the return's page, then download a fresh workbook, or put this row back as it was."
        )
    return problems


def describe_values(kind: str, values: dict) -> str:
    """An answer's values in the workbook's words, e.g. “Numerator 80, Denominator 100”."""
    parts = []
    for column in ANSWER_COLUMNS:
        answer_field = column.fields.get(kind)
        value = _cell_value(answer_field, values.get(answer_field)) if answer_field else None
        if value is None:
            continue
        if isinstance(value, datetime.date):
            value = f"{value:%d/%m/%Y}"
        text = str(value)
        parts.append(f"{column.header} “{text[:57] + '…' if len(text) > 60 else text}”")
    return ", ".join(parts) or "empty"
