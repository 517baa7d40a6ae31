"""The return pages: providers fill, check, save and submit their return in the browser; commissioners read it.

The pages are driven as a browser would: each test reads the form the page rendered (hidden inputs included),
changes what a person would change, and sends it back. The period is open today, as the pages cannot be told
what day it is.
"""

import datetime
import html
import io
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from returns.excel import FIRST_ROW, HEADERS
from returns.models import Answer, Evidence, Return, ReturnStatus, Submission
from returns.selectors import metrics_for
from returns.services import AnswerInput, open_return, return_for_revision, save_answers, submit_return
from tests import hostile_files
from tests.factories import FrameworkFactory, MetricFactory, StandardFactory, ThresholdFactory

pytestmark = pytest.mark.django_db

PDF = hostile_files.pdf()
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


# Reading pages as a person and a browser do --------------------------------------------------------------------


def text_of(response) -> str:
    """The page's text as a reader sees it: tags removed, white space collapsed."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    return re.sub(r" ([,.;:])", r"\1", text).strip()


def main_text(response) -> str:
    return text_of(response).split("Skip to main content", 1)[-1]


class FormReader(HTMLParser):
    """The values a browser would send from the page's POST form, as it was rendered (no button, no file)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.in_form = False
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post" and "enctype" in attrs:
            self.in_form = True
        if not self.in_form or "name" not in attrs:
            return
        if tag == "textarea":
            self.textarea = attrs["name"]
            self.data[self.textarea] = ""
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.data[attrs["name"]] = attrs.get("value", "on")
            elif kind != "file":
                self.data[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        if tag == "form":
            self.in_form = False

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data


def form_of(response) -> dict[str, str]:
    reader = FormReader()
    reader.feed(response.content.decode())
    assert reader.data, "the page has no form to fill in"
    return dict(reader.data)


def page_url(provider_return) -> str:
    return reverse("returns:return_detail", args=[provider_return.pk])


def save(client, provider_return, form: dict, changes: dict | None = None, action="save", **files):
    """Send the form as rendered, with ``changes`` typed in (keys like ``DBS.numerator`` name a metric's input)."""
    data = dict(form)
    for key, value in (changes or {}).items():
        data[name_of(provider_return, key)] = value
    data["action"] = action
    data.update({name_of(provider_return, key): upload for key, upload in files.items()})
    return client.post(page_url(provider_return), data)


def name_of(provider_return, key: str) -> str:
    """``DBS.numerator`` → ``m12-numerator``; ``S11-01.file`` → ``m15-file``; other keys are left as they are."""
    if "." not in key:
        return key
    code, field = key.split(".", 1)
    metric = next(m for m in metrics_for(provider_return.provider, provider_return.period) if m.code == code)
    return f"m{metric.pk}-{field}"


def input_value(response, name: str) -> str:
    return form_of(response).get(name)


def summary_of(response) -> str:
    page = html.unescape(response.content.decode())
    return page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]


def complete_answers(c) -> dict:
    return {
        c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
        c.allegations.pk: AnswerInput({"count": "2"}),
        c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "2027-03-31"}),
        c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
        c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Board minutes, March 2025."}),
        c.narrative.pk: AnswerInput({"text": "Dr A Patel, Safeguarding Lead."}),
    }


def attach_policy(draft, catalogue, person, name="policy.pdf"):
    answer = Answer.objects.get(provider_return=draft, metric=catalogue.policy)
    return Evidence.objects.create(
        answer=answer, file=SimpleUploadedFile(name, PDF), original_name=name,
        content_type="application/pdf", size=len(PDF), uploaded_by=person,
    )  # fmt: skip


def complete(world, catalogue, draft, today=None):
    save_answers(draft, by=world.riverside_contributor, answers=complete_answers(catalogue), today=today)
    attach_policy(draft, catalogue, world.riverside_contributor)


# Filling in and saving ----------------------------------------------------------------------------------------


def test_the_form_asks_every_question_due_grouped_by_framework_and_standard(world, as_person, catalogue, draft):
    response = as_person("riverside_contributor").get(page_url(draft))
    page = main_text(response)
    assert response.status_code == 200
    assert "Safeguarding return for Q2 2025/26 (July to September 2025)" in page
    assert f"{catalogue.framework.name} ({catalogue.framework.version})" in page
    assert "1 Safe recruitment" in page
    for code in ("DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"):
        assert code in page
    assert "ANNUAL" not in page and "MATERNITY" not in page
    assert "Threshold for Acute hospital: Green at 100% or above; amber from 95% to under 100%; red below 95%." in page
    form = form_of(response)
    pk = {code: getattr(catalogue, attr).pk for code, attr in [("DBS", "dbs"), ("S11-01", "self_assessment")]}
    assert {f"m{pk['DBS']}-numerator", f"m{pk['DBS']}-denominator", f"m{pk['DBS']}-base_revision"} <= set(form)
    assert f"initial-m{pk['DBS']}-numerator" in form
    assert [f"m{pk['S11-01']}-actions-{n}-owner" in form for n in (1, 2, 3, 4)] == [True, True, True, False]
    assert f'name="m{catalogue.policy.pk}-in_place" value="yes"' in response.content.decode()


