"""In a real browser: a committee member asks for the committee report, watches its progress and downloads its front
section (PDF) and the pack."""

import io
import re
import zipfile

import pytest
from pypdf import PdfReader

from reviews import report_services
from reviews.models import AssuranceReport, ReportKind
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.returns.conftest import catalogue, q2  # noqa: F401
from tests.reviews.fixtures import submitted  # noqa: F401
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


def test_a_committee_member_asks_for_the_report_and_downloads_the_pdf(page, world, submitted, screenshot):
    sign_in(page, "newham-committee", PASSWORD)
    page.wait_for_url("**/")
    page.get_by_role("link", name="Reports", exact=True).click()
    page.wait_for_url("**/reviews/reports/")
    screenshot("list-empty")

    assert page.get_by_label("Commissioner").input_value() == str(world.newham.pk), "their only commissioner"
    page.get_by_label("Quarter").first.select_option(label="Choose a quarter")
    page.get_by_role("button", name="Ask for the committee report").click()
    summary = page.locator(".error-summary").inner_text()
    assert "There is a problem" in summary and "Choose the quarter the report is for." in summary
    assert page.get_by_label("Commissioner").input_value() == str(world.newham.pk), "what they chose is kept"
    screenshot("errors")

    page.get_by_label("Commissioner").select_option(label=world.newham.name)
    page.get_by_label("Quarter").first.select_option(label=submitted.period.label)
    page.get_by_role("button", name="Ask for the committee report").click()
    page.wait_for_url(re.compile(r".*/reviews/reports/\d+/$"))
    status = page.get_by_role("status")
    assert "Ready" in status.inner_text()
    screenshot("ready")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download the front section")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("08M-committee-report-2025-26-Q2-")
    assert download.suggested_filename.endswith("-front-section.pdf")
    reader = PdfReader(io.BytesIO(open(download.path(), "rb").read()))  # noqa: SIM115
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Safeguarding assurance report" in text and world.riverside.name in text
    assert all("OFFICIAL-SENSITIVE" in p.extract_text() for p in reader.pages)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download the pack")).click()
    with zipfile.ZipFile(download_info.value.path()) as pack:
        assert "1-front-section.pdf" in pack.namelist() and "2-annex.xlsx" in pack.namelist()

    page.get_by_role("link", name="All reports").click()
    row = page.locator("tbody tr").first
    pages = AssuranceReport.objects.get().page_count
    assert "Ready" in row.inner_text() and f"{pages} pages" in row.inner_text()
    screenshot("list")


def test_the_progress_page_refreshes_itself_until_the_report_is_ready(page, world, submitted, screenshot):
    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=submitted.period, requested_by=world.newham_nurse
    )
    sign_in(page, "newham-nurse", PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/reviews/reports/{report.pk}/")
    assert "Waiting to be made" in page.get_by_role("status").inner_text()
    assert "updates itself every 3 seconds" in page.locator(".auto-refresh").inner_text()
    screenshot("queued")
    # Whoever needs time stops the updates (WCAG 2.2.1), and starts them again.
    page.get_by_role("button", name="Stop updating this page").click()
    assert page.get_by_role("button", name="Start updating this page again").get_attribute("aria-pressed") == "true"
    page.wait_for_timeout(4_000)
    assert "no longer updates itself" in page.locator(".auto-refresh").inner_text()  # not reloaded meanwhile
    page.get_by_role("button", name="Start updating this page again").click()
    report_services.make_report(report.pk)  # the worker makes it meanwhile
    page.get_by_text("Ready to download").wait_for(timeout=10_000)
    assert page.get_by_role("link", name=re.compile("Download the pack")).is_visible()
