"""Zip archives looked into before anything unpacks them: uploaded workbooks and Office files offered as evidence.

A zip can claim anything in its headers and unpack to far more than its own size (a "zip bomb"): a 1 MB file can
hold a gigabyte of repeated XML. :func:`inspect_archive` checks the number of members and the sizes they declare,
then decompresses every member as a stream, counting the bytes as they come, so an archive is refused as soon as
it passes a limit, whatever its headers say, in a few kilobytes of memory. Callers watch the members they care
about as they stream past (to count a sheet's cells, to check that a part is well-formed XML) and keep the small
ones they need whole.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

CHUNK_BYTES = 64 * 1024
#: A member kept whole (such as ``[Content_Types].xml``) is a small index of the archive, never this large.
MAX_KEPT_MEMBER_BYTES = 1024 * 1024


class ArchiveRefused(Exception):
    """Why an archive was refused: ``reason`` is one of the ``ArchiveRefused.*`` names, ``detail`` says more."""

    NOT_ZIP = "not a zip"
    DAMAGED = "damaged"
    TOO_MANY_MEMBERS = "too many members"
    TOO_LARGE_UNZIPPED = "too large unzipped"

    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class ArchiveLimits:
    """How many members an archive may hold and how many bytes they may unzip to, all together."""

    members: int
    unzipped_bytes: int


@dataclass
class ArchiveContents:
    """What :func:`inspect_archive` found: every member's name, the bytes unzipped, and the members kept whole."""

    names: list[str]
    unzipped_bytes: int
    kept: dict[str, bytes] = field(default_factory=dict)


#: Given a member's name, a function to hand each decompressed chunk of it to, or None to let it stream past. When
#: the function has a ``close`` method, it is called at the member's end.
Watcher = Callable[[str], Callable[[bytes], None] | None]


def inspect_archive(file, limits: ArchiveLimits, *, keep: Iterable[str] = (), watch: Watcher | None = None):
    """Check a zip archive against ``limits`` by decompressing every member as a stream; raise :class:`ArchiveRefused`.

    ``file`` is a binary file object (it is read from the start) or the archive's bytes. Members named in ``keep``
    are returned whole, when they are present and small. ``watch`` sees the chunks of the members it asks for; what
    it raises goes to the caller.
    """
    if isinstance(file, bytes | bytearray):
        file = io.BytesIO(file)
    elif hasattr(file, "seek"):
        file.seek(0)
    keep = set(keep)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise ArchiveRefused(ArchiveRefused.NOT_ZIP, str(error)) from error
    with archive:
        members = archive.infolist()
        if len(members) > limits.members:
            raise ArchiveRefused(ArchiveRefused.TOO_MANY_MEMBERS, f"{len(members)} members")
        declared = sum(member.file_size for member in members)
        if declared > limits.unzipped_bytes:
            raise ArchiveRefused(ArchiveRefused.TOO_LARGE_UNZIPPED, f"{declared} bytes declared")
        unzipped, kept = 0, {}
        for member in members:
            if member.is_dir():
                continue
            consumer = watch(member.filename) if watch else None
            whole = [] if member.filename in keep else None
            kept_bytes = 0
            try:
                with archive.open(member) as stream:
                    # zipfile stops at the size a member declares; the running count holds even if it did not.
                    while chunk := stream.read(CHUNK_BYTES):
                        unzipped += len(chunk)
                        if unzipped > limits.unzipped_bytes:
                            raise ArchiveRefused(ArchiveRefused.TOO_LARGE_UNZIPPED, f"over {unzipped} bytes")
                        if consumer is not None:
                            consumer(chunk)
                        if whole is not None:
                            kept_bytes += len(chunk)
                            if kept_bytes > MAX_KEPT_MEMBER_BYTES:
                                raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{member.filename} is too large")
                            whole.append(chunk)
                    if consumer is not None and hasattr(consumer, "close"):
                        consumer.close()
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError) as error:
                # A bad CRC, an unknown compression method, an encrypted member, a truncated stream.
                raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{member.filename}: {error}") from error
            except (OSError, EOFError) as error:
                raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{member.filename}: {error}") from error
            if whole is not None:
                kept[member.filename] = b"".join(whole)
        return ArchiveContents([member.filename for member in members], unzipped, kept)


class XmlWellFormed:
    """Feeds a part's chunks to expat and raises :class:`ArchiveRefused` if it is not well-formed XML.

    Office parts never declare a document type or entities; one that does is refused, so no entity is expanded.
    """

    def __init__(self, name: str):
        self.name = name
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._refuse_doctype
        self.parser.EntityDeclHandler = self._refuse_doctype

    def _refuse_doctype(self, *args):
        raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{self.name} declares a document type")

    def __call__(self, chunk: bytes) -> None:
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError as error:
            raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{self.name}: {error}") from error

    def close(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError as error:
            raise ArchiveRefused(ArchiveRefused.DAMAGED, f"{self.name}: {error}") from error