def test_a_contributor_fills_part_of_the_return_and_saves_it(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    response = save(client, draft, form, {"DBS.numerator": "95", "DBS.denominator": "100", "ALLEGATIONS.count": "2"})
    assert response.status_code == 302
    assert {a.metric.code: a.values for a in Answer.objects.select_related("metric")} == {
        "DBS": {"numerator": 95, "denominator": 100},
        "ALLEGATIONS": {"count": 2},
    }  # the questions left alone were not sent, so no empty answers were made
    page = main_text(client.get(response["Location"]))
    assert "Saved: 2 answers." in page
    assert "The saved answer comes to 95.0%." in page
    assert f"Last saved by {world.riverside_contributor.get_full_name()} on" in page
    assert "2 of 6 questions answered" in page


def test_wrong_values_are_listed_at_the_top_and_beside_their_fields_and_what_was_typed_is_kept(
    world, as_person, catalogue, draft
):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    typed = {
        "DBS.numerator": "120",
        "DBS.denominator": "100",
        "ALLEGATIONS.count": "twelve",
        "POLICY.review_date": "31/03/2027",
        "LEADS.text": "Dr A Patel.",
    }
    response = save(client, draft, form, typed)
    assert response.status_code == 200
    assert text_of(response).startswith("Error:")
    summary = summary_of(response)
    c = catalogue
    for code, field, message in [
        ("DBS", "numerator", "“Checked” cannot be more than “Staff”."),
        ("ALLEGATIONS", "count", "Enter the number as a whole number, like 12."),
        ("POLICY", "review_date", "Enter the review date as a real date, like 2026-03-31."),
    ]:
        metric = {"DBS": c.dbs, "ALLEGATIONS": c.allegations, "POLICY": c.policy}[code]
        assert f'<a href="#id_m{metric.pk}-{field}">{message}' in summary  # the label's words; no code leads
        beside = html.unescape(response.content.decode()).split(f'id="id_m{metric.pk}-{field}-error"', 1)[1]
        assert message in beside.split("</p>", 1)[0]
    shown = form_of(response)
    for key, value in typed.items():
        assert shown[name_of(draft, key)] == value
    assert not Answer.objects.exists()  # all or nothing: the narrative was fine, but was not saved alone


def test_the_action_plan_grows_without_javascript_and_its_rows_are_kept(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    response = save(
        client,
        draft,
        form,
        {
            "S11-01.grade": "partially_compliant",
            "S11-01.evidence": "Audit under way.",
            "S11-01.actions-1-action": "Re-audit staff files",
            "S11-01.actions-1-owner": "Head of HR",
            "S11-01.actions-1-due_on": "2026-01-31",
        },
        action=f"more-rows:{catalogue.self_assessment.pk}",
    )
    assert response.status_code == 302
    assert response["Location"].endswith(
        f"?rows-{catalogue.self_assessment.pk}=6#m{catalogue.self_assessment.pk}-actions"
    )
    (item,) = Answer.objects.get(metric=catalogue.self_assessment).actions.all()
    assert (item.action, item.owner, item.due_on) == ("Re-audit staff files", "Head of HR", datetime.date(2026, 1, 31))
    form = form_of(client.get(response["Location"]))
    prefix = f"m{catalogue.self_assessment.pk}"
    assert form[f"{prefix}-actions-1-owner"] == "Head of HR"
    assert f"{prefix}-actions-6-owner" in form and f"{prefix}-actions-7-owner" not in form
    response = save(client, draft, form, {"S11-01.actions-2-action": "Train panel members"})
    assert response.status_code == 200
    assert f'href="#id_{prefix}-actions-2-owner">Action 2: say who owns the action.' in summary_of(response)
    assert form_of(response)[f"{prefix}-actions-2-action"] == "Train panel members"


def test_someone_elses_save_since_the_page_was_opened_is_shown_and_what_was_typed_kept(
    world, as_person, catalogue, draft
):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    c = catalogue
    # Meanwhile the lead saves the number of allegations and the DBS figures.
    save_answers(
        draft,
        by=world.riverside_lead,
        answers={
            c.allegations.pk: AnswerInput({"count": "3"}, base_revision=0),
            c.dbs.pk: AnswerInput({"numerator": "90", "denominator": "100"}, base_revision=0),
        },
    )
    response = save(client, draft, form, {"ALLEGATIONS.count": "5"})
    assert response.status_code == 200
    lead = world.riverside_lead.get_full_name()
    page = main_text(response)
    assert f"{lead} saved this answer at" in page and "since you opened the page" in page
    assert f"{lead} saved this answer on" in page and "after you opened the page: Number: 3." in page
    assert f"{lead} saved: 3" in page
    shown = form_of(response)
    prefix = f"m{c.allegations.pk}"
    assert shown[f"{prefix}-count"] == "5"  # what this person typed is kept
    assert shown[f"{prefix}-base_revision"] == "1"  # and it now starts from the lead's answer
    assert Answer.objects.get(metric=c.allegations).values == {"count": 3}

    response = save(client, draft, shown)  # saving again overwrites knowingly
    assert response.status_code == 302
    assert Answer.objects.get(metric=c.allegations).values == {"count": 5}
    # The DBS answer the contributor never touched kept the lead's figures: untouched answers are not sent.
    assert Answer.objects.get(metric=c.dbs).values == {"numerator": 90, "denominator": 100}


@pytest.fixture
def adults(world, catalogue):
    """A second framework on Riverside's contract, so that its return has two sections."""
    framework = FrameworkFactory(code="test-adults", name="Adult standards", effective_from=datetime.date(2019, 4, 1))
    standard = StandardFactory(framework=framework, number="1", title="Leadership")
    count = MetricFactory(framework=framework, standard=standard, code="ADULT-REFERRALS", kind="count")
    world.riverside_contract.frameworks.add(framework)
    return SimpleNamespace(framework=framework, count=count)


def section_of(response, framework) -> str:
    """The markup of one framework's section of the return's page."""
    page = html.unescape(response.content.decode())
    return page.split(f'<section class="return-framework" id="framework-{framework.pk}"', 1)[1].split("</section>")[0]


def test_saving_a_section_comes_back_to_it_with_a_banner_saying_what_was_saved(
    world, as_person, catalogue, adults, draft
):
    client = as_person("riverside_contributor")
    response = client.get(page_url(draft))
    assert "Save draft" not in main_text(response)
    for framework in (catalogue.framework, adults.framework):  # one save a section, naming its section
        assert f'name="section" value="framework-{framework.pk}"' in section_of(response, framework)
        assert f"Save this section ({framework.name})" in text_of(response)
    form = form_of(response)
    typed = {"DBS.numerator": "95", "DBS.denominator": "100", "ADULT-REFERRALS.count": "4"}
    data = {**form, **{name_of(draft, key): value for key, value in typed.items()}}
    response = client.post(page_url(draft), {**data, "section": f"framework-{adults.framework.pk}"})
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(draft)}#framework-{adults.framework.pk}"
    # Nothing typed is lost: what was typed in the other section was saved with it, and the banner says so.
    assert {a.metric.code: a.values for a in Answer.objects.select_related("metric")} == {
        "DBS": {"numerator": 95, "denominator": 100},
        "ADULT-REFERRALS": {"count": 4},
    }
    response = client.get(response["Location"])
    section = section_of(response, adults.framework)
    assert f'role="status" aria-labelledby="framework-{adults.framework.pk}-saved-title"' in section
    banner = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split("data-saved-banner>", 1)[1]))
    assert "Success Saved in this section: 1 answer." in banner
    assert f"Also saved what you typed elsewhere: 1 answer in {catalogue.framework.name}." in banner
    assert "data-saved-banner" not in section_of(response, catalogue.framework)
    assert "Saved: " not in main_text(response)  # said once, in the section, not again at the top
    assert "data-saved-banner" not in client.get(page_url(draft)).content.decode()  # and only once

    response = client.post(page_url(draft), {**form_of(response), "section": f"framework-{catalogue.framework.pk}"})
    assert response["Location"].endswith(f"#framework-{catalogue.framework.pk}")
    banner = section_of(client.get(response["Location"]), catalogue.framework)
    assert "Nothing had changed in this section." in banner


