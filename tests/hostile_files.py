"""Files a provider with bad intent might upload, made in memory in a fraction of a second.

A zip bomb here is a real zip: its big member is the deflate of a repeated block, written once and repeated (each
copy is flushed so that it stands alone), so a member of hundreds of megabytes costs only its CRC to make.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import pypdf
from PIL import Image

MB = 1024 * 1024
SHEET_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_END = b"</sheetData></worksheet>"
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # Word and Excel files before 2007


@dataclass
class Member:
    """A zip member: its name, its deflated bytes, and its true (or declared) unzipped size and CRC."""

    name: str
    deflated: bytes
    size: int
    crc: int


def member(name: str, data: bytes) -> Member:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, compressor.compress(data) + compressor.flush(), len(data), zlib.crc32(data))


def repeated_member(name: str, prefix: bytes, block: bytes, times: int, suffix: bytes) -> Member:
    """A member of ``prefix + block * times + suffix``, deflated without compressing it all."""

    def flushed(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = flushed(prefix) + flushed(block) * times + last.compress(suffix) + last.flush()
    crc = zlib.crc32(prefix)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    return Member(name, deflated, len(prefix) + len(block) * times + len(suffix), zlib.crc32(suffix, crc))


def zip_of(members: list[Member]) -> bytes:
    """A zip archive of these members, headers as they declare (which may be a lie)."""
    out, central = io.BytesIO(), io.BytesIO()
    for item in members:
        name = item.name.encode()
        offset = out.tell()
        sizes = (item.crc, len(item.deflated), item.size)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, *sizes, len(name), 0) + name)
        out.write(item.deflated)
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, *sizes, len(name), 0, 0, 0, 0, 0, offset
            )
            + name
        )
    directory = central.getvalue()
    start = out.tell()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0))
    return out.getvalue()


def members_of(data: bytes) -> list[Member]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [member(info.filename, archive.read(info)) for info in archive.infolist()]


def with_member(data: bytes, replacement: Member) -> bytes:
    """The zip ``data`` with one member replaced (or added)."""
    members = [item for item in members_of(data) if item.name != replacement.name]
    return zip_of([*members, replacement])


def lying(item: Member, declared: int) -> Member:
    """The member with its headers declaring ``declared`` bytes unzipped."""
    return Member(item.name, item.deflated, declared, item.crc)


def cells_bomb(megabytes: int = 300) -> Member:
    """A framework sheet of ``megabytes`` MB of cells, deflating to about a megabyte."""
    row = b"<row>" + b"<c><v>1</v></c>" * 64 + b"</row>"
    return repeated_member("xl/worksheets/sheet2.xml", SHEET_XML, row * (MB // len(row)), megabytes, SHEET_END)


def blank_bomb(megabytes: int = 300) -> Member:
    """A framework sheet of ``megabytes`` MB of white space and no cells."""
    return repeated_member("xl/worksheets/sheet2.xml", SHEET_XML, b" " * MB, megabytes, SHEET_END)


# Evidence -------------------------------------------------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="{target}"/></Relationships>'
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
DOCUMENT_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    b"<w:p><w:r><w:t>Safeguarding policy</w:t></w:r></w:p></w:body></w:document>"
)


def docx_members(main_type: str = WORD_MAIN, document: bytes = DOCUMENT_XML) -> list[Member]:
    overrides = f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
    return [
        member("[Content_Types].xml", CONTENT_TYPES.format(overrides=overrides).encode()),
        member("_rels/.rels", RELS.format(target="word/document.xml").encode()),
        member("word/document.xml", document),
    ]


def docx(main_type: str = WORD_MAIN, extra: list[Member] = ()) -> bytes:
    """A minimal Word document, as Word would open it."""
    return zip_of([*docx_members(main_type), *extra])


def document_bomb(megabytes: int) -> Member:
    """A Word document's main part of ``megabytes`` MB of paragraphs."""
    head, tail = DOCUMENT_XML.split(b"<w:p>", 1)
    paragraph = b"<w:p><w:r><w:t>policy</w:t></w:r></w:p>"
    return repeated_member("word/document.xml", head, paragraph * (MB // len(paragraph)), megabytes, b"<w:p>" + tail)


def docx_bomb(megabytes: int = 1024, declared: int | None = None) -> bytes:
    """A Word document of about a megabyte whose text unzips to ``megabytes`` MB (its header may say otherwise)."""
    body = document_bomb(megabytes)
    return zip_of([*docx_members()[:2], body if declared is None else lying(body, declared)])


def pdf(pages: int = 1) -> bytes:
    """A small, valid PDF."""
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def image(image_format: str = "PNG", size=(40, 30)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (0, 94, 184)).save(output, image_format)
    return output.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """The start of a PNG whose header claims these dimensions, with a few bytes of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))


def encrypted_pdf(user_password: str) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def xlsx() -> bytes:
    """A small Excel workbook, as openpyxl (and so Excel) writes it."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active["A1"] = "Staff trained"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
