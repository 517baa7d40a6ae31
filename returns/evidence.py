"""Evidence files: documents and images of the allowed types, checked by their whole content, under size limits.

A file's type is recognised by its first bytes (never its name), and then the file must open as that type: a PDF
with pypdf, a Word document or Excel workbook as an Office Open XML package, a PNG or JPEG image with Pillow.
An Office package is a zip, so it is inspected with :func:`returns.archives.inspect_archive` before anything
unpacks it (the same check an uploaded return workbook gets): a file that unpacks past
:data:`MAX_EVIDENCE_UNZIPPED_BYTES` is refused as soon as it passes it; every XML part must be well-formed; the
main part must be a document or a workbook; and a file carrying macros or ActiveX controls is refused, since they
could run on a reviewer's computer. Word and Excel files in the formats before 2007 (.doc, .xls) are refused too:
they are opaque containers whose macros cannot be checked without another parser, and Word and Excel have saved
.docx and .xlsx by default since 2007.
"""

from __future__ import annotations

import contextlib
import posixpath
import threading
import warnings
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from PIL import Image, ImageFile, UnidentifiedImageError
from pypdf import PdfReader

from .archives import ArchiveLimits, ArchiveRefused, XmlWellFormed, inspect_archive

MB = 1024 * 1024
MAX_EVIDENCE_BYTES = 10 * MB
#: What an Office file may unpack to. Pictures do not shrink in a zip and text shrinks about tenfold, so a 10 MB
#: document unpacks to well under this; a "zip bomb" of 1 MB unpacking to 1 GB is refused within a second.
MAX_EVIDENCE_UNZIPPED_BYTES = 100 * MB
MAX_EVIDENCE_PARTS = 2_000
EVIDENCE_ARCHIVE_LIMITS = ArchiveLimits(members=MAX_EVIDENCE_PARTS, unzipped_bytes=MAX_EVIDENCE_UNZIPPED_BYTES)
#: An image is decoded whole to check it; 40 megapixels is more than a phone's photograph or any scan of a page.
MAX_EVIDENCE_IMAGE_PIXELS = 40_000_000

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG, JPEG = "image/png", "image/jpeg"
ALLOWED = {PDF: "PDF", DOCX: "Word", XLSX: "Excel", PNG: "PNG image", JPEG: "JPEG image"}
ALLOWED_WORDS = "PDF, Word, Excel, PNG or JPEG"
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")

