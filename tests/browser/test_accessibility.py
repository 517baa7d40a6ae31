"""axe-core on every page of every role, and on the admin pages this project configures, at 1280 and 390 px wide.

The pages are not listed here: they come from the URLconf, as in ``tests/test_route_access.py``, whose ``ROUTES``
say who may use each route and make its objects. Every GET route outside the API is opened as that person (or
anonymously when it is public); a page (HTML) is scanned, a download is not a page. A new route without an entry
in ``ROUTES`` fails here too, so a new page is scanned without anyone adding it by hand.

The admin pages come from the admin site's registry: its index, and for every registered model its list, its
add page and the change page of one of its objects, plus the project's own admin views. A model with no object to
open fails the test until ``seed_for_admin`` makes one.

axe-core (``vendor/axe.min.js``, MPL-2.0, from the npm registry) is added to each page as a script of the page's
own origin, which the browser context answers itself (``AXE_URL``): the app's Content-Security-Policy forbids
inline scripts but allows its own, so pages are scanned under their real policy, with nothing bypassed.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from tests.returns.conftest import catalogue  # noqa: F401
from tests.test_route_access import ADMIN_ROUTES, APP_ROUTES, ROUTES, Case, url_for
from tests.world import world  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1280, 390)
AXE_URL = "/static/axe-core-for-the-tests.js"  # answered by the browser context itself, never by the app

# Violations found on pages other engineers are changing at the same time as this scan was written; the lead
# fixes them after merging and then removes them from here. Keyed by route name (or admin URL name) and rule id.
#: Violations known and accepted, by page (URL name) and axe rule, each with its reason: none. A page of work in
#: progress updates itself by script (static/js/auto-refresh.js) with a button to stop it, not by a meta refresh.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}));
}"""


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Evidence and report files made for these pages go to a temporary folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


