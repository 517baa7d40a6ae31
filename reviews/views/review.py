"""Pages of a return's review and of providers' action plans, for designated professionals and those who read them.

- **A return's review** (``return_review``): its status and every answer's, grouped by framework and standard,
  with what reviewers decided; a designated professional accepts it (``return_accept``) or returns it for
  revision (the returns app's page).
- **An answer's review** (``answer_review``): everything about one answer, the history of review acts and the
  comments, with forms to agree (``answer_agree``), change the status with a reason (``answer_override``) and
  comment (``answer_comment``).
- **Action plans** (``action_list``) and one action's follow-up (``action_follow_up``).

Returns and actions are found only among those the person may see (:mod:`providers.scoping`): another
organisation's is simply not found (404). Every act goes through :mod:`reviews.services`, which checks who may
do it (403 otherwise) and words every refusal, shown in the error summary and beside its field.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from providers.models import Organisation, OrganisationKind
from providers.scoping import accepted_links, provider_ids, restrict_by_period
from returns.models import ActionPlanItem, Return
from returns.services import may
from returns.views.common import home_crumb, return_crumb
from returns.views.display import person
from returns.views.page import Problem
from standards.kinds import LONGEST_COMMENT, LONGEST_NOTE, RequirementKind, SelfAssessmentGrade

from .. import selectors, services
from ..models import REVIEW_COLOURS, ActionFollowUp
from ..rag import GRADE_COLOURS, Colour
from .dashboards import commissioner_options
from .review_page import AnswerPage, ReviewPage, return_for_review, when

COLOUR_CHOICES = [(colour.value, colour.label) for colour in REVIEW_COLOURS]
#: For a self-assessment, each colour is the grade it stands for (reviews.rag.GRADE_COLOURS), said with its colour.
GRADE_CHOICES = [
    (colour.value, f"{SelfAssessmentGrade(grade).label} ({colour.label.lower()})")
    for colour in REVIEW_COLOURS
    for grade, graded in GRADE_COLOURS.items()
    if graded == colour
]
DONE_CHOICES = [("yes", "Yes, it is done"), ("no", "No, not yet")]


def review_url(provider_return: Return) -> str:
    return reverse("reviews:return_review", args=[provider_return.pk])


def answer_url(provider_return: Return, code: str) -> str:
    return reverse("reviews:answer_review", args=[provider_return.pk, code])


def refusal_messages(refused: ValidationError) -> dict[str, str]:
    """A service's refusal as one message per field ("" for the act as a whole)."""
    if hasattr(refused, "error_dict"):
        return {name: " ".join(refused.message_dict[name]) for name in refused.error_dict}
    return {"": " ".join(refused.messages)}


class ReviewMixin(LoginRequiredMixin):
    """A page about one return's review: the return is looked up in ``Return.objects.restrict(user, "view")``."""

    def get_return(self) -> Return:
        provider_return = return_for_review(Return.objects.restrict(self.request.user, "view"), self.kwargs["pk"])
        if provider_return is None:
            raise Http404("No such return.")
        return provider_return

    def crumbs(self, provider_return: Return, *last) -> list[tuple[str, str | None]]:
        return [home_crumb(), ("Returns", reverse("returns:return_list")), return_crumb(provider_return), *last]


# A return's review.


class ReturnReviewView(ReviewMixin, View):
    """A return's status and every answer's, with reviewers' decisions; ``?standard=`` or ``?group=`` narrows."""

    template_name = "reviews/return_review.html"

    def get(self, request, *args, **kwargs):
        provider_return = self.get_return()
        page = ReviewPage(provider_return, request.user)
        standard, group = request.GET.get("standard", "").strip(), request.GET.get("group", "").strip()
        frameworks, narrowed_to = page.narrowed(standard=standard, group=group)
        return render(
            request,
            self.template_name,
            {
                "page": page,
                "provider_return": provider_return,
                "frameworks": frameworks,
                "narrowed_to": narrowed_to,
                "breadcrumbs": self.crumbs(provider_return, ("Review", None)),
            },
        )


