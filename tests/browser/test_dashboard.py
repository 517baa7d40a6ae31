"""In a real browser: a designated professional opens the dashboard from the nav, reads a framework's cell by its
label and counts, sorts by name, narrows the dashboard with the filters, opens the framework's drill-down from a
cell and follows a standard's cell to the review of the return at that standard."""

import pytest
from playwright.sync_api import expect

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
    page.wait_for_load_state()  # its style sheets too: a phone's list and the grid are told apart by them
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dashboard")
    grid = page.get_by_role("region", name="Status of providers 1 to 2 of 2 for Q2 2025/26")
    rows = grid.locator("tbody tr")
    assert rows.nth(0).locator("th").inner_text().startswith(world.eastway.name)  # red before amber: worst first
    riverside = grid.get_by_role("row").filter(has_text=world.riverside.name)
    amber = riverside.locator('td:has(a[href*="/reviews/dashboard/frameworks/test-returns/"])')  # the framework
    assert "rag--amber" in amber.get_attribute("class")
    assert amber.inner_text().split("\n")[:2] == ["Amber", "0 red, 1 amber, 2 green"]  # the colour in words, counted
    # Its counts say why it is amber (the worst colour among them, as the page says once): no "Why" repeats them.
    assert amber.locator(".why").count() == 0 and "the worst colour" in page.locator("main p.prose").first.inner_text()
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
    assert "rag--amber" in standard.get_attribute("class") and standard.inner_text().startswith("Amber")
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
    page.wait_for_url("**/reviews/trends/*/")
    page.wait_for_load_state("load")  # the style sheets that show one of the two charts
    expect(page.locator("svg.trend-chart >> visible=true")).to_have_count(1)  # the laptop's chart, not the phone's
    assert "97.0% (97 of 100)" in page.get_by_role("table").inner_text()
    screenshot("5-trend")


# On any device: a list on a phone, the grid on a laptop, focus never under the grid's fixed parts, and every
# explanation opened by keyboard, click or tap.

PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}

#: Every focusable element of the page that is displayed, in tab order as far as the page's markup goes.
FOCUSED_BOX_HIDDEN = """
() => {
  const focused = document.activeElement;
  if (!focused || focused === document.body) return null;
  const box = focused.getBoundingClientRect();
  const covering = [];
  for (const element of document.querySelectorAll("body *")) {
    const position = getComputedStyle(element).position;
    if ((position !== "sticky" && position !== "fixed") || element.contains(focused) || focused.contains(element)) {
      continue;
    }
    const other = element.getBoundingClientRect();
    if (!other.width || !other.height) continue;
    const width = Math.min(box.right, other.right) - Math.max(box.left, other.left);
    const height = Math.min(box.bottom, other.bottom) - Math.max(box.top, other.top);
    if (width > 1 && height > 1) covering.push(element.tagName + "." + element.className);
  }
  const name = (focused.innerText || focused.getAttribute("aria-label") || focused.tagName).trim().slice(0, 60);
  return {name, covering, box: [box.left, box.top, box.width, box.height]};
}
"""