#: The content type of an Office package's main part, by the type of file it makes.
MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
OFFICE_DOCUMENT = "/officeDocument"  # the end of the relationship type naming the main part
MACRO_EXTENSIONS = (".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppam", ".ppsm", ".sldm")
MACRO_PART_NAMES = ("vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin")
MACRO_CONTENT_TYPE_WORDS = ("macroenabled", "vbaproject", "activex")
CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def sniff(head: bytes) -> str | None:
    """The type a file's first bytes claim, or None if they claim none of the allowed types.

    "ole" is a Word or Excel file in a format before 2007; "zip" may be an Office package.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(OLE_SIGNATURE):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def check_evidence_file(upload) -> str:
    """Return the content type of an acceptable upload, or raise a plain-English ``ValidationError``."""
    name = getattr(upload, "name", None) or "the file"
    if upload.size == 0:
        raise ValidationError(f"{name} is empty. Choose the file again.")
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError(f"{name} is larger than {MAX_EVIDENCE_BYTES // MB} MB. Choose a smaller file.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    claimed = sniff(head)
    try:
        if claimed == PDF:
            _check_pdf(upload, name)
        elif claimed in (PNG, JPEG):
            _check_image(upload, name, claimed)
        elif claimed == "ole":
            raise ValidationError(_old_office_format(name))
        elif claimed == "zip":
            claimed = _check_office(upload, name)
        else:
            raise ValidationError(f"{name} must be a {ALLOWED_WORDS} file.")
    finally:
        upload.seek(0)
    return claimed


def _check_pdf(upload, name: str) -> None:
    unreadable = (
        f"{name} starts like a PDF but cannot be opened as one: it is damaged, or is another kind of file. Save or "
        "export it as a PDF again and upload that."
    )
    try:
        reader = PdfReader(upload, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ValidationError(
                f"{name} is protected by a password, so reviewers could not open it. Upload a copy without one."
            )
        if len(reader.pages) == 0:
            raise ValidationError(unreadable)
    except ValidationError:
        raise
    except Exception as error:  # pypdf raises many kinds of error for a file that is not a PDF
        raise ValidationError(unreadable) from error


_decoding = threading.Lock()


@contextlib.contextmanager
def _truncated_images_refused():
    """Decode with Pillow refusing a cut-short image, whatever the process-wide setting says.

    WeasyPrint sets ``ImageFile.LOAD_TRUNCATED_IMAGES`` to True when it is imported (so that it can draw what it
    can of a damaged picture), and from then on Pillow quietly fills a cut-short JPEG with grey. A process that
    has made a report must still refuse such a file as evidence.
    """
    with _decoding:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _check_image(upload, name: str, content_type: str) -> None:
    words = ALLOWED[content_type]
    unreadable = f"{name} starts like a {words} but cannot be opened as one: it is damaged or cut short."
    too_large = f"more than the {MAX_EVIDENCE_IMAGE_PIXELS // 1_000_000} megapixels an image may have"
    try:
        with _truncated_images_refused(), warnings.catch_warnings():
            # Pillow warns of an image over its own limit as it opens it; this one is refused below, by name.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                width, height = image.size
                if width * height > MAX_EVIDENCE_IMAGE_PIXELS:
                    raise ValidationError(
                        f"{name} is {width:,} × {height:,} pixels, {too_large}. Upload a smaller copy of it."
                    )
                if content_type == PNG:
                    image.verify()  # every chunk's checksum, to the end of the file
                else:
                    image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))  # all the data, decoded small
                    image.load()
        if content_type == PNG:
            upload.seek(0)
            with _truncated_images_refused(), Image.open(upload) as image:
                image.load()  # verify() does not decode the pixels
    except ValidationError:
        raise
    except Image.DecompressionBombError as error:
        raise ValidationError(f"{name} is an image of {too_large}. Upload a smaller copy of it.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(unreadable) from error


def _old_office_format(name: str) -> str:
    extension = posixpath.splitext(name.lower())[1]
    if extension in (".xls", ".xlt"):
        old, new = "Excel format (.xls)", "Save it in Excel as an Excel Workbook (.xlsx)"
    elif extension in (".doc", ".dot"):
        old, new = "Word format (.doc)", "Save it in Word as a Word Document (.docx)"
    else:
        old, new = "Office format", "Save it as a Word Document (.docx), an Excel Workbook (.xlsx) or a PDF"
    return (
        f"{name} is in the old {old}, which can hide macros that cannot be checked. {new}, or as a PDF, and "
        "upload that."
    )


def _macros(name: str) -> str:
    return (
        f"{name} contains macros, which are not accepted as evidence because they could run on a reviewer's "
        "computer. Save it as a Word Document (.docx), an Excel Workbook (.xlsx) or a PDF, without macros, and "
        "upload that."
    )


def _check_office(upload, name: str) -> str:
    """The content type of a Word document or Excel workbook that passes every check; else ``ValidationError``."""
    not_allowed = f"{name} must be a {ALLOWED_WORDS} file."
    damaged = (
        f"{name} looks like a Word or Excel file but cannot be opened as one: it is damaged. Save it again in Word "
        "or Excel and upload that."
    )
    if name.lower().endswith(MACRO_EXTENSIONS):
        raise ValidationError(_macros(name))

    def well_formed(part: str):
        return XmlWellFormed(part) if part.lower().endswith((".xml", ".rels")) else None

    try:
        contents = inspect_archive(
            upload, EVIDENCE_ARCHIVE_LIMITS, keep=["[Content_Types].xml", "_rels/.rels"], watch=well_formed
        )
    except ArchiveRefused as refused:
        if refused.reason in (ArchiveRefused.TOO_LARGE_UNZIPPED, ArchiveRefused.TOO_MANY_MEMBERS):
            raise ValidationError(
                f"{name} unpacks to more than {MAX_EVIDENCE_UNZIPPED_BYTES // MB} MB or holds more than "
                f"{MAX_EVIDENCE_PARTS:,} parts, far more than a document needs. Upload a smaller file, or a PDF of "
                "it."
            ) from refused
        raise ValidationError(not_allowed if refused.reason == ArchiveRefused.NOT_ZIP else damaged) from refused

    if "[Content_Types].xml" not in contents.kept or "_rels/.rels" not in contents.kept:
        raise ValidationError(not_allowed)  # a zip, but not an Office package
    defaults, overrides = {}, {}
    for entry in ElementTree.fromstring(contents.kept["[Content_Types].xml"]):
        content_type = entry.get("ContentType", "")
        if entry.tag == f"{CONTENT_TYPES_NS}Default":
            defaults[entry.get("Extension", "").lower()] = content_type
        elif entry.tag == f"{CONTENT_TYPES_NS}Override":
            overrides[entry.get("PartName", "").lower()] = content_type
    declared = [*defaults.values(), *overrides.values()]
    if any(word in content_type.lower() for content_type in declared for word in MACRO_CONTENT_TYPE_WORDS) or any(
        posixpath.basename(part.lower()) in MACRO_PART_NAMES or "/activex/" in f"/{part.lower()}"
        for part in contents.names
    ):
        raise ValidationError(_macros(name))

    targets = [
        relationship.get("Target", "")
        for relationship in ElementTree.fromstring(contents.kept["_rels/.rels"])
        if relationship.tag == f"{RELATIONSHIPS_NS}Relationship"
        and relationship.get("Type", "").endswith(OFFICE_DOCUMENT)
        and relationship.get("TargetMode") != "External"
    ]
    if len(targets) != 1:
        raise ValidationError(damaged)
    main = posixpath.normpath("/" + targets[0].lstrip("/"))
    if main.lstrip("/") not in contents.names:
        raise ValidationError(damaged)
    main_type = overrides.get(main.lower()) or defaults.get(posixpath.splitext(main)[1].lstrip(".").lower(), "")
    if main_type not in MAIN_PARTS:
        raise ValidationError(not_allowed)  # a presentation, a template, or another kind of package
    return MAIN_PARTS[main_type]
