"""Evidence files are checked by their whole content: each must open as the type it claims to be.

A file that only starts like a PDF, an Office file carrying macros, an archive that unpacks to a gigabyte, a cut
short image: each is refused with a message saying what to do, the same from the service, in the API and on the
return page; valid files of every allowed type are still accepted.
"""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.demo import DEMO_POLICY
from returns.evidence import DOCX, JPEG, PDF, PNG, XLSX, check_evidence_file
from returns.models import Answer, Evidence
from tests import hostile_files as hostile
from tests.returns.test_api import upload
from tests.returns.test_pages import form_of, page_url, save, summary_of

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&lol2;</w:document>'
)
PRESENTATION = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
PNG_IMAGE, JPEG_IMAGE = hostile.image("PNG", (300, 200)), hostile.image("JPEG", (300, 200))

MACROS = (
    "contains macros, which are not accepted as evidence because they could run on a reviewer's computer. Save it "
    "as a Word Document (.docx), an Excel Workbook (.xlsx) or a PDF, without macros, and upload that."
)
NOT_ALLOWED = "must be a PDF, Word, Excel, PNG or JPEG file."
DAMAGED_OFFICE = (
    "looks like a Word or Excel file but cannot be opened as one: it is damaged. Save it again in Word or Excel "
    "and upload that."
)
NOT_A_PDF = (
    "starts like a PDF but cannot be opened as one: it is damaged, or is another kind of file. Save or export it "
    "as a PDF again and upload that."
)
TOO_LARGE_UNZIPPED = (
    "unpacks to more than 100 MB or holds more than 2,000 parts, far more than a document needs. Upload a smaller "
    "file, or a PDF of it."
)


def refusal(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as refused:
        check_evidence_file(SimpleUploadedFile(name, content))
    (message,) = refused.value.messages
    return message


@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("policy.pdf", hostile.pdf(), PDF),
        ("minutes.pdf", hostile.pdf(pages=30), PDF),
        ("opens without a password.pdf", hostile.encrypted_pdf(""), PDF),
        ("policy.docx", hostile.docx(), DOCX),
        ("figures.xlsx", hostile.xlsx(), XLSX),
        ("photo.png", PNG_IMAGE, PNG),
        ("scan.jpg", hostile.image("JPEG", (1200, 900)), JPEG),
        ("named without an extension", hostile.pdf(), PDF),  # recognised by its content, as before
    ],
)
def test_valid_files_of_every_allowed_type_are_accepted(name, content, content_type):
    assert check_evidence_file(SimpleUploadedFile(name, content)) == content_type


