"""One set of status words and colours: RAG colours only for a RAG status, every other state a neutral tag with
its words, defined once (assurance.status_words) and used by every page."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from assurance.status_words import NEUTRAL_STYLES, RAG, RAG_STYLES, STATES, STATUS_WORDS, STYLES
from returns.services import return_for_revision
from tests.reviews.fixtures import make_period, submitted  # noqa: F401
from tests.reviews.test_dashboard_pages import COMPLETENESS, DASHBOARD, quarter  # noqa: F401

ROOT = Path(settings.BASE_DIR)
RAG_WORDS = {word.text for word in RAG.values()} | {"Red", "Amber", "Green"}
TAG = re.compile(r'<strong class="tag tag--([\w-]+)">(?:<span class="visually-hidden">[^<]*</span>)?([^<]*)</strong>')


def tags_on(response) -> dict[str, set[str]]:
    """Each tag's words on the page, with the styles it is shown in."""
    assert response.status_code == 200
    found = {}
    for style, text in TAG.findall(response.content.decode()):
        found.setdefault(text.strip(), set()).add(style)
    return found


def assert_rag_styles_for_rag_words_only(tags: dict[str, set[str]]) -> None:
    for text, styles in tags.items():
        if text in RAG_WORDS:
            assert styles <= set(RAG_STYLES), f"the RAG status {text!r} is shown as {styles}"
        else:
            assert not styles & set(RAG_STYLES), f"{text!r}, not a RAG status, is shown in a RAG colour: {styles}"


def test_rag_words_have_rag_styles_and_every_other_state_a_neutral_style():
    assert {word.style for word in RAG.values()} <= set(RAG_STYLES)
    assert {word.style for word in STATES.values()} <= set(NEUTRAL_STYLES)
    assert not set(RAG) & set(STATES)


def test_every_style_has_its_css():
    css = (ROOT / "static/css/assure.css").read_text()
    for style in STYLES:
        assert f".tag--{style} {{" in css, style
    for retired in ("yellow", "orange", "purple", "blue"):
        assert f".tag--{retired} " not in css


def test_no_template_picks_a_tag_colour_of_its_own():
    """Pages name a status ({% status_tag "overdue" %}) and never a colour: a tag class written out, or the tag
    partial included with a colour of the page's choosing, would bring back colours that mean different things."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if path.match("partials/tag.html") or "pdf" in path.parts:
            continue
        text = path.read_text()
        if re.search(r"tag--(?!\{\{)", text) or "partials/tag.html" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_readme_lists_every_status_word_with_its_style():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Status words and colours") :]
    section = section[: section.index("\n## ")]
    for key, word in STATUS_WORDS.items():
        if word.text:
            assert re.search(rf"\| {re.escape(word.text)} \|[^\n]*\| {word.style} \|", section), key


def test_the_dashboard_and_completeness_show_submission_states_in_neutral_tags_and_rag_in_rag_colours(
    as_person, world, quarter
):
    client = as_person("newham_nurse")
    dashboard = tags_on(client.get(DASHBOARD))
    assert dashboard["On time"] == {"solid"} and dashboard["Late"] == {"dark"} and dashboard["Red"] == {"red"}
    assert_rag_styles_for_rag_words_only(dashboard)

    completeness = tags_on(as_person("administrator").get(COMPLETENESS))
    assert completeness["On time"] == {"solid"} and completeness["Overdue"] == {"dark"}
    assert_rag_styles_for_rag_words_only(completeness)

    return_for_revision(world.eastway_return, by=world.administrator, comments="Please check the DBS figures.")
    completeness = tags_on(as_person("administrator").get(COMPLETENESS))
    assert completeness["Returned for revision"] == {"bordered"}
    assert_rag_styles_for_rag_words_only(completeness)


def test_a_submitted_return_whose_rag_is_amber_shows_a_neutral_submitted_tag_beside_its_amber(
    as_person, world, quarter
):
    review = tags_on(as_person("newham_nurse").get(reverse("reviews:return_review", args=[world.riverside_return.pk])))
    assert review["Submitted"] == {"solid"} and review["Amber"] == {"amber"}
    assert_rag_styles_for_rag_words_only(review)

    returns = tags_on(as_person("riverside_lead").get(reverse("returns:return_list")))
    assert returns["Submitted"] == {"solid"}
    assert_rag_styles_for_rag_words_only(returns)


def test_the_trend_marks_the_quarter_in_progress_as_such_not_as_a_missing_return(as_person, world, quarter):
    today = timezone.localdate()
    financial_year = today.year if today.month >= 4 else today.year - 1
    current = make_period(financial_year, (today.month - 4) % 12 // 3 + 1)
    response = as_person("newham_nurse").get(reverse("reviews:trend", args=[world.riverside.pk]), {"metric": "DBS"})

    (point,) = [p for p in response.context["trend"].points if p.period_id == current.pk]
    assert point.in_progress and point.label == "In progress" and "No return submitted" not in point.explanation
    assert tags_on(response)["In progress"] == {"light"}
    assert "in progress</text>" in response.content.decode()
