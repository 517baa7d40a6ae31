"""An action plan's items keep their identity when the provider saves the plan again, so a reviewer's follow-up of
an action survives a resave, a return for revision and a resubmission; only actions taken out are deleted."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from returns.models import ActionPlanItem, Answer
from returns.services import AnswerInput, return_for_revision, save_answers
from reviews.models import ActionFollowUp
from reviews.services import follow_up_action
from tests.returns.test_pages import form_of, save
from tests.reviews.fixtures import ANSWERS, submit_through_services

TODAY = timezone.localdate()
PARTLY_MET = {"grade": "partially_compliant", "evidence": "Audit under way."}


def row(action, days, owner="Named nurse"):
    return {"action": action, "owner": owner, "due_on": (TODAY + datetime.timedelta(days=days)).isoformat()}


PLAN = [row("Re-audit staff files", 30), row("Train interview panels", 60), row("Review the policy", 90)]


def items_of(provider_return, catalogue):
    return list(
        ActionPlanItem.objects.filter(answer__provider_return=provider_return, answer__metric=catalogue.self_assessment)
    )


def save_plan(world, catalogue, provider_return, rows, by=None):
    return save_answers(
        provider_return,
        by=by or world.riverside_lead,
        answers={catalogue.self_assessment.pk: AnswerInput(PARTLY_MET, actions=rows)},
    )


@pytest.fixture
def submitted_with_plan(world, catalogue, draft):
    """Riverside's return submitted with a three-action plan; a reviewer followed up the second action."""
    save_plan(world, catalogue, draft, PLAN)
    submit_through_services(world, catalogue, draft, {**ANSWERS, "S11-01": PARTLY_MET}, today=TODAY)
    second = items_of(draft, catalogue)[1]
    follow_up_action(second, by=world.newham_nurse, done=False, note="Two panels trained so far.")
    return draft


def test_a_follow_up_survives_the_plan_being_saved_again_and_the_return_resubmitted(
    world, catalogue, submitted_with_plan
):
    provider_return = submitted_with_plan
    before = [item.pk for item in items_of(provider_return, catalogue)]
    return_for_revision(provider_return, by=world.newham_nurse, comments="Give the panels a firm date.")
    provider_return.refresh_from_db()

    revised = [PLAN[0], row("Train interview panels", 45, owner="Head of HR"), PLAN[2]]
    result = save_plan(world, catalogue, provider_return, revised)
    assert [answer.metric.code for answer in result.saved] == ["S11-01"]
    items = items_of(provider_return, catalogue)
    assert [item.pk for item in items] == before  # updated in place, none deleted and recreated
    assert (items[1].owner, items[1].due_on) == ("Head of HR", TODAY + datetime.timedelta(days=45))
    assert items[1].follow_up.note == "Two panels trained so far."

    submit_through_services(world, catalogue, provider_return, {**ANSWERS, "S11-01": PARTLY_MET}, today=TODAY)
    assert provider_return.submissions.count() == 2
    follow_up = ActionFollowUp.objects.get()
    assert follow_up.item_id == before[1] and follow_up.note == "Two panels trained so far."
    # The history of the action says who changed it, not that it was deleted and made again.
    assert [h.history_type for h in items[1].history.order_by("history_date")] == ["+", "~"]


def test_taking_an_action_out_deletes_only_that_one(world, catalogue, submitted_with_plan):
    provider_return = submitted_with_plan
    first, second, third = items_of(provider_return, catalogue)
    follow_up_action(third, by=world.newham_nurse, done=True, note="Policy reviewed.")
    return_for_revision(provider_return, by=world.newham_nurse, comments="Drop the first action, it is done.")
    provider_return.refresh_from_db()

    blank = {"action": "", "owner": "", "due_on": ""}
    save_plan(world, catalogue, provider_return, [blank, PLAN[1], PLAN[2], blank])
    assert [item.pk for item in items_of(provider_return, catalogue)] == [second.pk, third.pk]
    assert not ActionPlanItem.objects.filter(pk=first.pk).exists()
    assert {f.item_id: f.note for f in ActionFollowUp.objects.all()} == {
        second.pk: "Two panels trained so far.",
        third.pk: "Policy reviewed.",
    }
    assert [item.position for item in items_of(provider_return, catalogue)] == [0, 1]


def test_adding_an_action_keeps_the_others_and_saving_the_same_plan_changes_nothing(
    world, catalogue, submitted_with_plan
):
    provider_return = submitted_with_plan
    before = [item.pk for item in items_of(provider_return, catalogue)]
    return_for_revision(provider_return, by=world.newham_nurse, comments="Add an action for supervision.")
    provider_return.refresh_from_db()

    assert save_plan(world, catalogue, provider_return, PLAN).saved == []  # the same plan: nothing to save
    save_plan(world, catalogue, provider_return, [*PLAN, row("Start group supervision", 20)])
    after = items_of(provider_return, catalogue)
    assert [item.pk for item in after][:3] == before and len(after) == 4
    assert after[3].action == "Start group supervision"


def test_the_return_form_keeps_each_actions_identity(world, catalogue, client, submitted_with_plan):
    """On the return's page, row 2 is the second action: changing its date keeps it; emptying row 1 removes one."""
    provider_return = submitted_with_plan
    first, second, third = items_of(provider_return, catalogue)
    return_for_revision(provider_return, by=world.newham_nurse, comments="Give the panels a firm date.")
    client.force_login(world.riverside_lead)
    page = client.get(reverse("returns:return_detail", args=[provider_return.pk]))

    later = (TODAY + datetime.timedelta(days=75)).isoformat()
    response = save(client, provider_return, form_of(page), {"S11-01.actions-2-due_on": later})
    assert response.status_code == 302
    assert [item.pk for item in items_of(provider_return, catalogue)] == [first.pk, second.pk, third.pk]
    assert ActionFollowUp.objects.get().item_id == second.pk

    page = client.get(reverse("returns:return_detail", args=[provider_return.pk]))
    emptied = {f"S11-01.actions-1-{name}": "" for name in ("action", "owner", "due_on")}
    save(client, provider_return, form_of(page), emptied)
    assert [item.pk for item in items_of(provider_return, catalogue)] == [second.pk, third.pk]
    assert ActionFollowUp.objects.get().item.due_on.isoformat() == later


def test_the_api_keeps_each_actions_identity(world, catalogue, client, submitted_with_plan):
    provider_return = submitted_with_plan
    before = [item.pk for item in items_of(provider_return, catalogue)]
    return_for_revision(provider_return, by=world.newham_nurse, comments="Give the panels a firm date.")
    client.force_login(world.riverside_lead)
    revised = [PLAN[0], row("Train interview panels", 40), PLAN[2]]
    base = Answer.objects.get(provider_return=provider_return, metric=catalogue.self_assessment).revision
    response = client.post(
        f"/api/v1/returns/{provider_return.pk}/answers/",
        {"answers": [{"metric": "S11-01", "values": PARTLY_MET, "actions": revised, "base_revision": base}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert [item.pk for item in items_of(provider_return, catalogue)] == before
    assert ActionFollowUp.objects.get().item_id == before[1]
    answer = Answer.objects.get(provider_return=provider_return, metric=catalogue.self_assessment)
    assert answer.actions.get(pk=before[1]).due_on == TODAY + datetime.timedelta(days=40)
