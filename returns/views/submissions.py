"""Submitting a return, reading each submission as it was made, and returning a return for revision."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from providers.services import ALREADY_DONE
from standards.models import Metric

from ..forms import DeclarationForm, RevisionRequestForm, anchor_for
from ..models import Evidence, Return, ReturnStatus, Submission
from ..selectors import metrics_for
from ..services import (
    DECLARATION,
    ReturnProblems,
    completeness_problems,
    confirm_carried_answers,
    may,
    return_for_revision,
    submit_return,
)
from .common import ReturnMixin
from .display import answer_in_words, person, submission_reference
from .page import Problem, question_named
from .return_form import JUST_SUBMITTED


@dataclass
class Missing:
    """Something that stops the return being submitted, linking to its input on the return's form."""

    metric: Metric
    message: str
    anchor: str
    field: str = ""

    @property
    def question(self) -> str:
        """The question, when the field's label does not name it (the message never starts with a code)."""
        return question_named(self.metric, self.field)


def missing_answers(provider_return: Return) -> list[Missing]:
    """What :func:`completeness_problems` finds, in the order of the questions, each with its link."""
    problems = completeness_problems(provider_return)
    metrics = {metric.code: metric for metric in metrics_for(provider_return.provider, provider_return.period)}
    missing = []
    for code, fields in problems.items():
        metric = metrics.get(code)
        if metric is None:
            continue
        missing.extend(Missing(metric, message, anchor_for(metric, name), name) for name, message in fields.items())
    order = {code: index for index, code in enumerate(metrics)}
    return sorted(missing, key=lambda item: order.get(item.metric.code, 0))


