"""The returns a person may see, by period, and starting a provider's return for an open period."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from providers.models import Organisation
from providers.scoping import ScopedQuerysetMixin, provider_ids

from ..models import ReportingPeriod, Return, Submission
from ..services import open_return
from .common import home_crumb
from .display import Status, latest_of, return_status


@dataclass
class ReturnRow:
    provider_return: Return
    status: Status

    @property
    def latest(self) -> Submission | None:
        return latest_of(self.provider_return)


@dataclass
class PeriodGroup:
    period: ReportingPeriod
    rows: list[ReturnRow] = field(default_factory=list)
    startable: list[Organisation] = field(default_factory=list)


def providers_to_start_for(user):
    """The providers whose returns the person starts: those they may edit (administrators start none here)."""
    ids = provider_ids(user, "edit_return")
    if ids is None:
        return Organisation.objects.none()
    return Organisation.objects.providers().filter(pk__in=ids).order_by("name")


def open_periods(today=None) -> list[ReportingPeriod]:
    """Periods whose quarter has ended and which are not locked: returns can be started and changed for them."""
    today = today or timezone.localdate()
    return [period for period in ReportingPeriod.objects.filter(ends_on__lt=today) if not period.is_locked(today)]


class ReturnListView(LoginRequiredMixin, ScopedQuerysetMixin, ListView):
    """Every return the person may see, newest period first, with a button to start one due and not started."""

    model = Return
    template_name = "returns/return_list.html"
    context_object_name = "returns"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("provider", "period")
            .prefetch_related(Prefetch("submissions", queryset=Submission.objects.select_related("submitted_by")))
            .order_by("-period__financial_year", "-period__quarter", "provider__name")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        groups: dict[int, PeriodGroup] = {}
        started: set[tuple[int, int]] = set()
        for provider_return in context["returns"]:
            period = provider_return.period
            group = groups.setdefault(period.pk, PeriodGroup(period))
            group.rows.append(ReturnRow(provider_return, return_status(provider_return, period, today)))
            started.add((provider_return.provider_id, period.pk))
        providers = list(providers_to_start_for(self.request.user))
        for period in open_periods(today) if providers else []:
            for provider in providers:
                if (provider.pk, period.pk) not in started:
                    groups.setdefault(period.pk, PeriodGroup(period)).startable.append(provider)
        ordered = sorted(groups.values(), key=lambda g: (g.period.financial_year, g.period.quarter), reverse=True)
        context.update(
            periods=ordered,
            several_providers=len(providers) > 1,
            today=today,
            breadcrumbs=[home_crumb(), ("Returns", None)],
        )
        return context


class StartReturnView(LoginRequiredMixin, View):
    """Start a provider's return for an open period (POST from the returns list or the home page)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        provider = get_object_or_404(providers_to_start_for(request.user), pk=_whole(request.POST.get("provider")))
        period = get_object_or_404(ReportingPeriod, pk=_whole(request.POST.get("period")))
        if period not in open_periods():
            messages.error(
                request,
                f"The return for {period.label} cannot be started: "
                + ("the period is locked." if period.is_locked() else "the quarter has not ended yet."),
            )
            return HttpResponseRedirect(reverse("returns:return_list"))
        provider_return = open_return(provider, period, by=request.user)
        return HttpResponseRedirect(provider_return.get_absolute_url())


def _whole(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such provider or period.") from None
