"""The dashboard, completeness and trend pages: what each person sees, in words as well as colours, filters,
reminders sent or refused, and a fixed number of queries however many providers there are."""

import re
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from providers.models import Organisation, Role
from returns.services import open_return
from reviews.models import Reminder
from reviews.services import compute_return_rag
from tests.providers.factories import CommissionerFactory, member
from tests.reviews.fixtures import (  # noqa: F401
    ANSWERS,
    providers_of,
    submit_directly,
    submitted,
)

RED_DBS = {**ANSWERS, "DBS": {"numerator": "50", "denominator": "100"}}
DASHBOARD, COMPLETENESS, REMIND = "/reviews/dashboard/", "/reviews/completeness/", "/reviews/completeness/remind/"


@pytest.fixture
def quarter(world, catalogue, q2, submitted):
    """Riverside on time (amber), Eastway late with a red answer, Chalk Hills overdue with a draft (today is long
    after Q2 2025/26's deadline of 31 October 2025)."""
    world.eastway_contract.frameworks.set([catalogue.framework])
    world.chalk_hills_contract.frameworks.set([catalogue.framework])
    world.eastway_return = submit_directly(world.eastway, q2, RED_DBS, by=world.eastway_lead, late=True)
    open_return(world.chalk_hills, q2, by=world.administrator)
    compute_return_rag(submitted)
    compute_return_rag(world.eastway_return)
    world.riverside_return = submitted
    return q2


