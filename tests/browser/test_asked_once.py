"""In a real browser: a provider on a NEL and a Luton contract answers their shared training measure once, and each
commissioner's reviewer sees that one answer judged by their own threshold (88%: green for NEL, amber for Luton)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from returns.models import Answer, Return
from returns.services import AnswerInput, attach_evidence, open_return, save_answers
from reviews.services import compute_return_rag
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.test_asked_once import Shared
from tests.returns.test_carry_forward import PDF, open_period
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def field(page, metric, name):
    return page.locator(f"#id_m{metric.pk}-{name}")


def test_the_shared_question_is_answered_once_and_each_reviewer_sees_their_own_colour(page, world, screenshot):
    s = Shared(world)
    period = open_period(2025, 2)
    provider_return = open_return(world.riverside, period, by=world.riverside_lead)
    save_answers(
        provider_return,
        by=world.riverside_lead,
        answers={
            s.nel_policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
            s.luton_only.pk: AnswerInput({"count": "3"}),
        },
    )
    upload = SimpleUploadedFile("allegations.pdf", PDF, content_type="application/pdf")
    attach_evidence(provider_return, s.nel_policy, upload, by=world.riverside_lead)

    sign_in(page, "riverside-lead", PASSWORD)
    page.goto(f"/returns/{provider_return.pk}/")
    main = page.locator("main")
    shared = page.locator(f"#m{s.nel_training.pk}")
    assert "Asked once for 2 frameworks." in shared.inner_text()
    assert "Luton children (L-TRAINING): Green at 90% or above" in shared.inner_text()
    assert page.locator(f"#id_m{s.luton_training.pk}-numerator").count() == 0  # not asked again
    luton = page.locator(f"#m{s.luton_training.pk}")
    assert "This is the same measure as N-TRAINING in NEL children" in luton.inner_text()
    screenshot("1-asked-once")

    field(page, s.nel_training, "numerator").fill("88")
    field(page, s.nel_training, "denominator").fill("100")
    page.get_by_role("button", name="Save this section").first.click()
    assert "Saved in this section: 1 answer." in page.locator("[data-saved-banner]").inner_text()
    assert "88 of 100" in luton.inner_text() or "88.0%" in luton.inner_text()
    luton.get_by_role("link", name="answer it there").click()
    assert page.evaluate("location.hash") == f"#m{s.nel_training.pk}"
    screenshot("2-saved-once-shown-for-luton")

    page.get_by_role("link", name="Check your answers and submit").first.click()
    page.get_by_label("I confirm the declaration above").check()
    page.get_by_role("button", name="Submit the return").click()
    assert "Return submitted" in main.inner_text()
    values = {a.metric.code: a.values for a in Answer.objects.filter(provider_return=provider_return)}
    assert values["N-TRAINING"] == values["L-TRAINING"] == {"numerator": 88, "denominator": 100}

    compute_return_rag(Return.objects.get(pk=provider_return.pk))
    page.context.clear_cookies()
    sign_in(page, "luton-nurse", PASSWORD)
    page.goto(f"/reviews/returns/{provider_return.pk}/")
    card = page.locator("#answer-L-TRAINING")
    assert "Amber" in card.inner_text()
    assert "NEL children (N-TRAINING): Green" in card.inner_text()
    assert "Evidence towards this standard from other frameworks" in main.inner_text()
    card.scroll_into_view_if_needed()
    screenshot("3-luton-reviewer-sees-amber-and-nel-green")
