"""Reports a screen reader can read: the committee pack's front section and a provider report are tagged PDFs
(PDF/UA), with their headings, tables and header cells in the structure tree, marked, in English."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.generic import IndirectObject

from reviews.models import ReportKind
from tests.reviews.test_reports import ask, pack_of, private_storage, quarter  # noqa: F401


def structure_roles(data: bytes) -> tuple[dict, set[str]]:
    """The PDF's catalogue and the roles (``/S``) of every element of its structure tree."""
    catalogue = PdfReader(io.BytesIO(data)).trailer["/Root"]
    roles, stack = set(), [catalogue["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, list):
            stack.extend(node)
        elif hasattr(node, "get"):
            if "/S" in node:
                roles.add(str(node["/S"]))
            if "/K" in node:
                stack.append(node["/K"])
    return catalogue, roles


def assert_tagged(data: bytes) -> set[str]:
    catalogue, roles = structure_roles(data)
    assert bool(catalogue["/MarkInfo"]["/Marked"])
    assert str(catalogue["/Lang"]).startswith("en")
    assert {"/H1", "/H2", "/Table", "/TR", "/TH", "/TD"} <= roles, roles
    return roles


def test_a_provider_report_is_a_tagged_pdf_with_headings_and_tables(world, quarter, django_capture_on_commit_callbacks):
    report = ask(world, "riverside_lead", ReportKind.PROVIDER, world.riverside, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    with report.file.open("rb") as file:
        assert_tagged(file.read())


def test_the_committee_packs_front_section_and_appendices_are_tagged_pdfs(
    world, quarter, django_capture_on_commit_callbacks
):
    report = ask(world, "newham_committee", ReportKind.COMMITTEE, world.newham, quarter,
                 django_capture_on_commit_callbacks)  # fmt: skip
    pack = pack_of(report)
    assert_tagged(pack["1-front-section.pdf"])
    for name in (n for n in pack if n.startswith("appendices/")):
        assert_tagged(pack[name])