class ReturnAcceptView(ReviewMixin, View):
    """POST: a designated professional accepts the latest submission of the return."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        provider_return = self.get_return()
        try:
            services.accept_return(provider_return, by=request.user)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(request, f"You accepted {provider_return.provider.name}'s return.")
        return HttpResponseRedirect(review_url(provider_return))


# An answer's review.


class AnswerReviewView(ReviewMixin, View):
    """One answer: its value, status and explanation, evidence, action plan, review history, comments and forms."""

    template_name = "reviews/answer_review.html"

    def get(self, request, *args, **kwargs):
        return self.show(*self.get_answer())

    def get_answer(self):
        provider_return = self.get_return()
        page = ReviewPage(provider_return, self.request.user)
        row = page.row_for(self.kwargs["code"])
        if row is None:
            raise Http404("This return does not ask that question.")
        return page, row

    def show(self, page: ReviewPage, row, *, act: str = "", errors: dict | None = None, data=None):
        """The answer's page; after a refused act, with its errors and what was chosen and typed kept."""
        errors = errors or {}
        data = data or {}
        problems = []
        anchors = {"colour": "override-colour", "reason": "override-reason", "text": "comment-text", "": ""}
        for name, message in errors.items():
            problems.append(Problem(message, anchors.get(name, "")))
        provider_return = page.provider_return
        return render(
            self.request,
            self.template_name,
            {
                "page": page,
                "row": row,
                "answer": AnswerPage(page, row),
                "provider_return": provider_return,
                "colours": GRADE_CHOICES if row.metric.kind == RequirementKind.SELF_ASSESSMENT else COLOUR_CHOICES,
                "grades": row.metric.kind == RequirementKind.SELF_ASSESSMENT,
                "act": act,
                "errors": errors,
                "problems": problems,
                "longest_comment": LONGEST_COMMENT,
                "comment_limit": f"Up to {LONGEST_COMMENT:,} characters.",
                "chosen_colour": data.get("colour", ""),
                "reason": data.get("reason", ""),
                "comment": data.get("text", ""),
                "breadcrumbs": self.crumbs(
                    provider_return, ("Review", review_url(provider_return)), (row.metric.code, None)
                ),
            },
        )


class AnswerActView(AnswerReviewView):
    """POST of one act on an answer: each subclass's ``perform`` calls its service and says what was done; a
    refusal shows the answer's page with the errors and what was chosen and typed."""

    http_method_names = ["post"]
    act = ""

    def post(self, request, *args, **kwargs):
        page, row = self.get_answer()
        data = {name: request.POST.get(name, "") for name in ("colour", "reason", "text")}
        try:
            done = self.perform(page.provider_return, row.metric, data)
        except ValidationError as refused:
            return self.show(page, row, act=self.act, errors=refusal_messages(refused), data=data)
        messages.success(request, done)
        return HttpResponseRedirect(answer_url(page.provider_return, row.metric.code))


class AnswerAgreeView(AnswerActView):
    act = "agree"

    def perform(self, provider_return, metric, data) -> str:
        services.agree_status(provider_return, metric, by=self.request.user)
        return f"You agreed with the status of {metric.code}."


class AnswerOverrideView(AnswerActView):
    act = "override"

    def perform(self, provider_return, metric, data) -> str:
        review = services.override_status(
            provider_return, metric, by=self.request.user, colour=data["colour"], reason=data["reason"]
        )
        return f"You changed the status of {metric.code} to {Colour(review.colour).label.lower()}."


class AnswerCommentView(AnswerActView):
    act = "comment"

    def perform(self, provider_return, metric, data) -> str:
        services.comment_on_answer(provider_return, metric, by=self.request.user, text=data["text"])
        return f"Your comment on {metric.code} was added."


# Action plans.


