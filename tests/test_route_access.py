"""Every route of the project, requested anonymously, as a person of another organisation, and as the right person.

This walks the whole URLconf (pages, API and admin). Each route must have an entry in ``ROUTES`` saying who may
use it; a route without one fails ``test_every_route_is_covered``, so a new page cannot ship unchecked.

Kinds of route:

- ``public``: anyone, signed in or not (sign-in, password reset).
- ``signed_in``: any signed-in person; shared, non-tenant data such as the standards catalogue.
- ``tenant``: an organisation's business. ``make(world)`` returns a :class:`Case`: the URL's kwargs for an
  object of one organisation, the person who may see it, and a ``secret`` text of that organisation. People of
  other organisations (a provider and a commissioner not on its contract) get 404 for object routes, and never
  see the secret on list routes.
- ``admin``: Django admin; anonymous people and signed-in people who are not staff are sent to the admin sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import FrameworkFactory, MetricFactory, StandardFactory, ThresholdFactory
from tests.world import fast_password_hashing, world  # noqa: F401


@dataclass
class Case:
    kwargs: dict = field(default_factory=dict)
    owner: object = None  # the person who may use the route
    secret: str = ""  # text of the owner's organisation that nobody else may see
    strangers: tuple[str, ...] = ("eastway_lead", "luton_nurse")  # names in the world fixture


@dataclass
class Route:
    access: str  # public | signed_in | tenant | admin
    make: Callable | None = None  # world -> Case
    method: str = "get"
    owner_status: int = 200
    data: Callable | None = None  # world -> POST data


def catalogue_framework(world):
    framework = FrameworkFactory(name="Shared catalogue framework")
    return Case(kwargs={"pk": framework.pk}, owner=world.riverside_contributor)


def catalogue_standard(world):
    standard = StandardFactory(title="A shared standard")
    return Case(kwargs={"pk": standard.pk}, owner=world.riverside_contributor)


def catalogue_metric(world):
    metric = MetricFactory(title="A shared metric")
    ThresholdFactory(metric=metric)
    return Case(kwargs={"pk": metric.pk}, owner=world.riverside_contributor)


def anyone(world):
    return Case(owner=world.riverside_contributor)


ROUTES: dict[str, Route] = {
    # Accounts
    "login": Route("public"),
    "logout": Route("public", method="post", owner_status=302),
    "password_reset": Route("public"),
    "password_reset_done": Route("public"),
    "password_reset_confirm": Route("public", make=lambda w: Case(kwargs={"uidb64": "MQ", "token": "set-password"})),
    "password_reset_complete": Route("public"),
    # The standards catalogue: shared by every signed-in person
    "home": Route("signed_in", make=anyone),
    "standards:framework_list": Route("signed_in", make=anyone),
    "standards:framework_detail": Route("signed_in", make=catalogue_framework),
    "standards:standard_detail": Route("signed_in", make=catalogue_standard),
    "standards:metric_list": Route("signed_in", make=anyone),
    "standards:metric_detail": Route("signed_in", make=catalogue_metric),
    "framework-list": Route("signed_in", make=anyone),
    "framework-detail": Route("signed_in", make=catalogue_framework),
    "framework-export": Route("signed_in", make=catalogue_framework),
    "standard-list": Route("signed_in", make=anyone),
    "standard-detail": Route("signed_in", make=catalogue_standard),
    "metric-list": Route("signed_in", make=anyone),
    "metric-detail": Route("signed_in", make=catalogue_metric),
    "api-root": Route("signed_in", make=anyone),
    "api-schema": Route("signed_in", make=anyone),
    "api-docs": Route("signed_in", make=anyone),
}


@dataclass
class Found:
    name: str | None
    pattern: str
    params: list[str]


def walk(patterns, prefix="", namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace and (f"{namespace}:{entry.namespace}" if namespace else entry.namespace)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns or namespace)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Found(name, prefix + str(entry.pattern), list(entry.pattern.regex.groupindex))


ALL_ROUTES = list(walk(get_resolver().url_patterns))
APP_ROUTES = [r for r in ALL_ROUTES if not r.pattern.startswith("admin/")]
ADMIN_ROUTES = [r for r in ALL_ROUTES if r.pattern.startswith("admin/")]


def test_every_route_is_covered():
    names = {r.name for r in APP_ROUTES}
    unnamed = [r.pattern for r in APP_ROUTES if not r.name]
    assert not unnamed, f"routes without a name cannot be checked: {unnamed}"
    missing = sorted(names - set(ROUTES))
    assert not missing, f"add these routes to ROUTES in {__file__} with who may use them: {missing}"
    stale = sorted(set(ROUTES) - names)
    assert not stale, f"ROUTES names routes that no longer exist: {stale}"


def url_for(route: Found, kwargs: dict) -> str:
    kwargs = dict(kwargs)
    if "format" in route.params:
        kwargs["format"] = "json"
    return reverse(route.name, kwargs={k: v for k, v in kwargs.items() if k in route.params})


def request(client, route: Route, url: str, world=None):
    data = route.data(world) if route.data and world else {}
    return getattr(client, route.method)(url, data) if route.method == "post" else client.get(url)


def is_api(url: str) -> bool:
    return url.startswith("/api/")


@pytest.mark.django_db
@pytest.mark.parametrize("found", APP_ROUTES, ids=lambda r: r.pattern)
def test_route_refuses_anonymous_people_unless_public(client, world, found):
    route = ROUTES[found.name]
    case = route.make(world) if route.make else Case()
    url = url_for(found, case.kwargs)
    response = request(client, route, url, world)
    if route.access == "public":
        assert response.status_code in (200, route.owner_status), url
        return
    if is_api(url):
        assert response.status_code in (401, 403), url
    else:
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
@pytest.mark.parametrize("found", [r for r in APP_ROUTES if ROUTES.get(r.name, Route("public")).access != "public"],
                         ids=lambda r: r.pattern)  # fmt: skip
def test_route_serves_the_right_person_and_nobody_else(client, world, found):
    route = ROUTES[found.name]
    case = route.make(world)
    url = url_for(found, case.kwargs)

    client.force_login(case.owner)
    response = request(client, route, url, world)
    assert response.status_code == route.owner_status, f"{url} as its owner"
    if case.secret and route.method == "get":
        assert case.secret in response.content.decode(), f"{url} should show its owner {case.secret!r}"
    client.logout()

    for stranger_name in case.strangers:
        stranger = getattr(world, stranger_name)
        client.force_login(stranger)
        response = request(client, route, url, world)
        if route.access == "signed_in":
            assert response.status_code == route.owner_status, f"{url} as {stranger_name}"
        elif found.params:  # an object of another organisation is simply not there
            assert response.status_code == 404, f"{url} as {stranger_name} gave {response.status_code}"
            assert case.secret not in response.content.decode()
        else:  # a list: the page works, but shows nothing of the other organisation
            assert response.status_code in (200, 403, 404), f"{url} as {stranger_name}"
            assert case.secret not in response.content.decode(), f"{url} leaks {case.secret!r} to {stranger_name}"
        client.logout()


def admin_url(route: Found) -> str:
    path = re.sub(r"<(?:\w+:)?\w+>", "1", route.pattern)
    path = re.sub(r"\^|\$", "", path)
    path = re.sub(r"\([^)]*\)", "1", path)
    return "/" + path


@pytest.mark.django_db
def test_admin_routes_are_for_staff_only(client, django_user_model):
    """Anonymous people and signed-in people who are not staff are sent to the admin sign-in, on every admin route."""
    assert len(ADMIN_ROUTES) > 50
    member = django_user_model.objects.create_user("not-staff", password="x" * 16)
    refused = []
    for found in ADMIN_ROUTES:
        url = admin_url(found)
        if found.name == "admin:login":
            assert client.get(url).status_code == 200
            continue
        # Signing out of admin sends people to the admin index, which in turn asks them to sign in as staff.
        allowed = ("/admin/",) if found.name == "admin:logout" else ("/admin/login/",)
        for person in (None, member):
            if person:
                client.force_login(person)
            response = client.get(url)
            if response.status_code != 302 or not response["Location"].startswith(allowed):
                refused.append(f"{url} as {person or 'anonymous'}: {response.status_code}")
            client.logout()
    assert not refused, "admin routes open to non-staff:\n" + "\n".join(refused)
