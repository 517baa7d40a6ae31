"""In a real browser: a designated professional opens a submitted return's review, changes an answer's status
(first forgetting the reason, which the error summary points to with the chosen colour kept), and sees the change
recorded with who, when and why, on the answer and on the return's review."""

import pytest
from django.utils import timezone

from reviews.services import compute_return_rag
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, q2  # noqa: F401
from tests.reviews.fixtures import submitted  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_designated_professional_changes_a_status_with_a_reason_and_sees_it_recorded(
    page, world, catalogue, submitted, screenshot
):
    compute_return_rag(submitted)
    sign_in(page, "newham-nurse", PASSWORD)
    page.goto(f"/reviews/returns/{submitted.pk}/")
    main = page.locator("main")
    assert "Review of the return" in main.inner_text()
    dbs = page.locator("#answer-DBS")
    assert "Amber" in dbs.inner_text() and "threshold green from 100%, amber from 95%" in dbs.inner_text()
    screenshot("1-return-review")

    dbs.get_by_role("link", name="Review this answer").click()
    page.get_by_label("Red").check()
    page.get_by_role("button", name="Change the status").click()
    summary = page.locator(".error-summary")
    assert "Give the reason for changing the status." in summary.inner_text()
    assert page.get_by_label("Red").is_checked()  # the colour chosen is kept
    screenshot("2-reason-missing")

    summary.get_by_role("link", name="Give the reason for changing the status.").click()
    assert page.evaluate("document.activeElement.id") == "override-reason"
    page.get_by_label("Why?").fill("Agency staff started without checks.")
    page.get_by_role("button", name="Change the status").click()
    text = page.locator("main").inner_text()
    name = world.newham_nurse.get_full_name()
    assert "You changed the status of DBS to red." in text
    assert f"Status changed to red by {name} on {timezone.localdate():%-d %B %Y}" in text
    assert "because: Agency staff started without checks." in text
    assert f"{name}: Changed the status to red, because: Agency staff started without checks." in text
    screenshot("3-status-changed")

    page.get_by_role("link", name="Back to the review of the return").click()
    dbs = page.locator("#answer-DBS")
    assert "Red" in dbs.inner_text() and "(the rules gave amber)" in dbs.inner_text()
    assert "Red" in page.locator(".summary-list").first.inner_text()  # the return's overall status follows
    screenshot("4-review-after")
