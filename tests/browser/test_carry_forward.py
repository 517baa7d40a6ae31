"""In a real browser: the safeguarding lead starts a quarter's return from the last one, confirms one carried answer,
changes another, is refused submission while one is left, confirms it on the check page and submits."""

import datetime

import pytest
from django.utils import timezone

from returns.models import Answer, ReportingPeriod, Return, ReturnStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue  # noqa: F401
from tests.returns.test_carry_forward import submitted
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def open_period(quarter: int) -> ReportingPeriod:
    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        financial_year=2025,
        quarter=quarter,
        submission_deadline=today + datetime.timedelta(days=30),
        lock_date=today + datetime.timedelta(days=60),
    )


def field(page, metric, name):
    return page.locator(f"#id_m{metric.pk}-{name}")


def test_the_lead_confirms_a_carried_forward_answer_changes_another_and_submits(page, world, catalogue, screenshot):
    c = catalogue
    submitted(world, c, open_period(1))
    second = open_period(2)
    sign_in(page, "riverside-lead", PASSWORD)
    page.goto("/returns/")
    page.get_by_role("button", name="Start the return for Q2 2025/26").click()

    main = page.locator("main")
    assert main.inner_text().count("Carried forward from Q1 2025/26: confirm or change") == 3
    assert field(page, c.narrative, "text").input_value() == "Dr A Patel, Safeguarding Lead."
    assert field(page, c.dbs, "numerator").input_value() == ""  # a figure is never carried
    screenshot("1-carried-forward")

    field(page, c.dbs, "numerator").fill("98")
    field(page, c.dbs, "denominator").fill("100")
    field(page, c.allegations, "count").fill("2")
    field(page, c.audit, "sampled").fill("20")
    field(page, c.audit, "compliant").fill("19")
    field(page, c.narrative, "confirm_carried").check()  # the narrative still holds
    field(page, c.policy, "review_date").fill("2028-03-31")  # the policy was reviewed: changed
    page.get_by_role("button", name="Save this section").first.click()
    banner = page.locator("[data-saved-banner]")
    assert "5 answers" in banner.inner_text()
    assert main.inner_text().count("Carried forward from Q1 2025/26: confirm or change") == 1
    assert "Carried forward from Q1 2025/26 and confirmed unchanged by" in main.inner_text()
    screenshot("2-one-confirmed-one-changed")

    page.get_by_role("link", name="Check your answers and submit").first.click()
    page.get_by_label("I confirm the declaration above").check()
    page.get_by_role("button", name="Submit the return").click()
    summary = page.locator(".error-summary")
    assert "Confirm the answer carried forward from Q1 2025/26 is unchanged, or change it." in summary.inner_text()
    assert "S11-01" not in summary.inner_text()  # in the words of the page, not a code
    assert "1 answer carried forward, not yet confirmed" in main.inner_text()
    screenshot("3-submit-refused")

    page.get_by_role("button", name="Confirm all unchanged answers").click()
    assert "Confirmed 1 carried-forward answer unchanged." in main.inner_text()
    page.get_by_label("I confirm the declaration above").check()
    page.get_by_role("button", name="Submit the return").click()
    assert "Return submitted" in main.inner_text()
    screenshot("4-submitted")

    provider_return = Return.objects.get(provider=world.riverside, period=second)
    assert provider_return.status == ReturnStatus.SUBMITTED
    answers = {a.metric.code: a for a in Answer.objects.filter(provider_return=provider_return)}
    assert answers["LEADS"].confirmed_by == answers["S11-01"].confirmed_by == world.riverside_lead
    assert answers["POLICY"].carried_from is None
