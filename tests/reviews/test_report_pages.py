"""Report pages: asking for a report, its progress, the list, and the download, each only for the right people."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from django.urls import reverse
from pypdf import PdfReader

from returns.models import ReportingPeriod
from reviews.models import AssuranceReport, ReportKind, ReportState
from tests.reviews.fixtures import submitted  # noqa: F401


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Reports and evidence made here go to a temporary folder, not the project's private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    settings.MEDIA_URL = "/media/"


def ask_for_committee_report(client, world, period, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("reviews:report_request"),
            {"kind": "committee", "committee-commissioner": world.newham.pk, "committee-period": period.pk},
        )


def test_a_committee_member_asks_for_a_report_and_downloads_it(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    client = as_person("newham_committee")
    page = client.get(reverse("reviews:report_list")).content.decode()
    assert "Ask for a committee report" in page and world.newham.name in page
    assert world.luton.name not in page, "only the commissioners whose assurance the person sees are offered"

    response = ask_for_committee_report(client, world, submitted.period, django_capture_on_commit_callbacks)
    report = AssuranceReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reviews:report_detail", args=[report.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "Ready to download" in detail and "data-refresh-every" not in detail
    front, annex = report.parts.get(kind="front"), report.parts.get(kind="annex")
    for link, words in (
        (reverse("reviews:report_part_download", args=[report.pk, front.pk]), "Download the front section (PDF, "),
        (reverse("reviews:report_part_download", args=[report.pk, annex.pk]), "Download the annex (Excel workbook, "),
        (reverse("reviews:report_download", args=[report.pk]), "Download the pack (zip, "),
    ):
        assert link in detail and words in detail

    download = client.get(reverse("reviews:report_download", args=[report.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith('attachment; filename="08M-committee-report-2025-26-Q2-')
    assert download["Content-Disposition"].endswith('.zip"')
    assert download["Cache-Control"] == "private, no-store"
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == report.sha256
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        assert "NHS Newham CCG" in PdfReader(io.BytesIO(pack.read("1-front-section.pdf"))).pages[0].extract_text()

    download = client.get(reverse("reviews:report_part_download", args=[report.pk, front.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].endswith('-front-section.pdf"')
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == front.sha256

    listing = client.get(reverse("reviews:report_list")).content.decode()
    assert reverse("reviews:report_download", args=[report.pk]) in listing
    assert f"{report.page_count} pages" in listing


def test_a_missing_choice_is_shown_in_the_error_summary_and_beside_its_field_with_the_input_kept(
    world, submitted, as_person
):
    client = as_person("newham_nurse")
    response = client.post(
        reverse("reviews:report_request"), {"kind": "committee", "committee-commissioner": world.newham.pk}
    )
    page = response.content.decode()
    assert response.status_code == 200 and not AssuranceReport.objects.exists()
    assert (
        "There is a problem" in page and '<a href="#id_committee-period">Choose the quarter the report is for.' in page
    )
    assert 'id="id_committee-period-error"' in page
    assert f'<option value="{world.newham.pk}" selected>' in page
    assert page.count("Choose the quarter the report is for.") == 2
    assert "<title>Error: " in page


def test_a_commissioner_the_person_does_not_see_cannot_be_chosen(world, submitted, as_person):
    client = as_person("luton_nurse")
    response = client.post(
        reverse("reviews:report_request"),
        {"kind": "committee", "committee-commissioner": world.newham.pk, "committee-period": submitted.period.pk},
    )
    assert "Choose the commissioner the committee report is for." in response.content.decode()
    assert not AssuranceReport.objects.exists()


def test_a_providers_lead_asks_for_their_own_providers_report_only(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    client = as_person("riverside_lead")
    page = client.get(reverse("reviews:report_list")).content.decode()
    assert "Ask for a committee report" not in page and "Ask for a provider report" in page
    assert world.eastway.name not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reviews:report_request"),
            {"kind": "provider", "provider-provider": world.riverside.pk, "provider-period": submitted.period.pk},
        )
    report = AssuranceReport.objects.get()
    assert response.status_code == 302 and report.state == ReportState.READY and report.kind == ReportKind.PROVIDER
    assert client.get(reverse("reviews:report_download", args=[report.pk])).status_code == 200
    refused = client.post(
        reverse("reviews:report_request"),
        {"kind": "provider", "provider-provider": world.eastway.pk, "provider-period": submitted.period.pk},
    )
    assert "Choose the provider the report is for." in refused.content.decode()


@pytest.mark.parametrize("person", ["luton_nurse", "eastway_lead", "hackney_admin", "stranger"])
def test_another_organisations_report_is_not_found(world, submitted, as_person, person,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    ask_for_committee_report(as_person("newham_nurse"), world, submitted.period, django_capture_on_commit_callbacks)
    report = AssuranceReport.objects.get()
    client = as_person(person)
    for name in ("reviews:report_detail", "reviews:report_download"):
        response = client.get(reverse(name, args=[report.pk]))
        assert response.status_code == 404
        assert world.newham.name not in response.content.decode()
    assert world.newham.name not in client.get(reverse("reviews:report_list")).content.decode()


def test_the_file_is_never_under_a_public_path(world, submitted, as_person, django_capture_on_commit_callbacks):
    client = as_person("newham_nurse")
    ask_for_committee_report(client, world, submitted.period, django_capture_on_commit_callbacks)
    report = AssuranceReport.objects.get()
    assert client.get("/media/" + report.file.name).status_code == 404
    assert client.get("/static/" + report.file.name).status_code == 404
    client.logout()
    assert client.get(reverse("reviews:report_download", args=[report.pk])).status_code == 302  # to sign in


def test_a_report_in_progress_refreshes_itself_and_says_so_politely(world, submitted, as_person):
    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=submitted.period, requested_by=world.newham_nurse
    )
    client = as_person("newham_committee")
    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    assert 'data-refresh-every="3"' in page and "Refresh to see how far it has got" in page
    assert 'aria-live="polite"' in page and "Waiting to be made" in page
    # Not ready yet: the download goes back to the progress page.
    response = client.get(reverse("reviews:report_download", args=[report.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("reviews:report_detail", args=[report.pk])


def test_a_failed_report_gives_its_reason_and_offers_to_ask_again(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=submitted.period, requested_by=world.newham_nurse,
        state=ReportState.FAILED, failure_reason="The database could not be reached.",
    )  # fmt: skip
    client = as_person("newham_nurse")
    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    assert "The report could not be made." in page and "The database could not be reached." in page
    assert "Ask for this report again" in page and "http-equiv" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reviews:report_request"),
            {"kind": "committee", "committee-commissioner": world.newham.pk, "committee-period": submitted.period.pk},
        )
    again = AssuranceReport.objects.exclude(pk=report.pk).get()
    assert response["Location"] == reverse("reviews:report_detail", args=[again.pk]) and again.state == "ready"


def test_the_nav_offers_reports_to_people_who_see_assurance(world, as_person):
    assert reverse("reviews:report_list") in as_person("newham_committee").get(reverse("home")).content.decode()


def test_the_api_asks_for_a_report_with_the_forms_messages_and_serves_it_to_the_right_people(
    world, submitted, as_person, django_capture_on_commit_callbacks
):
    client = as_person("newham_committee")
    refused = client.post("/api/v1/reports/", {"kind": "committee", "commissioner": world.newham.pk}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"period": "Choose the quarter the report is for."}
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            "/api/v1/reports/",
            {"kind": "committee", "commissioner": world.newham.pk, "period": submitted.period.pk},
        )
    assert made.status_code == 201 and made.json()["state"] == "queued"
    report = AssuranceReport.objects.get()
    body = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert (body["state"], body["subject_name"], body["page_count"]) == ("ready", world.newham.name, report.page_count)
    assert [r["id"] for r in client.get("/api/v1/reports/").json()["results"]] == [report.pk]
    download = client.get(f"/api/v1/reports/{report.pk}/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == report.sha256

    client = as_person("luton_nurse")
    assert client.get(f"/api/v1/reports/{report.pk}/download/").status_code == 404
    assert client.get("/api/v1/reports/").json()["results"] == []
    other = client.post(
        "/api/v1/reports/", {"kind": "committee", "commissioner": world.newham.pk, "period": submitted.period.pk}
    )
    assert other.json()["fields"] == {"commissioner": "Choose the commissioner the committee report is for."}


def selected(page: str, name: str) -> str | None:
    """The value of the option selected in the select called ``name``, if one is."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1)) if select else None
    return chosen.group(1) if chosen else None


def test_the_forms_start_with_the_latest_quarter_the_only_commissioner_and_what_a_link_asked_for(
    world, submitted, as_person
):
    client = as_person("newham_nurse")
    page = client.get(reverse("reviews:report_list")).content.decode()
    latest = ReportingPeriod.objects.current()
    assert selected(page, "committee-period") == selected(page, "provider-period") == str(latest.pk)
    assert selected(page, "committee-commissioner") == str(world.newham.pk), "Newham is the nurse's only commissioner"
    assert selected(page, "provider-provider") is None, "the nurse sees several providers: none is chosen for them"

    asked = f"?period={submitted.period.pk}&provider={world.riverside.pk}"
    page = client.get(reverse("reviews:report_list") + asked).content.decode()
    assert selected(page, "provider-period") == str(submitted.period.pk)
    assert selected(page, "provider-provider") == str(world.riverside.pk)
    review = client.get(reverse("reviews:return_review", args=[submitted.pk])).content.decode()
    assert asked.replace("&", "&amp;") in review, "the review page links to its provider report"
