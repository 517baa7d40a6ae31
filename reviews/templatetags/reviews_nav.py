"""Whether the signed-in person sees assurance (dashboards, completeness, trends): for the nav and home page.

Asked at most once per request, with one small query on the person's own permissions.
"""

from __future__ import annotations

from django import template

from providers.scoping import is_signed_in, organisations_with_permission, sees_everything

register = template.Library()


def sees_assurance(user) -> bool:
    """Designated professionals, committee members, commissioner admins and administrators see assurance."""
    if not is_signed_in(user):
        return False
    return sees_everything(user) or organisations_with_permission(user, "view_assurance").exists()


@register.simple_tag(takes_context=True)
def may_see_assurance(context) -> bool:
    """``{% may_see_assurance as shown %}``: whether to offer the dashboard to the person asking."""
    request = context.get("request")
    user = context.get("user")
    if request is None:
        return sees_assurance(user)
    if not hasattr(request, "_reviews_sees_assurance"):
        request._reviews_sees_assurance = sees_assurance(getattr(request, "user", user))
    return request._reviews_sees_assurance
