"""Moderation: each provider's self-assessment grade beside the reviewer's judgement, counted where they differ."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from returns.models import ReturnStatus
from reviews import moderation, services
from reviews.models import AnswerReview
from reviews.moderation import ModerationFilters
from tests.reviews.conftest import catalogue, q1, q2  # noqa: F401
from tests.reviews.fixtures import providers_of
from tests.reviews.moderation_fixtures import graded, moderated  # noqa: F401


def cells(result, provider) -> dict:
    """A provider's row as {metric code: (comparison, words)}."""
    (row,) = [row for row in result.providers[0 : len(result.providers)] if row.provider_id == provider.pk]
    return {column.code: (j.comparison, j.words) for _, pairs in row.groups for column, j in pairs}


def test_each_grade_stands_beside_the_judgement_and_the_differences_are_counted(world, moderated, q2):
    riverside = graded(
        world.riverside, q2, {"S11-01": "compliant", "S11-02": "not_compliant", "ADULTS-01": "compliant"},
        by=world.riverside_lead,
    )  # fmt: skip
    eastway = graded(world.eastway, q2, {"S11-01": "partially_compliant", "S11-02": "compliant"}, by=world.eastway_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="amber", reason="No minutes.")
    services.override_status(riverside, moderated.s11_2, by=world.newham_nurse, colour="green", reason="Audit seen.")
    services.agree_status(riverside, moderated.adults_1, by=world.newham_nurse)
    services.agree_status(eastway, moderated.s11_1, by=world.newham_nurse)

    result = moderation.moderation(world.newham_nurse, ModerationFilters(q2))

    assert [group.code for group in result.frameworks] == ["nel-section-11-children", "nel-safeguarding-adults"]
    assert cells(result, world.riverside) == {
        "S11-01": ("higher", "Changed to Partially compliant — No minutes."),
        "S11-02": ("lower", "Changed to Compliant — Audit seen."),
        "ADULTS-01": ("agreed", "Agreed"),
    }
    assert cells(result, world.eastway) == {
        "S11-01": ("agreed", "Agreed"),
        "S11-02": ("not_reviewed", "Not yet reviewed"),
        "ADULTS-01": ("no_grade", "Not asked of this provider"),
    }
    assert result.tallies["S11-01"].as_dict() == {"higher": 1, "lower": 0, "agreed": 1, "not_reviewed": 0, "differ": 1}
    assert result.tallies["S11-02"].as_dict() == {"higher": 0, "lower": 1, "agreed": 0, "not_reviewed": 1, "differ": 1}
    children, adults = result.frameworks
    assert children.tally.as_dict() == {"higher": 1, "lower": 1, "agreed": 1, "not_reviewed": 1, "differ": 2}
    assert adults.tally.as_dict() == {"higher": 0, "lower": 0, "agreed": 1, "not_reviewed": 0, "differ": 0}
    assert result.differences == {world.riverside.pk: 2, world.eastway.pk: 0}


def test_a_judgement_of_a_grade_changed_since_is_not_yet_reviewed(world, moderated, q2):
    riverside = graded(world.riverside, q2, {"S11-01": "compliant"}, by=world.riverside_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="red", reason="No policy.")
    graded(world.riverside, q2, {"S11-01": "not_compliant"}, by=world.riverside_lead)  # submitted again, regraded

    result = moderation.moderation(world.newham_nurse, ModerationFilters(q2))

    assert cells(result, world.riverside)["S11-01"] == ("not_reviewed", "Not yet reviewed")
    assert AnswerReview.history.count() == 1, "the judgement itself is kept"


def test_a_return_sent_back_is_compared_as_last_submitted_and_a_draft_has_no_grade(world, moderated, q2):
    graded(world.riverside, q2, {"S11-01": "compliant"}, by=world.riverside_lead, status=ReturnStatus.RETURNED)
    graded(world.eastway, q2, {"S11-01": "compliant"}, by=world.eastway_lead, status=ReturnStatus.DRAFT)
    result = moderation.moderation(world.newham_nurse, ModerationFilters(q2))
    assert cells(result, world.riverside)["S11-01"] == ("not_reviewed", "Not yet reviewed")
    assert cells(result, world.eastway)["S11-01"] == ("no_grade", "No return submitted")
    assert result.tallies["S11-01"].not_reviewed == 1


