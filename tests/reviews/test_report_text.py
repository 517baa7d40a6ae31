"""What people typed, in PDF reports: long text stays on the page and within its bound, tables keep their headings
over page breaks, and every script the NHS's population writes in is drawn with a font that has it, upright."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from returns.models import Answer
from reviews import report_parts, reports
from reviews.services import compute_return_rag
from tests.reviews.fixtures import ANSWERS, submit_directly

#: One sentence of typed text in each script, as a provider might write it, with the font that draws it.
SCRIPTS = [
    ("English", "Noto-Sans", "Safeguarding lead: Zoë Ó Briain"),
    ("Arabic", "Noto-Sans-Arabic", "تم تدريب جميع الموظفين على الحماية"),
    ("Urdu", "Noto-Sans-Arabic", "تمام عملے کو حفاظت کی تربیت دی گئی ہے"),
    ("Bengali", "Noto-Sans-Bengali", "সমস্ত কর্মীকে সুরক্ষা প্রশিক্ষণ দেওয়া হয়েছে"),
    ("Gujarati", "Noto-Sans-Gujarati", "બધા કર્મચારીઓને સુરક્ષા તાલીમ આપવામાં આવી છે"),
    ("Punjabi", "Noto-Sans-Gurmukhi", "ਸਾਰੇ ਸਟਾਫ ਨੂੰ ਸੁਰੱਖਿਆ ਸਿਖਲਾਈ ਦਿੱਤੀ ਗਈ ਹੈ"),
    ("Tamil", "Noto-Sans-Tamil", "அனைத்து ஊழியர்களுக்கும் பாதுகாப்பு பயிற்சி"),
    ("Chinese", "Noto-Sans-CJK-SC", "所有员工都接受了保障培训"),
    ("Emoji", "Noto-Color-Emoji", "👍✅😀"),
]
#: Scripts whose vowel signs are drawn before the consonant they follow: a PDF maps each glyph back to one piece
#: of text, so reading these back gives their letters, but not always all of them nor in the order typed.
REORDERED = {"Bengali", "Gujarati", "Punjabi"}


def answered(world, catalogue, period, narrative: str):
    """Riverside's return for ``period``, submitted with ``narrative`` as its LEADS answer, its colours worked out.
    Made straight in the database: text longer than the input rules now allow may stand from before them."""
    answers = {**ANSWERS, "LEADS": {"text": narrative}}
    provider_return = submit_directly(world.riverside, period, answers, by=world.riverside_lead)
    Answer.objects.bulk_create(
        Answer(provider_return=provider_return, metric=m, values=answers[m.code], revision=1)
        for m in (catalogue.dbs, catalogue.allegations, catalogue.policy, catalogue.audit, catalogue.self_assessment,
                  catalogue.narrative)
    )  # fmt: skip
    compute_return_rag(provider_return)
    return provider_return


def set_narrative(provider_return, catalogue, narrative: str) -> None:
    answer = Answer.objects.filter(provider_return=provider_return, metric=catalogue.narrative)
    answer.update(values={"text": narrative})


def committee_pdfs(world, period) -> tuple[bytes, bytes]:
    """Newham's committee pack's front section and Riverside's appendix in it, as the pack's jobs draw them."""
    full = reports.gather_committee(world.newham, period, by=world.newham_nurse)
    front = reports.render_pdf(report_parts.front_snapshot(full)).pdf
    (appendix,) = [snapshot for pid, snapshot in report_parts.appendix_snapshots(full) if pid == world.riverside.pk]
    return front, reports.render_pdf(appendix).pdf


def committee_pdf(world, period) -> bytes:
    """Riverside's appendix in Newham's committee pack: the provider report in it that holds Riverside's answers."""
    return committee_pdfs(world, period)[1]


def provider_pdf(world, period) -> bytes:
    return reports.render_pdf(reports.gather_provider(world.riverside, period, by=world.riverside_lead)).pdf