def tab_through(page) -> list[dict]:
    """Press Tab from the top of the page until the focus leaves it, noting each focused element and whatever
    sticky or fixed element covers it."""
    page.evaluate("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(400):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED_BOX_HIDDEN)
        if stop is None or (stops and stop == stops[0]):
            break
        stops.append(stop)
    return stops


@pytest.fixture
def wide_quarter(world, catalogue, quarter):
    """The quarter, with five more frameworks on Riverside's and Eastway's contracts and twelve more standards in
    the framework, so that the grids are wider than a laptop's window and scroll under their fixed column."""
    from tests.factories import FrameworkFactory, MetricFactory, StandardFactory

    for n in range(5):
        framework = FrameworkFactory(short_name=f"Framework {n + 2}", name=f"Framework {n + 2} in full")
        world.riverside_contract.frameworks.add(framework)
        world.eastway_contract.frameworks.add(framework)
    for n in range(12):
        standard = StandardFactory(framework=catalogue.framework, number=f"{n + 2}", title="Safeguarding " * 12)
        MetricFactory(framework=catalogue.framework, standard=standard, code=f"EXTRA-{n}", kind="narrative")
    return quarter


def test_on_a_phone_the_dashboard_is_a_list_of_providers_with_their_overall_status_in_view(
    page, world, catalogue, quarter, screenshot
):
    page.set_viewport_size(PHONE)
    sign_in(page, "newham-nurse", PASSWORD)
    page.goto("/reviews/dashboard/")
    assert page.locator(".dashboard-grid").is_hidden()  # not the grid, and not both
    cards = page.get_by_role("list", name="Status of providers 1 to 2 of 2 for Q2 2025/26")
    assert cards.locator(":scope > li").count() == 2
    riverside = cards.locator(":scope > li").filter(has_text=world.riverside.name)
    overall = riverside.locator("dd").first
    assert overall.inner_text().startswith("Amber")
    box = overall.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # in view without scrolling sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    framework = riverside.locator("div").filter(has_text=catalogue.framework.short_name)
    assert framework.inner_text().split("\n")[1:3] == ["Amber", "0 red, 1 amber, 2 green"]
    # What needs action comes before the providers.
    needs = page.get_by_role("link", name="1 red answer to review")
    assert needs.bounding_box()["y"] < riverside.bounding_box()["y"]
    screenshot("1-phone-dashboard")

    # An explanation opens from the keyboard: Enter, then Space, on its summary.
    submission = riverside.locator(".provider-card__status").filter(has_text="Submission")
    submission.locator("summary").focus()
    page.keyboard.press("Enter")
    assert submission.locator(".why p").is_visible()
    assert "by the deadline of 31 October 2025" in submission.locator(".why p").inner_text()
    page.keyboard.press("Space")  # and Space closes it again
    assert not submission.locator(".why p").is_visible()
    page.keyboard.press("Space")
    screenshot("2-phone-explanations-open")

    page.goto("/reviews/dashboard/")  # tabbing from the top of the page, not from the Why just closed
    stops = tab_through(page)
    assert any(stop["name"].startswith("Why") for stop in stops)
    assert [stop for stop in stops if stop["covering"]] == []

    framework.get_by_role("link", name="Amber").click()  # the framework's colour opens its drill-down
    page.wait_for_url(f"**/reviews/dashboard/frameworks/test-returns/**#provider-{world.riverside.pk}-card")
    assert page.locator(".dashboard-grid").is_hidden()
    card = page.locator(f"#provider-{world.riverside.pk}-card")
    standard = card.locator(".provider-card__status").filter(has_text="Standard 1")
    assert standard.inner_text().split("\n")[:3] == ["Standard 1", "Safe recruitment", "Amber"]
    standard.get_by_text("Why").click()  # and a tap opens it too
    assert "the worst colour, amber, is shown" in standard.locator(".why p").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot("3-phone-drill-down")
    standard.get_by_role("link", name="Amber").click()
    page.wait_for_url(f"**/reviews/returns/*/?standard={catalogue.standard.pk}")


def test_on_a_laptop_the_grid_stays_and_no_focused_element_is_hidden_under_its_fixed_column_or_header(
    page, world, catalogue, wide_quarter, screenshot
):
    page.set_viewport_size(LAPTOP)
    sign_in(page, "newham-nurse", PASSWORD)
    for url in ("/reviews/dashboard/", "/reviews/dashboard/frameworks/test-returns/"):
        page.goto(url)
        assert page.locator(".dashboard-list").is_hidden()  # the grid, not the list
        grid = page.locator(".dashboard-grid")
        assert grid.is_visible()
        assert grid.evaluate("region => region.scrollWidth > region.clientWidth + 100")  # it scrolls sideways
        stops = tab_through(page)
        assert len([stop for stop in stops if stop["name"].startswith("Why")]) >= 2  # each state's, at least
        assert [stop for stop in stops if stop["covering"]] == [], url
        # Back to the top of the grid, scrolled to its far right, then the keyboard goes backwards from a cell at
        # the far right to the cells under the fixed column: each comes out from under it.
        grid.evaluate("region => { region.scrollLeft = region.scrollWidth; }")
        page.locator(".dashboard tbody tr").last.locator("a, summary").last.focus()
        for _ in range(30):
            page.keyboard.press("Shift+Tab")
            stop = page.evaluate(FOCUSED_BOX_HIDDEN)
            assert stop is not None and stop["covering"] == [], stop
        screenshot("1-laptop-dashboard" if url.endswith("dashboard/") else "2-laptop-drill-down")

    # The headings are short names cut between words; the full names are in the key, opened by keyboard.
    headings = page.locator(".dashboard thead .dashboard__column .table__note")
    assert headings.first.inner_text() == "Safe recruitment"
    assert headings.nth(1).inner_text() == "Safeguarding Safeguarding Safeguarding…"
    key = page.locator("summary", has_text="What the columns are")
    key.focus()
    page.keyboard.press("Enter")
    assert ("Safeguarding " * 12).strip() in page.locator(".column-key").inner_text()