def test_a_post_of_one_sections_inputs_saves_them_and_leaves_every_other_answer_untouched(
    world, as_person, catalogue, adults, draft
):
    dbs = AnswerInput({"numerator": "9", "denominator": "10"})
    save_answers(draft, by=world.riverside_lead, answers={catalogue.dbs.pk: dbs})
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    prefix = f"m{adults.count.pk}-"
    own = {name: value for name, value in form.items() if name.startswith((prefix, f"initial-{prefix}"))}
    own[f"{prefix}count"] = "4"
    response = client.post(page_url(draft), {**own, "section": f"framework-{adults.framework.pk}"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#framework-{adults.framework.pk}")
    assert Answer.objects.get(metric=adults.count).values == {"count": 4}
    assert Answer.objects.get(metric=catalogue.dbs).values == {"numerator": 9, "denominator": 10}
    assert Answer.objects.count() == 2


def test_a_section_save_over_someone_elses_save_shows_the_conflict_then_saves_knowingly(
    world, as_person, catalogue, adults, draft
):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    theirs = AnswerInput({"count": "3"}, base_revision=0)
    save_answers(draft, by=world.riverside_lead, answers={adults.count.pk: theirs})
    section = {"section": f"framework-{adults.framework.pk}"}
    response = client.post(page_url(draft), {**form, name_of(draft, "ADULT-REFERRALS.count"): "5", **section})
    assert response.status_code == 200
    assert f"{world.riverside_lead.get_full_name()} saved: 3" in main_text(response)
    assert Answer.objects.get(metric=adults.count).values == {"count": 3}  # nothing was overwritten
    response = client.post(page_url(draft), {**form_of(response), **section})
    assert response.status_code == 302 and response["Location"].endswith(section["section"])
    assert Answer.objects.get(metric=adults.count).values == {"count": 5}


def test_an_unusual_figure_is_warned_about_then_confirmed_and_the_note_kept(world, as_person, catalogue, q1, draft):
    c = catalogue
    earlier = open_return(world.riverside, q1, by=world.riverside_contributor)
    july = datetime.date(2025, 7, 10)
    answers = complete_answers(c)
    answers[c.dbs.pk] = AnswerInput({"numerator": "100", "denominator": "100"})
    save_answers(earlier, by=world.riverside_contributor, answers=answers, today=july)
    attach_policy(earlier, c, world.riverside_contributor)
    submit_return(earlier, by=world.riverside_lead, declaration_confirmed=True, today=july)

    client = as_person("riverside_contributor")
    response = save(
        client, draft, form_of(client.get(page_url(draft))), {"DBS.numerator": "40", "DBS.denominator": "100"}
    )
    assert response["Location"].endswith(f"#m{c.dbs.pk}")
    response = client.get(response["Location"])
    page = main_text(response)
    assert "1 figure is far from your recent ones." in page
    # Saved with its section's button, the page comes back to the section, whose banner links to the figure.
    changed = {**form_of(response), name_of(draft, "DBS.numerator"): "41"}
    response = client.post(page_url(draft), {**changed, "section": f"framework-{c.framework.pk}"})
    assert response["Location"].endswith(f"#framework-{c.framework.pk}")
    banner = section_of(client.get(response["Location"]), c.framework).split("data-saved-banner>", 1)[1]
    assert "Important" in banner and "1 figure is far from your recent ones." in banner
    assert f'<a href="#m{c.dbs.pk}">{c.dbs.title}</a>' in banner.split("</div>\n</div>")[0]
    response = client.get(page_url(draft))
    assert "This comes to 40.0%, far from your recent figures (100.0% in Q1 2025/26)." in page
    prefix = f"m{c.dbs.pk}"
    form = form_of(response)
    assert f"{prefix}-confirm_unusual" not in form  # the box is there, not ticked
    assert f'id="id_{prefix}-confirm_unusual"' in response.content.decode()

    form[f"{prefix}-confirm_unusual"] = "on"
    form[f"{prefix}-unusual_note"] = "New starters are waiting for their checks."
    response = save(client, draft, form)
    assert response.status_code == 302
    answer = Answer.objects.get(provider_return=draft, metric=c.dbs)
    assert answer.unusual_value_confirmed and answer.unusual_value_note == "New starters are waiting for their checks."
    assert answer.values == {"numerator": 41, "denominator": 100}
    page = main_text(client.get(page_url(draft)))
    assert "Figure confirmed Confirmed as right although far from recent figures: “New starters are waiting" in page
    assert "far from your recent ones" not in page


# Submitting ---------------------------------------------------------------------------------------------------


def submit_url(provider_return) -> str:
    return reverse("returns:return_submit", args=[provider_return.pk])


def test_only_the_safeguarding_lead_is_offered_submit_and_may_submit(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    assert "Check your answers and submit" not in main_text(client.get(page_url(draft)))
    assert client.get(submit_url(draft)).status_code == 403
    assert client.post(submit_url(draft), {"confirmed": "on"}).status_code == 403
    for person in ("newham_nurse", "newham_committee"):
        assert as_person(person).get(submit_url(draft)).status_code == 403
    assert as_person("eastway_lead").get(submit_url(draft)).status_code == 404
    assert "Check your answers and submit" in main_text(as_person("riverside_lead").get(page_url(draft)))


def test_the_lead_checks_what_is_missing_confirms_the_declaration_and_submits(world, as_person, catalogue, draft):
    c = catalogue
    answers = complete_answers(c)
    del answers[c.narrative.pk]
    save_answers(draft, by=world.riverside_contributor, answers=answers)
    client = as_person("riverside_lead")
    response = client.get(submit_url(draft))
    page = main_text(response)
    assert "2 things to finish before you can submit" in page
    content = html.unescape(response.content.decode())
    policy, narrative = (f"({title})" for title in (c.policy.title, c.narrative.title))
    assert f'href="{page_url(draft)}#id_m{c.policy.pk}-file">Attach the policy document.' in content
    assert f'href="{page_url(draft)}#id_m{c.narrative.pk}-text">Enter your answer.' in content
    assert policy in page and narrative in page  # the question follows the message; no code leads it
    assert "LEADS:" not in page and "POLICY:" not in page
    assert "I confirm that this return is complete and accurate" in page
    assert "held by Riverside University Hospitals NHS Trust" in page

    response = client.post(submit_url(draft), {})
    assert response.status_code == 200
    assert '<a href="#id_confirmed">Confirm the declaration to submit the return.</a>' in summary_of(response)
    response = client.post(submit_url(draft), {"confirmed": "on"})
    assert response.status_code == 200
    summary = summary_of(response)
    assert f'href="{page_url(draft)}#id_m{c.narrative.pk}-text">Enter your answer.' in summary
    assert main_text(response).count("Enter your answer.") == 1  # each problem is listed once, in the summary
    assert main_text(response).count("Attach the policy document.") == 1
    assert Return.objects.get().status == ReturnStatus.DRAFT

    save_answers(draft, by=world.riverside_contributor, answers={c.narrative.pk: AnswerInput({"text": "Dr Patel."})})
    attach_policy(draft, c, world.riverside_contributor)
    assert "Every answer is complete." in main_text(client.get(submit_url(draft)))
    response = client.post(submit_url(draft), {"confirmed": "on"})
    assert response.status_code == 302 and response["Location"] == page_url(draft)
    page = main_text(client.get(page_url(draft)))
    period = draft.period
    reference = "ZR1-2025-26-Q2-1"
    assert f"Return submitted Your reference {reference}" in page
    assert "on time (the deadline is" in page
    assert Return.objects.get().status == ReturnStatus.SUBMITTED
    assert Submission.objects.get().submitted_by == world.riverside_lead
    assert "Return submitted" not in main_text(client.get(page_url(draft)))  # the panel is shown once
    assert period.label in page


def test_a_submitted_return_is_read_only_for_the_provider(world, as_person, catalogue, draft):
    complete(world, catalogue, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    client = as_person("riverside_contributor")
    response = client.get(page_url(draft))
    page = main_text(response)
    assert 'enctype="multipart/form-data"' not in response.content.decode()
    assert "This return has been submitted, so it can no longer be changed." in page
    assert "Checked 98 Staff 100 Comes to 98.0%" in page
    assert "Is it in place? Yes Date of next review 31 March 2027" in page
    assert "policy.pdf" in page and "Remove" not in page
    response = client.post(page_url(draft), {"action": "save", f"m{catalogue.allegations.pk}-count": "9"})
    assert "This return has been submitted, so it can no longer be changed." in summary_of(response)
    assert Answer.objects.get(metric=catalogue.allegations).values == {"count": 2}
    assert as_person("riverside_lead").get(submit_url(draft)).status_code == 200  # says it is submitted
    assert "This return has been submitted." in main_text(as_person("riverside_lead").get(submit_url(draft)))


def test_a_locked_period_says_why_nothing_can_change(world, as_person, catalogue, draft):
    period = draft.period
    period.submission_deadline = timezone.localdate() - datetime.timedelta(days=20)
    period.lock_date = timezone.localdate() - datetime.timedelta(days=1)
    period.save()
    client = as_person("riverside_contributor")
    response = client.get(page_url(draft))
    assert "Nothing can change: the period Q2 2025/26 (July to September 2025) was locked on" in main_text(response)
    assert 'enctype="multipart/form-data"' not in response.content.decode()
    response = client.post(page_url(draft), {"action": "save"})
    assert "was locked on" in summary_of(response)
    assert "Overdue" in main_text(client.get(page_url(draft)))


# Versions and revision ----------------------------------------------------------------------------------------


def test_each_submission_stays_readable_as_it_was_submitted(world, as_person, catalogue, draft):
    c = catalogue
    complete(world, catalogue, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    return_for_revision(draft, by=world.newham_nurse, comments="Check the DBS figures.")
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={c.dbs.pk: AnswerInput({"numerator": "99", "denominator": "100"})},
    )
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)

    client = as_person("newham_nurse")
    first = main_text(client.get(reverse("returns:submission_detail", args=[draft.pk, 1])))
    assert "Submission 1, as it was submitted" in first
    assert f"Submitted by {world.riverside_lead.get_full_name()}" in first
    assert "Reference ZR1-2025-26-Q2-1" in first
    assert "Declaration I confirm that this return is complete" in first
    assert "Checked 98 Staff 100 Comes to 98.0%" in first
    assert "Files: policy.pdf" in first
    assert "Returned for revision by" in first and "Check the DBS figures." in first
    assert "A later submission replaces this one." in first
    second = main_text(client.get(reverse("returns:submission_detail", args=[draft.pk, 2])))
    assert "Checked 99 Staff 100 Comes to 99.0%" in second
    assert client.get(reverse("returns:submission_detail", args=[draft.pk, 3])).status_code == 404
    assert as_person("luton_nurse").get(reverse("returns:submission_detail", args=[draft.pk, 1])).status_code == 404

    page = main_text(as_person("newham_nurse").get(page_url(draft)))
    assert "Submission 1 by" in page and "Submission 2 by" in page and "Returned for revision by" in page
    assert "Read submission 1 as it was submitted" in page
    contributor = world.riverside_contributor.get_full_name()
    assert f"{contributor}, " in page and "Checked: 98; Staff: 100; Comes to: 98.0% → Checked: 99; Staff: 100" in page


def test_the_designated_nurse_returns_it_for_revision_and_the_provider_resubmits(world, as_person, catalogue, draft):
    complete(world, catalogue, draft)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    url = reverse("returns:return_for_revision", args=[draft.pk])
    assert as_person("riverside_lead").get(url).status_code == 403
    assert as_person("newham_committee").get(url).status_code == 403
    assert as_person("luton_nurse").get(url).status_code == 404

    client = as_person("newham_nurse")
    assert "Return for revision" in main_text(client.get(page_url(draft)))
    response = client.post(url, {"comments": "  "})
    assert '<a href="#id_comments">Say what the provider needs to revise.</a>' in summary_of(response)
    response = client.post(url, {"comments": "The DBS figures do not match the workforce report."})
    assert response.status_code == 302
    assert Return.objects.get().status == ReturnStatus.RETURNED

    client = as_person("riverside_contributor")
    response = client.get(page_url(draft))
    page = main_text(response)
    assert "Returned for revision by" in page and "The DBS figures do not match the workforce report." in page
    response = save(client, draft, form_of(response), {"DBS.numerator": "97"})
    assert response.status_code == 302
    client = as_person("riverside_lead")
    response = client.post(submit_url(draft), {"confirmed": "on"})
    assert response.status_code == 302
    assert list(Submission.objects.values_list("number", flat=True)) == [1, 2]
    assert Return.objects.get().status == ReturnStatus.SUBMITTED


# Evidence -----------------------------------------------------------------------------------------------------


def test_evidence_is_uploaded_listed_and_removed_and_a_renamed_executable_is_refused(
    world, as_person, catalogue, draft
):
    client = as_person("riverside_contributor")
    form = form_of(client.get(page_url(draft)))
    response = save(
        client, draft, form, {"POLICY.in_place": "yes"}, **{"POLICY.file": SimpleUploadedFile("policy.pdf", EXECUTABLE)}
    )
    assert response.status_code == 200
    message = "policy.pdf must be a PDF, Word, Excel, PNG or JPEG file."
    prefix = f"m{catalogue.policy.pk}"
    question = f'<span class="error-summary__question">({catalogue.policy.title})</span>'
    assert f'<a href="#id_{prefix}-file">{message} {question}</a>' in summary_of(response)
    assert message in html.unescape(response.content.decode()).split(f'id="id_{prefix}-file-error"', 1)[1][:200]
    assert not Evidence.objects.exists()
    assert Answer.objects.get(metric=catalogue.policy).values["in_place"] is True  # the answers were saved

    response = save(
        client, draft, form_of(response), **{"POLICY.file": SimpleUploadedFile("Chaperone policy.pdf", PDF)}
    )
    assert response.status_code == 302 and response["Location"].endswith(page_url(draft))
    page = main_text(client.get(page_url(draft)))
    contributor = world.riverside_contributor.get_full_name()
    assert f"Chaperone policy.pdf {len(PDF)} bytes {contributor}," in page
    evidence = Evidence.objects.get()
    response = save(client, draft, form_of(client.get(page_url(draft))), action=f"remove-evidence:{evidence.pk}")
    assert response.status_code == 302 and response["Location"].endswith(f"#{prefix}")
    assert not Evidence.objects.exists()
    removed = Evidence.history.filter(history_type="-").get()
    assert removed.history_user == world.riverside_contributor
    assert "Removed Chaperone policy.pdf" in main_text(client.get(page_url(draft)))


@pytest.mark.parametrize(
    "person,status",
    [
        ("riverside_contributor", 200),
        ("riverside_lead", 200),
        ("newham_nurse", 200),
        ("newham_committee", 200),
        ("hackney_admin", 404),
        ("eastway_lead", 404),
        ("luton_nurse", 404),
        ("stranger", 404),
    ],
)
def test_evidence_downloads_only_for_people_who_may_see_the_return(world, as_person, catalogue, draft, person, status):
    save_answers(draft, by=world.riverside_contributor, answers={catalogue.policy.pk: AnswerInput({"in_place": "yes"})})
    evidence = attach_policy(draft, catalogue, world.riverside_contributor, name="Safer recruitment.pdf")
    response = as_person(person).get(reverse("returns:evidence_download", args=[evidence.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "Safer recruitment.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"


# Excel --------------------------------------------------------------------------------------------------------


def test_the_return_downloads_as_excel_and_a_workbook_with_an_error_is_refused_with_it_listed(
    world, as_person, catalogue, draft
):
    client = as_person("riverside_contributor")
    response = client.get(reverse("returns:workbook_download", args=[draft.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="ZR1-return-2025-26-Q2.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    ws = workbook[catalogue.framework.short_name]
    column = {header: index for index, header in enumerate(HEADERS, start=1)}
    rows = {ws.cell(row, column["Code"]).value: row for row in range(FIRST_ROW, ws.max_row + 1)}
    ws.cell(rows["DBS"], column["Numerator"]).value = 120
    ws.cell(rows["DBS"], column["Denominator"]).value = 100
    ws.cell(rows["ALLEGATIONS"], column["Number"]).value = 4
    filled = io.BytesIO()
    workbook.save(filled)

    url = reverse("returns:workbook_upload", args=[draft.pk])
    assert "Upload the filled workbook" in main_text(client.get(url))
    response = client.post(url, {"workbook": SimpleUploadedFile("return.xlsx", filled.getvalue())})
    assert response.status_code == 200
    page = main_text(response)
    sheet = catalogue.framework.short_name
    assert "Nothing was imported" in page
    assert f"Sheet ‘{sheet}’, row {rows['DBS']} (DBS), Numerator: “Checked” cannot be more than “Staff”." in page
    assert not Answer.objects.exists()

    ws.cell(rows["DBS"], column["Numerator"]).value = 95
    filled = io.BytesIO()
    workbook.save(filled)
    response = client.post(url, {"workbook": SimpleUploadedFile("return.xlsx", filled.getvalue())})
    assert response.status_code == 302
    assert "The workbook is imported: 2 answers changed." in main_text(client.get(response["Location"]))
    response = client.post(url, {})
    assert '<a href="#id_workbook">Choose the workbook to upload.</a>' in summary_of(response)
    assert as_person("newham_nurse").get(url).status_code == 403
    assert as_person("newham_nurse").get(reverse("returns:workbook_download", args=[draft.pk])).status_code == 200


# Lists and home -----------------------------------------------------------------------------------------------


def test_providers_start_their_return_from_the_list_and_commissioners_see_its_status(
    world, as_person, catalogue, open_q2
):
    client = as_person("riverside_lead")
    page = main_text(client.get(reverse("returns:return_list")))
    assert "Start the return for Q2 2025/26 (July to September 2025)" in page
    assert "Start the return for Q2 2025/26" in main_text(client.get(reverse("home")))
    response = client.post(reverse("returns:return_start"), {"provider": world.riverside.pk, "period": open_q2.pk})
    provider_return = Return.objects.get()
    assert response.status_code == 302 and response["Location"] == page_url(provider_return)
    page = main_text(client.get(reverse("returns:return_list")))
    assert "Start the return" not in page
    assert "Riverside University Hospitals NHS Trust Status: Draft" in page
    assert "Your return for Q2 2025/26 (July to September 2025) Status: Draft" in main_text(client.get(reverse("home")))

    assert (
        as_person("newham_nurse")
        .post(reverse("returns:return_start"), {"provider": world.riverside.pk, "period": open_q2.pk})
        .status_code
        == 404
    )
    page = main_text(as_person("newham_nurse").get(reverse("returns:return_list")))
    assert "Riverside University Hospitals NHS Trust Status: Draft" in page and "Start the return" not in page
    home = main_text(as_person("newham_nurse").get(reverse("home")))
    assert "Returns for Q2 2025/26 (July to September 2025)" in home
    assert "Riverside University Hospitals NHS Trust Status: Draft" in home
    assert "Eastway Community Health NHS Trust Status: Not started" in home
    assert "Riverside" not in main_text(as_person("luton_nurse").get(reverse("returns:return_list")))


# Queries ------------------------------------------------------------------------------------------------------


def add_questions(world, catalogue, draft, count: int):
    """``count`` more questions of every kind, each answered, with actions, evidence and a history."""
    kinds = ["percentage", "count", "policy", "audit", "self_assessment", "narrative"]
    answers = {}
    for number in range(count):
        kind = kinds[number % len(kinds)]
        standard = StandardFactory(framework=catalogue.framework, number=f"Q{draft.pk}-{number}")
        labels = {"numerator_label": "Done", "denominator_label": "Due"} if kind == "percentage" else {}
        metric = MetricFactory(
            framework=catalogue.framework, standard=standard, code=f"Q{number}", kind=kind,
            **({"numerator_label": "", "denominator_label": ""} | labels),
        )  # fmt: skip
        if kind == "percentage":
            ThresholdFactory(metric=metric, provider_type=None, green_from=85, amber_from=80)
        values = {
            "percentage": {"numerator": "8", "denominator": "10"},
            "count": {"count": "3"},
            "policy": {"in_place": "yes", "review_date": "2027-03-31"},
            "audit": {"sampled": "20", "compliant": "18"},
            "self_assessment": {"grade": "partially_compliant", "evidence": "Audit."},
            "narrative": {"text": "Text."},
        }[kind]
        actions = [{"action": "Act", "owner": "Lead", "due_on": "2026-03-31"}] if kind == "self_assessment" else None
        answers[metric.pk] = AnswerInput(values, actions=actions)
    save_answers(draft, by=world.riverside_contributor, answers=answers)
    save_answers(
        draft,
        by=world.riverside_lead,
        answers={pk: AnswerInput(a.values | {}, actions=a.actions) for pk, a in answers.items()},
    )
    for answer in Answer.objects.filter(provider_return=draft, metric__kind="policy"):
        Evidence.objects.create(
            answer=answer, file=SimpleUploadedFile("p.pdf", PDF), original_name="p.pdf",
            content_type="application/pdf", size=len(PDF), uploaded_by=world.riverside_lead,
        )  # fmt: skip


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("person", ["riverside_contributor", "newham_nurse"])
def test_the_return_page_asks_the_same_number_of_queries_for_6_or_60_questions(
    world, as_person, catalogue, draft, person
):
    client = as_person(person)
    complete(world, catalogue, draft)
    client.get(page_url(draft))  # the session and content types are cached after the first request
    small = queries_for(client, page_url(draft))
    add_questions(world, catalogue, draft, 54)
    assert len(metrics_for(draft.provider, draft.period)) == 60
    large = queries_for(client, page_url(draft))
    assert small == large, f"{small} queries for 6 questions, {large} for 60"
    assert large <= 23


#: A value for every answer input unlike any the tests above save, so that every answer on the page changes.
CHANGED_INPUTS = {
    "numerator": "91", "denominator": "99", "count": "7", "in_place": "no", "review_date": "",
    "sampled": "31", "compliant": "29", "grade": "not_compliant", "evidence": "Changed.", "text": "Changed.",
}  # fmt: skip


def save_every_answer_changed(client, draft) -> tuple[int, int]:
    """Send the page's form with every answer changed: the queries of the save, and the answers it saved."""
    form = form_of(client.get(page_url(draft)))
    changed = 0
    for name in list(form):
        prefix, _, field = name.partition("-")
        if prefix.startswith("m") and prefix[1:].isdigit() and field in CHANGED_INPUTS:
            form[name] = CHANGED_INPUTS[field]
            changed += field in ("count", "numerator", "in_place", "sampled", "grade", "text")
    form["action"] = "save"
    with CaptureQueriesContext(connection) as queries:
        response = client.post(page_url(draft), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return len(queries), changed


def test_saving_every_answer_asks_the_same_number_of_queries_for_6_or_60_and_records_each_change(
    world, as_person, catalogue, draft
):
    client = as_person("riverside_contributor")
    complete(world, catalogue, draft)
    client.get(page_url(draft))  # the session and content types are cached after the first request
    small, saved_small = save_every_answer_changed(client, draft)
    add_questions(world, catalogue, draft, 54)
    large, saved_large = save_every_answer_changed(client, draft)
    assert (saved_small, saved_large) == (6, 60)
    assert small == large, f"{small} queries to save 6 answers, {large} to save 60"
    assert large <= 27
    # Every answer changed, and every change is in its history with who made it.
    answers = Answer.objects.filter(provider_return=draft)
    assert answers.count() == 60
    for answer in answers:
        assert answer.values.get(next(iter(answer.values))) is not None
        latest = answer.history.order_by("-history_date", "-history_id").first()
        assert latest.history_user == world.riverside_contributor and latest.revision == answer.revision
        assert latest.values == answer.values


def test_answers_saved_for_the_first_time_are_created_with_their_history_in_a_fixed_number_of_queries(
    world, catalogue, draft
):
    def answers_for(metrics):
        return {m.pk: AnswerInput({"text": "First."} if m.kind == "narrative" else {}) for m in metrics}

    first = [catalogue.narrative]
    with CaptureQueriesContext(connection) as one:
        save_answers(draft, by=world.riverside_contributor, answers=answers_for(first))
    more = [MetricFactory(framework=catalogue.framework, code=f"N{n}", kind="narrative") for n in range(20)]
    with CaptureQueriesContext(connection) as twenty:
        save_answers(draft, by=world.riverside_lead, answers=answers_for(more))
    assert len(one) == len(twenty)
    for metric, by in [(first[0], world.riverside_contributor)] + [(m, world.riverside_lead) for m in more]:
        answer = Answer.objects.get(provider_return=draft, metric=metric)
        (record,) = answer.history.all()
        assert (record.history_type, record.history_user, record.values) == ("+", by, {"text": "First."})
        assert answer.updated_by == by and answer.revision == 1


def test_submitting_asks_the_same_number_of_queries_for_6_or_60_questions(world, as_person, catalogue, draft):
    client = as_person("riverside_lead")
    complete(world, catalogue, draft)
    client.get(page_url(draft))

    def submit_queries(provider_return) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.post(submit_url(provider_return), {"confirmed": "on"})
        assert response.status_code == 302 and response.url == page_url(provider_return)
        return len(queries)

    small = submit_queries(draft)
    assert Return.objects.get(pk=draft.pk).status == ReturnStatus.SUBMITTED
    return_for_revision(draft, by=world.newham_nurse, comments="Look again.")
    add_questions(world, catalogue, draft, 54)
    large = submit_queries(draft)
    assert small == large, f"{small} queries to submit 6 answers, {large} to submit 60"
    assert large <= 23
    assert len(Submission.objects.filter(provider_return=draft).order_by("-number").first().snapshot["answers"]) == 60
