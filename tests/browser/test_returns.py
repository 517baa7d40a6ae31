"""In a real browser: a contributor drafts part of a return, the safeguarding lead completes and submits it;
a wrong figure brings up the error summary with what was typed kept."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from returns.models import Return, ReturnStatus
from tests import hostile_files
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, q2  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_q2(q2):
    """Q2 2025/26, open for returns today."""
    today = timezone.localdate()
    q2.submission_deadline = today + datetime.timedelta(days=30)
    q2.lock_date = today + datetime.timedelta(days=60)
    q2.save()
    return q2


def field(page, metric, name):
    return page.locator(f"#id_m{metric.pk}-{name}")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_a_contributor_drafts_and_the_lead_completes_and_submits_the_return(
    page, world, catalogue, open_q2, screenshot, tmp_path
):
    c = catalogue
    sign_in(page, "riverside-contributor", PASSWORD)
    page.goto("/returns/")
    page.get_by_role("button", name="Start the return for Q2 2025/26").click()
    field(page, c.dbs, "numerator").fill("97")
    field(page, c.dbs, "denominator").fill("100")
    field(page, c.allegations, "count").fill("2")
    page.get_by_role("button", name="Save this section").first.click()
    assert "Saved in this section: 2 answers." in page.locator("[data-saved-banner]").inner_text()
    assert page.get_by_role("link", name="Check your answers and submit").count() == 0  # only the lead submits
    screenshot("1-contributor-saved-part")
    sign_out(page)

    sign_in(page, "riverside-lead", PASSWORD)
    provider_return = Return.objects.get(provider=world.riverside, period=open_q2)
    page.goto(f"/returns/{provider_return.pk}/")
    assert field(page, c.dbs, "numerator").input_value() == "97"  # the contributor's draft is there
    page.locator(f"#m{c.policy.pk}").get_by_label("Yes", exact=True).check()
    field(page, c.policy, "review_date").fill("2027-03-31")
    policy_document = tmp_path / "safer-recruitment-policy.pdf"
    policy_document.write_bytes(hostile_files.pdf())
    page.locator(f"#m{c.policy.pk} input[type=file]").set_input_files(str(policy_document))
    field(page, c.audit, "sampled").fill("20")
    field(page, c.audit, "compliant").fill("20")
    page.locator(f"#m{c.self_assessment.pk}").get_by_label("Compliant", exact=True).check()
    field(page, c.self_assessment, "evidence").fill("Board minutes of March 2025 record the accountability structure.")
    field(page, c.narrative, "text").fill("Dr A Patel is the named safeguarding lead.")
    page.get_by_role("button", name="Save this section").first.click()
    assert "safer-recruitment-policy.pdf" in page.locator("main").inner_text()
    screenshot("2-lead-completed")

    page.get_by_role("link", name="Check your answers and submit").first.click()
    page.get_by_label("I confirm the declaration above").check()
    screenshot("3-check-and-submit")
    page.get_by_role("button", name="Submit the return").click()
    assert "Return submitted" in page.locator("main").inner_text()
    screenshot("4-submitted")
    provider_return.refresh_from_db()
    assert provider_return.status == ReturnStatus.SUBMITTED
    assert provider_return.submissions.get().submitted_by == world.riverside_lead


def test_a_wrong_figure_brings_up_the_error_summary_and_keeps_what_was_typed(
    page, world, catalogue, open_q2, screenshot
):
    c = catalogue
    sign_in(page, "riverside-contributor", PASSWORD)
    page.goto("/returns/")
    page.get_by_role("button", name="Start the return for Q2 2025/26").click()
    field(page, c.dbs, "numerator").fill("120")
    field(page, c.dbs, "denominator").fill("100")
    field(page, c.allegations, "count").fill("two")
    page.get_by_role("button", name="Save this section").first.click()

    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    assert "“Checked” cannot be more than “Staff”." in summary.inner_text()
    assert "Enter the number as a whole number, like 12." in summary.inner_text()
    assert field(page, c.dbs, "numerator").input_value() == "120"
    assert field(page, c.allegations, "count").input_value() == "two"
    summary.get_by_role("link", name="“Checked” cannot be more than “Staff”.", exact=False).click()
    assert page.evaluate("document.activeElement.id") == f"id_m{c.dbs.pk}-numerator"
    screenshot("error-summary")
    assert not Return.objects.get(provider=world.riverside).answers.exists()


def test_a_long_answer_counts_its_characters_left_and_too_many(page, world, catalogue, open_q2):
    c = catalogue
    sign_in(page, "riverside-contributor", PASSWORD)
    page.goto("/returns/")
    page.get_by_role("button", name="Start the return for Q2 2025/26").click()
    counter = page.locator(f"#id_m{c.narrative.pk}-text-count")
    assert counter.inner_text() == "You have 10,000 characters left"
    field(page, c.narrative, "text").fill("Lead\nnamed")
    expect(counter).to_contain_text("9,990")
    field(page, c.narrative, "text").fill("x" * 10_005)
    expect(counter).to_contain_text("many")
    assert counter.inner_text() == "You have 5 characters too many"
    page.get_by_role("button", name="Save this section").first.click()
    summary = page.locator(".error-summary")
    assert "Keep your answer to 10,000 characters or fewer (it has 10,005)." in summary.inner_text()
    assert len(field(page, c.narrative, "text").input_value()) == 10_005  # what was typed is kept
