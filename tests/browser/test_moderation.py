"""In a real browser: a designated professional opens moderation from the nav and reads a provider's own grade
beside the judgement in the grid; on a phone the same page is a list per provider, each standard labelled, with
nothing wider than the screen."""

import pytest

from reviews import services
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, private_storage, q2  # noqa: F401
from tests.reviews.moderation_fixtures import graded, moderated  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def judged(world, moderated, q2):
    riverside = graded(world.riverside, q2, {"S11-01": "compliant", "S11-02": "compliant"}, by=world.riverside_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="amber", reason="No minutes.")
    return riverside


def test_a_nurse_reads_grades_beside_judgements_in_the_grid_and_on_a_phone(page, world, judged, screenshot):
    sign_in(page, "newham-nurse", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation").click()
    page.wait_for_load_state()  # its style sheets too: the visually hidden words and the labels are laid out by them
    assert page.get_by_role("heading", level=1).inner_text().startswith("Moderation of self-assessments")
    grid = page.get_by_role("region", name="Grades and judgements of providers 1 to 2 of 2")
    riverside = grid.get_by_role("row").filter(has_text=world.riverside.name)
    cell = riverside.locator("td.moderation__cell--higher")
    text = " ".join(cell.inner_text().split())  # the words as read, however the lines fall
    assert "Own grade: Compliant" in text
    assert "Graded higher Changed to Partially compliant — No minutes." in text, text
    label = cell.locator(".moderation__label")
    assert label.bounding_box()["width"] <= 1, "on a wide screen the column header names the standard"
    screenshot("1-grid")

    page.set_viewport_size({"width": 375, "height": 800})
    assert label.bounding_box()["width"] > 100, "on a phone each cell names its standard"
    assert label.inner_text().startswith("Section 11 children, Standard 1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "nothing wider than the phone"
    box = riverside.bounding_box()
    assert box["width"] <= 375
    screenshot("2-phone")
