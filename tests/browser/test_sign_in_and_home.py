"""In a real browser: people sign in and land on the home page of their role, seeing only their business."""

import pytest

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_designated_nurse_signs_in_and_sees_the_providers_her_ccg_commissions(page, world, screenshot):
    sign_in(page, "newham-nurse", PASSWORD)
    page.wait_for_url("**/")
    body = page.locator("main").inner_text()
    assert "NHS Newham CCG" in body
    assert "Riverside University Hospitals NHS Trust" in body
    assert "Eastway Community Health NHS Trust" in body
    assert "Chalk Hills" not in body
    screenshot("home")


def test_a_wrong_password_shows_the_error_summary_and_keeps_the_username(page, world, screenshot):
    sign_in(page, "riverside-lead", "not the password")
    summary = page.locator(".error-summary, [role=alert]").first
    assert "Enter a correct username and password" in summary.inner_text()
    assert page.get_by_label("Username").input_value() == "riverside-lead"
    screenshot("error")


def test_a_provider_lead_cannot_open_another_providers_page(page, world):
    sign_in(page, "riverside-lead", PASSWORD)
    page.wait_for_url("**/")
    response = page.goto(f"/organisations/{world.chalk_hills.pk}/")
    assert response.status == 404
    assert "Chalk Hills" not in page.content()
