"""Evidence files: only documents and images of the allowed types, recognised by their content, under a size limit."""

from __future__ import annotations

import io
import zipfile

from django.core.exceptions import ValidationError

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024

ALLOWED = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.ms-excel": "Excel",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
}
ALLOWED_WORDS = "PDF, Word, Excel, PNG or JPEG"
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


def sniff(head: bytes, upload) -> str | None:
    """The file's type judged from its content (not its name), or None if it is not an allowed type."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(OLE_SIGNATURE):
        name = (getattr(upload, "name", "") or "").lower()
        return "application/vnd.ms-excel" if name.endswith(".xls") else "application/msword"
    if head.startswith(b"PK\x03\x04"):
        upload.seek(0)
        try:
            with zipfile.ZipFile(io.BytesIO(upload.read())) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def check_evidence_file(upload) -> str:
    """Return the content type of an acceptable upload, or raise a plain-English ``ValidationError``."""
    name = getattr(upload, "name", "the file")
    if upload.size == 0:
        raise ValidationError(f"{name} is empty. Choose the file again.")
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError(f"{name} is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB. Choose a smaller file.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff(head, upload)
    if content_type is None:
        raise ValidationError(f"{name} must be a {ALLOWED_WORDS} file.")
    return content_type