@pytest.mark.parametrize(
    "name,content,message",
    [
        # PDFs
        ("policy.pdf", b"%PDF-1.7\n<html><body><script>alert(1)</script></body></html>", NOT_A_PDF),
        ("policy.pdf", hostile.pdf()[:200], NOT_A_PDF),
        ("policy.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", NOT_A_PDF),
        (
            "locked.pdf",
            hostile.encrypted_pdf("secret"),
            "is protected by a password, so reviewers could not open it. Upload a copy without one.",
        ),
        # Office files with macros
        ("policy.docx", hostile.docx(hostile.WORD_MACRO_MAIN), MACROS),
        ("policy.docx", hostile.docx(extra=[hostile.member("word/vbaProject.bin", b"\x00" * 64)]), MACROS),
        ("policy.docx", hostile.docx(extra=[hostile.member("word/activeX/activeX1.xml", b"<ax/>")]), MACROS),
        ("policy.docm", hostile.docx(), MACROS),
        ("figures.xlsm", hostile.xlsx(), MACROS),
        # Office files that are not what they claim, or damaged
        ("policy.docx", hostile.zip_of(hostile.docx_members(document=b"<w:document><w:body>")), DAMAGED_OFFICE),
        ("policy.docx", hostile.zip_of(hostile.docx_members(document=BILLION_LAUGHS)), DAMAGED_OFFICE),
        ("policy.docx", hostile.zip_of(hostile.docx_members()[:2]), DAMAGED_OFFICE),  # no main part
        ("policy.docx", hostile.zip_of([hostile.member("notes.txt", b"just a zip")]), NOT_ALLOWED),
        ("slides.docx", hostile.docx(PRESENTATION), NOT_ALLOWED),
        ("archive.docx", b"PK\x03\x04 not really a zip", NOT_ALLOWED),
        # Archives that unpack past the limit
        ("policy.docx", hostile.docx_bomb(1024), TOO_LARGE_UNZIPPED),
        (
            "policy.docx",
            hostile.docx(extra=[hostile.member(f"word/media/{n}.png", b"x") for n in range(2001)]),
            TOO_LARGE_UNZIPPED,
        ),  # fmt: skip
        # Old formats
        (
            "old.doc",
            hostile.OLE_SIGNATURE + b"0" * 20,
            "is in the old Word format (.doc), which can hide macros that cannot be checked. Save it in Word as a "
            "Word Document (.docx), or as a PDF, and upload that.",
        ),
        (
            "old.xls",
            hostile.OLE_SIGNATURE + b"0" * 20,
            "is in the old Excel format (.xls), which can hide macros that cannot be checked. Save it in Excel as an "
            "Excel Workbook (.xlsx), or as a PDF, and upload that.",
        ),
        # Images
        ("photo.png", PNG_IMAGE[: len(PNG_IMAGE) // 2], "starts like a PNG image but cannot be opened as one"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, "starts like a PNG image but cannot be opened as one"),
        ("scan.jpg", JPEG_IMAGE[: len(JPEG_IMAGE) // 2], "starts like a JPEG image but cannot be opened as one"),
        (
            "poster.png",
            hostile.png_claiming(10_000, 10_000),
            "is 10,000 × 10,000 pixels, more than the 40 megapixels an image may have. Upload a smaller copy of it.",
        ),
        (
            "mural.png",
            hostile.png_claiming(20_000, 20_000),  # past Pillow's own limit too
            "is an image of more than the 40 megapixels an image may have. Upload a smaller copy of it.",
        ),
        ("notes.txt", b"plain text", NOT_ALLOWED),
    ],
)
def test_a_file_that_does_not_open_as_what_it_claims_is_refused_in_plain_english(name, content, message):
    assert refusal(name, content).startswith(f"{name} {message}")


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("scan.jpg", JPEG_IMAGE[: len(JPEG_IMAGE) // 2], "JPEG image"),
        ("photo.png", PNG_IMAGE[: len(PNG_IMAGE) // 2], "PNG image"),
    ],
)
def test_a_cut_short_image_is_refused_even_after_a_report_was_made_in_the_same_process(
    monkeypatch, name, content, words
):
    import weasyprint  # noqa: F401  (importing it tells Pillow to accept cut-short images, process-wide)
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert refusal(name, content).startswith(f"{name} starts like a {words} but cannot be opened as one")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # what WeasyPrint asked for is left as it was


def test_a_docx_whose_header_hides_its_size_is_refused_as_damaged():
    assert refusal("policy.docx", hostile.docx_bomb(1024, declared=5000)) == f"policy.docx {DAMAGED_OFFICE}"


REFUSED_EVERYWHERE = [
    ("policy.pdf", b"%PDF-1.4\n<!doctype html><p>not a pdf</p>"),
    ("policy.docx", hostile.docx(hostile.WORD_MACRO_MAIN)),
    ("policy.docx", hostile.docx_bomb(1024)),
    ("old.doc", hostile.OLE_SIGNATURE + b"0" * 20),
    ("photo.png", PNG_IMAGE[:100]),
]


@pytest.mark.parametrize("name,content", REFUSED_EVERYWHERE)
def test_the_api_gives_the_services_message(as_person, catalogue, draft, name, content):
    message = refusal(name, content)
    response = upload(as_person("riverside_contributor"), draft, catalogue.policy, name=name, content=content)
    assert response.status_code == 400
    assert response.json() == {"errors": {"POLICY": {"file": message}}, "general": []}
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name,content", REFUSED_EVERYWHERE)
def test_the_return_page_gives_the_services_message_and_keeps_the_answers(as_person, catalogue, draft, name, content):
    message = refusal(name, content)
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    response = save(
        client, draft, form, {"POLICY.in_place": "yes"}, **{"POLICY.file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200
    question = f'<span class="error-summary__question">({catalogue.policy.title})</span>'
    assert f'-file">{message} {question}</a>' in summary_of(response)  # the service's words, no code leading
    assert not Evidence.objects.exists()
    assert Answer.objects.get(metric=catalogue.policy).values["in_place"] is True


def test_the_demo_policy_document_passes_the_check_it_would_get_if_uploaded():
    assert check_evidence_file(SimpleUploadedFile("Safeguarding policy (demo).pdf", DEMO_POLICY)) == PDF
