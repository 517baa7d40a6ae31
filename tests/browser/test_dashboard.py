"""In a real browser: a designated professional opens the dashboard from the nav, reads a framework's cell by its
label and counts, sorts by name, narrows the dashboard with the filters, opens the framework's drill-down from a
cell and follows a standard's cell to the review of the return at that standard."""

import pytest

from returns.services import open_return
from reviews.services import compute_return_rag
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, private_storage, q2  # noqa: F401
from tests.reviews.fixtures import ANSWERS, submit_directly, submit_through_services
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

RED_DBS = {**ANSWERS, "DBS": {"numerator": "50", "denominator": "100"}}


@pytest.fixture
def quarter(world, catalogue, q2):
    """Riverside submitted on time (DBS amber, with its policy document), Eastway late and red, Chalk Hills overdue."""
    world.eastway_contract.frameworks.set([catalogue.framework])
    world.chalk_hills_contract.frameworks.set([catalogue.framework])
    riverside = open_return(world.riverside, q2, by=world.riverside_contributor)
    submit_through_services(world, catalogue, riverside)
    compute_return_rag(riverside)
    compute_return_rag(submit_directly(world.eastway, q2, RED_DBS, by=world.eastway_lead, late=True))
    open_return(world.chalk_hills, q2, by=world.administrator)
    return q2


def test_a_nurse_opens_the_dashboard_filters_it_and_follows_a_cell_to_the_review(
    page, world, catalogue, quarter, screenshot
):
    sign_in(page, "newham-nurse", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dashboard")
    grid = page.get_by_role("region", name="Status of providers 1 to 2 of 2 for Q2 2025/26")
    rows = grid.locator("tbody tr")
    assert rows.nth(0).locator("th").inner_text().startswith(world.eastway.name)  # red before amber: worst first
    riverside = grid.get_by_role("row").filter(has_text=world.riverside.name)
    amber = riverside.locator('td:has(a[href*="/reviews/dashboard/frameworks/test-returns/"])')  # the framework
    assert "rag--amber" in amber.get_attribute("class")
    assert amber.inner_text().split("\n") == ["Amber", "0 red, 1 amber, 2 green"]  # the colour in words, counted
    assert "the worst colour, amber, is shown" in amber.get_attribute("title")
    eastway = grid.get_by_role("row").filter(has_text=world.eastway.name)
    assert eastway.locator("td.rag--red").first.inner_text().startswith("Red")
    assert "Late" in eastway.inner_text()
    assert grid.get_by_role("columnheader", name="Overall").get_attribute("aria-sort") == "ascending"
    screenshot("1-dashboard")

    grid.get_by_role("link", name="Provider").click()  # sort by name, A to Z
    grid = page.get_by_role("region", name="Status of providers 1 to 2 of 2 for Q2 2025/26")
    assert grid.get_by_role("columnheader", name="Provider").get_attribute("aria-sort") == "ascending"
    names = [row.locator("th").inner_text().split("\n")[0] for row in grid.locator("tbody tr").all()]
    assert names == sorted([world.eastway.name, world.riverside.name])
    assert "sort=name" in page.url

    page.get_by_label("Type of provider").select_option(label="Acute hospital")
    page.get_by_role("button", name="Apply filters").click()
    assert "sort=name" in page.url  # filtering keeps the sort
    rows = page.locator(".dashboard tbody tr")
    names = [rows.nth(n).locator("th").inner_text() for n in range(rows.count())]
    expected = sorted(p.name for p in (world.riverside, world.eastway) if p.provider_type_id == "acute")
    assert [name.split("\n")[0] for name in names] == expected
    page.get_by_role("link", name="Clear filters").click()
    screenshot("2-filtered-and-cleared")

    riverside = page.locator(".dashboard tbody tr").filter(has_text=world.riverside.name)
    riverside.locator('a[href*="/reviews/dashboard/frameworks/test-returns/"]').click()  # the framework's cell
    page.wait_for_url("**/reviews/dashboard/frameworks/test-returns/**")
    drill = page.get_by_role("region", name="Status of providers 1 to 2 of 2")
    riverside = drill.get_by_role("row").filter(has_text=world.riverside.name)
    standard = riverside.locator(f'td:has(a[href$="?standard={catalogue.standard.pk}"])')  # Standard 1's cell
    assert "rag--amber" in standard.get_attribute("class") and standard.inner_text() == "Amber"
    screenshot("3-framework-drill-down")

    standard.locator("a").click()
    page.wait_for_url(f"**/reviews/returns/*/?standard={catalogue.standard.pk}")
    main = page.locator("main").inner_text()
    assert world.riverside.name in main
    assert "97.0% (97 of 100)" in main  # the answer's explanation
    assert "threshold green from 100%, amber from 95%" in main
    assert "p.pdf" in main  # the policy's evidence
    screenshot("4-review")

    page.go_back()
    page.get_by_role("link", name="Trends for " + world.riverside.name).click()
    assert page.locator("svg.trend-chart").is_visible()
    assert "97.0% (97 of 100)" in page.get_by_role("table").inner_text()
    screenshot("5-trend")