def text_of(response) -> str:
    """The page's main content as text, tags removed and spaces collapsed."""
    html = response.content.decode()
    main = html[html.index('<main class="main"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def row_of(response, name: str) -> str:
    """The HTML of the table row whose header is ``name``."""
    html = response.content.decode()
    start = html.index(name, html.index("<tbody>"))
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


# The dashboard


def test_the_dashboard_shows_each_framework_cell_in_words_with_its_counts_and_links_to_the_drill_down(
    as_person, world, catalogue, quarter
):
    response = as_person("newham_nurse").get(DASHBOARD)
    assert response.status_code == 200
    assert response.context["filters"].period == quarter  # the latest ended period by default
    assert [r.row.provider_name for r in response.context["rows"]] == [world.eastway.name, world.riverside.name]
    riverside = row_of(response, world.riverside.name)
    drill = reverse("reviews:dashboard_framework", args=["test-returns"])
    cell = (
        f'<td class="rag rag--amber"><a href="{drill}?period={quarter.pk}#provider-{world.riverside.pk}">'
        'Amber</a><span class="rag__counts">0 red, 1 amber, 2 green</span></td>'
    )
    assert cell in riverside  # its counts say why it is amber: the worst colour among them, as the page says once
    assert "the worst colour, amber, is shown" not in riverside  # nor do the overall status's counts need a Why
    assert "On time" in riverside and "by the deadline of 31 October 2025" in riverside
    eastway = row_of(response, world.eastway.name)
    assert '<td class="rag rag--red"' in eastway and ">Red</a>" in eastway and "1 red, 0 amber, 2 green" in eastway
    assert "Late" in eastway
    assert world.chalk_hills.name not in response.content.decode()  # Luton's, not Newham's
    html = response.content.decode()
    assert '<th scope="col" aria-sort="ascending">' in html  # sorted by overall status, worst first
    assert "Showing 1 to 2 of 2 providers, by overall status, worst first." in text_of(response)


def test_the_dashboard_totals_every_provider_and_framework_and_lists_the_exceptions(
    as_person, world, catalogue, quarter
):
    response = as_person("administrator").get(DASHBOARD)
    text = text_of(response)
    totals = {total["label"]: total["count"] for total in response.context["totals"]}
    assert totals == {
        "Overdue": 1,
        "Red": 1,
        "Amber": 1,
        "Green": 0,
        "No colour": 0,
        "Not computed yet": 0,
        "Not yet submitted": 0,
    }
    assert "1 Overdue 1 Red 1 Amber 0 Green 0 No colour 0 Not computed yet 0 Not yet submitted" in text
    assert "Providers listed, by worst colour 1 red, 1 amber, 0 green 1 red, 1 amber, 0 green" in text
    assert "1 red answer and 1 overdue return" in text
    html = response.content.decode()
    answer = reverse("reviews:answer_review", args=[world.eastway_return.pk, "DBS"])
    assert f'<a href="{answer}">' in html
    assert "50.0% (50 of 100); threshold green from 100%, amber from 95%; below the tolerance band" in text
    completeness_link = f"{reverse('reviews:completeness')}?period={quarter.pk}"
    assert f'<a href="{completeness_link}">Return overdue</a>' in html
    assert "A draft was started but not submitted by the deadline of 31 October 2025." in text
    assert "How colours roll up" in text and "red over amber over green" in text


def test_a_total_is_a_link_that_lists_the_providers_of_that_status(as_person, world, quarter):
    response = as_person("administrator").get(DASHBOARD)
    red = next(total for total in response.context["totals"] if total["key"] == "red")
    assert red["url"] == f"{DASHBOARD}?period={quarter.pk}&status=red"
    filtered = as_person("administrator").get(red["url"])
    assert [r.row.provider_name for r in filtered.context["rows"]] == [world.eastway.name]
    assert "Showing only the providers whose overall status is red" in text_of(filtered)
    assert "3 providers matching the filters, by overall status" in text_of(filtered)  # the totals stay whole


def test_the_exceptions_filter_by_kind_and_framework_and_keep_the_providers_page(as_person, world, quarter):
    client = as_person("administrator")
    response = client.get(DASHBOARD, {"exceptions": "overdue", "sort": "name"})
    assert [item["exception"].kind for item in response.context["exceptions"]] == ["overdue"]
    html = response.content.decode()
    assert '<input type="hidden" name="sort" value="name">' in html  # the exception form keeps the sort
    response = client.get(DASHBOARD, {"exceptions_framework": "test-returns", "exceptions": "red"})
    assert [item["exception"].metric_code for item in response.context["exceptions"]] == ["DBS"]


@pytest.mark.parametrize(
    "asked,field,problem",
    [
        ({"exceptions": "purple"}, "exceptions", "Choose red answers or overdue returns."),
        ({"exceptions_framework": "no-such-framework"}, "exceptions_framework", "There is no such framework."),
    ],
)
def test_an_unknown_exceptions_filter_is_refused_in_plain_english(as_person, world, quarter, asked, field, problem):
    """The same words as the API's; the exceptions are all listed meanwhile, and the providers stay on the page."""
    unknown = as_person("administrator").get(DASHBOARD, asked)
    assert unknown.status_code == 200 and len(unknown.context["exceptions"]) == 2  # every exception
    html = unknown.content.decode()
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="#id_{field}">{problem}</a>' in summary
    assert f'id="id_{field}-error"' in html and len(unknown.context["rows"]) == 3


def test_what_needs_action_is_counted_before_the_grid_with_links_to_those_exceptions(as_person, world, quarter):
    response = as_person("administrator").get(DASHBOARD)
    html = response.content.decode()
    overdue = f"{DASHBOARD}?period={quarter.pk}&amp;exceptions=overdue#exceptions"
    red = f"{DASHBOARD}?period={quarter.pk}&amp;exceptions=red#exceptions"
    assert "Needs action 1 overdue return to chase 1 red answer to review" in text_of(response)
    assert f'<a class="needs-action__link" href="{overdue}">' in html
    assert f'<a class="needs-action__link" href="{red}">' in html
    assert html.index('id="needs-action"') < html.index('id="totals"') < html.index('id="dashboard-caption"')
    # Narrowed to red answers, the exceptions listed are those, and what needs action still counts every kind.
    narrowed = as_person("administrator").get(DASHBOARD, {"exceptions": "red"})
    assert [item["exception"].kind for item in narrowed.context["exceptions"]] == ["red"]
    assert "Needs action 1 overdue return to chase 1 red answer to review" in text_of(narrowed)
    overdue_only = as_person("luton_nurse").get(DASHBOARD)  # Chalk Hills, overdue: no red answer to link to
    assert "Needs action 1 overdue return to chase 0 red answers Every exception" in text_of(overdue_only)
    assert "exceptions=red#exceptions" not in overdue_only.content.decode()
    calm = as_person("luton_nurse").get(DASHBOARD, {"status": "amber"})
    assert "Needs action No red answer and no overdue return among the providers listed." in text_of(calm)


def test_on_a_phone_the_same_providers_are_a_list_each_with_its_colours_in_words(as_person, world, catalogue, quarter):
    response = as_person("newham_nurse").get(DASHBOARD)
    html = response.content.decode()
    listed = html[html.index('<ol class="provider-list"') : html.index("</ol>", html.index('class="provider-list"'))]
    cards = listed.split('<li class="provider-card"')[1:]
    assert [world.eastway.name in cards[0], world.riverside.name in cards[1]] == [True, True]  # worst first
    riverside = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cards[1]))
    short_name = catalogue.framework.short_name
    assert "Overall Amber 0 red, 1 amber, 2 green Submission" in riverside  # its counts say why: no Why needed
    assert f"{short_name} Amber 0 red, 1 amber, 2 green" in riverside
    drill = reverse("reviews:dashboard_framework", args=["test-returns"])
    assert f'<a href="{drill}?period={quarter.pk}#provider-{world.riverside.pk}-card">Amber</a>' in cards[1]
    review = reverse("reviews:return_review", args=[world.riverside_return.pk])
    assert f'<h3 class="provider-card__name"><a href="{review}">{world.riverside.name}</a></h3>' in cards[1]


