"""The parts of a committee pack, cut from the committee's snapshot: the front section, the annex workbook and one
appendix per provider, each with its own snapshot and digest; and the pack that joins their files in a zip.

The front section is what a committee tables, bounded whatever the number of providers: the summary, the providers
by type, an ICB's places (at most :data:`FRONT_PLACES`), the framework matrix of the worst
:data:`FRONT_MATRIX_ROWS` providers, the exceptions of the
:data:`FRONT_EXCEPTION_PROVIDERS` providers with most of them, the key measures' trends, the first
:data:`FRONT_ACTIONS` actions overdue or due, and the self-assessments beside the reviewers' judgements (the counts,
and the :data:`FRONT_MODERATION_PROVIDERS` providers graded apart most often), each list saying how many more the
annex holds. The annex workbook
(openpyxl in write-only mode, so its rows are streamed to the file, not held) has the full lists. Each provider's
appendix is that provider's own provider report. Nothing is joined into one PDF: the pack is a zip of the front
PDF, the annex and one PDF per provider, so no process ever lays out more than one provider's pages.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from returns.excel import as_written

from .models import ReportKind

#: How many providers the front section's matrix shows, worst first; the annex has every one.
FRONT_MATRIX_ROWS = 30
#: How many providers' exceptions the front section shows (those with most), and how many of each one's.
FRONT_EXCEPTION_PROVIDERS = 10
FRONT_EXCEPTIONS_EACH = 3
#: How many actions the front section lists, overdue first and then by due date.
FRONT_ACTIONS = 30
#: How many providers whose overall status changed, and how many new exceptions, the front section lists.
FRONT_CHANGES = 20

#: How many providers whose own grades differ most from the reviewers' judgements the front section lists, and how
#: many of each one's differing standards.
FRONT_MODERATION_PROVIDERS = 10
FRONT_MODERATION_EACH = 3

#: How many places of an ICB the front section's "By place" table shows (an ICB has a handful); the annex has all.
FRONT_PLACES = 30

#: What a part's digest leaves out: when and by whom the report was asked for, which do not change what it shows.
NOT_DIGESTED = frozenset({"made_at", "made_on", "requested_by"})
HEADER_KEYS = ("version", "kind", "title", "subject", "period", "made_at", "made_on", "requested_by")


def digest(snapshot: dict) -> str:
    """The SHA-256 of a part's snapshot as canonical JSON, without :data:`NOT_DIGESTED`: equal digests, equal parts."""
    kept = {key: value for key, value in snapshot.items() if key not in NOT_DIGESTED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _header(full: dict) -> dict:
    return {key: full[key] for key in HEADER_KEYS if key in full}


def _more(items: list, shown: int) -> int:
    return max(0, len(items) - shown)


def front_snapshot(full: dict) -> dict:
    """The front section of a committee pack: the committee's snapshot with every list bounded (see the module)."""
    matrix = full["framework_matrix"]
    rank = {row["id"]: n for n, row in enumerate(matrix["rows"])}
    grouped: dict[int, list[dict]] = defaultdict(list)
    for item in full["exceptions"]:
        grouped[item["provider_id"]].append(item)
    groups = sorted(grouped.items(), key=lambda g: (-len(g[1]), rank.get(g[0], len(rank))))
    exception_groups = [
        {"provider": items[0]["provider"], "count": len(items), "items": items[:FRONT_EXCEPTIONS_EACH],
         "more": _more(items, FRONT_EXCEPTIONS_EACH)}
        for _, items in groups[:FRONT_EXCEPTION_PROVIDERS]
    ]  # fmt: skip
    actions = sorted(full["actions"], key=lambda a: a["state"] != "Overdue")  # stable: by due date within each
    changes = full["changes"]
    return {
        **_header(full),
        "part": "front",
        "summary": full["summary"],
        "by_type": full["by_type"],
        "changes": {
            "previous": changes["previous"],
            "changed": changes["changed"][:FRONT_CHANGES], "changed_more": _more(changes["changed"], FRONT_CHANGES),
            "new_exceptions": changes["new_exceptions"][:FRONT_CHANGES],
            "new_exceptions_more": _more(changes["new_exceptions"], FRONT_CHANGES),
        },
        "framework_matrix": {
            "frameworks": matrix["frameworks"],
            "rows": [{**row, "cells": [row["cells"].get(f) for f in matrix["frameworks"]]}
                     for row in matrix["rows"][:FRONT_MATRIX_ROWS]],
            "more": _more(matrix["rows"], FRONT_MATRIX_ROWS), "providers": len(matrix["rows"]),
        },
        "exception_groups": exception_groups,
        "exception_providers_more": _more(groups, FRONT_EXCEPTION_PROVIDERS),
        "exceptions": [],  # grouped above; every one is in the annex
        "trends": full["trends"],
        "actions": actions[:FRONT_ACTIONS],
        "actions_more": _more(actions, FRONT_ACTIONS),
        "providers": [],  # each provider's answers are its own appendix
        "moderation": front_moderation(full.get("moderation")),
        "by_place": front_by_place(full.get("by_place")),
    }  # fmt: skip


def front_by_place(by_place: dict | None) -> dict | None:
    """An ICB's front section's "By place" table: each place's (at most :data:`FRONT_PLACES`) providers by overall
    status, red answers and overdue returns; each provider's place is in the annex. None for a report without places
    (a place's, a commissioner without places, or one gathered before places were reported)."""
    if not by_place:
        return None
    places = by_place["places"]
    return {"icb": by_place["icb"], "places": places[:FRONT_PLACES], "more": _more(places, FRONT_PLACES)}


def front_moderation(moderation: dict | None) -> dict | None:
    """The front section's comparison of self-assessments with judgements: every count (bounded by the catalogue) and
    the :data:`FRONT_MODERATION_PROVIDERS` providers graded apart from the reviewers most often, each with its first
    :data:`FRONT_MODERATION_EACH` differing standards. None when no version of the moderated frameworks is in force
    (the section is left out)."""
    if not moderation or not moderation["frameworks"]:  # gathered before it was reported, or nothing to moderate
        return None
    differing = sorted((p for p in moderation["providers"] if p["differences"]), key=lambda p: -p["differences"])
    providers = []
    for provider in differing[:FRONT_MODERATION_PROVIDERS]:
        apart = [item for item in provider["standards"] if item["comparison"] in ("higher", "lower")]
        providers.append(
            {"name": provider["name"], "ods_code": provider["ods_code"], "differences": provider["differences"],
             "standards": apart[:FRONT_MODERATION_EACH], "more": _more(apart, FRONT_MODERATION_EACH)}
        )  # fmt: skip
    return {
        "counts": moderation["counts"],
        "frameworks": moderation["frameworks"],
        "providers": providers,
        "providers_more": _more(differing, FRONT_MODERATION_PROVIDERS),
        "compared": len(moderation["providers"]),
    }


def annex_snapshot(full: dict) -> dict:
    """What the annex workbook is written from: the full lists, without the answers (those are the appendices)."""
    return {
        **_header(full),
        "part": "annex",
        "framework_matrix": full["framework_matrix"],
        "exceptions": full["exceptions"],
        "actions": full["actions"],
        "trends": full["trends"],
        "provider_trends": [
            {"name": p["name"], "ods_code": p["ods_code"], "trends": p["trends"]} for p in full["providers"]
        ],
        "moderation": full.get("moderation"),
        "by_place": full.get("by_place"),
    }


def appendix_snapshots(full: dict) -> list[tuple[int, dict]]:
    """Each provider's appendix: (provider id, the snapshot of that provider's own provider report for the quarter,
    as the committee's snapshot holds it)."""
    exceptions, actions = defaultdict(list), defaultdict(list)
    for item in full["exceptions"]:
        exceptions[item["provider_id"]].append(item)
    for item in full["actions"]:
        actions[item["provider_id"]].append(item)
    header = _header(full)
    appendices = []
    for entry in full["providers"]:
        own_actions = actions[entry["id"]]
        snapshot = {
            **header,
            "kind": ReportKind.PROVIDER,
            "title": "Provider assurance report",
            "subject": {"name": entry["name"], "ods_code": entry["ods_code"]},
            "appendix_of": full["subject"],
            "summary": {
                "providers": 1,
                "answers": {colour: entry["counts"].get(colour, 0) for colour in ("red", "amber", "green")},
                "actions_overdue": sum(1 for a in own_actions if a["state"] == "Overdue"),
                "actions_due": sum(1 for a in own_actions if a["state"] == "Due"),
                "exceptions": len(exceptions[entry["id"]]),
            },
            "exceptions": exceptions[entry["id"]],
            "actions": own_actions,
            "providers": [entry],
        }
        appendices.append((entry["id"], snapshot))
    return appendices


# The annex workbook.


def _text(sheet, value) -> WriteOnlyCell | object:
    """A cell of the annex: text is always text, never a formula, and only characters a workbook holds (the rule of
    :func:`returns.excel.put`)."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=as_written(value))
        cell.data_type = "s"
        return cell
    return value


def _sheet(workbook: Workbook, title: str, headers: list[str]):
    sheet = workbook.create_sheet(title)
    bold = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    return sheet


def _append(sheet, values) -> None:
    sheet.append([_text(sheet, value) for value in values])


def _whole(typed) -> str:
    return typed if isinstance(typed, str) else (typed or {}).get("text", "")


def write_annex(snapshot: dict, path: str) -> None:
    """Write the annex workbook of a committee pack to ``path``: every provider against every framework, every
    exception, every action and the key measures, one row each, streamed (openpyxl's write-only mode)."""
    workbook = Workbook(write_only=True)
    about = _sheet(workbook, "About", ["", ""])
    for key, value in (
        ("Report", f"{snapshot['title']}: annex"), ("Commissioner", snapshot["subject"]["name"]),
        ("Period", snapshot["period"]["label"]), ("Made on", snapshot["made_at"]),
        ("Asked for by", snapshot["requested_by"]),
        ("Sheets", "Providers by framework (each cell's worst colour and its answers by colour), Exceptions, "
                   "Actions due and overdue, Self-assessment and judgement (each provider's own grade of each "
                   "Section 11 and adult standard beside the reviewer's judgement), Providers by place (for an ICB: "
                   "each provider under each of its places), Key measures (each provider and all providers, by "
                   "quarter)."),
    ):  # fmt: skip
        _append(about, [key, value])

    matrix = _sheet(workbook, "Providers by framework", [
        "Provider", "ODS code", "Provider type", "Return", "Overall status", "Framework", "Worst colour", "Red",
        "Amber", "Green", "No colour"])  # fmt: skip
    for row in snapshot["framework_matrix"]["rows"]:
        start = [row["name"], row["ods_code"], row["provider_type"], row["state"], row["overall"]["label"]]
        if not row["cells"]:
            _append(matrix, [*start, "", "", None, None, None, None])
        for framework in snapshot["framework_matrix"]["frameworks"]:
            cell = row["cells"].get(framework)
            if cell:
                counts = cell["counts"]
                _append(matrix, [*start, framework, cell["label"], counts["red"], counts["amber"], counts["green"],
                                 counts["none"]])  # fmt: skip

    exceptions = _sheet(workbook, "Exceptions", ["Provider", "Exception", "Question", "Asked", "Why", "Review",
                                                  "Comments"])  # fmt: skip
    for item in snapshot["exceptions"]:
        comments = "\n".join(f"{c['author']}, {c['at']}: {_whole(c['text'])}" for c in item["comments"])
        _append(exceptions, [item["provider"], item["kind"], item["metric_code"], item["title"], item["explanation"],
                             _whole(item["review"]), comments])  # fmt: skip

    actions = _sheet(workbook, "Actions", ["Provider", "Question", "Action", "Owner", "Due", "State"])
    for item in snapshot["actions"]:
        _append(actions, [item["provider"], item["metric_code"], _whole(item["action"]), item["owner"],
                          item["due_on"], item["state"]])  # fmt: skip

    moderation = snapshot.get("moderation")
    if moderation and moderation["frameworks"]:  # none when the Section 11 and adult standards are not in force
        judged = _sheet(workbook, "Self-assessment and judgement", [
            "Provider", "ODS code", "Return", "Framework", "Standard", "Title", "Provider's grade", "Judgement",
            "Compared", "Reviewed by", "Reviewed on"])  # fmt: skip
        for provider in moderation["providers"]:
            for item in provider["standards"]:
                _append(judged, [provider["name"], provider["ods_code"], provider["state"], item["framework"],
                                 item["standard"], item["title"], item["grade"], item["judgement"],
                                 item["comparison_words"], item["reviewed_by"], item["reviewed_on"]])  # fmt: skip

    by_place = snapshot.get("by_place")
    if by_place:  # an ICB's report: each provider under each place holding its contracts
        placed = _sheet(workbook, "Providers by place", ["Place", "Provider", "ODS code", "Return", "Overall status",
                                                         "Red answers"])  # fmt: skip
        for provider in by_place["providers"]:
            for place in provider["places"]:
                _append(placed, [place, provider["name"], provider["ods_code"], provider["state"],
                                 provider["overall"], provider["red_answers"]])  # fmt: skip

    measures = _sheet(workbook, "Key measures", ["Key measure", "Question", "Provider", "ODS code", "Quarter",
                                                 "Figure", "Status", "Explanation"])  # fmt: skip
    for measure in snapshot["trends"]:
        for point in measure["pooled"]["points"]:
            _append(measures, [measure["heading"], measure["code"], "All providers", "", point["period"],
                               point["value"], point["label"], point["explanation"]])  # fmt: skip
    for provider in snapshot["provider_trends"]:
        for item in provider["trends"]:
            trend = item["trend"]
            for point in trend["points"]:
                _append(measures, [item["heading"], trend["metric_code"], provider["name"], provider["ods_code"],
                                   point["period"], point["value"], point["label"], point["explanation"]])  # fmt: skip
    workbook.save(path)


# The pack.


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-")[:60] or "provider"


def member_name(part) -> str:
    """A part's file name inside the pack: the front and annex first, then the appendices in the front's order."""
    if part.kind == "front":
        return "1-front-section.pdf"
    if part.kind == "annex":
        return "2-annex.xlsx"
    return f"appendices/{part.position:04d}-{_slug(part.provider.ods_code)}-{_slug(part.provider.name)}.pdf"


def write_pack(parts, readme: str, output) -> None:
    """Write the committee pack to the binary file ``output``: a zip of every part's file as stored (one at a time,
    copied in chunks) and a short text saying what is in it."""
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as pack:
        pack.writestr("0-read-me.txt", readme)
        for part in parts:
            with part.file.open("rb") as source, pack.open(member_name(part), "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)


def temporary_file():
    """A file on disk for a part or the pack while it is written (bounded memory), deleted when closed."""
    return tempfile.TemporaryFile()
