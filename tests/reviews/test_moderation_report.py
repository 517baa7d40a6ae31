"""The committee report's self-assessment beside judgement: counts and the providers graded apart most often in the
front section (bounded), every grade and judgement in a sheet of the annex workbook."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from reviews import moderation, report_parts, reports, services
from reviews.models import AnswerReview, ReviewDecision
from standards.models import Framework
from tests.reviews.conftest import catalogue, q1, q2  # noqa: F401
from tests.reviews.fixtures import providers_of
from tests.reviews.moderation_fixtures import graded, moderated  # noqa: F401
from tests.reviews.test_reports import pdf_pages


def grade_apart(providers, period, moderated, by, apart: int):
    """Each provider grades both Section 11 standards compliant; the reviewer sets the first ``apart`` providers'
    standard 1 (and every other one's standard 2 too) to partially compliant, and agrees with the rest."""
    for n, provider in enumerate(providers):
        provider_return = graded(provider, period, {"S11-01": "compliant", "S11-02": "compliant"}, by=by)
        values = {"grade": "compliant", "evidence": "Board minutes."}
        for metric, differs in ((moderated.s11_1, n < apart), (moderated.s11_2, n < apart and n % 2 == 0)):
            AnswerReview.objects.create(
                provider_return=provider_return, metric=metric, submission=provider_return.submissions.last(),
                values_reviewed=values, reviewed_by=by,
                decision=ReviewDecision.OVERRIDDEN if differs else ReviewDecision.AGREED,
                colour="amber" if differs else "", reason="Not evidenced." if differs else "",
            )  # fmt: skip


def test_the_committee_report_counts_where_grades_and_judgements_differ(world, moderated, q2):
    riverside = graded(world.riverside, q2, {"S11-01": "compliant"}, by=world.riverside_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="red", reason="No policy.")

    full = reports.gather_committee(world.newham, q2, by=world.newham_nurse)

    assert full["moderation"]["counts"] == {"higher": 1, "lower": 0, "agreed": 0, "not_reviewed": 0, "differ": 1}
    front = report_parts.front_snapshot(full)["moderation"]
    (provider,) = front["providers"]
    assert (provider["name"], provider["differences"], front["providers_more"]) == (world.riverside.name, 1, 0)
    text = " ".join(pdf_pages(reports.render_pdf(report_parts.front_snapshot(full)).pdf))
    assert "Self-assessment beside judgement" in text
    judged = "Section 11 children, Standard 1: Compliant, graded higher than the reviewer. Changed to Not compliant"
    assert judged in text
    assert "more provider" not in text.split("Self-assessment beside judgement")[-1].split("What else")[0]


def test_the_front_section_lists_the_providers_graded_apart_most_often_and_the_annex_every_one(
    world, moderated, q2, tmp_path
):
    providers = providers_of(world.newham, moderated.children, 14, prefix="M")
    grade_apart(providers, q2, moderated, world.newham_nurse, apart=13)

    full = reports.gather_committee(world.newham, q2, by=world.newham_nurse)
    front = report_parts.front_snapshot(full)

    shown = front["moderation"]["providers"]
    assert len(shown) == report_parts.FRONT_MODERATION_PROVIDERS
    assert [p["differences"] for p in shown] == [2] * 7 + [1] * 3, "most differences first"
    assert front["moderation"]["providers_more"] == 3
    text = " ".join(pdf_pages(reports.render_pdf(front).pdf))
    assert "3 more providers graded apart from the reviewers in the annex workbook" in text

    path = tmp_path / "annex.xlsx"
    with open(path, "wb") as annex:
        report_parts.write_annex(report_parts.annex_snapshot(full), annex)
    rows = list(load_workbook(path, read_only=True)["Self-assessment and judgement"].values)
    assert rows[0][:3] == ("Provider", "ODS code", "Return")
    assert len(rows) - 1 == (14 + 2) * 3, "every provider (and Riverside and Eastway) by every standard"
    assert ("M provider 000", "Section 11 children", "Standard 1", "Compliant",
            "Changed to Partially compliant — Not evidenced.", "graded higher than the reviewer") in {
        (r[0], r[3], r[4], r[6], r[7], r[8]) for r in rows[1:]
    }  # fmt: skip


def test_the_reports_comparison_asks_the_same_number_of_queries_for_2_providers_and_for_22(world, moderated, q2):
    counts = []
    for size, prefix in ((0, "A"), (20, "B")):
        grade_apart(providers_of(world.newham, moderated.children, size, prefix=prefix), q2, moderated,
                    world.newham_nurse, apart=size // 2)  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            snapshot = moderation.snapshot(world.newham_nurse, q2, world.newham)
        counts.append(len(captured))
    assert len(snapshot["providers"]) == 22
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("gathered", ["before moderation was reported", "with no moderated framework in force"])
def test_without_moderation_the_front_section_and_the_annex_leave_it_out(world, moderated, q2, tmp_path, gathered):
    if gathered.startswith("with no"):
        Framework.objects.update(effective_from=datetime.date(2030, 4, 1))
    full = reports.gather_committee(world.newham, q2, by=world.newham_nurse)
    if gathered.startswith("before"):
        del full["moderation"]
    front = report_parts.front_snapshot(full)
    assert front["moderation"] is None
    assert "Self-assessment beside judgement" not in " ".join(pdf_pages(reports.render_pdf(front).pdf))
    path = tmp_path / "annex.xlsx"
    with open(path, "wb") as annex:
        report_parts.write_annex(report_parts.annex_snapshot(full), annex)
    assert "Self-assessment and judgement" not in load_workbook(path, read_only=True).sheetnames