class Scanner:
    """One browser context per person, signed in once (a session cookie), each page scanned at both widths."""

    def __init__(self, chromium, base_url):
        self.chromium = chromium
        self.base_url = base_url
        self.contexts = {}
        self.found: list[str] = []
        self.scanned: list[str] = []

    def page_for(self, person):
        key = person.pk if person else None
        if key not in self.contexts:
            context = self.chromium.new_context(base_url=self.base_url)
            context.set_default_timeout(15_000)
            context.route(
                AXE_URL,
                lambda route: route.fulfill(
                    path=AXE, content_type="text/javascript", headers={"Cache-Control": "max-age=3600"}
                ),
            )
            if person:
                client = Client()
                client.force_login(person)
                cookie = client.cookies[settings.SESSION_COOKIE_NAME]
                context.add_cookies(
                    [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": self.base_url}]
                )
            self.contexts[key] = context.new_page()
        return self.contexts[key]

    def visit(self, name: str, url: str, person, may_be_refused: bool = False) -> None:
        page = self.page_for(person)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                return  # a download (workbook, evidence, report): not a page
            raise
        if may_be_refused and response.status == 403:
            return
        assert response.status == 200, f"{url} ({name}) as {person or 'anonymous'} gave {response.status}"
        assert response.url == live_url(self.base_url, url), f"{url} ({name}) sent {person or 'anonymous'} away"
        page.add_script_tag(url=AXE_URL)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for violation in page.evaluate(RUN_AXE, WCAG_22_AA):
                if (name, violation["id"]) not in KNOWN_VIOLATIONS:
                    self.found.append(f"{url} at {width}px: {violation['id']} ({violation['help']}) on "
                                      f"{', '.join(violation['targets'][:5])}")  # fmt: skip
        self.scanned.append(url)

    def close(self):
        for page in self.contexts.values():
            page.context.close()


def live_url(base_url: str, url: str) -> str:
    return base_url + url


def empty_periods():
    """Each route's maker opens the same reporting period: empty the periods, and all that hangs on them."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE returns_reportingperiod CASCADE")


def page_routes():
    """Every route outside the API that is opened with GET, with the entry that says who may open it."""
    for found in APP_ROUTES:
        if found.pattern.startswith("api/"):
            continue
        route = ROUTES.get(found.name)
        assert route, f"{found.name} has no entry in tests/test_route_access.py ROUTES saying who may use it"
        if route.method == "get":
            yield found, route


def test_every_page_of_every_role_has_no_wcag_22_aa_violations(chromium, live_server, world, catalogue):
    """``catalogue`` puts a question of every kind on Riverside's contract, so its return shows each kind's fields."""
    scanner = Scanner(chromium, live_server.url)
    try:
        for found, route in page_routes():
            empty_periods()
            case = route.make(world) if route.make else Case()
            person = None if route.access == "public" else case.owner
            scanner.visit(found.name, url_for(found, case.kwargs), person)
    finally:
        scanner.close()
    assert len(scanner.scanned) > 30
    assert not scanner.found, "accessibility violations:\n" + "\n".join(scanner.found)


# The admin: its index, and for every registered model its list, its add page (when it has one) and one object's
# change page; with the project's own admin views. The objects come from the same makers as the pages above.


def seed_for_admin(world) -> None:
    """One object of every model the admin shows, so that each change page can be opened."""
    from providers.models import OrganisationName
    from returns.models import ActionPlanItem, Answer, Evidence, RevisionRequest, Submission
    from reviews.models import (
        ActionFollowUp,
        AnswerComment,
        AnswerReview,
        AssuranceReport,
        KeyMeasure,
        OverdueFlag,
        RagRun,
        RecomputeJob,
        Reminder,
        ReportKind,
        ReportPart,
        ReportPartKind,
        ReturnAcceptance,
    )
    from standards.models import Mapping, MappingKind
    from tests.factories import (
        AssuranceCriterionFactory,
        FrameworkFactory,
        MetricFactory,
        ServiceFactory,
        SourceNoteFactory,
        StandardFactory,
        ThresholdFactory,
    )
    from tests.test_route_access import riverside_action, riverside_invitation

    riverside_invitation(world)
    item = ActionPlanItem.objects.get(pk=riverside_action(world).kwargs["pk"])
    answer: Answer = item.answer
    provider_return, metric = answer.provider_return, answer.metric
    submission = Submission.objects.get(provider_return=provider_return)
    nurse = world.newham_nurse
    content = b"%PDF-1.7\n"
    evidence = Evidence(answer=answer, original_name="policy.pdf", content_type="application/pdf",
                        size=len(content), uploaded_by=world.riverside_lead)  # fmt: skip
    evidence.file.save("policy.pdf", ContentFile(content))
    RevisionRequest.objects.create(provider_return=provider_return, submission=submission, requested_by=nurse,
                                   comments="Please check the figures.")  # fmt: skip
    RagRun.objects.create(provider_return=provider_return, submission=submission, fingerprint="0" * 64,
                          colour="green", explanation="Every answer met its threshold.", is_current=True)  # fmt: skip
    AnswerReview.objects.create(provider_return=provider_return, metric=metric, submission=submission,
                                decision="agreed", reviewed_by=nurse)  # fmt: skip
    AnswerComment.objects.create(provider_return=provider_return, metric=metric, author=nurse, text="Thank you.")
    ReturnAcceptance.objects.create(provider_return=provider_return, submission=submission, accepted_by=nurse)
    ActionFollowUp.objects.create(item=item, is_done=True, done_on=timezone.localdate(), updated_by=nurse)
    OverdueFlag.objects.create(provider=world.eastway, period=provider_return.period, found_as="not_started")
    Reminder.objects.create(period=provider_return.period, provider=world.eastway, sent_by=nurse)
    report = AssuranceReport.objects.create(kind=ReportKind.COMMITTEE, commissioner=world.newham,
                                            period=provider_return.period, requested_by=nurse)  # fmt: skip
    ReportPart.objects.create(report=report, kind=ReportPartKind.FRONT, snapshot_sha256="0" * 64)
    KeyMeasure.objects.create(metric_code=metric.code, heading="Staff with a DBS check")
    RecomputeJob.objects.create(reason="command", description="The recompute_rag command", requested_by=nurse,
                                chunks_total=2, returns_total=10, returns_done=4)  # fmt: skip
    AssuranceCriterionFactory()
    SourceNoteFactory()
    ServiceFactory()
    ThresholdFactory()
    other = MetricFactory(standard=StandardFactory(framework=FrameworkFactory()), code="OTHER-DBS", title="DBS checks")
    standard = metric.standard or StandardFactory(framework=metric.framework)
    Mapping.objects.create(kind=MappingKind.EVIDENCE_TOWARDS, source_metric=other, target_standard=standard,
                           note="Both documents ask for DBS checks.")  # fmt: skip
    OrganisationName.objects.create(organisation=world.newham, name="NHS Newham CCG", ods_code=world.newham.ods_code,
                                    in_force_until=datetime.date(2022, 6, 30))  # fmt: skip


PROJECT_APPS = ("standards", "providers", "returns", "reviews")
DJANGO_ADMIN_VIEWS = {"admin:login", "admin:logout", "admin:password_change", "admin:password_change_done",
                      "admin:autocomplete", "admin:jsi18n", "admin:view_on_site", "admin:app_list"}  # fmt: skip
MODEL_VIEWS = ("_changelist", "_add", "_change", "_delete", "_history")


def admin_pages():
    """(URL name, URL, whether a 403 means no such page) of every admin page scanned: the index and sign-in, each
    model the project registers (its list, add page and one object's change page), and the project's own views."""
    yield "admin:index", reverse("admin:index"), False
    for model, model_admin in admin.site._registry.items():
        if not type(model_admin).__module__.startswith(PROJECT_APPS):
            continue  # Django's groups and django-axes' records: not configured here
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield f"{prefix}_changelist", reverse(f"{prefix}_changelist"), False
        yield f"{prefix}_add", reverse(f"{prefix}_add"), True  # read-only records have no add page
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"seed_for_admin makes no {model._meta.verbose_name} to open its change page"
        yield f"{prefix}_change", reverse(f"{prefix}_change", args=[obj.pk]), False
    for found in ADMIN_ROUTES:
        if (
            found.name
            and found.name not in DJANGO_ADMIN_VIEWS | {"admin:index"}
            and not found.name.endswith(MODEL_VIEWS)
        ):
            assert not found.params, f"say in admin_pages which object to open {found.name} with"
            yield found.name, reverse(found.name), False


def test_every_admin_page_has_no_wcag_22_aa_violations(chromium, live_server, world):
    seed_for_admin(world)
    pages = list(admin_pages())
    scanner = Scanner(chromium, live_server.url)
    try:
        scanner.visit("admin:login", reverse("admin:login"), None)
        for name, url, may_be_refused in pages:
            scanner.visit(name, url, world.administrator, may_be_refused=may_be_refused)
    finally:
        scanner.close()
    assert len(scanner.scanned) > 50
    assert not scanner.found, "accessibility violations:\n" + "\n".join(scanner.found)
