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

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from providers.models import Invitation, Membership, Role
from providers.services import invitation_token
from returns.models import ActionPlanItem, Answer, Evidence, ReportingPeriod, Return, Submission
from standards.models import Mapping, MappingKind, Metric
from tests.factories import FrameworkFactory, MetricFactory, StandardFactory, ThresholdFactory
from tests.providers.factories import ContractFactory, member
from tests.world import fast_password_hashing, icbs, world  # noqa: F401


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


def catalogue_mapping(world):
    source, target = MetricFactory(kind="policy"), MetricFactory(kind="policy")
    mapping = Mapping.objects.create(
        kind=MappingKind.SAME_MEASURE, source_metric=source, target_metric=target, note="Both ask it."
    )
    return Case(kwargs={"pk": mapping.pk}, owner=world.riverside_contributor)


def anyone(world):
    return Case(owner=world.riverside_contributor)


# Organisations, contracts and people: Riverside's business, seen by its own people and by Newham (which
# co-ordinates its contract); Eastway's lead and Luton's nurse are strangers to it.


def riverside_business(world):
    """A list of Riverside's lead: it shows Riverside, and nobody else's list does."""
    return Case(owner=world.riverside_lead, secret=world.riverside.name)


def riverside(world):
    return Case(kwargs={"pk": world.riverside.pk}, owner=world.riverside_lead, secret=world.riverside.name)


def riverside_for_newham_admin(world):
    """Riverside's record, kept by Newham's admin (Newham co-ordinates its contract); Hackney's admin cannot."""
    return Case(
        kwargs={"pk": world.riverside.pk},
        owner=world.newham_admin,
        secret=world.riverside.name,
        strangers=("eastway_lead", "luton_nurse", "hackney_admin"),
    )


def riverside_contract(world):
    return Case(kwargs={"pk": world.riverside_contract.pk}, owner=world.riverside_lead, secret=world.riverside.name)


def riverside_contract_for_newham_admin(world):
    return Case(
        kwargs={"pk": world.riverside_contract.pk},
        owner=world.newham_admin,
        secret=world.riverside.name,
        strangers=("eastway_lead", "luton_nurse", "hackney_admin"),
    )


def newham_admin(world):
    """A page for adding things, for Newham's admin, about Newham; people who manage no contracts get 403."""
    return Case(owner=world.newham_admin, secret=world.newham.name)


def riverside_members(world):
    """Riverside's people, for its lead; Newham's admin sees Riverside but does not manage its members."""
    return Case(
        kwargs={"pk": world.riverside.pk},
        owner=world.riverside_lead,
        secret=world.riverside_contributor.email,
        strangers=("eastway_lead", "luton_nurse", "newham_admin"),
    )


def riverside_contributors_membership(world):
    membership = Membership.objects.get(user=world.riverside_contributor, organisation=world.riverside)
    return Case(
        kwargs={"pk": world.riverside.pk, "membership_pk": membership.pk},
        owner=world.riverside_lead,
        secret=world.riverside_contributor.email,
        strangers=("eastway_lead", "luton_nurse", "newham_admin"),
    )


def riverside_invitation(world) -> Invitation:
    invitation, _ = Invitation.objects.get_or_create(
        email="new.colleague@riverside.example",
        organisation=world.riverside,
        defaults={"role": Role.PROVIDER_CONTRIBUTOR, "invited_by": world.riverside_lead, "expires_at": in_a_week()},
    )
    return invitation


def riverside_open_invitation(world):
    return Case(
        kwargs={"pk": world.riverside.pk, "invitation_pk": riverside_invitation(world).pk},
        owner=world.riverside_lead,
        secret="new.colleague@riverside.example",
        strangers=("eastway_lead", "luton_nurse", "newham_admin"),
    )


def invitation_link(world):
    return Case(kwargs={"token": invitation_token(riverside_invitation(world))})


def riverside_contributors_membership_api(world):
    membership = Membership.objects.get(user=world.riverside_contributor, organisation=world.riverside)
    return Case(kwargs={"pk": membership.pk}, owner=world.riverside_lead, secret=world.riverside_contributor.email)


def in_a_week():
    return timezone.now() + datetime.timedelta(days=7)


