"""What every return page shares: the return, found only among those the person may see, and its breadcrumbs."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.urls import reverse

from providers.models import names_then
from providers.scoping import ScopedQuerysetMixin

from ..models import Return


def home_crumb() -> tuple[str, str]:
    return ("Home", reverse("home"))


def returns_crumb() -> tuple[str, str]:
    return ("Returns", reverse("returns:return_list"))


def return_crumb(provider_return: Return) -> tuple[str, str]:
    return (
        f"{getattr(provider_return, 'provider_name_then', None) or provider_return.provider.name}, "
        f"{provider_return.period.label.split(' (')[0]}",
        reverse("returns:return_detail", args=[provider_return.pk]),
    )


class ReturnMixin(LoginRequiredMixin, ScopedQuerysetMixin):
    """A page about one return: the return is looked up in ``Return.objects.restrict(user, "view")``.

    Another organisation's return is simply not found (404); what the person may do to a return they can see
    is checked by the service (or :func:`returns.services.may`) and refused with 403.
    """

    model = Return

    def get_return(self) -> Return:
        """The return, with the provider's name in the return's period (``provider_name_then``, when it differs)."""
        queryset = self.get_queryset().select_related("provider__provider_type", "period")
        queryset = queryset.annotate(**names_then("provider", "period__ends_on", "provider"))
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def crumbs(self, provider_return: Return, *last) -> list[tuple[str, str | None]]:
        return [home_crumb(), returns_crumb(), return_crumb(provider_return), *last]
