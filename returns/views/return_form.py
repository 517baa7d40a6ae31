"""The return's page: every question, answered in place while the return can change, or shown as text after.

Saving sends :func:`returns.services.save_answers` only the questions whose inputs changed since the page was
rendered, so an untouched answer never conflicts with one someone else saved. Every refusal keeps what was
typed: wrong values are listed in the error summary and shown beside their inputs; an edit conflict shows the
other person's answer beside this person's and lets them save again knowingly. Evidence files chosen on the
page are attached when it is saved, and each button of the page saves what was typed before doing its own job.

The page is one form, so nothing typed anywhere on it is lost whichever button is pressed, with or without
script. Each section's "Save this section" button names its section (``section=framework-12``): the page comes
back at that section (the address's fragment) with a banner there saying what was saved, in that section and,
if anything typed elsewhere was saved with it, where. A post may carry any subset of the return's inputs: a
question none of whose inputs were sent is left as it is.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.views import View

from ..forms import BLANK_ACTION_ROWS, GRADE_CHOICES, MOST_ACTION_ROWS, YES_NO_CHOICES, rebase
from ..models import Evidence
from ..services import EditConflict, ReturnProblems, attach_evidence, may, remove_evidence, save_answers
from .common import ReturnMixin, home_crumb, return_crumb, returns_crumb
from .display import submission_reference
from .page import Problem, ReturnPage

#: The session key holding the submission just made, to confirm it once on the return's page.
JUST_SUBMITTED = "returns:just-submitted"
#: The session key holding what a section's save did, to show once in that section of the return's page.
JUST_SAVED = "returns:just-saved"
ACTION = re.compile(r"^(?P<verb>save|more-rows|remove-evidence)(?::(?P<pk>\d+))?$")


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else words or word + 's'}"


class ReturnDetailView(ReturnMixin, View):
    """A return: its questions with their answers and history; a form for those who may change it now."""

    template_name = "returns/return_detail.html"

    def get(self, request, *args, **kwargs):
        provider_return = self.get_return()
        page = ReturnPage(provider_return, request.user)
        page.build_forms(rows=self.requested_rows(request.GET))
        return self.show(page)

    def post(self, request, *args, **kwargs):
        provider_return = self.get_return()
        user = request.user
        if not may(user, provider_return, "edit_return"):
            raise PermissionDenied("You cannot change this provider's return.")
        match = ACTION.match(request.POST.get("action", "save")) or ACTION.match("save")
        verb, target = match["verb"], int(match["pk"]) if match["pk"] else None
        data = request.POST.copy()
        rows = {}
        if verb == "more-rows" and target is not None:
            posted = data.get(f"m{target}-rows", "")
            rows[target] = min((int(posted) if posted.isdigit() else 0) + BLANK_ACTION_ROWS, MOST_ACTION_ROWS)

        page = ReturnPage(provider_return, user, may_edit=True)
        page.build_forms(data, rows)
        section = self.posted_section(page)
        changed = [q for q in page.questions if q.form is not None and q.form.answer_has_changed()]
        if any(not question.form.is_valid() for question in changed):
            return self.refuse(page)
        try:
            result = save_answers(
                provider_return,
                by=user,
                answers={q.metric.pk: q.form.answer_input() for q in changed},
                metrics=page.metrics,
                asked=page.asked,
            )
        except ReturnProblems as problems:
            page.show_problems(problems)
            return self.refuse(page)
        except EditConflict as conflict:
            page = ReturnPage(provider_return, user, may_edit=True)  # the answers as they are now saved
            for found in conflict.conflicts:
                rebase(data, found.metric, page.answers.get(found.metric.pk))
            page.build_forms(data, rows)
            page.show_conflicts(conflict.conflicts)
            return self.refuse(page)

        done = [plural(len(result.saved), "answer")] if result.saved else []
        refused = ReturnProblems()
        attached = self.attach_files(page, refused)
        if attached:
            done.append(plural(len(attached), "file") + " attached")
        if verb == "remove-evidence" and target is not None:
            evidence = get_object_or_404(Evidence.objects.filter(answer__provider_return=provider_return), pk=target)
            try:
                remove_evidence(evidence, by=user)
            except ReturnProblems as problems:
                refused.general.extend(problems.general)
            else:
                done.append(f"{evidence.original_name} removed")
                target = evidence.answer.metric_id
        if section:
            self.request.session[JUST_SAVED] = self.section_report(page, section, result, attached)
        else:
            self.report(done, result.warnings)
        if refused.by_metric or refused.general:
            page = ReturnPage(provider_return, user, may_edit=True)  # what was typed is saved: show it as saved
            page.build_forms(rows=rows)
            page.show_problems(refused)
            return self.refuse(page)
        if section:
            return HttpResponseRedirect(f"{reverse('returns:return_detail', args=[provider_return.pk])}#{section}")
        return HttpResponseRedirect(self.next_url(provider_return, verb, target, rows, result.warnings, page))

    # Steps -------------------------------------------------------------------------------------------------------

    def attach_files(self, page: ReturnPage, refused: ReturnProblems) -> list[tuple[str, str]]:
        """Attach the files chosen for each question (each as its section and name); refusals go to ``refused``."""
        attached = []
        for question in page.questions:
            for upload in self.request.FILES.getlist(f"{question.prefix}-file"):
                try:
                    attach_evidence(page.provider_return, question.metric, upload, by=self.request.user)
                except ReturnProblems as problems:
                    for code, fields in problems.by_metric.items():
                        refused.by_metric.setdefault(code, {}).update(fields)
                    refused.general.extend(problems.general)
                else:
                    attached.append((question.section, upload.name))
        return attached

    def posted_section(self, page: ReturnPage) -> str:
        """The section whose "Save this section" was pressed, if it is one of the page's; else ""."""
        section = self.request.POST.get("section", "")
        return section if section in {question.section for question in page.questions} else ""

    def section_report(self, page: ReturnPage, section: str, result, attached: list[tuple[str, str]]) -> dict:
        """What a section's save did, for the banner in that section: its own answers first, then the others'."""
        sections = {question.metric.pk: question.section for question in page.questions}
        names = {question.section: question.metric.framework.name for question in page.questions}
        answers, files = defaultdict(int), defaultdict(int)
        for answer in result.saved:
            answers[sections.get(answer.metric_id, section)] += 1
        for where, _name in attached:
            files[where] += 1

        def what(where: str) -> str:
            done = [plural(answers[where], "answer")] if answers[where] else []
            if files[where]:
                done.append(plural(files[where], "file") + " attached")
            return get_text_list(done, "and")

        here = what(section)
        lines = [f"Saved in this section: {here}." if here else "Nothing had changed in this section."]
        order = dict.fromkeys(sections.values())
        elsewhere = [f"{what(where)} in {names[where]}" for where in order if where != section and what(where)]
        if elsewhere:
            lines.append(f"Also saved what you typed elsewhere: {get_text_list(elsewhere, 'and')}.")
        warnings = result.warnings
        warning = ""
        if warnings:
            warning = (
                f"{plural(len(warnings), 'figure is', 'figures are')} far from your recent ones. Check "
                f"{'it' if len(warnings) == 1 else 'each'}, and tick “Yes, this figure is right” if it is:"
            )
        to_check = [
            {"anchor": question.prefix, "title": question.metric.title}
            for question in page.questions
            if question.metric.code in warnings
        ]
        return {"section": section, "lines": lines, "warning": warning, "to_check": to_check}

    def report(self, done: list[str], warnings: dict[str, str]) -> None:
        if done:
            messages.success(self.request, f"Saved: {get_text_list(done, 'and')}.")
        elif not warnings:
            messages.info(self.request, "Nothing had changed, so there was nothing to save.")
        if warnings:
            messages.warning(
                self.request,
                f"{plural(len(warnings), 'figure is', 'figures are')} far from your recent ones. Check "
                f"{'it' if len(warnings) == 1 else 'each'} below, and tick “Yes, this figure is right” if it is.",
            )

    def refuse(self, page: ReturnPage):
        """Show the page again with every problem, keeping what was typed; no files were kept by the browser."""
        for question in page.questions:
            chosen = self.request.FILES.getlist(f"{question.prefix}-file")
            if chosen and question.form is not None and "file" not in question.form.other_errors:
                names = get_text_list([upload.name for upload in chosen], "and")
                question.form.other_errors["file"] = (
                    f"{names} {'was' if len(chosen) == 1 else 'were'} not attached, because nothing was saved. "
                    "Choose the file again."
                )
        page.collect_form_problems()
        if not page.problems and not page.conflicts:
            page.problems.append(Problem("Nothing was saved. Check the answers and save again."))
        return self.show(page)

    def requested_rows(self, query) -> dict[int, int]:
        """Action plan rows asked for in the address (``?rows-12=6``) after “Save and add more rows”."""
        rows = {}
        for key, value in query.items():
            if key.startswith("rows-") and key[5:].isdigit() and value.isdigit():
                rows[int(key[5:])] = min(int(value), MOST_ACTION_ROWS)
        return rows

    def next_url(self, provider_return, verb, target, rows, warnings, page: ReturnPage) -> str:
        url = reverse("returns:return_detail", args=[provider_return.pk])
        if verb == "more-rows" and target in rows:
            return f"{url}?rows-{target}={rows[target]}#m{target}-actions"
        if target:
            return f"{url}#m{target}"
        codes = {question.metric.code: question.metric.pk for question in page.questions}
        first_warning = next((codes[code] for code in warnings if code in codes), None)
        return f"{url}#m{first_warning}" if first_warning else url

    def show(self, page: ReturnPage):
        provider_return = page.provider_return
        just_submitted = None
        just_saved = self.request.session.pop(JUST_SAVED, None) if self.request.method == "GET" else None
        latest = page.latest_submission
        if self.request.method == "GET" and latest and self.request.session.get(JUST_SUBMITTED) == latest.pk:
            del self.request.session[JUST_SUBMITTED]
            just_submitted = latest
        return render(
            self.request,
            self.template_name,
            {
                "page": page,
                "yes_no": YES_NO_CHOICES,
                "grades": GRADE_CHOICES,
                "provider_return": provider_return,
                "period": page.period,
                "just_submitted": just_submitted,
                "just_saved": just_saved,
                "reference": submission_reference(just_submitted) if just_submitted else "",
                "breadcrumbs": [home_crumb(), returns_crumb(), (return_crumb(provider_return)[0], None)],
            },
        )