class SubmitView(ReturnMixin, View):
    """Check your answers, confirm the declaration and submit: for the provider's safeguarding lead only."""

    template_name = "returns/submit.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.provider_return = self.get_return()
            if not may(request.user, self.provider_return, "submit_return"):
                raise PermissionDenied("Only the provider's safeguarding lead can submit its return.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.show(DeclarationForm())

    def post(self, request, *args, **kwargs):
        form = DeclarationForm(request.POST)
        if not form.is_valid():
            return self.show(form)
        try:
            submission = submit_return(self.provider_return, by=request.user, declaration_confirmed=True)
        except ReturnProblems as problems:
            if problems.code == ALREADY_DONE:  # a second click, another tab, or someone else got there first
                messages.info(request, " ".join(problems.general))
                return HttpResponseRedirect(self.provider_return.get_absolute_url())
            return self.show(form, problems)
        request.session[JUST_SUBMITTED] = submission.pk
        return HttpResponseRedirect(self.provider_return.get_absolute_url())

    def show(self, form, refused: ReturnProblems | None = None):
        provider_return = self.provider_return
        period = provider_return.period
        missing = missing_answers(provider_return) if provider_return.is_editable_by_provider else []
        problems = [Problem(message) for message in (refused.general if refused else [])]
        if refused:
            # Listed here once, in the error summary, and not again below it (see ``missing_in_summary``).
            form_url = provider_return.get_absolute_url()
            problems += [Problem(item.message, f"{form_url}#{item.anchor}", item.question) for item in missing]
        problems += [Problem(error, "id_confirmed") for error in form.errors.get("confirmed", [])]
        answers = self.answers(provider_return)
        return render(
            self.request,
            self.template_name,
            {
                "provider_return": provider_return,
                "period": period,
                "declaration_form": form,
                "problems": problems,
                "missing": missing,
                "missing_in_summary": bool(refused and missing),
                "locked": period.is_locked(),
                "declaration": DECLARATION.format(provider=provider_return.provider.name),
                "answers": answers,
                "awaiting_confirmation": [row for row in answers if row["awaits_confirmation"]],
                "breadcrumbs": self.crumbs(provider_return, ("Submit", None)),
            },
        )

    def answers(self, provider_return: Return) -> list[dict]:
        """Each question with its answer in words, for the person to check before submitting."""
        answers = {answer.metric_id: answer for answer in provider_return.answers.prefetch_related("evidence")}
        provider_type = provider_return.provider.provider_type_id
        rows = []
        for metric in metrics_for(provider_return.provider, provider_return.period):
            answer = answers.get(metric.pk)
            values = answer.values if answer else {}
            rows.append(
                {
                    "metric": metric,
                    "words": answer_in_words(metric.kind, values, metric, metric.threshold_for(provider_type)),
                    "files": [e.original_name for e in answer.evidence.all()] if answer else [],
                    "anchor": f"m{metric.pk}",
                    "awaits_confirmation": answer is not None and answer.awaits_confirmation,
                }
            )
        return rows


class ConfirmCarriedView(ReturnMixin, View):
    """“Confirm all unchanged answers” on the check page: every carried-forward answer not yet confirmed or changed.

    Recorded on each answer with who and when (:func:`returns.services.confirm_carried_answers`); then back to the
    check page.
    """

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        provider_return = self.get_return()
        try:
            confirmed = confirm_carried_answers(provider_return, by=request.user)
        except ReturnProblems as problems:
            messages.error(request, " ".join(problems.general))
        else:
            if confirmed:
                count = len(confirmed)
                messages.success(
                    request,
                    f"Confirmed {count} carried-forward answer{'s' if count != 1 else ''} unchanged. Your name and "
                    "the time are recorded with each.",
                )
            else:
                messages.info(request, "No carried-forward answer was waiting to be confirmed.")
        return HttpResponseRedirect(reverse("returns:return_submit", args=[provider_return.pk]))


@dataclass
class SubmittedFramework:
    name: str
    answers: list[dict] = field(default_factory=list)


class SubmissionDetailView(ReturnMixin, View):
    """One submission of a return, readable as it was submitted: its snapshot, who, when and the declaration."""

    template_name = "returns/submission_detail.html"

    def get(self, request, *args, **kwargs):
        provider_return = self.get_return()
        submission = get_object_or_404(
            Submission.objects.filter(provider_return=provider_return).select_related("submitted_by"),
            number=kwargs["number"],
        )
        snapshot = submission.snapshot
        entries = snapshot.get("answers", [])
        metrics = self.metrics_of(entries)
        names = self.people_of(entries)
        still_held = set(
            Evidence.objects.filter(
                answer__provider_return=provider_return,
                pk__in=[file["id"] for entry in entries for file in entry.get("evidence", [])],
            ).values_list("pk", flat=True)
        )
        frameworks: dict[str, SubmittedFramework] = {}
        provider_type = provider_return.provider.provider_type_id
        for entry in entries:
            metric = metrics.get((entry.get("framework"), entry.get("metric")))
            threshold = metric.threshold_for(provider_type) if metric is not None else None
            group = frameworks.setdefault(
                entry.get("framework", ""),
                SubmittedFramework(f"{metric.framework.name} ({metric.framework.version})" if metric else ""),
            )
            group.answers.append(
                {
                    "code": entry.get("metric"),
                    "title": entry.get("title"),
                    "words": answer_in_words(entry.get("kind", ""), entry.get("values") or {}, metric, threshold),
                    "confirmed": entry.get("unusual_value_confirmed"),
                    "note": entry.get("unusual_value_note"),
                    "by": names.get(entry.get("updated_by"), entry.get("updated_by") or ""),
                    "at": entry.get("updated_at"),
                    "actions": entry.get("actions", []),
                    "evidence": [dict(file, held=file["id"] in still_held) for file in entry.get("evidence", [])],
                }
            )
        for key, group in frameworks.items():
            group.name = group.name or key
        requests = submission.revision_requests.select_related("requested_by").order_by("requested_at")
        later = Submission.objects.filter(provider_return=provider_return, number__gt=submission.number).exists()
        return render(
            request,
            self.template_name,
            {
                "provider_return": provider_return,
                "submission": submission,
                "reference": submission_reference(submission),
                "frameworks": list(frameworks.values()),
                "revision_requests": list(requests),
                "superseded": later,
                "submitted_by": person(submission.submitted_by),
                "breadcrumbs": self.crumbs(provider_return, (f"Submission {submission.number}", None)),
            },
        )

    def metrics_of(self, entries) -> dict[tuple[str, str], Metric]:
        """The catalogue's metrics the snapshot names, by (framework code and version, metric code)."""
        codes = {entry.get("metric") for entry in entries}
        metrics = Metric.objects.filter(code__in=codes).select_related("framework").prefetch_related("thresholds")
        return {(f"{m.framework.code} {m.framework.version}", m.code): m for m in metrics}

    def people_of(self, entries) -> dict[str, str]:
        usernames = {entry.get("updated_by") for entry in entries if entry.get("updated_by")}
        people = get_user_model().objects.filter(username__in=usernames)
        return {user.get_username(): person(user) for user in people}


class ReturnForRevisionView(ReturnMixin, View):
    """A designated professional of a commissioner of the provider sends a submitted return back, with comments."""

    template_name = "returns/return_for_revision.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.provider_return = self.get_return()
            if not may(request.user, self.provider_return, "review"):
                raise PermissionDenied("Only a designated professional of a commissioner of this provider can do this.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.show(RevisionRequestForm())

    def post(self, request, *args, **kwargs):
        form = RevisionRequestForm(request.POST)
        if form.is_valid():
            try:
                return_for_revision(self.provider_return, by=request.user, comments=form.cleaned_data["comments"])
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for name, field_errors in error.message_dict.items():
                        form.add_error(name if name in form.fields else None, field_errors)
                else:
                    form.add_error(None, error.messages)
            else:
                messages.success(
                    request,
                    f"The return is back with {self.provider_return.provider.name} for revision. They see your "
                    "comments at the top of their return.",
                )
                return HttpResponseRedirect(self.provider_return.get_absolute_url())
        return self.show(form)

    def show(self, form):
        provider_return = self.provider_return
        problems = [Problem(error, "id_comments") for error in form.errors.get("comments", [])]
        problems += [Problem(error) for error in form.non_field_errors()]
        return render(
            self.request,
            self.template_name,
            {
                "provider_return": provider_return,
                "comments_form": form,
                "problems": problems,
                "submitted": provider_return.status == ReturnStatus.SUBMITTED,
                "breadcrumbs": self.crumbs(provider_return, ("Return for revision", None)),
            },
        )
