"""A past period's pages and reports show the names organisations had then (a CCG's name before it became a place),
and recording the change never changes a submitted return or a report already made."""

import datetime

import pytest
from django.urls import reverse

from providers.models import Organisation, OrganisationName
from providers.services import merge_into_icb
from returns.models import Answer, Return
from reviews import report_services, reports
from reviews.models import ReportKind, ReportState
from tests.providers.factories import CommissionerFactory
from tests.reviews.fixtures import submitted  # noqa: F401

NOW = "Riverside and Eastway Hospitals NHS Trust"
THEN = "Riverside University Hospitals NHS Trust"


@pytest.fixture
def renamed(world, submitted):  # noqa: F811
    """Riverside took a new name and ODS code after the submitted return's quarter (Q2 2025/26) ended."""
    Organisation.objects.filter(pk=world.riverside.pk).update(name=NOW, ods_code="ZR9")
    OrganisationName.objects.create(
        organisation=world.riverside, name=THEN, ods_code="ZR1", in_force_until=datetime.date(2025, 12, 31)
    )
    world.riverside.refresh_from_db()
    return submitted


def test_the_return_page_shows_the_providers_name_in_that_quarter(world, renamed, as_person):
    page = as_person("riverside_lead").get(reverse("returns:return_detail", args=[renamed.pk])).content.decode()
    assert f"<title>{THEN}: return for" in page
    assert f"{THEN} (now {NOW})" in page


@pytest.mark.parametrize(
    "person,route",
    [
        ("riverside_lead", "returns:return_submit"),
        ("riverside_lead", "returns:workbook_upload"),
        ("newham_nurse", "returns:return_for_revision"),
    ],
)
def test_the_return_s_other_pages_are_headed_with_the_name_in_that_quarter(world, renamed, as_person, person, route):
    page = as_person(person).get(reverse(route, args=[renamed.pk])).content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    caption = page.split('<span class="caption">', 1)[1].split("</span>", 1)[0]
    assert THEN in title and NOW not in title
    assert THEN in caption and NOW not in caption


def test_the_submission_page_is_headed_with_the_name_in_that_quarter(world, renamed, as_person):
    submission = renamed.submissions.get()
    url = reverse("returns:submission_detail", args=[renamed.pk, submission.number])
    page = as_person("riverside_lead").get(url).content.decode()
    assert f"<title>Submission {submission.number}: {THEN}," in page


def test_the_review_page_shows_the_name_and_code_then_beside_those_now(world, renamed, as_person):
    page = as_person("newham_nurse").get(reverse("reviews:return_review", args=[renamed.pk])).content.decode()
    assert f"{THEN} (ZR1) (now {NOW}, ZR9)" in page


def test_a_return_of_a_quarter_after_the_change_shows_the_name_now(world, renamed, as_person):
    OrganisationName.objects.update(in_force_until=datetime.date(2025, 6, 30))  # renamed before Q2 this time
    page = as_person("newham_nurse").get(reverse("reviews:return_review", args=[renamed.pk])).content.decode()
    assert THEN not in page and f"{NOW} (ZR9)" in page


def test_reports_of_the_quarter_are_headed_with_the_names_then(world, renamed):
    provider_report = reports.gather_provider(world.riverside, renamed.period, by=world.newham_nurse)
    assert provider_report["subject"] == {"name": THEN, "ods_code": "ZR1", "name_now": NOW, "ods_code_now": "ZR9"}
    Organisation.objects.filter(pk=world.newham.pk).update(name="NHS North East London ICB: Newham")
    OrganisationName.objects.create(
        organisation=world.newham, name="NHS Newham CCG", ods_code="08M", in_force_until=datetime.date(2025, 12, 31)
    )
    world.newham.refresh_from_db()
    committee_report = reports.gather_committee(world.newham, renamed.period, by=world.newham_nurse)
    assert committee_report["subject"]["name"] == "NHS Newham CCG"
    assert committee_report["subject"]["name_now"] == "NHS North East London ICB: Newham"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


def test_merging_a_ccg_into_an_icb_changes_no_submitted_return_and_no_report_made(
    world,
    submitted,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.request_report(
            world.newham_committee, kind=ReportKind.COMMITTEE, period=submitted.period, subject=world.newham
        )
    report.refresh_from_db()
    assert report.state == ReportState.READY, report.failure_reason
    made = (report.snapshot, report.sha256, report.file.name, report.finished_at)
    submissions = list(submitted.submissions.values())
    answers = list(Answer.objects.filter(provider_return=submitted).values())
    nel = CommissionerFactory(name="NHS North East London ICB", ods_code="QMF")

    merge_into_icb(world.newham, nel, on=datetime.date(2026, 1, 1), by=world.administrator)

    report.refresh_from_db()
    assert (report.snapshot, report.sha256, report.file.name, report.finished_at) == made
    assert report.snapshot["subject"]["name"] == "NHS Newham CCG"
    assert list(submitted.submissions.values()) == submissions
    assert list(Answer.objects.filter(provider_return=submitted).values()) == answers
    assert Return.objects.get(pk=submitted.pk).provider_id == world.riverside.pk
