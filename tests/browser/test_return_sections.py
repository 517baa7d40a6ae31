"""In a real browser, on a phone's width and a desktop's: saving a section of the return comes back to that
section with its confirmation in view, and no input of the form, reached with the keyboard, is hidden under
content that stays put on the screen (``position: sticky`` or ``fixed``)."""

import datetime

import pytest
from playwright.sync_api import expect

from returns.models import Answer, Return
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.factories import PASSWORD, FrameworkFactory, MetricFactory, StandardFactory
from tests.returns.conftest import catalogue, open_q2, q2  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

PHONE, DESKTOP = 390, 1280


@pytest.fixture
def adults(world, catalogue):
    """A second framework on Riverside's contract, so that the return has two sections."""
    framework = FrameworkFactory(code="test-adults", name="Adult standards", effective_from=datetime.date(2019, 4, 1))
    standard = StandardFactory(framework=framework, number="1", title="Leadership")
    count = MetricFactory(framework=framework, standard=standard, code="ADULT-REFERRALS", kind="count")
    world.riverside_contract.frameworks.add(framework)
    return framework, count


def open_the_return(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 844 if width == PHONE else 900})
    sign_in(page, "riverside-contributor", PASSWORD)
    page.goto("/returns/")
    page.get_by_role("button", name="Start the return for Q2 2025/26").click()


def in_view(page, locator) -> bool:
    box, height = locator.bounding_box(), page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.fixture
def page_without_script(chromium, live_server):
    context = chromium.new_context(java_script_enabled=False, base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("width,script", [(PHONE, True), (DESKTOP, True), (PHONE, False)])
def test_saving_a_section_comes_back_to_it_with_the_confirmation_in_view(
    request, world, catalogue, adults, open_q2, width, script
):
    page = request.getfixturevalue("page" if script else "page_without_script")
    framework, count = adults
    open_the_return(page, width)
    page.locator(f"#id_m{count.pk}-count").fill("4")
    page.get_by_role("button", name=f"Save this section ({framework.name})", exact=True).click()

    banner = page.locator(f"#framework-{framework.pk} [data-saved-banner]")
    expect(banner).to_be_visible()
    assert page.url.endswith(f"#framework-{framework.pk}")
    assert banner.get_attribute("role") == "status"
    assert "Saved in this section: 1 answer." in banner.inner_text()
    if script:
        expect(banner).to_be_focused()  # the script moves focus there; without it the fragment brings it into view
    assert in_view(page, banner), "the confirmation is not on the screen after saving"
    path = SCREENSHOTS / f"{request.node.name}.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))  # what the person sees after saving: the viewport, not the whole page
    assert Answer.objects.get(provider_return=Return.objects.get(), metric=count).values == {"count": 4}


def test_pressing_enter_in_an_input_saves_and_comes_back_to_its_section(page, world, catalogue, adults, open_q2):
    framework, count = adults
    open_the_return(page, DESKTOP)
    field = page.locator(f"#id_m{count.pk}-count")
    field.fill("7")
    field.press("Enter")

    banner = page.locator(f"#framework-{framework.pk} [data-saved-banner]")
    expect(banner).to_be_visible()
    assert page.url.endswith(f"#framework-{framework.pk}")
    assert "Saved in this section: 1 answer." in banner.inner_text()
    assert Answer.objects.get(provider_return=Return.objects.get(), metric=count).values == {"count": 7}


#: For the element with focus: every box of an element that stays put on the screen which covers part of it.
COVERING = """() => {
  const focused = document.activeElement;
  const box = focused.getBoundingClientRect();
  const covering = [];
  for (const element of document.querySelectorAll("body *")) {
    const position = getComputedStyle(element).position;
    if ((position !== "sticky" && position !== "fixed") || element.contains(focused)) continue;
    const other = element.getBoundingClientRect();
    if (other.width === 0 || other.height === 0) continue;
    if (other.left < box.right && box.left < other.right && other.top < box.bottom && box.top < other.bottom) {
      covering.push(element.tagName + "." + element.className);
    }
  }
  return {id: focused.id || focused.name || focused.tagName, inForm: !!focused.closest("form[enctype]"), covering};
}"""


def test_on_a_phone_no_input_reached_with_the_keyboard_is_hidden_under_content_that_stays_put(
    page, world, catalogue, adults, open_q2
):
    open_the_return(page, PHONE)
    page.locator(f"#id_m{catalogue.dbs.pk}-numerator").focus()
    seen = []
    for _ in range(200):
        found = page.evaluate(COVERING)
        if not found["inForm"]:
            break
        seen.append(found["id"])
        assert not found["covering"], f"{found['id']} is under {found['covering']}"
        page.keyboard.press("Tab")
    assert len(seen) > 20 and f"id_m{adults[1].pk}-count" in seen  # the whole form was walked through