@pytest.mark.parametrize("page", ["dashboard", "drill", "review", "answer", "completeness"])
def test_no_status_is_explained_only_on_hover(as_person, world, catalogue, quarter, page):
    urls = {
        "dashboard": DASHBOARD,
        "drill": reverse("reviews:dashboard_framework", args=["test-returns"]),
        "review": reverse("reviews:return_review", args=[world.riverside_return.pk]),
        "answer": reverse("reviews:answer_review", args=[world.riverside_return.pk, "DBS"]),
        "completeness": COMPLETENESS,
    }
    response = as_person("newham_nurse").get(urls[page])
    main = response.content.decode().split('<main class="main"', 1)[1]
    assert " title=" not in main
    if page in ("dashboard", "drill"):
        # Every cell, in the grid and in the phone's list, says why it has its colour, opened by click, tap or
        # keyboard: a red, amber or green cell by its counts (the worst colour among them, as the page says once),
        # any other by its "Why". So does every submission state.
        states = main.count('<td class="dashboard__state">') + main.count("<dt>Submission</dt>")
        assert states == 2 * 2 and main.count('<details class="why">') >= states
        cells = [chunk.split("</d", 1)[0] for chunk in main.split('class="rag rag--')[1:]]
        assert cells
        for cell in cells:
            counted = cell.split('"', 1)[0] in ("red", "amber", "green") and 'class="rag__counts"' in cell
            assert counted or '<details class="why">' in cell or "Not on contract" in cell, cell


@pytest.mark.parametrize(
    "title,short",
    [
        ("Safe recruitment", "Safe recruitment"),
        ("Effective training of all staff consistent with national guidance", "Effective training of all staff…"),
        ("The Provider must comply with the requirements and principles", "The Provider must comply with the…"),
        ("Requirements, requirements, requirements, requirements", "Requirements, requirements…"),
        (
            "Antidisestablishmentarianismsupercalifragilisticexpialidocious rule",
            "Antidisestablishmentarianismsupercalifragilisticexpialidocious…",
        ),
    ],
)
def test_a_column_heading_is_cut_between_words_never_inside_one(title, short):
    from reviews.views.dashboards import short_title

    assert short_title(title) == short
    assert len(short) <= 41 or " " not in short


