"""In a real browser: a word of 20,000 characters typed into a return (a pasted link, a line of text without spaces)
wraps on every page that shows it, so that no page becomes wider than the window, on a desktop or a phone."""

import datetime

import pytest
from django.utils import timezone

from returns.models import ActionPlanItem, Answer
from returns.services import open_return
from reviews.models import AnswerComment
from reviews.services import compute_return_rag
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, open_q2, q2  # noqa: F401
from tests.reviews.fixtures import ANSWERS, submit_directly
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

LONG_WORD = "".join(chr(ord("a") + n % 26) for n in range(20_000))
WINDOWS = [(1200, 900), (390, 844)]


def widths_beyond_the_window(page, paths: list[str]) -> dict:
    """Each of ``paths`` that is wider than the window at either size, with its width; each must show the word."""
    wider = {}
    for width, height in WINDOWS:
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(path)
            assert LONG_WORD[:200] in page.content(), f"{path} shows the long word"
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                wider[f"{path} at {width}px"] = scroll_width
    return wider


def test_a_20000_character_word_wraps_on_the_return_and_review_pages(page, world, catalogue, open_q2):
    draft = open_return(world.riverside, open_q2, by=world.riverside_contributor)
    answers = {**ANSWERS, "LEADS": {"text": LONG_WORD}, "S11-01": {"grade": "compliant", "evidence": LONG_WORD}}
    # Made straight in the database: text saved before today's input rules may be longer than they allow.
    Answer.objects.bulk_create(
        Answer(provider_return=draft, metric=m, values=answers[m.code], revision=1, updated_by=world.riverside_lead)
        for m in (catalogue.dbs, catalogue.allegations, catalogue.policy, catalogue.audit, catalogue.self_assessment,
                  catalogue.narrative)
    )  # fmt: skip
    sign_in(page, "riverside-lead", PASSWORD)
    wider = widths_beyond_the_window(page, [f"/returns/{draft.pk}/", f"/returns/{draft.pk}/submit/"])

    submitted = submit_directly(world.riverside, open_q2, answers, by=world.riverside_lead)
    compute_return_rag(submitted)
    leads = Answer.objects.get(provider_return=submitted, metric=catalogue.narrative)
    ActionPlanItem.objects.create(answer=leads, action=LONG_WORD, owner=LONG_WORD[:200],
                                  due_on=timezone.localdate() + datetime.timedelta(days=10))  # fmt: skip
    AnswerComment.objects.create(provider_return=submitted, metric=catalogue.narrative, author=world.newham_nurse,
                                 text=LONG_WORD)  # fmt: skip
    wider |= widths_beyond_the_window(page, [f"/returns/{submitted.pk}/"])
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "newham-nurse", PASSWORD)
    review = f"/reviews/returns/{submitted.pk}/"
    wider |= widths_beyond_the_window(
        page, [review, f"{review}answers/LEADS/", f"{review}answers/S11-01/", "/reviews/actions/"]
    )
    assert wider == {}, "these pages are wider than the window"


def test_text_typed_in_arabic_script_runs_right_to_left_on_the_review_pages(page, world, catalogue, open_q2):
    urdu = "تمام عملے کو حفاظت کی تربیت دی گئی ہے (Level 3)"
    answers = {**ANSWERS, "LEADS": {"text": urdu}}
    submitted = submit_directly(world.riverside, open_q2, answers, by=world.riverside_lead)
    Answer.objects.bulk_create(
        Answer(provider_return=submitted, metric=m, values=answers[m.code], revision=1)
        for m in (catalogue.dbs, catalogue.allegations, catalogue.policy, catalogue.audit, catalogue.self_assessment,
                  catalogue.narrative)
    )  # fmt: skip
    compute_return_rag(submitted)
    AnswerComment.objects.create(provider_return=submitted, metric=catalogue.narrative, author=world.newham_nurse,
                                 text=urdu)  # fmt: skip
    sign_in(page, "newham-nurse", PASSWORD)
    page.goto(f"/reviews/returns/{submitted.pk}/answers/LEADS/")
    directions = page.evaluate(
        """(text) => Array.from(document.querySelectorAll('main bdi, main p'))
             .filter(e => e.textContent.trim() === text).map(e => getComputedStyle(e).direction)""",
        urdu,
    )
    assert directions == ["rtl", "rtl"], "the answer and the comment"
