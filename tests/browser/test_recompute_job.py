"""In a real browser: an administrator lowers a threshold on a metric's page in Django admin, is told that the
returns it judges are being computed again, and follows the link to the job's progress; a job still under way
shows how far along it is."""

import pytest

from reviews import services
from reviews.models import RecomputeReason
from reviews.services import compute_return_rag
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, q2  # noqa: F401
from tests.reviews.fixtures import providers_of, submit_directly, submitted  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_administrator_changes_a_threshold_and_follows_the_recompute_to_its_end(
    page, world, catalogue, submitted, screenshot
):
    compute_return_rag(submitted)
    sign_in(page, "administrator", PASSWORD)
    page.goto(f"/admin/standards/metric/{catalogue.dbs.pk}/change/")
    page.locator('input[name="thresholds-0-green_from"]').fill("90")
    page.locator('input[name="thresholds-0-amber_from"]').fill("85")
    page.locator('input[name="_save"]').click()

    message = page.locator(".messagelist").inner_text()
    assert "The RAG status of the 1 submitted return judged by Safeguarding standards" in message
    screenshot("1-message")
    page.get_by_role("link", name="See how far along it is").click()

    main = page.locator("#content").inner_text()
    assert "A threshold of" in main and "changed by" in main
    assert "Finished" in main and "100% (1 of 1 returns judged)" in main
    screenshot("2-job-finished")


def test_a_job_under_way_shows_how_far_along_it_is(page, world, catalogue, q2, screenshot, monkeypatch):
    monkeypatch.setattr(services, "RECOMPUTE_CHUNK_SIZE", 2)
    providers = providers_of(world.newham, catalogue.framework, 5, prefix="W")
    return_ids = [submit_directly(provider, q2, by=world.administrator).pk for provider in providers]
    job = services.start_recompute(
        return_ids, reason=RecomputeReason.COMMAND, description="Every submitted return, by recompute_rag", send=False
    )
    first, second, _ = job.chunks.order_by("number")
    services.recompute_chunk(first.pk)
    services.fail_chunk(second.pk, "The database could not be reached, after several tries.")

    sign_in(page, "administrator", PASSWORD)
    page.goto(f"/admin/reviews/recomputejob/{job.pk}/change/")
    main = page.locator("#content").inner_text()
    assert "Running" in main and "2 of 3" in main and "2 of 5" in main
    assert "80% (2 of 5 returns judged, 2 failed)" in main
    assert "The database could not be reached, after several tries." in main
    screenshot("1-job-running")
    page.goto("/admin/reviews/recomputejob/")
    assert "Every submitted return, by recompute_rag" in page.locator("#result_list").inner_text()
    screenshot("2-job-list")
