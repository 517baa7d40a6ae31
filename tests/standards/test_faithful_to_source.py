"""The shipped catalogue says what the source documents say, word for word, or says visibly why not.

Every text the catalogue presents as the source's own words (standard titles and guidance, criteria, metric
descriptions, thresholds, methods and frequencies as written, time rules) must occur in its source document,
once markup and line breaks are set aside. Where an item's words cannot stand verbatim (text joined across a
page break, a table row split in two), the item must carry a note on the source saying so.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "sources"
FIXTURES = sorted((ROOT / "fixtures" / "catalogue").glob("*.json"))
SOURCE_FILE = {
    "Safeguarding through Commissioning Policy": "nel-safeguarding-through-commissioning-policy-2019.txt",
    "Quality Specification: Safeguarding Children and Young People": (
        "luton-ccg-quality-specification-safeguarding-children-2019-20.txt"
    ),
}


def normalise(text: str) -> str:
    """Plain words: no markdown links or emphasis, HTML tags, bullets, escapes or line breaks."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("\\", "").replace("**", "").replace("*", "")
    text = text.replace("•", " ")
    text = re.sub(r"(?m)^\s*[-–]\s+", " ", text)
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def verbatim_texts(document: dict):
    """(where, text, notes of the item) for every field that claims to be the source's own words."""
    for standard in document["standards"]:
        where = f"standard {standard['number']}"
        yield where + " title", standard["title"], standard["notes"]
        for i, paragraph in enumerate(p for p in standard["guidance"].split("\n\n") if p.strip()):
            yield f"{where} guidance paragraph {i + 1}", paragraph, standard["notes"]
        for criterion in standard["criteria"]:
            at = f"{where} point {criterion['number']}"
            for j, paragraph in enumerate(p for p in criterion["text"].split("\n\n") if p.strip()):
                yield f"{at} paragraph {j + 1}", paragraph, criterion["notes"] + standard["notes"]
            if criterion["time_rule"]:
                yield at + " time rule", criterion["time_rule"]["text"], criterion["notes"]
    for metric in document["metrics"]:
        where = f"metric {metric['code']}"
        for key in ("description", "threshold_as_written", "method_of_measurement", "frequency_as_written"):
            if metric[key]:
                yield f"{where} {key}", metric[key], metric["notes"]
        for threshold in metric["thresholds"]:
            if threshold["as_written"]:
                yield f"{where} threshold as written", threshold["as_written"], metric["notes"]


@pytest.fixture(scope="module")
def sources():
    return {name: normalise((SOURCES / file).read_text(encoding="utf-8")) for name, file in SOURCE_FILE.items()}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_catalogue_text_is_the_source_word_for_word_or_is_noted(path, sources):
    document = json.loads(path.read_text(encoding="utf-8"))
    source = sources[document["framework"]["source"]["document"]]
    unexplained = []
    checked = 0
    for where, text, notes in verbatim_texts(document):
        checked += 1
        if normalise(text) not in source and not notes:
            unexplained.append(f"{where}: {text[:100]!r}")
    assert checked > 10
    assert not unexplained, "Not found in the source and no note explains why:\n" + "\n".join(unexplained)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_chosen_frequency_is_explained(path):
    """Where the source gives no frequency, the catalogue's choice carries a note."""
    document = json.loads(path.read_text(encoding="utf-8"))
    silent = [
        m["code"]
        for m in document["metrics"]
        if not m["frequency_as_written"] and not any(n["kind"] in ("interpretation", "lost_text") for n in m["notes"])
    ]
    assert not silent, f"frequency chosen without a note: {silent}"


def test_normalise_sets_markup_aside():
    assert normalise("- A [Review](#) of **NHS** \\(2009\\)\n  arrangements") == "A Review of NHS (2009) arrangements"
    assert normalise('<p>Safeguarding</p> <ul style="x"> • Police') == "Safeguarding Police"