def open_period():
    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        financial_year=2025,
        quarter=2,
        submission_deadline=today + datetime.timedelta(days=30),
        lock_date=today + datetime.timedelta(days=60),
    )


def reporting_period(world):
    return Case(kwargs={"pk": open_period().pk}, owner=world.riverside_contributor)


def riverside_return(world, owner="riverside_lead"):
    """Riverside's draft return, seen by its own people and Newham's (which commissions it)."""
    provider_return = Return.objects.create(provider=world.riverside, period=open_period())
    return Case(
        kwargs={"pk": provider_return.pk, "metric_pk": MetricFactory().pk},
        owner=getattr(world, owner),
        secret=world.riverside.name,
    )


def riverside_returns(world):
    riverside_return(world)
    return Case(owner=world.riverside_lead, secret=world.riverside.name)


def riverside_period_to_start(world):
    """An open period in which Riverside has no return yet: its own people start it; nobody else can."""
    open_period()
    return Case(owner=world.riverside_lead, secret=world.riverside.name)


def riverside_submission(world):
    case = riverside_return(world)
    Submission.objects.create(
        provider_return_id=case.kwargs["pk"],
        number=1,
        submitted_by=world.riverside_lead,
        declaration="Declared.",
        snapshot={"answers": []},
    )
    return Case(kwargs={"pk": case.kwargs["pk"], "number": 1}, owner=case.owner, secret=case.secret)


def riverside_evidence(world):
    """A file of Riverside's, downloaded by its commissioner's designated nurse."""
    case = riverside_return(world)
    answer = Answer.objects.create(provider_return_id=case.kwargs["pk"], metric_id=case.kwargs["metric_pk"])
    content = f"%PDF-1.7 {world.riverside.name} evidence".encode()
    evidence = Evidence.objects.create(
        answer=answer, file=SimpleUploadedFile("policy.pdf", content), original_name="policy.pdf",
        content_type="application/pdf", size=len(content), uploaded_by=world.riverside_contributor,
    )  # fmt: skip
    return Case(kwargs={"pk": evidence.pk}, owner=world.newham_nurse, secret=world.riverside.name)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Evidence files made for these routes go to a temporary folder, not the project's private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


def riverside_assurance(world):
    open_period()
    world.riverside_contract.frameworks.add(FrameworkFactory())
    return Case(owner=world.newham_nurse, secret=world.riverside.name)


def riverside_framework_assurance(world):
    """A framework's drill-down of the dashboard: Riverside's contract names it; strangers' providers' do not."""
    open_period()
    framework = FrameworkFactory(code="riverside-only")
    world.riverside_contract.frameworks.add(framework)
    return Case(kwargs={"code": framework.code}, owner=world.newham_nurse, secret=world.riverside.name)


def riverside_moderation(world):
    """The moderation page and its API: Riverside's contract names the Section 11 children standards."""
    open_period()
    world.riverside_contract.frameworks.add(FrameworkFactory(code="nel-section-11-children"))
    return Case(owner=world.newham_nurse, secret=world.riverside.name)


def riverside_action(world):
    case = riverside_return(world, owner="newham_nurse")
    Submission.objects.create(
        provider_return_id=case.kwargs["pk"],
        number=1,
        submitted_by=world.riverside_lead,
        declaration="Declared.",
        snapshot={"answers": []},
    )
    answer = Answer.objects.create(provider_return_id=case.kwargs["pk"], metric_id=case.kwargs["metric_pk"])
    item = ActionPlanItem.objects.create(
        answer=answer, action="Train the night staff", owner="Named nurse", due_on=timezone.localdate()
    )
    return Case(kwargs={"pk": item.pk}, owner=world.newham_nurse, secret=world.riverside.name)


def riverside_for_review(world):
    return riverside_return(world, owner="newham_nurse")


