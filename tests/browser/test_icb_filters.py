"""In a real browser: a designated professional of an ICB narrows the action plans to one of its places with the
filter form (no JavaScript needed), and asks for a committee report for the whole ICB."""

import pytest

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, private_storage, q2  # noqa: F401
from tests.reviews.fixtures import submit_directly
from tests.reviews.test_review_pages import plan
from tests.world import icbs, world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_icb_nurse_narrows_the_action_plans_to_one_place(page, icbs, catalogue, q2, screenshot):
    icbs.eastway_contract.frameworks.set([catalogue.framework])
    plan(submit_directly(icbs.riverside, q2, by=icbs.riverside_lead), ("Riverside: audit files", -3),
         code=catalogue.dbs.code)  # fmt: skip
    plan(submit_directly(icbs.eastway, q2, by=icbs.eastway_lead), ("Eastway: train the panel", 10),
         code=catalogue.dbs.code)  # fmt: skip
    sign_in(page, "nel-nurse", PASSWORD)
    page.goto("/reviews/actions/")
    options = page.get_by_label("Commissioner").locator("option").all_inner_texts()
    assert options == ["Every commissioner", "NHS North East London ICB: the whole ICB", icbs.hackney.name,
                       icbs.newham.name]  # fmt: skip
    page.get_by_label("Commissioner").select_option(label=icbs.hackney.name)
    page.get_by_role("button", name="Show these actions").click()
    table = page.get_by_role("table")
    assert "Eastway: train the panel" in table.inner_text() and "Riverside" not in table.inner_text()
    screenshot("one-place")
    page.goto("/reviews/reports/")
    committee = page.get_by_label("Commissioner")
    assert committee.locator("option").all_inner_texts()[1] == "NHS North East London ICB: the whole ICB"
    screenshot("report-choice")