def test_a_self_assessment_not_asked_this_quarter_says_so(world, moderated, q2):
    moderated.s11_1.frequency = "annually"  # asked in Q4
    moderated.s11_1.save()
    result = moderation.moderation(world.newham_nurse, ModerationFilters(q2))
    assert cells(result, world.riverside)["S11-01"] == ("no_grade", "Not asked this quarter")


@pytest.mark.parametrize(
    ("person", "seen"),
    [
        ("newham_nurse", {"riverside", "eastway"}),
        ("hackney_admin", {"eastway"}),
        ("riverside_lead", {"riverside"}),
        ("luton_nurse", set()),
        ("stranger", set()),
    ],
)
def test_a_person_sees_only_the_providers_they_may_see(world, moderated, q2, person, seen):
    result = moderation.moderation(getattr(world, person), ModerationFilters(q2))
    names = {row.provider_id for row in result.providers[0 : len(result.providers)]}
    assert names == {getattr(world, name).pk for name in seen}


def test_the_filters_narrow_the_providers_and_the_standards(world, moderated, q2):
    graded(world.riverside, q2, {"S11-01": "compliant"}, by=world.riverside_lead)
    by_name = moderation.moderation(world.newham_nurse, ModerationFilters(q2, search="river"))
    assert [row.name for row in by_name.providers[0:50]] == [world.riverside.name]
    by_commissioner = moderation.moderation(world.newham_nurse, ModerationFilters(q2, commissioner=world.hackney))
    assert [row.name for row in by_commissioner.providers[0:50]] == [world.eastway.name]
    adults = moderation.moderation(world.newham_nurse, ModerationFilters(q2, framework="nel-safeguarding-adults"))
    assert [column.code for column in adults.columns] == ["ADULTS-01"]
    assert moderation.moderation(world.newham_nurse, ModerationFilters(q2, provider_type="none-such")).matching == 0


def test_the_comparison_asks_the_same_number_of_queries_for_2_providers_and_for_62(world, moderated, q2):
    counts = []
    for size, prefix in ((0, "A"), (60, "B")):
        for n, provider in enumerate(providers_of(world.newham, moderated.children, size, prefix=prefix)):
            grades = {"S11-01": "compliant", "S11-02": "compliant"}
            provider_return = graded(provider, q2, grades, by=world.newham_nurse)
            if n % 2:
                services.agree_status(provider_return, moderated.s11_1, by=world.newham_nurse)
        with CaptureQueriesContext(connection) as captured:
            result = moderation.moderation(world.newham_nurse, ModerationFilters(q2))
            rows = result.providers[0 : moderation.PROVIDERS_A_PAGE]
        counts.append(len(captured))
    assert len(rows) == 50 and result.matching == 62
    assert result.tallies["S11-01"].agreed == 30 and result.tallies["S11-01"].not_reviewed == 30
    assert counts[0] == counts[1], counts


def apart_and_agreed(world, moderated, q2):
    """Riverside graded two standards apart from the reviewer; Eastway, before it by name, none."""
    riverside = graded(world.riverside, q2, {"S11-01": "compliant", "S11-02": "compliant"}, by=world.riverside_lead)
    eastway = graded(world.eastway, q2, {"S11-01": "compliant"}, by=world.eastway_lead)
    services.override_status(riverside, moderated.s11_1, by=world.newham_nurse, colour="red", reason="No policy.")
    services.override_status(riverside, moderated.s11_2, by=world.newham_nurse, colour="amber", reason="Gaps.")
    services.agree_status(eastway, moderated.s11_1, by=world.newham_nurse)


def test_the_providers_graded_most_apart_from_the_reviewer_can_come_first(world, moderated, q2):
    apart_and_agreed(world, moderated, q2)

    by_name = moderation.moderation(world.newham_nurse, ModerationFilters(q2)).providers
    apart = moderation.moderation(world.newham_nurse, ModerationFilters(q2, sort=moderation.SORT_BY_DIFFERENCES))

    assert [row.name for row in by_name[0:10]] == [world.eastway.name, world.riverside.name]
    assert [(row.name, row.differences) for row in apart.providers[0:10]] == [
        (world.riverside.name, 2), (world.eastway.name, 0),
    ]  # fmt: skip
    assert [row.name for row in apart.providers[1:2]] == [world.eastway.name]  # paged in the same order
