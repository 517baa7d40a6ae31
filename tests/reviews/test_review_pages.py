"""The review pages: a return's review, an answer's review with agree / change / comment, and the action plans.

Who may do what: a designated professional of a commissioner of the provider reviews; a committee member and the
provider's own people read (the provider's people may also comment, as the API lets them); anyone else finds
nothing (404). Each page asks a fixed number of queries however many answers, comments or providers there are.
"""

import datetime
import html as entities
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from providers.models import Role
from returns.models import ActionPlanItem, Answer
from returns.services import return_for_revision
from reviews.models import ActionFollowUp, AnswerComment, AnswerReview, ReturnAcceptance
from reviews.services import NO_COLOUR, NO_REASON, compute_return_rag, follow_up_action
from standards.models import Metric
from tests.factories import MetricFactory, StandardFactory, ThresholdFactory
from tests.providers.factories import member
from tests.reviews.fixtures import ANSWERS, make_period, providers_of, submit_directly, submitted  # noqa: F401


@pytest.fixture
def reviewed(submitted):
    """Riverside's Q2 return, submitted, with its status computed."""
    compute_return_rag(submitted)
    return submitted


def review_url(provider_return, **query):
    url = reverse("reviews:return_review", args=[provider_return.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def answer_url(provider_return, code, act=""):
    name = f"reviews:answer_{act}" if act else "reviews:answer_review"
    return reverse(name, args=[provider_return.pk, code])


def main_text(response) -> str:
    """The page's main content as a person reads it: tags removed, white space collapsed."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip())


def summary_of(response) -> str:
    html = response.content.decode()
    start = html.index('class="error-summary"')
    return html[start : html.index("</div>", start)]


# A return's review -------------------------------------------------------------------------------------------


def test_a_designated_professional_sees_every_answer_with_its_colour_label_and_explanation(
    as_person, world, catalogue, reviewed
):
    response = as_person("newham_nurse").get(review_url(reviewed))
    assert response.status_code == 200
    html, text = response.content.decode(), main_text(response)
    assert "Riverside University Hospitals NHS Trust (ZR1)" in text
    assert "Q2 2025/26 (July to September 2025)" in text
    assert "Status: Submitted" in text
    assert "Overall status Amber 1 amber, 2 green: the worst colour, amber, is shown" in text
    assert f'id="standard-{catalogue.standard.pk}"' in html
    assert 'id="answer-DBS"' in html and 'id="answer-LEADS"' in html
    # The amber answer: its value, threshold and rule, with the colour in words.
    dbs = text[text.index("DBS ") : text.index("ALLEGATIONS ")]
    assert "Status Amber" in dbs
    assert "97.0% (97 of 100); threshold green from 100%, amber from 95%" in dbs
    assert "Not reviewed yet" in dbs
    assert "Standard status: Amber" in text
    # The policy's evidence, the trend of figures, the answer's own page and the return's page are linked.
    policy_file = Answer.objects.get(provider_return=reviewed, metric=catalogue.policy).evidence.get()
    assert reverse("returns:evidence_download", args=[policy_file.pk]) in html
    assert f"{reverse('reviews:trend', args=[world.riverside.pk])}?metric=DBS" in html
    assert f"{reverse('reviews:trend', args=[world.riverside.pk])}?metric=LEADS" not in html  # a narrative
    assert answer_url(reviewed, "DBS") in html
    assert f"{reverse('returns:return_detail', args=[reviewed.pk])}#m{catalogue.dbs.pk}" in html
    # The decision on the whole return.
    assert reverse("reviews:return_accept", args=[reviewed.pk]) in html
    assert reverse("returns:return_for_revision", args=[reviewed.pk]) in html
    assert f'<a href="{reverse("returns:return_list")}" aria-current="true">Returns</a>' in html, "in the nav"


def test_the_review_narrows_to_a_standard_or_a_metric_group_with_a_way_back(as_person, world, catalogue, reviewed):
    other = StandardFactory(framework=catalogue.framework, number="2", title="Training")
    catalogue.narrative.standard = other
    catalogue.narrative.group = "Leadership"
    catalogue.narrative.save()
    client = as_person("newham_nurse")

    by_standard = client.get(review_url(reviewed, standard=other.pk))
    html = by_standard.content.decode()
    assert 'id="answer-LEADS"' in html and 'id="answer-DBS"' not in html
    assert "Showing the answers of standard 2, " in main_text(by_standard)
    assert f'href="{review_url(reviewed)}">Show every answer' in html

    by_group = client.get(review_url(reviewed, group="Leadership"))
    assert 'id="answer-LEADS"' in by_group.content.decode() and 'id="answer-DBS"' not in by_group.content.decode()
    assert "Showing the answers of the metrics under “Leadership”" in main_text(by_group)


def test_a_return_not_submitted_has_a_review_page_saying_so_and_no_decision(as_person, world, catalogue, q2):
    from returns.services import open_return

    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    response = as_person("newham_nurse").get(review_url(draft))
    text = main_text(response)
    assert response.status_code == 200
    assert "The return has not been submitted yet, so it has no status." in text
    assert "Accept the return" not in text


def test_accepting_the_return_records_who_and_when_and_shows_it(as_person, world, reviewed):
    client = as_person("newham_nurse")
    response = client.post(reverse("reviews:return_accept", args=[reviewed.pk]))
    assert response.status_code == 302 and response["Location"] == review_url(reviewed)
    acceptance = ReturnAcceptance.objects.get(provider_return=reviewed)
    assert acceptance.accepted_by == world.newham_nurse
    page = client.get(review_url(reviewed))
    text = main_text(page)
    assert "You accepted Riverside University Hospitals NHS Trust's return." in text
    assert f"Accepted by {world.newham_nurse.get_full_name()} on {timezone.localdate():%-d %B %Y}" in text
    assert "Accept the return" not in text

    again = client.post(reverse("reviews:return_accept", args=[reviewed.pk]), follow=True)
    accepted_by = f"{world.newham_nurse.get_full_name()}"
    assert f"This return was already accepted on {timezone.localdate():%-d %B %Y} by {accepted_by}." in main_text(again)
    assert ReturnAcceptance.objects.count() == 1


def test_a_returned_return_shows_who_returned_it_and_why(as_person, world, reviewed):
    return_for_revision(reviewed, by=world.newham_nurse, comments="Explain the DBS gap.")
    text = main_text(as_person("newham_nurse").get(review_url(reviewed)))
    assert "Status: Returned for revision" in text
    assert "“Explain the DBS gap.”" in text
    assert "Accept the return" not in text


# Who may see and do what -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["newham_committee", "riverside_lead", "riverside_contributor", "newham_admin"])
def test_readers_see_the_review_without_the_reviewers_forms(as_person, world, reviewed, name):
    client = as_person(name)
    review = client.get(review_url(reviewed))
    assert review.status_code == 200
    assert "Overall status Amber" in main_text(review)
    assert reverse("reviews:return_accept", args=[reviewed.pk]) not in review.content.decode()
    answer = client.get(answer_url(reviewed, "DBS"))
    assert answer.status_code == 200
    html = answer.content.decode()
    assert answer_url(reviewed, "DBS", "agree") not in html and answer_url(reviewed, "DBS", "override") not in html


@pytest.mark.parametrize("name", ["newham_committee", "riverside_lead", "newham_admin"])
def test_readers_are_refused_every_act_of_review(as_person, world, catalogue, reviewed, name):
    client = as_person(name)
    assert client.post(reverse("reviews:return_accept", args=[reviewed.pk])).status_code == 403
    assert client.post(answer_url(reviewed, "DBS", "agree")).status_code == 403
    override = {"colour": "red", "reason": "No."}
    assert client.post(answer_url(reviewed, "DBS", "override"), override).status_code == 403
    assert not AnswerReview.objects.exists() and not ReturnAcceptance.objects.exists()


def test_a_committee_member_may_read_comments_but_not_add_them(as_person, world, catalogue, reviewed):
    from reviews.services import comment_on_answer

    comment_on_answer(reviewed, catalogue.dbs, by=world.newham_nurse, text="Which staff are unchecked?")
    client = as_person("newham_committee")
    page = client.get(answer_url(reviewed, "DBS"))
    assert "Which staff are unchecked?" in main_text(page)
    assert answer_url(reviewed, "DBS", "comment") not in page.content.decode()
    assert client.post(answer_url(reviewed, "DBS", "comment"), {"text": "Me too"}).status_code == 403
    assert AnswerComment.objects.count() == 1


def test_the_providers_people_answer_a_reviewers_comment(as_person, world, catalogue, reviewed):
    """As in the API: the provider's own people and the reviewers talk about an answer; both see every comment."""
    client = as_person("riverside_contributor")
    response = client.post(answer_url(reviewed, "DBS", "comment"), {"text": "Three agency staff, checks booked."})
    assert response.status_code == 302
    comment = AnswerComment.objects.get()
    assert (comment.author, comment.text) == (world.riverside_contributor, "Three agency staff, checks booked.")
    nurse_sees = main_text(as_person("newham_nurse").get(answer_url(reviewed, "DBS")))
    assert "Three agency staff, checks booked." in nurse_sees


@pytest.mark.parametrize("name", ["luton_nurse", "eastway_lead", "stranger"])
def test_another_organisations_return_is_not_found(as_person, world, reviewed, name):
    client = as_person(name)
    for url in (review_url(reviewed), answer_url(reviewed, "DBS")):
        response = client.get(url)
        assert response.status_code == 404 and "Riverside" not in response.content.decode()
    assert client.post(reverse("reviews:return_accept", args=[reviewed.pk])).status_code == 404
    assert client.post(answer_url(reviewed, "DBS", "override"), {"colour": "red", "reason": "x"}).status_code == 404
    assert client.post(answer_url(reviewed, "DBS", "comment"), {"text": "x"}).status_code == 404


def test_an_unknown_metric_code_is_not_found(as_person, world, reviewed):
    client = as_person("newham_nurse")
    assert client.get(answer_url(reviewed, "NOPE")).status_code == 404
    assert client.post(answer_url(reviewed, "NOPE", "agree")).status_code == 404
    other = MetricFactory(code="ELSEWHERE")  # in the catalogue, but not in this return
    assert client.get(answer_url(reviewed, other.code)).status_code == 404


def test_signing_in_is_needed(client, reviewed):
    for url in (review_url(reviewed), answer_url(reviewed, "DBS"), reverse("reviews:action_list")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# An answer's review and the acts on it -----------------------------------------------------------------------


def test_an_answers_page_shows_value_explanation_previous_quarter_and_evidence(
    as_person, world, catalogue, reviewed, q1
):
    submit_directly(world.riverside, q1, {"DBS": {"numerator": "90", "denominator": "100"}}, by=world.riverside_lead)
    text = main_text(as_person("newham_nurse").get(answer_url(reviewed, "DBS")))
    assert "Status Amber" in text
    assert "97.0% (97 of 100); threshold green from 100%, amber from 95%; below the threshold of 100%" in text
    assert "Checked: 97" in text and "Staff: 100" in text
    assert "Q1 2025/26 (April to June 2025): Checked: 90 Staff: 100" in text
    assert "Nobody has reviewed this answer yet." in text
    policy = main_text(as_person("newham_nurse").get(answer_url(reviewed, "POLICY")))
    assert "p.pdf" in policy


def test_agreeing_records_who_and_when_and_the_page_shows_it(
    as_person, world, catalogue, reviewed, django_capture_on_commit_callbacks
):
    client = as_person("newham_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(answer_url(reviewed, "DBS", "agree"))
    assert response.status_code == 302 and response["Location"] == answer_url(reviewed, "DBS")
    review = AnswerReview.objects.get()
    assert (review.decision, review.reviewed_by, review.metric) == ("agreed", world.newham_nurse, catalogue.dbs)
    text = main_text(client.get(answer_url(reviewed, "DBS")))
    name, today = world.newham_nurse.get_full_name(), f"{timezone.localdate():%-d %B %Y}"
    assert "You agreed with the status of DBS." in text
    assert f"Status agreed by {name} on {today}" in text
    assert f"{name}: Agreed with the status." in text  # the history of review acts
    assert f"Status agreed by {name} on {today}" in main_text(client.get(review_url(reviewed)))


def test_changing_the_status_with_a_reason_replaces_the_colour_and_says_who_and_why(
    as_person, world, catalogue, reviewed, django_capture_on_commit_callbacks
):
    client = as_person("newham_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            answer_url(reviewed, "DBS", "override"), {"colour": "red", "reason": "Agency staff were not checked."}
        )
    assert response.status_code == 302
    review = AnswerReview.objects.get()
    assert (review.decision, review.colour, review.reviewed_by) == ("overridden", "red", world.newham_nurse)
    text = main_text(client.get(answer_url(reviewed, "DBS")))
    name = world.newham_nurse.get_full_name()
    assert "You changed the status of DBS to red." in text
    assert "Status Red" in text and "What the rules gave Amber" in text
    assert f"Status changed to red by {name} on " in text and "because: Agency staff were not checked." in text
    assert f"{name}: Changed the status to red, because: Agency staff were not checked." in text
    review_page = main_text(client.get(review_url(reviewed)))
    assert "Overall status Red" in review_page and "(the rules gave amber)" in review_page


def test_changing_the_status_without_a_reason_shows_the_error_and_keeps_the_colour_chosen(as_person, world, reviewed):
    response = as_person("newham_nurse").post(answer_url(reviewed, "DBS", "override"), {"colour": "green"})
    assert response.status_code == 200
    html = response.content.decode()
    summary = summary_of(response)
    assert f'<a href="#override-reason">{NO_REASON}</a>' in summary
    assert f'id="override-reason-error"><span class="visually-hidden">Error:</span> {NO_REASON}' in html
    assert re.search(r'id="override-colour-green" name="colour" value="green" checked', html)
    assert "<title>Error: " in html
    assert not AnswerReview.objects.exists()


def test_changing_the_status_without_a_colour_says_so_and_keeps_the_reason(as_person, world, reviewed):
    response = as_person("newham_nurse").post(answer_url(reviewed, "DBS", "override"), {"reason": "Not enough."})
    assert f'<a href="#override-colour">{NO_COLOUR}</a>' in summary_of(response)
    assert ">Not enough.</textarea>" in response.content.decode()
    assert " checked" not in response.content.decode().split('name="reason"')[0].split("override-colour")[-1]


def test_a_comment_is_required_and_once_added_shows_who_and_when(as_person, world, reviewed):
    client = as_person("newham_nurse")
    empty = client.post(answer_url(reviewed, "DBS", "comment"), {"text": "  "})
    assert '<a href="#comment-text">Write your comment.</a>' in summary_of(empty)
    client.post(answer_url(reviewed, "DBS", "comment"), {"text": "Which staff are unchecked?"})
    text = main_text(client.get(answer_url(reviewed, "DBS")))
    assert f"{world.newham_nurse.get_full_name()}, {timezone.localdate():%-d %B %Y} at" in text
    assert "Which staff are unchecked?" in text
    review_page = main_text(client.get(review_url(reviewed)))
    assert "1 comment; the latest by" in review_page


def test_a_return_sent_back_for_revision_cannot_be_reviewed_until_resubmitted(as_person, world, reviewed):
    return_for_revision(reviewed, by=world.newham_nurse, comments="Explain the DBS gap.")
    client = as_person("newham_nurse")
    page = client.get(answer_url(reviewed, "DBS"))
    assert "Answers can be reviewed once the return is submitted; it is returned for revision." in main_text(page)
    refused = client.post(answer_url(reviewed, "DBS", "agree"))
    assert "Only a submitted return can be reviewed." in summary_of(refused)


# Query counts ------------------------------------------------------------------------------------------------


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_answers(world, catalogue, provider_return, count: int):
    """``count`` more percentage questions answered in the return's submission, each with reviews and comments."""
    from reviews.services import agree_status, comment_on_answer

    answers = dict(ANSWERS)
    for number in range(count):
        standard = StandardFactory(framework=catalogue.framework, number=f"X{number}")
        metric = MetricFactory(framework=catalogue.framework, standard=standard, code=f"X{number}", kind="percentage")
        ThresholdFactory(metric=metric, provider_type=None, green_from=85, amber_from=80)
        answers[metric.code] = {"numerator": "8", "denominator": "10"}
    provider_return.submissions.all().delete()
    submit_directly(world.riverside, provider_return.period, answers, by=world.riverside_lead)
    compute_return_rag(provider_return)
    for metric in catalogue.framework.metrics.filter(code__startswith="X"):
        agree_status(provider_return, metric, by=world.newham_nurse)
        comment_on_answer(provider_return, metric, by=world.newham_nurse, text="Checked.")
        comment_on_answer(provider_return, metric, by=world.riverside_lead, text="Thanks.")
    compute_return_rag(provider_return)


@pytest.mark.parametrize("name", ["newham_nurse", "newham_committee"])
def test_the_review_pages_ask_the_same_number_of_queries_for_few_or_many_answers(
    as_person, world, catalogue, reviewed, name
):
    client = as_person(name)
    client.get(review_url(reviewed))  # the session and content types are cached after the first request
    small = (queries_for(client, review_url(reviewed)), queries_for(client, answer_url(reviewed, "DBS")))
    add_answers(world, catalogue, reviewed, 30)
    assert reviewed.comments.count() == 60
    large = (queries_for(client, review_url(reviewed)), queries_for(client, answer_url(reviewed, "DBS")))
    assert small == large, f"{small} queries for 6 answers, {large} for 36"
    assert large[0] <= 25


# Action plans ------------------------------------------------------------------------------------------------


TODAY = timezone.localdate()


def plan(provider_return, *rows, code="S11-01"):
    """Action plan items on the return's answer to ``code``: (action, days from today until due)."""
    metric = Metric.objects.get(code=code)
    answer, _ = Answer.objects.get_or_create(provider_return=provider_return, metric=metric)
    return [
        ActionPlanItem.objects.create(
            answer=answer, action=action, owner="Named nurse", due_on=TODAY + datetime.timedelta(days=days), position=n
        )
        for n, (action, days) in enumerate(rows)
    ]


def test_the_action_list_shows_overdue_due_later_and_done_with_words_not_colour_alone(
    as_person, world, catalogue, reviewed
):
    overdue, soon, later, done = plan(
        reviewed, ("Re-audit staff files", -3), ("Train panel", 10), ("Review policy", 90), ("Update leaflet", 5)
    )
    follow_up_action(done, by=world.newham_nurse, done=True, note="Seen the new leaflet.")
    response = as_person("newham_nurse").get(reverse("reviews:action_list"))
    html, text = response.content.decode(), main_text(response)
    assert "1 overdue 1 due soon 1 not due yet 1 done" in text
    order = [text.index(action) for action in ("Re-audit", "Train panel", "Review policy", "Update leaflet")]
    assert order == sorted(order)  # overdue first, then due soon, not due yet, done
    row = html[html.index("Re-audit staff files") - 400 : html.index("Train panel")]
    assert "action-row--overdue" in row and "Overdue" in row
    assert "Seen the new leaflet." in text
    assert reverse("reviews:action_follow_up", args=[overdue.pk]) in html
    assert answer_url(reviewed, "S11-01") in html


def test_a_later_return_restating_a_plan_replaces_it_and_one_without_a_plan_leaves_it_listed(
    as_person, world, catalogue, reviewed, q1
):
    earlier = submit_directly(world.riverside, q1, by=world.riverside_lead)
    plan(earlier, ("Old plan: audit files", -40))
    plan(earlier, ("Still to check: sample audit", -20), code="AUDIT")
    plan(reviewed, ("New plan: audit files", 10))  # Q2's return restates the plan for S11-01
    text = main_text(as_person("newham_nurse").get(reverse("reviews:action_list")))
    assert "New plan: audit files" in text and "Old plan" not in text
    assert "Still to check: sample audit" in text and "For AUDIT , Q1 2025/26" in text


def test_the_action_list_filters_by_state_and_provider(as_person, world, catalogue, reviewed):
    plan(reviewed, ("Re-audit staff files", -3), ("Review policy", 90))
    client = as_person("newham_nurse")
    overdue = main_text(client.get(reverse("reviews:action_list") + "?state=overdue"))
    assert "Re-audit staff files" in overdue and "Review policy" not in overdue
    assert "1 action of 2" in overdue
    mine = main_text(client.get(reverse("reviews:action_list") + f"?provider={world.riverside.pk}"))
    assert "Re-audit staff files" in mine and "Review policy" in mine
    unknown = main_text(client.get(reverse("reviews:action_list") + "?state=bogus&provider=x"))
    assert "2 actions" in unknown


def test_action_plans_of_other_organisations_are_not_listed_or_found(as_person, world, catalogue, reviewed):
    (item,) = plan(reviewed, ("Re-audit staff files", -3))
    for name in ("luton_nurse", "eastway_lead"):
        client = as_person(name)
        assert "Re-audit staff files" not in main_text(client.get(reverse("reviews:action_list")))
        assert client.get(reverse("reviews:action_follow_up", args=[item.pk])).status_code == 404
        assert client.post(reverse("reviews:action_follow_up", args=[item.pk]), {"done": "yes"}).status_code == 404
    # The provider's own people see their plan, read-only.
    lead = as_person("riverside_lead")
    assert "Re-audit staff files" in main_text(lead.get(reverse("reviews:action_list")))
    page = lead.get(reverse("reviews:action_follow_up", args=[item.pk]))
    assert page.status_code == 200 and "Record the follow-up" not in main_text(page)
    assert lead.post(reverse("reviews:action_follow_up", args=[item.pk]), {"done": "yes"}).status_code == 403


def test_following_up_an_action_records_done_with_a_note_and_keeps_the_history(as_person, world, catalogue, reviewed):
    (item,) = plan(reviewed, ("Re-audit staff files", -3))
    client = as_person("newham_nurse")
    url = reverse("reviews:action_follow_up", args=[item.pk])
    refused = client.post(url, {"note": "Looked at it."})
    assert '<a href="#done">Say whether the action is done.</a>' in summary_of(refused)
    assert ">Looked at it.</textarea>" in refused.content.decode()

    client.post(url, {"done": "no", "note": "Half the files audited."})
    response = client.post(url, {"done": "yes", "note": "All files audited."})
    assert response.status_code == 302
    follow_up = ActionFollowUp.objects.get(item=item)
    assert (follow_up.is_done, follow_up.done_on, follow_up.updated_by) == (True, TODAY, world.newham_nurse)
    text = main_text(client.get(url))
    name = world.newham_nurse.get_full_name()
    assert f"{name}: Not done yet. “Half the files audited.”" in text
    assert f"{name}: Done (on {TODAY:%-d %B %Y}). “All files audited.”" in text
    assert "State Done" in text


def test_a_committee_member_reads_the_follow_up_but_cannot_record_one(as_person, world, catalogue, reviewed):
    (item,) = plan(reviewed, ("Re-audit staff files", -3))
    client = as_person("newham_committee")
    url = reverse("reviews:action_follow_up", args=[item.pk])
    assert "Record the follow-up" not in main_text(client.get(url))
    assert client.post(url, {"done": "yes"}).status_code == 403
    assert not ActionFollowUp.objects.exists()


@pytest.mark.parametrize("name", ["newham_nurse", "newham_committee"])
def test_the_action_list_asks_the_same_number_of_queries_for_2_or_10_providers(as_person, world, catalogue, q2, name):
    def providers_with_plans(count, prefix):
        for provider in providers_of(world.newham, catalogue.framework, count, prefix=prefix):
            provider_return = submit_directly(provider, q2, by=world.riverside_lead)
            member(provider, Role.PROVIDER_CONTRIBUTOR, username=f"{prefix}-{provider.pk}")
            plan(provider_return, ("Audit", -1), ("Train", 10))
            follow_up_action(ActionPlanItem.objects.filter(answer__provider_return=provider_return).first(),
                             by=world.newham_nurse, done=False, note="Chased.")  # fmt: skip

    client = as_person(name)
    providers_with_plans(2, "A")
    client.get(reverse("reviews:action_list"))
    small = queries_for(client, reverse("reviews:action_list"))
    providers_with_plans(8, "B")
    response = client.get(reverse("reviews:action_list"))
    assert main_text(response).count("Chased.") == 10
    large = queries_for(client, reverse("reviews:action_list"))
    assert small == large, f"{small} queries for 2 providers, {large} for 10"