def pages_of(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def flat(pages: list[str]) -> str:
    """The pages' text as one line, with runs of white space made single spaces."""
    return re.sub(r"\s+", " ", " ".join(pages))


def words(count: int, start: int = 0) -> str:
    """Typed-looking text of numbered words, so that where each part of it lands can be found."""
    return " ".join(f"w{n:05d}" for n in range(start, start + count))


def no_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("length,cut", [(1_499, False), (1_500, False), (1_501, True), (100_000, True)])
def test_typed_text_is_cut_only_past_the_committee_reports_limit(length, cut):
    shown = reports.excerpt("x" * length, reports.COMMITTEE_TEXT_LIMIT)
    assert shown["cut"] is cut
    assert shown["text"] == ("x" * 1_500 + " …" if cut else "x" * length)
    if cut:
        assert (shown["shown"], shown["length"]) == ("1,500", f"{length:,}")


@pytest.mark.parametrize(
    "text,direction",
    [("تم تدريب", "rtl"), ("12 تمام عملے", "rtl"), ("Dr تمام", "ltr"), ("সমস্ত", "ltr"), ("", "ltr")],
)
def test_typed_text_runs_the_way_its_first_letter_runs(text, direction):
    assert reports.excerpt(text, reports.COMMITTEE_TEXT_LIMIT)["direction"] == direction


def test_a_very_long_answer_leaves_the_committee_front_section_as_it_was_and_its_appendix_within_bound(
    world, catalogue, q2
):
    provider_return = answered(world, catalogue, q2, "Dr A Patel.")
    short_front, short_appendix = (len(pages_of(pdf)) for pdf in committee_pdfs(world, q2))
    set_narrative(provider_return, catalogue, words(14_300)[:100_000])
    front, appendix = (pages_of(pdf) for pdf in committee_pdfs(world, q2))
    assert len(front) == short_front, "answers are in the appendices, not in the front section"
    assert "w00000" not in flat(front)
    text = flat(appendix)
    assert "w01427" in text and "w01428" not in text, "the first 10,000 characters, as in a provider report"
    assert "The whole text is in the return in Safeguard Assure." in text
    assert len(appendix) <= short_appendix + 5, (short_appendix, len(appendix))


def test_a_provider_report_shows_more_of_a_long_answer_but_within_its_bound(world, catalogue, q2):
    provider_return = answered(world, catalogue, q2, "Dr A Patel.")
    short = len(pages_of(provider_pdf(world, q2)))
    set_narrative(provider_return, catalogue, words(14_300)[:100_000])
    pages = pages_of(provider_pdf(world, q2))
    text = flat(pages)
    assert "w01427" in text and "w01428" not in text, "the first 10,000 characters, no more"
    assert "The whole text is in the return in Safeguard Assure." in text
    assert len(pages) <= short + 5, (short, len(pages))


@pytest.mark.parametrize("kind,shown", [("committee", 10_000), ("provider", 10_000)])
def test_a_long_word_wraps_at_the_edge_of_the_column_instead_of_running_off_the_page(world, catalogue, q2, kind, shown):
    word = "".join(chr(ord("a") + n % 26) + ("" if n % 7 else str(n % 10)) for n in range(20_000))[:20_000]
    answered(world, catalogue, q2, word)
    pages = pages_of(committee_pdf(world, q2) if kind == "committee" else provider_pdf(world, q2))
    lines = [line for page in pages for line in page.splitlines() if no_space(line).rstrip("…")]
    of_word = [line for line in lines if no_space(line).rstrip("…") in word]
    assert word[:shown] in "".join(no_space(line).rstrip("…") for line in of_word), "every character shown is there"
    longest = max(len(line) for line in of_word)
    assert longest < 200, f"a line of {longest} characters runs off the page"


def test_table_headings_repeat_on_every_page_and_a_row_longer_than_a_page_starts_at_once(world, catalogue, q2):
    answered(world, catalogue, q2, words(1_400))  # about 9,800 characters: over two pages in its column
    snapshot = reports.gather_provider(world.riverside, q2, by=world.riverside_lead)
    codes = [a["code"] for a in snapshot["providers"][0]["answers"]]
    assert codes.index("LEADS") > 0
    before = codes[codes.index("LEADS") - 1]
    pages = pages_of(reports.render_pdf(snapshot).pdf)
    holding = [n for n, page in enumerate(pages) if re.search(r"w0\d{4}", page)]
    assert len(holding) >= 3, "the answer is longer than a page"
    assert holding == list(range(holding[0], holding[-1] + 1))
    for n in holding:
        assert re.search(r"Question\s+Asked\s+Status\s+Answer and explanation", pages[n]), f"page {n + 1}"
    first = pages[holding[0]]
    assert before in first.split("w00000")[0], "the long row starts on the page of the row before it"


def embedded_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


@pytest.mark.parametrize("report", ["committee", "provider"])
def test_typed_text_in_every_script_is_drawn_upright_with_a_font_that_has_it(world, catalogue, q2, report):
    answered(world, catalogue, q2, "\n".join(typed for _, _, typed in SCRIPTS))
    data = committee_pdf(world, q2) if report == "committee" else provider_pdf(world, q2)
    fonts = embedded_fonts(data)
    assert {font for _, font, _ in SCRIPTS} <= fonts, fonts
    assert not [f for f in fonts if "Italic" in f or "Oblique" in f], "typed text is upright"
    lines = [line.strip() for page in pages_of(data) for line in page.splitlines()]
    for language, _, typed in SCRIPTS:
        if language in REORDERED:  # the same letters, no others (a missing glyph reads back as another character)
            assert [line for line in lines if set(line) <= set(typed) and len(line) > len(typed) * 0.8], language
        else:
            assert typed in lines, f"{language} reads back from the PDF as typed"


@pytest.mark.parametrize("path", ["Dockerfile", "bin/test"])
def test_the_image_and_the_test_script_install_the_fonts_of_every_script(path):
    text = (Path(__file__).resolve().parents[2] / path).read_text()
    for package in ("fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji"):
        assert package in text, f"{path} installs {package}"