def test_the_drill_down_headings_are_short_names_with_the_full_titles_in_a_key(as_person, world, catalogue, quarter):
    long_title = "Staff who work with children receive the safeguarding supervision their role requires"
    catalogue.standard.title = long_title
    catalogue.standard.save()
    response = as_person("newham_nurse").get(reverse("reviews:dashboard_framework", args=["test-returns"]))
    html = response.content.decode()
    thead = html[html.index("<thead>") : html.index("</thead>")]
    assert '<span class="table__note">Staff who work with children receive…</span>' in thead
    assert "What the columns are" in html
    assert f"<dt>Standard 1</dt><dd>{long_title}</dd>" in html


@pytest.mark.parametrize(
    "query,order,aria",
    [
        ({"sort": "name"}, ["chalk_hills", "eastway", "riverside"], "ascending"),
        ({"sort": "name", "order": "desc"}, ["riverside", "eastway", "chalk_hills"], "descending"),
        ({"sort": "framework-test-returns"}, ["eastway", "riverside", "chalk_hills"], "ascending"),
        ({"sort": "no-such-thing"}, ["chalk_hills", "eastway", "riverside"], "ascending"),
    ],
)
def test_sort_links_order_the_rows_and_say_so_with_aria_sort(as_person, world, quarter, query, order, aria):
    response = as_person("administrator").get(DASHBOARD, query)
    assert [r.row.provider_name for r in response.context["rows"]] == [getattr(world, n).name for n in order]
    assert response.content.decode().count(f'aria-sort="{aria}"') == 1


def test_paging_keeps_the_filters_and_sort_and_a_page_out_of_range_shows_the_last(
    as_person, world, catalogue, quarter, monkeypatch
):
    monkeypatch.setattr("reviews.views.dashboards.PROVIDERS_A_PAGE", 2)
    client = as_person("administrator")
    first = client.get(DASHBOARD, {"sort": "name", "framework": "test-returns"})
    assert [r.row.provider_name for r in first.context["rows"]] == [world.chalk_hills.name, world.eastway.name]
    pages = first.context["pagination"]
    assert pages.next_url == f"{DASHBOARD}?period={quarter.pk}&framework=test-returns&sort=name&page=2#providers"
    assert [p.number for p in pages.pages] == [1, 2] and pages.pages[0].current
    assert 'aria-current="page"' in first.content.decode()
    second = client.get(pages.next_url.split("#")[0])
    assert [r.row.provider_name for r in second.context["rows"]] == [world.riverside.name]
    for page in ("99", "nonsense", "-1"):
        response = client.get(DASHBOARD, {"sort": "name", "page": page})
        assert response.status_code == 200
        assert response.context["page"].number == (2 if page != "nonsense" else 1)


def test_the_drill_down_shows_a_frameworks_standards_and_groups_linking_to_the_review(
    as_person, world, catalogue, quarter
):
    client = as_person("newham_nurse")
    response = client.get(reverse("reviews:dashboard_framework", args=["test-returns"]), {"period": quarter.pk})
    assert response.status_code == 200
    riverside = row_of(response, world.riverside.name)
    review = reverse("reviews:return_review", args=[world.riverside_return.pk])
    assert (
        f'<td class="rag rag--amber"><a href="{review}?standard={catalogue.standard.pk}">Amber</a><details class="why">'
        '<summary>Why<span class="visually-hidden"> Standard 1 is amber for '
        f"{world.riverside.name}</span></summary><p>1 amber, 2 green: the worst colour, amber, is "
        "shown</p></details></td>"
    ) in riverside
    assert f'<a href="{review}?group=Training">Amber</a>' in riverside
    assert "0 red, 1 amber, 2 green" in riverside  # the framework's own cell
    assert f'<a href="{DASHBOARD}?period={quarter.pk}">Back to the dashboard</a>' in response.content.decode()
    assert client.get(reverse("reviews:dashboard_framework", args=["no-such"])).status_code == 404
    luton = as_person("luton_nurse").get(reverse("reviews:dashboard_framework", args=["test-returns"]))
    assert world.riverside.name not in luton.content.decode()