class ActionListView(LoginRequiredMixin, View):
    """Actions in the action plans the person may see: overdue, due soon, not due yet and done; filters by state,
    commissioner (a whole ICB, with its places' contracts, or one place) and provider."""

    template_name = "reviews/action_list.html"

    def get(self, request, *args, **kwargs):
        actions = selectors.action_plans(request.user)
        # The commissioners the person belongs to, as the assurance pages offer them (the whole ICB, then each place).
        commissioners = {
            organisation.pk: organisation
            for organisation in Organisation.objects.restrict(request.user)
            .filter(kind=OrganisationKind.COMMISSIONER)
            .order_by("name")
        }
        commissioner = request.GET.get("commissioner", "")
        commissioner = commissioner if commissioner in {str(pk) for pk in commissioners} else ""
        if commissioner:
            # The providers on an accepted contract held by the commissioner or, for an ICB, by one of its places.
            held = set(accepted_links([int(commissioner)]).values_list("contract__provider_id", flat=True))
            actions = [due for due in actions if due.provider.pk in held]
        providers = sorted({(due.provider.pk, due.provider.name) for due in actions}, key=lambda p: (p[1], p[0]))
        state = request.GET.get("state", "")
        state = state if state in selectors.ACTION_STATES else ""
        provider = request.GET.get("provider", "")
        provider = provider if provider in {str(pk) for pk, _ in providers} else ""
        counts = {key: sum(1 for due in actions if due.state == key) for key in selectors.ACTION_STATES}
        shown = [
            due
            for due in actions
            if (not state or due.state == state) and (not provider or str(due.provider.pk) == provider)
        ]
        reviewer_of = provider_ids(request.user, "review")
        may_follow_up = reviewer_of is None or reviewer_of.exists()
        return render(
            request,
            self.template_name,
            {
                "actions": shown,
                "total": len(actions),
                "counts": [(key, label, counts[key]) for key, label in selectors.ACTION_STATES.items()],
                "states": selectors.ACTION_STATES,
                "providers": providers,
                "commissioners": commissioner_options(commissioners),
                "commissioner": commissioner,
                "state": state,
                "provider": provider,
                "may_follow_up": may_follow_up,
                "breadcrumbs": [home_crumb(), ("Action plans", None)],
            },
        )


class ActionFollowUpView(LoginRequiredMixin, View):
    """One action of a provider's plan with its follow-up history; a designated professional records done or not."""

    template_name = "reviews/action_follow_up.html"

    def get_item(self) -> ActionPlanItem:
        items = restrict_by_period(
            ActionPlanItem.objects.select_related(
                "answer__metric", "answer__provider_return__provider", "answer__provider_return__period"
            ),
            self.request.user,
            "view",
            "answer__provider_return__provider",
            "answer__provider_return__period",
        )
        return get_object_or_404(items, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        return self.show(self.get_item())

    def post(self, request, *args, **kwargs):
        item = self.get_item()
        answer = request.POST.get("done", "")
        done = {"yes": True, "no": False}.get(answer)
        note = request.POST.get("note", "")
        try:
            follow_up = services.follow_up_action(item, by=request.user, done=done, note=note)
        except ValidationError as refused:
            return self.show(item, errors=refusal_messages(refused), data={"done": answer, "note": note})
        messages.success(request, "The follow-up was recorded: " + ("done." if follow_up.is_done else "not done yet."))
        return HttpResponseRedirect(reverse("reviews:action_follow_up", args=[item.pk]))

    def show(self, item: ActionPlanItem, *, errors: dict | None = None, data: dict | None = None):
        errors = errors or {}
        follow_up = ActionFollowUp.objects.filter(item=item).select_related("updated_by").first()
        history = []
        if follow_up is not None:
            for record in follow_up.history.select_related("history_user").order_by("history_date", "history_id"):
                done = f"Done (on {record.done_on:%-d %B %Y})" if record.is_done else "Not done yet"
                history.append(
                    {"who": person(record.history_user), "when": when(record.history_date), "state": done,
                     "note": record.note}
                )  # fmt: skip
        provider_return = item.answer.provider_return
        may_follow_up = may(self.request.user, provider_return, "review")
        if data is None:
            data = {"done": "", "note": ""}
            if follow_up is not None:
                data = {"done": "yes" if follow_up.is_done else "no", "note": follow_up.note}
        today = timezone.localdate()
        if follow_up is not None and follow_up.is_done:
            state = "done"
        elif item.due_on < today:
            state = "overdue"
        else:
            state = "due" if item.due_on <= today + datetime.timedelta(days=30) else "later"
        problems = [Problem(message, name if name in ("done", "note") else "") for name, message in errors.items()]
        return render(
            self.request,
            self.template_name,
            {
                "item": item,
                "provider_return": provider_return,
                "follow_up": follow_up,
                "history": history,
                "may_follow_up": may_follow_up,
                "choices": DONE_CHOICES,
                "data": data,
                "errors": errors,
                "problems": problems,
                "longest_note": LONGEST_NOTE,
                "note_limit": f"Up to {LONGEST_NOTE:,} characters.",
                "state": state,
                "state_label": selectors.ACTION_STATES[state],
                "breadcrumbs": [
                    home_crumb(),
                    ("Action plans", reverse("reviews:action_list")),
                    (item.action[:40] + ("…" if len(item.action) > 40 else ""), None),
                ],
            },
        )
