"""The tasks of a commissioner's people at the top of their home page (reviews.home), most urgent first.

An inclusion tag, so the home page of :mod:`providers.views` leads with each role's task without knowing about
reviews.
"""

from __future__ import annotations

from django import template

from returns.templatetags.returns_home import current_period

from ..home import blocks_for

register = template.Library()


@register.inclusion_tag("reviews/partials/home_tasks.html", takes_context=True)
def tasks_on_home(context, entry, level=2):
    """``entry`` is a :class:`providers.views.OrganisationOnHome`; headings start at ``level``."""
    request = context["request"]
    blocks = []
    if not entry.organisation.is_provider:
        blocks = blocks_for(request.user, entry.organisation, entry.role_codes, current_period(request))
    return {"blocks": blocks, "entry": entry, "level": level, "organisation": entry.organisation}