def test_the_committee_member_sees_the_same_dashboard_read_only(as_person, world, quarter):
    nurse = as_person("newham_nurse").get(DASHBOARD)
    committee = as_person("newham_committee").get(DASHBOARD)
    assert committee.status_code == 200
    assert [r.row.provider_name for r in committee.context["rows"]] == [
        r.row.provider_name for r in nurse.context["rows"]
    ]
    assert '<form method="post"' not in committee.content.decode().split("<main", 1)[1]


@pytest.mark.parametrize(
    "query,shown",
    [
        ({"provider_type": "care_home"}, []),
        ({"commissioner": "hackney"}, ["eastway"]),
        ({"framework": "test-returns"}, ["chalk_hills", "eastway", "riverside"]),
        ({}, ["chalk_hills", "eastway", "riverside"]),
    ],
)
def test_filters_narrow_the_rows(as_person, world, quarter, query, shown):
    query = {name: getattr(world, value).pk if name == "commissioner" else value for name, value in query.items()}
    response = as_person("administrator").get(DASHBOARD, query)
    assert sorted(r.row.provider_name for r in response.context["rows"]) == sorted(
        getattr(world, n).name for n in shown
    )


def test_a_nurse_cannot_filter_by_another_commissioner_and_is_told_so(as_person, world, quarter):
    response = as_person("newham_nurse").get(DASHBOARD, {"commissioner": world.hackney.pk})
    assert response.status_code == 200
    assert "There is a problem" in text_of(response) and "There is no such commissioner." in text_of(response)
    assert world.hackney.name not in response.content.decode()  # not even offered in the list
    assert "rows" not in response.context


def test_another_commissioners_nurse_sees_none_of_newhams_providers(as_person, world, quarter):
    response = as_person("luton_nurse").get(DASHBOARD)
    html = response.content.decode()
    assert [r.row.provider_name for r in response.context["rows"]] == [world.chalk_hills.name]
    assert world.riverside.name not in html and world.eastway.name not in html
    assert "Overdue" in row_of(response, world.chalk_hills.name)


