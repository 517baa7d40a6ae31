"""With the keyboard alone, the provider's safeguarding lead goes from their home page to a submitted return.

After signing in, only key presses: Tab and Shift+Tab to move, Enter and Space to act, arrows within a group of
radios, and typing. The first focus stop is the skip link, and every element the focus lands on shows it (a
computed outline or box-shadow). The questions are found by what a person meets on the way (labels, button names
with "Save", "Submit", "Continue"), not by the form's markup, so the test survives changes to the form.
"""

import pytest

from returns.models import Return, ReturnStatus
from tests import hostile_files
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, open_q2, private_storage, q2  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
  return {
    tag: el.tagName.toLowerCase(), type: el.type || "", value: el.value === undefined ? "" : el.value,
    checked: !!el.checked, classes: el.className || "",
    name: (el.getAttribute("aria-label") || label || el.innerText || el.value || "").replace(/\\s+/g, " ").trim(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== "none",
  };
}"""

# The answers the lead gives, chosen by the label a person reads: radios by their option, boxes by kind of value.
CHOSEN_OPTIONS = ("Yes", "Compliant")
TYPED_TEXT = "Typed with the keyboard alone: Dr A Patel is the named lead."


class Keyboard:
    """Moves the focus by key presses only, checking that each element it lands on shows it."""

    def __init__(self, page):
        self.page = page
        self.trail: list[str] = []

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        element = self.focused()
        if element:
            self.trail.append(f"{element['tag']}[{element['type']}] {element['name'][:60]!r}")
            assert element["outline"] or element["shadow"], f"no visible focus on {self.trail[-1]}"
        return element

    def tab_to(self, wanted, limit: int = 150) -> dict:
        for _ in range(limit):
            element = self.press("Tab")
            if element and wanted(element):
                return element
        raise AssertionError("never reached; the focus went:\n" + "\n".join(self.trail[-40:]))


def is_control(kind: str, words: str):
    """A button or link (or a thing shown as one) whose name contains ``words``."""
    return lambda e: (e["tag"] in ("button", "a") or kind in e["classes"]) and words in e["name"]


def answer_questions_until_saved(keyboard: Keyboard, document) -> None:
    """Tab through the return, answering each empty question as a person would, then press its Save button."""
    for _ in range(400):
        element = keyboard.press("Tab")
        if not element:
            continue
        name, tag, kind = element["name"], element["tag"], element["type"]
        if tag == "button" and name.startswith("Save") and "rows" not in name:
            with keyboard.page.expect_navigation():  # the page saved and shown again, not the page before it
                keyboard.page.keyboard.press("Enter")
            return
        if kind == "file":
            # Space would open the system's file chooser, which is no web page and no part of this test (and which
            # headless Chromium opens only now and then): the document is chosen on the focused input, as a person
            # picks it there.
            keyboard.page.locator(":focus").set_input_files(str(document))
            continue
        if name.startswith("Action ") or kind in ("checkbox", "hidden"):
            continue  # action plan rows (left empty where the standard is met) and confirmations
        if kind == "radio" and not element["checked"]:
            for _ in range(6):  # within a group the arrows choose; Space chooses the first one reached
                if element["name"] in CHOSEN_OPTIONS:
                    break
                element = keyboard.press("ArrowDown")
            keyboard.page.keyboard.press("Space")
        elif tag == "textarea" and not element["value"]:
            keyboard.page.keyboard.type(TYPED_TEXT)
        elif tag == "input" and kind == "text" and not element["value"]:
            keyboard.page.keyboard.type("2027-03-31" if "date" in name.lower() else "20")
    raise AssertionError("no Save button after the questions; the focus went:\n" + "\n".join(keyboard.trail[-40:]))


def test_the_lead_completes_and_submits_a_return_with_the_keyboard_alone(
    page, world, catalogue, open_q2, screenshot, tmp_path
):
    sign_in(page, "riverside-lead", PASSWORD)
    page.wait_for_url("**/")
    keyboard = Keyboard(page)

    first = keyboard.press("Tab")
    assert first and first["name"] == "Skip to main content", "the skip link is the first focus stop"
    page.keyboard.press("Enter")  # to the main content, past the header and navigation
    start, carry_on = is_control("button", "Start the return"), is_control("button", "Continue")
    keyboard.tab_to(lambda e: start(e) or carry_on(e))
    page.keyboard.press("Enter")
    page.wait_for_url("**/returns/*/")

    document = tmp_path / "safer-recruitment-policy.pdf"
    document.write_bytes(hostile_files.pdf())
    answer_questions_until_saved(keyboard, document)
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "There is a problem" not in main, main[:2000]
    assert "Saved" in main

    keyboard.tab_to(is_control("button", "submit"))  # "Check your answers and submit"
    page.keyboard.press("Enter")
    page.wait_for_url("**/submit/")
    confirm = keyboard.tab_to(lambda e: e["type"] == "checkbox")
    assert "I confirm" in confirm["name"]
    page.keyboard.press("Space")
    keyboard.tab_to(lambda e: e["tag"] == "button" and "Submit" in e["name"])
    screenshot("keyboard-before-submitting")
    with page.expect_navigation():  # to the return's page, submitted, not the check page still showing
        page.keyboard.press("Enter")

    assert "Return submitted" in page.locator("main").inner_text()
    provider_return = Return.objects.get(provider=world.riverside, period=open_q2)
    assert provider_return.status == ReturnStatus.SUBMITTED
    assert TYPED_TEXT in str(list(provider_return.answers.values_list("values", flat=True)))
