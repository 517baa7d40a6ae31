"""The return part of a person's home page: their provider's return for the current period, or their providers'.

An inclusion tag, so the home page of :mod:`providers.views` shows returns without knowing about them.
"""

from __future__ import annotations

from django import template
from django.db.models import Prefetch
from django.utils import timezone

from ..models import ReportingPeriod, Return, Submission
from ..views.display import return_status
from ..views.lists import open_periods

register = template.Library()


def current_period(request) -> ReportingPeriod | None:
    """The period whose quarter ended most recently, asked once per request."""
    if not hasattr(request, "_returns_current_period"):
        request._returns_current_period = ReportingPeriod.objects.current()
    return request._returns_current_period


@register.inclusion_tag("returns/partials/home.html", takes_context=True)
def returns_on_home(context, entry, level=2):
    """``entry`` is a :class:`providers.views.OrganisationOnHome`; headings start at ``level``."""
    request = context["request"]
    period = current_period(request)
    shown = {"entry": entry, "period": period, "level": level, "rows": [], "csrf_token": context.get("csrf_token")}
    if period is None:
        return shown
    organisation = entry.organisation
    returns = (
        Return.objects.restrict(request.user)
        .filter(period=period)
        .select_related("provider")
        .prefetch_related(Prefetch("submissions", queryset=Submission.objects.order_by("number")))
    )
    if organisation.is_provider:
        provider_return = returns.filter(provider=organisation).first()
        shown["provider_return"] = provider_return
        shown["status"] = return_status(provider_return, period)
        shown["may_start"] = provider_return is None and "edit_return" in entry.permissions and period in open_periods()
        shown["to_do"] = shown["status"].key in {"not_started", "draft", "overdue", "returned"}
        shown["days_left"] = (period.submission_deadline - timezone.localdate()).days
        shown["days_over"] = -shown["days_left"]
    else:
        # A provider owes its commissioner a return only through an accepted contract (one proposed asks nothing).
        providers = [item.provider for item in entry.providers if any(link.contract.is_accepted for link in item.links)]
        by_provider = {r.provider_id: r for r in returns.filter(provider__in=[p.pk for p in providers])}
        shown["rows"] = [
            {
                "provider": p,
                "provider_return": by_provider.get(p.pk),
                "status": return_status(by_provider.get(p.pk), period),
            }
            for p in providers
        ]
    return shown