def newham_committee_report(world):
    """Newham's committee report, ready, read by a committee member of Newham; Riverside's and Luton's people cannot."""
    from django.core.files.base import ContentFile

    from reviews.models import AssuranceReport, ReportKind, ReportState

    report = AssuranceReport.objects.create(
        kind=ReportKind.COMMITTEE, commissioner=world.newham, period=open_period(), requested_by=world.newham_nurse
    )
    report.file.save("report.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    report.state, report.sha256, report.size, report.page_count = ReportState.READY, "0" * 64, 9, 1
    report.save()
    return Case(
        kwargs={"pk": report.pk},
        owner=world.newham_committee,
        secret=world.newham.name,
        strangers=("eastway_lead", "luton_nurse", "riverside_lead"),
    )


def newham_committee_report_part(world):
    """The front section of Newham's committee report, made: read by Newham's committee member only."""
    from django.core.files.base import ContentFile

    from reviews.models import ReportPart, ReportPartKind, ReportState

    case = newham_committee_report(world)
    part = ReportPart(report_id=case.kwargs["pk"], kind=ReportPartKind.FRONT, snapshot_sha256="0" * 64)
    part.file.save("front.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    part.state, part.sha256, part.size, part.page_count = ReportState.READY, "0" * 64, 9, 1
    part.save()
    case.kwargs["part"] = part.pk
    return case


def newham_report_request(world):
    """Asking for Newham's committee report: its committee member may; others are refused, seeing nothing of it."""
    open_period()
    return Case(owner=world.newham_committee, secret=world.newham.name)


def riverside_proposed_contract(world):
    """A contract Hackney proposes to Riverside, starting this quarter: Riverside's lead accepts or refuses it;
    its contributor, Newham's and Hackney's admins and strangers find nothing to answer (404)."""
    from providers.models import ContractStatus, quarter_starting

    contract = ContractFactory(
        provider=world.riverside,
        coordinating=world.hackney,
        reference="NEL-PROPOSED",
        status=ContractStatus.PROPOSED,
        starts_on=quarter_starting(timezone.localdate()),
    )
    return Case(
        kwargs={"pk": contract.pk},
        owner=world.riverside_lead,
        secret=world.riverside.name,
        strangers=("eastway_lead", "luton_nurse", "riverside_contributor", "newham_admin", "hackney_admin"),
    )


REFUSAL = {"reason": "We hold no contract with Hackney for these services."}


def riverside_answer_for_review(world):
    """An answer of Riverside's return, named by its metric's code (the metric's framework is on its contract)."""
    case = riverside_for_review(world)
    metric = Metric.objects.select_related("framework").get(pk=case.kwargs["metric_pk"])
    world.riverside_contract.frameworks.add(metric.framework)
    case.kwargs["code"] = metric.code
    return case


ROUTES: dict[str, Route] = {
    # Accounts
    "login": Route("public"),
    "logout": Route("public", method="post", owner_status=302),
    "password_reset": Route("public"),
    "password_reset_done": Route("public"),
    "password_reset_confirm": Route("public", make=lambda w: Case(kwargs={"uidb64": "MQ", "token": "set-password"})),
    "password_reset_complete": Route("public"),
    # Each person's home page: their own organisations' business only
    "home": Route("tenant", make=riverside_business),
    # Organisations, contracts and people
    "providers:organisation_list": Route("tenant", make=riverside_business),
    "providers:organisation_detail": Route("tenant", make=riverside),
    "providers:organisation_create": Route("tenant", make=newham_admin),
    "providers:organisation_edit": Route("tenant", make=riverside_for_newham_admin),
    "providers:members": Route("tenant", make=riverside_members),
    "providers:membership_remove": Route("tenant", make=riverside_contributors_membership),
    "providers:invitation_cancel": Route("tenant", make=riverside_open_invitation, method="post", owner_status=302),
    "providers:contract_list": Route("tenant", make=riverside_business),
    "providers:contract_detail": Route("tenant", make=riverside_contract),
    "providers:contract_create": Route("tenant", make=newham_admin),
    "providers:contract_edit": Route("tenant", make=riverside_contract_for_newham_admin),
    "providers:contract_accept": Route("tenant", make=riverside_proposed_contract, method="post", owner_status=302),
    "providers:contract_refuse": Route(
        "tenant", make=riverside_proposed_contract, method="post", owner_status=302, data=lambda w: REFUSAL
    ),
    "providers:accept_invitation": Route("public", make=invitation_link),
    "organisation-list": Route("tenant", make=riverside_business),
    "organisation-detail": Route("tenant", make=riverside),
    "contract-list": Route("tenant", make=riverside_business),
    "contract-detail": Route("tenant", make=riverside_contract),
    "contract-accept": Route("tenant", make=riverside_proposed_contract, method="post"),
    "contract-refuse": Route("tenant", make=riverside_proposed_contract, method="post", data=lambda w: REFUSAL),
    "membership-list": Route(
        "tenant", make=lambda w: Case(owner=w.riverside_lead, secret=w.riverside_contributor.email)
    ),
    "membership-detail": Route("tenant", make=riverside_contributors_membership_api),
    # The standards catalogue: shared by every signed-in person
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
    "mapping-list": Route("signed_in", make=anyone),
    "mapping-detail": Route("signed_in", make=catalogue_mapping),
    "api-root": Route("signed_in", make=anyone),
    "api-schema": Route("signed_in", make=anyone),
    "api-docs": Route("signed_in", make=anyone),
    # Returns (API). A POST without a proper body reaches the service and is refused with 400.
    "period-list": Route("signed_in", make=anyone),
    "period-detail": Route("signed_in", make=reporting_period),
    "return-list": Route("tenant", make=riverside_returns),
    "return-detail": Route("tenant", make=riverside_return),
    "return-answers": Route("tenant", make=riverside_return, method="post", owner_status=400),
    "return-submit": Route("tenant", make=riverside_return, method="post", owner_status=400),
    "return-return-for-revision": Route(
        "tenant",
        make=lambda w: riverside_return(w, owner="newham_nurse"),
        method="post",
        owner_status=400,
        data=lambda w: {"comments": "Please check."},
    ),
    "return-evidence": Route("tenant", make=riverside_return, method="post", owner_status=400),
    "return-workbook": Route("tenant", make=riverside_return),
    # Returns (pages). A provider's people and its commissioners see its returns; strangers find nothing (404).
    "returns:return_list": Route("tenant", make=riverside_returns),
    "returns:return_start": Route(
        "tenant",
        make=riverside_period_to_start,
        method="post",
        owner_status=302,
        data=lambda w: {"provider": w.riverside.pk, "period": ReportingPeriod.objects.get().pk},
    ),
    "returns:return_detail": Route("tenant", make=riverside_return),
    "returns:return_submit": Route("tenant", make=riverside_return),
    "returns:confirm_carried": Route("tenant", make=riverside_return, method="post", owner_status=302),
    "returns:submission_detail": Route("tenant", make=riverside_submission),
    "returns:return_for_revision": Route("tenant", make=lambda w: riverside_return(w, owner="newham_nurse")),
    "returns:workbook_download": Route("tenant", make=lambda w: riverside_return(w, owner="newham_committee")),
    "returns:workbook_upload": Route("tenant", make=lambda w: riverside_return(w, owner="riverside_contributor")),
    "returns:evidence_download": Route("tenant", make=riverside_evidence),
    # Reviews (API)
    "dashboard-list": Route("tenant", make=riverside_assurance),
    "completeness-list": Route("tenant", make=riverside_assurance),
    "moderation-list": Route("tenant", make=riverside_moderation),
    "completeness-remind": Route(
        "tenant",
        make=riverside_assurance,
        method="post",
        owner_status=201,
        data=lambda w: {"providers": [w.riverside.pk]},
    ),
    "trend-detail": Route(
        "tenant",
        make=lambda w: Case(kwargs={"pk": w.riverside.pk}, owner=w.newham_nurse, secret=w.riverside.name),
        owner_status=400,
    ),
    "review-detail": Route("tenant", make=riverside_return),
    "review-agree": Route("tenant", make=riverside_for_review, method="post", owner_status=400),
    "review-override": Route("tenant", make=riverside_for_review, method="post", owner_status=400),
    "review-comment": Route("tenant", make=riverside_return, method="post", owner_status=400),
    "review-accept": Route("tenant", make=riverside_for_review, method="post", owner_status=400),
    "action-list": Route("tenant", make=riverside_action),
    "action-follow-up": Route("tenant", make=riverside_action, method="post", owner_status=400),
    # Assurance reports (pages): a commissioner's reports for those who see its assurance; files only as downloads
    "reviews:report_list": Route("tenant", make=newham_committee_report),
    "reviews:report_request": Route(
        "tenant",
        make=newham_report_request,
        method="post",
        owner_status=302,
        data=lambda w: {
            "kind": "committee",
            "committee-commissioner": w.newham.pk,
            "committee-period": ReportingPeriod.objects.get().pk,
        },
    ),
    "reviews:report_detail": Route("tenant", make=newham_committee_report),
    "reviews:report_download": Route("tenant", make=newham_committee_report),
    "reviews:report_part_download": Route("tenant", make=newham_committee_report_part),
    "report-list": Route("tenant", make=newham_committee_report),
    "report-detail": Route("tenant", make=newham_committee_report),
    "report-download": Route("tenant", make=newham_committee_report),
    "report-part-download": Route("tenant", make=newham_committee_report_part),
    # Reviews (pages): dashboard, completeness and trends
    "reviews:dashboard": Route("tenant", make=riverside_assurance),
    "reviews:dashboard_framework": Route("tenant", make=riverside_framework_assurance),
    "reviews:completeness": Route("tenant", make=riverside_assurance),
    "reviews:moderation": Route("tenant", make=riverside_moderation),
    "reviews:completeness_remind": Route(
        "tenant",
        make=riverside_assurance,
        method="post",
        owner_status=302,  # reminded, then back to the completeness page
        data=lambda w: {"providers": [w.riverside.pk]},
    ),
    "reviews:trend": Route(
        "tenant",
        make=lambda w: Case(kwargs={"provider": w.riverside.pk}, owner=w.newham_nurse, secret=w.riverside.name),
    ),
    # Reviews (pages): a return's review, its answers and action plans. The return is a draft, so acts on it are
    # refused with the reason on the page (200), or back to the review with a message (302).
    "reviews:return_review": Route("tenant", make=riverside_return),
    "reviews:return_accept": Route("tenant", make=riverside_for_review, method="post", owner_status=302),
    "reviews:answer_review": Route("tenant", make=riverside_answer_for_review),
    "reviews:answer_agree": Route("tenant", make=riverside_answer_for_review, method="post"),
    "reviews:answer_override": Route("tenant", make=riverside_answer_for_review, method="post"),
    "reviews:answer_comment": Route("tenant", make=riverside_answer_for_review, method="post"),
    "reviews:action_list": Route("tenant", make=riverside_action),
    "reviews:action_follow_up": Route("tenant", make=riverside_action),
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


def is_text(response) -> bool:
    """Pages and JSON are read for secrets; a download (an Excel workbook, a file) is checked by its status alone."""
    return response.get("Content-Type", "").startswith(("text/", "application/json"))


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
    if case.secret and route.method == "get" and is_text(response):
        assert case.secret in response.content.decode(), f"{url} should show its owner {case.secret!r}"
    client.logout()

    for stranger_name in case.strangers:
        stranger = getattr(world, stranger_name)
        client.force_login(stranger)
        response = request(client, route, url, world)
        if route.access == "signed_in":
            assert response.status_code == route.owner_status, f"{url} as {stranger_name}"
        elif set(found.params) - {"format"}:  # an object of another organisation is simply not there
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


# A contract gives sight of a provider's returns only once the provider accepts it, and only for periods ending on
# or after its start. Hackney's designated nurse holds one contract with Riverside, in each state; Riverside's
# return is for July to September 2025.

PERIOD_BOUND_ROUTES = {
    "returns:return_detail": riverside_return,
    "return-detail": riverside_return,
    "return-workbook": riverside_return,
    "returns:workbook_download": riverside_return,
    "returns:submission_detail": riverside_submission,
    "returns:evidence_download": riverside_evidence,
    "reviews:return_review": riverside_return,
    "review-detail": riverside_return,
    "reviews:answer_review": riverside_answer_for_review,
    "reviews:action_follow_up": riverside_action,
}

HACKNEY_CONTRACTS = {
    # state: (status, starts_on, whether Hackney's nurse sees the July–September 2025 return)
    "proposed": ("proposed", datetime.date(2025, 4, 1), False),
    "refused": ("refused", datetime.date(2025, 4, 1), False),
    "accepted, starting after the period": ("accepted", datetime.date(2025, 10, 1), False),
    "accepted, starting on the period's last day": ("accepted", datetime.date(2025, 9, 30), True),
    "accepted, starting before the period": ("accepted", datetime.date(2025, 4, 1), True),
}


def hackney_nurse_with_a_contract(world, state: str):
    """Hackney's designated nurse, Hackney holding a contract with Riverside in ``state``; and whether it shows."""
    status, starts_on, sees = HACKNEY_CONTRACTS[state]
    nurse = member(world.hackney, Role.DESIGNATED_PROFESSIONAL, username="hackney-nurse")
    ContractFactory(
        provider=world.riverside,
        coordinating=world.hackney,
        status=status,
        starts_on=starts_on,
        refusal_reason="Not ours." if status == "refused" else "",
    )
    return nurse, sees


@pytest.mark.django_db
@pytest.mark.parametrize("state", HACKNEY_CONTRACTS)
@pytest.mark.parametrize("name", PERIOD_BOUND_ROUTES)
def test_a_commissioner_sees_a_providers_period_only_through_an_accepted_contract_started_by_its_end(
    client, world, name, state
):
    nurse, sees = hackney_nurse_with_a_contract(world, state)
    case = PERIOD_BOUND_ROUTES[name](world)
    found = next(r for r in APP_ROUTES if r.name == name)
    client.force_login(nurse)

    response = client.get(url_for(found, case.kwargs))

    assert response.status_code == (200 if sees else 404), f"{name} with a contract {state}"
    if not sees and is_text(response):
        assert world.riverside.name not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("state", HACKNEY_CONTRACTS)
def test_a_commissioner_lists_a_providers_returns_only_through_an_accepted_contract_started_by_their_end(
    client, world, state
):
    nurse, sees = hackney_nurse_with_a_contract(world, state)
    riverside_return(world)
    client.force_login(nurse)

    listed = client.get(reverse("return-list", kwargs={"format": "json"})).json()

    assert bool(listed["count"] if isinstance(listed, dict) else listed) == sees


#: The same person of the ICB for a route whose owner is a person of its place Newham.
ICB_COLLEAGUE = {"newham_nurse": "nel_nurse", "newham_committee": "nel_committee"}
#: A person of Newham's sibling place Hackney in every commissioner role, and a person of another ICB.
HIERARCHY_STRANGERS = ("hackney_all_roles", "blmk_nurse")


@pytest.mark.django_db
@pytest.mark.parametrize("found", [r for r in APP_ROUTES if ROUTES.get(r.name, Route("public")).access == "tenant"],
                         ids=lambda r: r.pattern)  # fmt: skip
def test_route_follows_the_hierarchy_of_icbs_and_places(client, icbs, found):
    """With Newham and Hackney places of North East London ICB and Luton of BLMK: the ICB's person of the owner's
    role uses a route of Newham's business as Newham's own person does; a sibling place's person (in every role)
    and another ICB's person are strangers to it (404 for an object, nothing of it in a list)."""
    route = ROUTES[found.name]
    case = route.make(icbs)
    url = url_for(found, case.kwargs)
    owner = next((name for name, user in vars(icbs).items() if user == case.owner and name in ICB_COLLEAGUE), None)
    if owner:
        client.force_login(getattr(icbs, ICB_COLLEAGUE[owner]))
        response = request(client, route, url, icbs)
        assert response.status_code == route.owner_status, f"{url} as {ICB_COLLEAGUE[owner]}"
        if case.secret and route.method == "get" and is_text(response):
            assert case.secret in response.content.decode(), f"{url} should show the ICB {case.secret!r}"
        client.logout()
    if "luton_nurse" not in case.strangers or case.secret == icbs.newham.name:
        return  # a route about a commissioner itself: its name is shown on other commissioners' pages too
    for stranger_name in HIERARCHY_STRANGERS:
        client.force_login(getattr(icbs, stranger_name))
        response = request(client, route, url, icbs)
        if set(found.params) - {"format"}:
            assert response.status_code == 404, f"{url} as {stranger_name} gave {response.status_code}"
        else:
            assert response.status_code in (200, 403, 404), f"{url} as {stranger_name}"
        assert not case.secret or case.secret not in response.content.decode(), f"{url} leaks to {stranger_name}"
        client.logout()