@pytest.mark.parametrize("url", [DASHBOARD, COMPLETENESS, "/reviews/trends/1/?metric=DBS"])
def test_anonymous_people_are_sent_to_sign_in(client, world, quarter, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_nav_and_home_offer_the_dashboard_to_those_who_see_assurance(as_person, world, quarter):
    for person in ("newham_nurse", "newham_committee", "newham_admin", "administrator"):
        html = as_person(person).get(reverse("home")).content.decode()
        assert f'<a href="{DASHBOARD}">Dashboard</a>' in html, person
        assert "Completeness and timeliness of returns" in html, person
    for person in ("riverside_lead", "riverside_contributor", "stranger"):
        html = as_person(person).get(reverse("home")).content.decode()
        assert DASHBOARD not in html, person
    html = as_person("newham_nurse").get(DASHBOARD).content.decode()
    assert f'<a href="{DASHBOARD}" aria-current="page">Dashboard</a>' in html


# Completeness and reminders


def test_completeness_says_who_submitted_on_time_late_or_is_overdue_with_counts(as_person, world, quarter):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead", first_name="Ada", last_name="Lovelace")
    response = as_person("administrator").get(COMPLETENESS)
    assert response.status_code == 200
    assert [(label, count) for label, count, _ in response.context["counts"]] == [
        ("On time", 1),
        ("Late", 1),
        ("Returned for revision", 0),
        ("Not yet submitted", 0),
        ("Overdue", 1),
    ]
    assert "On time" in row_of(response, world.riverside.name)
    assert "Late" in row_of(response, world.eastway.name)
    chalk_hills = row_of(response, world.chalk_hills.name)
    assert "Overdue" in chalk_hills and "Draft." in chalk_hills and "Ada Lovelace" in chalk_hills
    assert f'value="{world.chalk_hills.pk}"' in chalk_hills  # it may be reminded
    assert 'type="checkbox"' not in row_of(response, world.riverside.name)  # submitted: nothing to remind


def test_completeness_filters_narrow_the_providers(as_person, world, quarter):
    response = as_person("administrator").get(COMPLETENESS, {"commissioner": world.luton.pk})
    assert [r.row.provider_name for r in response.context["rows"]] == [world.chalk_hills.name]


def test_a_nurse_reminds_a_provider_whose_return_is_missing(as_person, world, quarter):
    lead = member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    client = as_person("luton_nurse")
    page = client.get(COMPLETENESS)
    assert "Send reminders" in text_of(page)
    response = client.post(REMIND, {"period": quarter.pk, "providers": [world.chalk_hills.pk]}, follow=True)
    assert response.redirect_chain == [(f"{COMPLETENESS}?{urlencode({'period': quarter.pk})}", 302)]
    assert [m.to for m in mail.outbox] == [[lead.email]]
    reminder = Reminder.objects.get()
    assert (reminder.provider, reminder.sent_by) == (world.chalk_hills, world.luton_nurse)
    text = text_of(response)
    assert f"Reminder sent to {world.chalk_hills.name} ({lead.email}) on " in text
    assert "None" not in row_of(response, world.chalk_hills.name).split("Last reminder")[0]  # the last one shown
    assert response.context["rows"][0].last_reminder == reminder.sent_at


def test_a_reminder_with_nobody_ticked_is_refused_with_an_error_summary(as_person, world, quarter):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    response = as_person("luton_nurse").post(REMIND, {"period": quarter.pk})
    assert response.status_code == 400
    text = text_of(response)
    assert "There is a problem" in text
    assert text.count("Choose the providers to remind.") == 2  # in the summary and beside the checkboxes
    assert f'href="#remind-{world.chalk_hills.pk}"' in response.content.decode()
    assert mail.outbox == [] and not Reminder.objects.exists()
    assert response.content.decode().startswith("<!DOCTYPE") or "<title>Error:" in response.content.decode()


def test_a_provider_that_has_submitted_cannot_be_reminded(as_person, world, quarter):
    response = as_person("newham_nurse").post(REMIND, {"providers": [world.riverside.pk]}, follow=True)
    assert mail.outbox == [] and not Reminder.objects.exists()
    assert f"{world.riverside.name} was not reminded: Its return has been submitted." in text_of(response)
    assert "Send reminders" not in text_of(response)  # every Newham provider has submitted: no form


@pytest.mark.parametrize("person", ["newham_committee", "riverside_lead"])
def test_committee_members_and_providers_people_may_not_send_reminders(as_person, world, quarter, person):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    client = as_person(person)
    assert client.post(REMIND, {"providers": [world.riverside.pk]}).status_code == 403
    assert mail.outbox == []
    assert "Send reminders" not in text_of(client.get(COMPLETENESS))


def test_a_nurse_cannot_remind_another_commissioners_provider(as_person, world, quarter):
    member(world.chalk_hills, Role.PROVIDER_LEAD, username="chalk-lead")
    assert as_person("newham_nurse").post(REMIND, {"providers": [world.chalk_hills.pk]}).status_code == 403
    assert mail.outbox == []


# Trends


def test_the_trend_shows_a_chart_and_a_table_of_the_same_figures(as_person, world, catalogue, quarter):
    url = reverse("reviews:trend", args=[world.riverside.pk])
    response = as_person("newham_nurse").get(url, {"metric": "DBS"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart"' in html and 'role="img"' in html
    text = text_of(response)
    assert "Q2 2025/26 (July to September 2025) 97.0% (97 of 100) Amber green from 100%, amber from 95%" in text
    assert '<option value="POLICY">' in html  # another metric of Riverside's to choose
    assert '<option value="LEADS">' not in html  # a narrative has nothing to follow


def test_the_trend_of_an_unknown_metric_says_so_and_without_one_shows_the_first(as_person, world, catalogue, quarter):
    url = reverse("reviews:trend", args=[world.riverside.pk])
    client = as_person("newham_nurse")
    response = client.get(url, {"metric": "NOPE"})
    assert response.status_code == 400
    assert f"{world.riverside.name} does not report a metric with the code NOPE." in text_of(response)
    first = client.get(url)
    assert first.status_code == 200 and first.context["trend"].metric_code == "DBS"


def test_the_trend_of_a_provider_the_person_may_not_see_is_not_found(as_person, world, quarter):
    url = reverse("reviews:trend", args=[world.riverside.pk])
    assert as_person("luton_nurse").get(url, {"metric": "DBS"}).status_code == 404
    assert as_person("eastway_lead").get(url, {"metric": "DBS"}).status_code == 404


# Queries


def build(world, catalogue, period, count: int):
    """``count`` more providers for Newham: a third on time, a third late with a red answer, a third overdue."""
    providers = providers_of(world.newham, catalogue.framework, count, prefix=f"N{count:02d}")
    for n, provider in enumerate(providers):
        if n % 3 == 0:
            compute_return_rag(submit_directly(provider, period, by=world.administrator))
        elif n % 3 == 1:
            compute_return_rag(submit_directly(provider, period, RED_DBS, by=world.administrator, late=True))
    return providers


def queries_for(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200, url
    return len(captured)


#: The most queries each page asks: signing in and the session (five with its update), whether to offer the
#: dashboard in the nav (one), the filters' lists (four) and the page's own reads.
@pytest.mark.parametrize(
    "url,data,most",
    [
        (DASHBOARD, {}, 17),
        (DASHBOARD, {"framework": "test-returns", "provider_type": "acute"}, 18),
        (DASHBOARD, {"sort": "framework-test-returns", "status": "red", "provider": "e", "page": "2"}, 17),
        ("drill", {}, 18),
        (COMPLETENESS, {}, 15),
        ("trend", {"metric": "DBS"}, 14),
    ],
)
def test_each_page_asks_the_same_number_of_queries_for_2_and_10_providers(
    as_person, world, catalogue, quarter, url, data, most
):
    client = as_person("newham_nurse")
    url = reverse("reviews:trend", args=[world.riverside.pk]) if url == "trend" else url
    url = reverse("reviews:dashboard_framework", args=["test-returns"]) if url == "drill" else url
    build(world, catalogue, quarter, 0)  # Riverside and Eastway only
    with_2 = queries_for(client, url, data)
    build(world, catalogue, quarter, 8)
    with_10 = queries_for(client, url, data)
    if url == DASHBOARD and not data:
        assert len(client.get(url).context["rows"]) == 10
    assert with_2 == with_10 <= most, f"{url}: {with_2} queries with 2 providers, {with_10} with 10"


def more_places(icbs, catalogue, period, places: int, providers_each: int):
    """``places`` more places of NHS North East London ICB, each co-ordinating ``providers_each`` providers' contracts
    (a third on time, a third late with a red answer, a third overdue)."""
    for _ in range(places):
        count = icbs.nel.places.count()
        place = CommissionerFactory(name=f"NEL place {count}", ods_code=f"ZP{count:02d}", parent=icbs.nel)
        for m, provider in enumerate(providers_of(place, catalogue.framework, providers_each, prefix=f"Q{count}")):
            if m % 3 == 0:
                compute_return_rag(submit_directly(provider, period, by=icbs.administrator))
            elif m % 3 == 1:
                compute_return_rag(submit_directly(provider, period, RED_DBS, by=icbs.administrator, late=True))


@pytest.mark.parametrize(
    "url,data",
    [
        (DASHBOARD, {}),
        (DASHBOARD, {"commissioner": "newham"}),
        ("drill", {}),
        (COMPLETENESS, {}),
        ("trend", {"metric": "DBS"}),
    ],
)
def test_an_icbs_pages_ask_the_same_number_of_queries_however_many_places_and_providers(
    as_person, icbs, catalogue, quarter, url, data
):
    """An ICB's people reach every place's providers by a join: more places and providers ask no more queries."""
    client = as_person("nel_nurse")
    url = reverse("reviews:trend", args=[icbs.riverside.pk]) if url == "trend" else url
    url = reverse("reviews:dashboard_framework", args=["test-returns"]) if url == "drill" else url
    data = {"commissioner": icbs.newham.pk} if data.get("commissioner") else data
    more_places(icbs, catalogue, quarter, 1, 1)
    few = queries_for(client, url, data)
    more_places(icbs, catalogue, quarter, 3, 4)
    many = queries_for(client, url, data)
    if url == DASHBOARD and not data:
        assert len(client.get(url).context["rows"]) == 2 + 1 + 12  # Riverside, Eastway and every new place's
    assert few == many, f"{url}: {few} queries with 2 places, {many} with 5"


# ICBs and places


def test_an_icbs_commissioner_filter_offers_the_whole_icb_and_each_place(as_person, icbs, quarter):
    form = as_person("nel_nurse").get(DASHBOARD).context["form"]
    assert form.fields["commissioner"].choices == [
        ("", "All commissioners"),
        ("NHS North East London ICB", [
            (icbs.nel.pk, "NHS North East London ICB: the whole ICB"),
            (icbs.hackney.pk, icbs.hackney.name),
            (icbs.newham.pk, icbs.newham.name),
        ]),
    ]  # fmt: skip
    place_form = as_person("newham_nurse").get(DASHBOARD).context["form"]
    assert place_form.fields["commissioner"].choices == [("", "All commissioners"), (icbs.newham.pk, icbs.newham.name)]


def test_the_whole_icb_shows_each_places_totals_beside_each_other(as_person, icbs, quarter):
    Organisation.objects.filter(pk=icbs.newham.pk).update(name="NHS North East London ICB: Newham")
    response = as_person("nel_nurse").get(DASHBOARD, {"commissioner": icbs.nel.pk})
    assert [(p.name, p.totals["amber"], p.totals["red"]) for p in response.context["result"].place_totals] == [
        (icbs.hackney.name, 0, 1),  # Eastway, late with a red answer
        ("NHS North East London ICB: Newham", 1, 1),  # Riverside (amber) and Eastway (Newham is an associate)
    ]
    text = text_of(response)
    assert f"Each place of {icbs.nel.name}: its providers by overall status" in text
    # Under the ICB's heading a place is named without the ICB's name; its counts by overall status: overdue, red,
    # amber, green, no colour, not computed, not yet submitted; its name opens its own dashboard.
    assert f"{icbs.hackney.name} 0 1 0 0 0 0 0 Newham 0 1 1 0 0 0 0" in text
    assert f'commissioner={icbs.newham.pk}">Newham</a>' in response.content.decode()
    one_place = as_person("nel_nurse").get(DASHBOARD, {"commissioner": icbs.newham.pk})
    assert one_place.context["result"].place_totals == [] and "Each place of" not in text_of(one_place)
    assert len(one_place.context["rows"]) == 2


def test_a_place_person_cannot_ask_for_the_whole_icb_or_a_sibling_place(as_person, icbs, quarter):
    for other in (icbs.nel, icbs.hackney):
        response = as_person("newham_nurse").get(DASHBOARD, {"commissioner": other.pk})
        assert "There is no such commissioner." in response.content.decode()
        assert icbs.eastway.name not in text_of(response) and icbs.riverside.name not in text_of(response)
