"""In a real browser, 390 px wide as on a phone and 1280 px as on a laptop: the trend chart's text is drawn at 12 px
or more (the narrow drawing on the phone, the wide one on the laptop), and each role's home leads with its task."""

import pytest
from django.urls import reverse

from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import quarter  # noqa: F401
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, private_storage, q2  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

#: The text of each drawn chart at its size on the page: its font size times the scale it is shown at.
CHART_TEXT_PX = """() => [...document.querySelectorAll('svg.trend-chart')]
    .filter(svg => svg.getBoundingClientRect().width > 0)
    .map(svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width
        * Number(svg.getAttribute('font-size')))"""


@pytest.mark.parametrize(("width", "smallest"), [(390, 12), (1280, 13)])
def test_the_trend_charts_text_is_legible_on_a_phone_and_a_laptop(
    page, world, catalogue, quarter, screenshot, width, smallest
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "newham-nurse", PASSWORD)
    page.goto(reverse("reviews:trend", args=[world.riverside.pk]) + "?metric=DBS")

    shown = page.evaluate(CHART_TEXT_PX)
    assert len(shown) == 1 and shown[0] >= smallest  # one drawing shown, its text not shrunk
    axis_label = page.locator("svg.trend-chart >> visible=true").locator("text").first
    assert axis_label.evaluate("t => t.getBoundingClientRect().height") >= 11  # as drawn: a 12px line of text
    screenshot(f"trend-{width}")


@pytest.mark.parametrize("width", [390, 1280])
def test_each_roles_home_leads_with_its_task(page, world, catalogue, quarter, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    for person, first in [
        ("newham-nurse", "Returns waiting for your review"),
        ("newham-committee", "Committee report"),
        ("newham-admin", "People and contracts to act on"),
    ]:
        page.context.clear_cookies()
        sign_in(page, person, PASSWORD)
        page.goto("/")
        headings = page.locator("main h2, main h3").all_inner_texts()
        assert headings[0] == first, (person, headings)
        screenshot(f"{person}-{width}")
