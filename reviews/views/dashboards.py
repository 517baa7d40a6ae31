"""Pages of assurance for commissioners: the dashboard of a period, completeness and timeliness, a provider's trend.

Every page reads from :mod:`reviews.selectors`, which start from what the person may see and ask a fixed number
of queries however many providers there are. Filters are GET forms that work without JavaScript. Reminders are a
POST form for designated professionals, sent through :func:`reviews.services.send_reminders`, which checks again
who may send them and to whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from providers.models import Contract, Organisation, OrganisationKind
from providers.scoping import provider_ids
from returns.models import ReportingPeriod
from standards.kinds import RequirementKind
from standards.models import Framework, Metric, ProviderType

from .. import dashboard as board
from .. import selectors, services
from ..charts import legend_items, trend_chart
from ..models import Reminder
from ..rag import SEVERITY, Colour

NO_PROVIDERS = "Choose the providers to remind."
NOT_A_REMINDER = "Only a designated professional of a commissioner of these providers can remind them."


def home_crumb() -> tuple[str, str]:
    return ("Home", reverse("home"))


def dashboard_crumb() -> tuple[str, str]:
    return ("Dashboard", reverse("reviews:dashboard"))


def may_remind(user) -> bool:
    """Whether ``user`` reviews some provider's returns, and so may remind providers (one query at most)."""
    ids = provider_ids(user, "review")
    return ids is None or ids.exists()


# --------------------------------------------------------------------------------------------------- filters


def provider_name_field() -> forms.CharField:
    """Part of a provider's name, as the dashboard's and the moderation page's filters ask it (made clean, with its
    spaces trimmed, by :meth:`AssuranceFilterForm.clean_provider`)."""
    return forms.CharField(
        label="Provider name",
        required=False,
        max_length=200,
        help_text="All or part of the name.",
        error_messages={"max_length": "Enter a provider name of 200 characters or fewer."},
    )


class AssuranceFilterForm(forms.Form):
    """Which period, and optionally which commissioner, type of provider and framework, a page shows.

    Each list is read once (four queries), and the choices are checked against those lists.
    """

    period = forms.TypedChoiceField(
        label="Reporting period",
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "There is no such reporting period."},
    )
    commissioner = forms.TypedChoiceField(
        label="Commissioner",
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "There is no such commissioner."},
    )
    provider_type = forms.ChoiceField(
        label="Type of provider",
        required=False,
        error_messages={"invalid_choice": "There is no such type of provider."},
    )
    framework = forms.ChoiceField(
        label="Framework",
        required=False,
        error_messages={"invalid_choice": board.NO_SUCH_FRAMEWORK},
    )

    def __init__(self, data, *, user, periods: list[ReportingPeriod]):
        super().__init__(data)
        self.periods = {period.pk: period for period in periods}
        # Only the commissioners the person belongs to (every one, for administrators).
        self.commissioners = {
            organisation.pk: organisation
            for organisation in Organisation.objects.restrict(user)
            .filter(kind=OrganisationKind.COMMISSIONER)
            .order_by("name")
        }
        self.fields["period"].choices = [(period.pk, period.label) for period in periods]
        self.fields["commissioner"].choices = [("", "All commissioners"), *commissioner_choices(self.commissioners)]
        self.fields["provider_type"].choices = [("", "All types"), *ProviderType.objects.values_list("code", "name")]
        self.fields["framework"].choices = [("", "All frameworks"), *framework_choices()]

    def clean_period(self):
        return self.periods.get(self.cleaned_data["period"])

    def clean_commissioner(self):
        return self.commissioners.get(self.cleaned_data["commissioner"])

    def clean_provider(self):  # for the forms with a provider_name_field()
        return self.cleaned_data["provider"].strip()


def commissioner_choices(commissioners: dict) -> list:
    """The commissioner filter's choices: each ICB with its places as a group, the whole ICB first, then one place
    at a time; a commissioner whose ICB is not in ``commissioners`` (a place's people) or with no places alone."""
    places = {}
    for organisation in commissioners.values():
        if organisation.parent_id in commissioners:
            places.setdefault(organisation.parent_id, []).append(organisation)
    choices = []
    for pk, organisation in commissioners.items():
        if organisation.parent_id in commissioners:
            continue
        if pk in places:
            whole = (pk, f"{organisation.name}: the whole ICB")
            choices.append((organisation.name, [whole, *((place.pk, place.name) for place in places[pk])]))
        else:
            choices.append((pk, organisation.name))
    return choices


def commissioner_options(commissioners: dict) -> list[tuple[int, str]]:
    """:func:`commissioner_choices` as one flat list (the whole ICB, then each of its places), for a select that
    shows no groups."""
    options = []
    for value, label in commissioner_choices(commissioners):
        options.extend(label if isinstance(label, list) else [(value, label)])
    return options


def framework_choices() -> list[tuple[str, str]]:
    """Each framework of the catalogue once, by its code, with the short name of its newest version."""
    seen = {}
    for code, short_name in Framework.objects.order_by("position", "code", "-effective_from").values_list(
        "code", "short_name"
    ):
        seen.setdefault(code, short_name)
    return list(seen.items())


@dataclass
class Filters:
    """The filters asked for, once checked: ``period`` is None when they are wrong or there is no period yet."""

    form: AssuranceFilterForm
    period: ReportingPeriod | None = None
    commissioner: Organisation | None = None
    provider_type: str | None = None
    framework: str | None = None
    status: str | None = None  # the dashboard's: an overall status
    search: str = ""  # the dashboard's: part of a provider's name

    @property
    def query(self) -> dict[str, str]:
        """The filters as query parameters, to keep them in links and forms."""
        if self.period is None:
            return {}
        asked = {
            "period": self.period.pk,
            "commissioner": self.commissioner.pk if self.commissioner else "",
            "provider_type": self.provider_type or "",
            "framework": self.framework or "",
            "status": self.status or "",
            "provider": self.search,
        }
        return {name: str(value) for name, value in asked.items() if value}

    @property
    def querystring(self) -> str:
        return urlencode(self.query)

    @property
    def narrowed(self) -> bool:
        return bool(self.commissioner or self.provider_type or self.framework or self.status or self.search)


def filters_asked(user, data, form_class=AssuranceFilterForm) -> Filters:
    """Check the filters in ``data`` (GET, or a POST carrying them); the period defaults to the latest ended."""
    periods = list(ReportingPeriod.objects.filter(ends_on__lt=timezone.localdate()).order_by("-ends_on"))
    data = data.copy()
    if not data.get("period") and periods:
        data["period"] = str(periods[0].pk)
    form = form_class(data, user=user, periods=periods)
    if not form.is_valid():
        return Filters(form)
    cleaned = form.cleaned_data
    return Filters(
        form,
        period=cleaned["period"],
        commissioner=cleaned["commissioner"],
        provider_type=cleaned["provider_type"] or None,
        framework=cleaned["framework"] or None,
        status=cleaned.get("status") or None,
        search=cleaned.get("provider", ""),
    )


# ------------------------------------------------------------------------------------------------- dashboard

#: Providers a page of the dashboard and of a drill-down; exceptions a page.
PROVIDERS_A_PAGE = board.PROVIDERS_A_PAGE
EXCEPTIONS_A_PAGE = board.EXCEPTIONS_A_PAGE


class DashboardFilterForm(AssuranceFilterForm):
    """The assurance filters, with the dashboard's own: an overall status and part of a provider's name."""

    status = forms.ChoiceField(
        label="Overall status",
        required=False,
        error_messages={"invalid_choice": "There is no such status."},
    )
    provider = provider_name_field()

    def __init__(self, data, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["status"].choices = [("", "Every status"), *board.STANDINGS.items()]


@dataclass
class SortLink:
    """A column header that sorts the rows: its link, and its ``aria-sort`` when the rows are sorted by it."""

    url: str
    aria_sort: str  # "ascending", "descending" or "" (not sorted by it)
    describes: str  # what the order is, for people and screen readers


def sort_asked(data, codes) -> tuple[str, bool]:
    """The sort asked (``sort``: status, name or framework-<code>; ``order``: asc or desc); status otherwise."""
    sort = data.get("sort", board.SORT_BY_STATUS)
    known = {board.SORT_BY_STATUS, board.SORT_BY_NAME} | {board.SORT_BY_FRAMEWORK + code for code in codes}
    if sort not in known:
        sort = board.SORT_BY_STATUS
    return sort, data.get("order") == "desc"


def link(path: str, query: dict, fragment: str = "") -> str:
    """``path`` with ``query`` (empty values left out) and a ``#fragment``."""
    shown = {name: value for name, value in query.items() if value not in ("", None)}
    return path + (f"?{urlencode(shown)}" if shown else "") + (f"#{fragment}" if fragment else "")


def sort_link(path: str, query: dict, key: str, sort: str, descending: bool, words: tuple[str, str]) -> SortLink:
    """The header link sorting by ``key``: the other way when already sorted by it; ``words`` name the two orders
    (ascending first, such as "worst first" and "best first")."""
    if key == sort:
        url = link(path, {**query, "sort": key, "order": "" if descending else "desc", "page": ""})
        aria = "descending" if descending else "ascending"
        return SortLink(
            url, aria, f"sorted {words[1] if descending else words[0]}; select to sort {words[0 if descending else 1]}"
        )
    return SortLink(link(path, {**query, "sort": key, "order": "", "page": ""}), "", f"select to sort {words[0]}")


def sorted_by(sort: str, descending: bool, frameworks: dict[str, str]) -> str:
    """The order of the rows in words: "worst first", "by name, Z to A", "by Section 11, worst first"."""
    if sort == board.SORT_BY_NAME:
        return "by name, Z to A" if descending else "by name, A to Z"
    order = "best first" if descending else "worst first"
    if sort.startswith(board.SORT_BY_FRAMEWORK):
        name = frameworks.get(sort.removeprefix(board.SORT_BY_FRAMEWORK), "one framework")
        return f"by {name}, {order}"
    return f"by overall status, {order}"


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None for an ellipsis
    url: str
    current: bool


@dataclass
class Pagination:
    """The GOV.UK pagination pattern for one list: previous, numbered pages with ellipses, next."""

    label: str
    previous_url: str
    next_url: str
    pages: list[PageLink]
    summary: str  # "Showing 51 to 100 of 500 providers"


def pagination(page, path: str, query: dict, parameter: str, fragment: str, label: str, noun: str) -> Pagination:
    def url(number):
        return link(path, {**query, parameter: number if number > 1 else ""}, fragment)

    pages = []
    if page.paginator.num_pages > 1:
        for number in page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1):
            if number == page.paginator.ELLIPSIS:
                pages.append(PageLink(None, "", False))
            else:
                pages.append(PageLink(number, url(number), number == page.number))
    count = page.paginator.count
    summary = f"Showing {page.start_index()} to {page.end_index()} of {count} {noun}" if count else ""
    return Pagination(
        label,
        url(page.previous_page_number()) if page.has_previous() else "",
        url(page.next_page_number()) if page.has_next() else "",
        pages,
        summary,
    )


@dataclass
class CellOnPage:
    cell: board.FrameworkCell | None  # None when the framework is not on this provider's contract
    url: str  # the framework's drill-down, at this provider's row of the grid
    framework: board.FrameworkColumn | None = None

    @property
    def card_url(self) -> str:
        """The same drill-down at this provider's entry in the list a phone shows instead of the grid."""
        return self.url + "-card"


@dataclass
class RowOnPage:
    row: board.ProviderRow
    review_url: str
    trend_url: str
    cells: list = field(default_factory=list)  # a CellOnPage per framework, or a Cell per standard and group
    framework_cell: object = None  # in a drill-down: the provider's cell of the framework


#: The colour of each total's bar (its words are always shown with it).
TOTAL_COLOURS = {
    selectors.OVERDUE: "overdue",
    Colour.RED: "red",
    Colour.AMBER: "amber",
    Colour.GREEN: "green",
    Colour.NONE: "none",
    board.NOT_COMPUTED: "none",
    selectors.NOT_YET: "not-yet",
}


def dashboard_filters(filters: Filters) -> board.DashboardFilters:
    return board.DashboardFilters(
        filters.period,
        commissioner=filters.commissioner,
        provider_type=filters.provider_type,
        framework=filters.framework,
        status=filters.status,
        search=filters.search,
    )


def review_url(row: board.ProviderRow) -> str:
    return reverse("reviews:return_review", args=[row.return_id]) if row.return_id else ""


def rows_on_page(rows, drill_urls: dict[str, str] | None = None, frameworks=()) -> list[RowOnPage]:
    """The page's rows with their links; on the dashboard each framework cell (of ``frameworks``, the columns)
    links to the framework's drill-down at the provider, and in a drill-down each cell to the return's review at
    that standard or group."""
    frameworks = {column.code: column for column in frameworks}
    shown = []
    for row in rows:
        item = RowOnPage(
            row,
            review_url(row),
            reverse("reviews:trend", args=[row.provider_id]),
        )
        if drill_urls is not None:
            item.cells = [
                CellOnPage(row.cells[code], f"{url}#provider-{row.provider_id}", frameworks.get(code))
                for code, url in drill_urls.items()
                if code in row.cells
            ]
            if row.cells and len(item.cells) < len(drill_urls):  # a framework not on this provider's contract
                item.cells = [
                    CellOnPage(row.cells[code], f"{url}#provider-{row.provider_id}", frameworks.get(code))
                    if code in row.cells
                    else CellOnPage(None, "", frameworks.get(code))
                    for code, url in drill_urls.items()
                ]
        shown.append(item)
    return shown


def exceptions_on_page(exceptions, completeness_url: str) -> list[dict]:
    """Each exception with its link: a red answer to its review, an overdue return to the completeness page."""
    shown = []
    for exception in exceptions:
        if exception.kind == board.RED_ANSWER:
            url = reverse("reviews:answer_review", kwargs={"pk": exception.return_id, "code": exception.metric_code})
        else:
            url = completeness_url
        shown.append({"exception": exception, "url": url})
    return shown


#: What each kind of exception needs, in the summary of what needs action: words for one and for several.
NEEDS_ACTION = {
    board.OVERDUE_RETURN: ("overdue return", "overdue returns", "to chase"),
    board.RED_ANSWER: ("red answer", "red answers", "to review"),
}


def needs_action(counts: dict[str, int], path: str, query: dict) -> list[dict]:
    """The exceptions counted by kind (overdue returns, then red answers), each with a link to the exceptions of
    that kind, listed further down the page: what the designated professional sees before the grid."""
    return [
        {
            "kind": kind,
            "count": counts.get(kind, 0),
            "words": one if counts.get(kind, 0) == 1 else several,
            "action": action,
            "url": link(path, {**query, "exceptions": kind}, "exceptions"),
        }
        for kind, (one, several, action) in NEEDS_ACTION.items()
    ]


class ExceptionFilterForm(forms.Form):
    """Which exceptions to list: a kind (red answers or overdue returns) and the framework of the red answers."""

    exceptions = forms.ChoiceField(
        label="Show", required=False, error_messages={"invalid_choice": board.NO_SUCH_EXCEPTION_KIND}
    )
    exceptions_framework = forms.ChoiceField(
        label="Red answers in", required=False, error_messages={"invalid_choice": board.NO_SUCH_FRAMEWORK}
    )

    def __init__(self, data, frameworks: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["exceptions"].choices = [("", "Every exception"), *board.EXCEPTION_KINDS.items()]
        self.fields["exceptions_framework"].choices = [("", "Every framework"), *frameworks]

    def asked(self) -> tuple[str | None, str | None]:
        """The kind and framework asked; when either is unknown, neither (every exception is listed, and the page
        says what was wrong beside the field and in its error summary)."""
        if not self.is_valid():
            return None, None
        return self.cleaned_data["exceptions"] or None, self.cleaned_data["exceptions_framework"] or None


@login_required
def dashboard(request):
    """Providers by framework for a period, worst first, paged and sortable, with the totals and the exceptions."""
    filters = filters_asked(request.user, request.GET, DashboardFilterForm)
    context = {
        "form": filters.form,
        "filters": filters,
        "breadcrumbs": [home_crumb(), ("Dashboard", None)],
    }
    if filters.period is None:
        return render(request, "reviews/dashboard.html", context)
    path = reverse("reviews:dashboard")
    catalogue_frameworks = list(filters.form.fields["framework"].choices)[1:]  # read once, by the filters
    sort, descending = sort_asked(request.GET, [code for code, _ in catalogue_frameworks])
    exception_form = ExceptionFilterForm(request.GET, catalogue_frameworks)
    kind, exception_framework = exception_form.asked()
    result = board.framework_dashboard(
        request.user,
        dashboard_filters(filters),
        sort=sort,
        descending=descending,
        exception_kind=kind,
        exception_framework=exception_framework,
    )
    sorted_as = {"sort": sort if sort != board.SORT_BY_STATUS else "", "order": "desc" if descending else ""}
    listed = {**filters.query, **sorted_as}
    page = Paginator(result.providers, PROVIDERS_A_PAGE).get_page(request.GET.get("page"))
    on_page = {**listed, "page": page.number if page.number > 1 else ""}
    exceptions_asked = {"exceptions": kind or "", "exceptions_framework": exception_framework or ""}
    exceptions_page = Paginator(result.exceptions, EXCEPTIONS_A_PAGE).get_page(request.GET.get("exceptions_page"))
    drill_urls = {
        column.code: link(reverse("reviews:dashboard_framework", args=[column.code]), on_page)
        for column in result.frameworks
    }
    completeness_url = f"{reverse('reviews:completeness')}?{filters.querystring}"
    by_worst = ("worst first", "best first")
    sorting = {**listed, **exceptions_asked}
    context.update(
        result=result,
        frameworks=[
            {
                "column": column,
                "drill_url": drill_urls[column.code],
                "sort": sort_link(path, sorting, board.SORT_BY_FRAMEWORK + column.code, sort, descending, by_worst),
                "totals": result.framework_totals[column.code],
            }
            for column in result.frameworks
        ],
        sort_by_name=sort_link(path, sorting, board.SORT_BY_NAME, sort, descending, ("A to Z", "Z to A")),
        sort_by_status=sort_link(path, sorting, board.SORT_BY_STATUS, sort, descending, by_worst),
        sorted_as=[(name, value) for name, value in sorted_as.items() if value],
        sorted_by=sorted_by(sort, descending, {column.code: column.short_name for column in result.frameworks}),
        page=page,
        rows=rows_on_page(page.object_list, drill_urls, result.frameworks),
        pagination=pagination(page, path, sorting, "page", "providers", "Pages of providers", "providers"),
        totals=[
            {
                "key": key,
                "label": label,
                "count": result.totals[key],
                "css": TOTAL_COLOURS[key],
                "url": link(path, {**listed, "status": key}),
                "current": filters.status == key,
            }
            for key, label in board.STANDINGS.items()
        ],
        all_statuses_url=link(path, {**listed, "status": ""}),
        needs_action=needs_action(result.exception_totals, path, on_page),
        standing_labels=list(board.STANDINGS.values()),
        place_totals=[
            {
                # "NHS North East London ICB: Newham" is Newham under its ICB's heading.
                "name": place.name.removeprefix(f"{filters.commissioner.name}: "),
                "url": link(path, {**listed, "commissioner": place.place_id}),
                "counts": [place.totals[key] for key in board.STANDINGS],
            }
            for place in result.place_totals
        ],
        exception_form=exception_form,
        exception_hidden=[(name, value) for name, value in on_page.items() if value not in ("", None)],
        exceptions=exceptions_on_page(exceptions_page.object_list, completeness_url),
        exceptions_page=exceptions_page,
        exceptions_pagination=pagination(
            exceptions_page,
            path,
            {**on_page, **exceptions_asked},
            "exceptions_page",
            "exceptions",
            "Pages of exceptions",
            "exceptions",
        ),
        completeness_url=completeness_url,
        # A red, amber or green cell shows its counts, and the page says once how they give its colour (the worst):
        # its "Why" would only say the counts again, so it has none. Cells without a colour say why.
        counted_colours=SEVERITY,
        moderation_url=link(reverse("reviews:moderation"), {**filters.query, "status": "", "framework": ""}),
    )
    return render(request, "reviews/dashboard.html", context)


@login_required
def dashboard_framework(request, code):
    """One framework's standards and metric groups for the providers matching the dashboard's filters, paged and
    sorted as the dashboard is; each cell opens the return's review at that standard or group."""
    filters = filters_asked(request.user, request.GET, DashboardFilterForm)
    path = reverse("reviews:dashboard_framework", args=[code])
    context = {"form": filters.form, "filters": filters, "action": path}
    if filters.period is None:
        context["breadcrumbs"] = [home_crumb(), dashboard_crumb(), ("Framework", None)]
        return render(request, "reviews/dashboard_framework.html", context)
    sort, descending = sort_asked(request.GET, [code])
    result = board.framework_drill_down(
        request.user, dashboard_filters(filters), code, sort=sort, descending=descending
    )
    if result is None:
        raise Http404("No provider shown has a contract naming this framework.")
    listed = {
        **filters.query,
        "sort": sort if sort != board.SORT_BY_STATUS else "",
        "order": "desc" if descending else "",
    }
    page = Paginator(result.providers, PROVIDERS_A_PAGE).get_page(request.GET.get("page"))
    dashboard_url = link(reverse("reviews:dashboard"), {**listed, "page": page.number if page.number > 1 else ""})
    headings = framework_headings(result.columns)
    by_key = {heading.key: heading for group in headings for heading in group.columns}
    rows = rows_on_page(page.object_list)
    for item in rows:
        item.framework_cell = item.row.cells.get(code)
        if item.row.details:
            item.cells = [
                {
                    "cell": item.row.details[column.key],
                    "url": item.review_url + drill_down(column),
                    "column": by_key[column.key],
                }
                for column in result.columns
            ]
    by_worst = ("worst first", "best first")
    context.update(
        result=result,
        headings=headings,
        columns=result.columns,
        page=page,
        rows=rows,
        dashboard_url=dashboard_url,
        sort_by_name=sort_link(path, listed, board.SORT_BY_NAME, sort, descending, ("A to Z", "Z to A")),
        sort_by_status=sort_link(path, listed, board.SORT_BY_STATUS, sort, descending, by_worst),
        sort_by_framework=sort_link(path, listed, board.SORT_BY_FRAMEWORK + code, sort, descending, by_worst),
        pagination=pagination(page, path, listed, "page", "providers", "Pages of providers", "providers"),
        completeness_url=f"{reverse('reviews:completeness')}?{filters.querystring}",
        breadcrumbs=[home_crumb(), ("Dashboard", dashboard_url), (result.framework.short_name, None)],
    )
    return render(request, "reviews/dashboard_framework.html", context)


@dataclass
class FrameworkHeading:
    name: str
    columns: list = field(default_factory=list)


@dataclass(frozen=True)
class ColumnHeading:
    """A drill-down column's heading: its label ("Standard 3"), a short name cut between words, and the full
    title, which the key to the columns gives (never only on hover)."""

    column: selectors.Column
    short_title: str

    @property
    def key(self) -> str:
        return self.column.key

    @property
    def label(self) -> str:
        return self.column.label

    @property
    def title(self) -> str:
        return self.column.title

    @property
    def kind(self) -> str:
        return self.column.kind

    @property
    def shortened(self) -> bool:
        return self.short_title != self.column.title


#: The longest short name a column heading shows, in characters; a longer title is cut before the word that
#: would pass it.
SHORT_TITLE_LENGTH = 40


def short_title(title: str, limit: int = SHORT_TITLE_LENGTH) -> str:
    """``title`` cut at a word boundary to ``limit`` characters at most, with an ellipsis when cut; a first word
    longer than that is kept whole, as a heading never breaks a word."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    words, kept = title.split(" "), []
    for word in words:
        if kept and len(" ".join([*kept, word])) > limit - 1:
            break
        kept.append(word)
    return " ".join(kept).rstrip(",;:.–-— ") + "…"


def framework_headings(columns: list[selectors.Column]) -> list[FrameworkHeading]:
    """The columns grouped: the framework's standards, then its metric groups, each with its short name."""
    headings: dict[str, FrameworkHeading] = {}
    for column in columns:
        name = "Standards" if column.kind == "standard" else "Metric groups"
        heading = ColumnHeading(column, short_title(column.title) if column.kind == "standard" else column.title)
        headings.setdefault(name, FrameworkHeading(name)).columns.append(heading)
    return list(headings.values())


def drill_down(column: selectors.Column) -> str:
    """The query that opens a return's review at a column's standard or metric group."""
    if column.kind == "standard":
        return "?" + urlencode({"standard": column.key.removeprefix("standard-")})
    return "?" + urlencode({"group": column.label})


# ---------------------------------------------------------------------------------------------- completeness

#: Where a provider's return stands, as the completeness page counts and shows it (its tag's style: the key's in
#: assurance.status_words).
STANDINGS = {
    selectors.ON_TIME: "On time",
    selectors.LATE: "Late",
    selectors.RETURNED: "Returned for revision",
    selectors.NOT_YET: "Not yet submitted",
    selectors.OVERDUE: "Overdue",
}


@dataclass
class CompletenessOnPage:
    row: selectors.CompletenessRow
    standing: str
    label: str
    last_reminder: object = None  # when the last reminder for this period went, if one did
    ticked: bool = False  # ticked by the person when the form came back with an error

    @property
    def may_be_reminded(self) -> bool:
        return bool(self.row.remind)


def standing_of(row: selectors.CompletenessRow) -> str:
    """On time, late, returned for revision, overdue or not yet: the selector folds the last three into "not yet"."""
    if row.state in (selectors.ON_TIME, selectors.LATE):
        return row.state
    if row.label == selectors.STATE_LABELS[selectors.RETURNED]:
        return selectors.RETURNED
    return selectors.OVERDUE if row.overdue else selectors.NOT_YET


class RemindForm(forms.Form):
    """The providers ticked on the completeness page, and the period, to remind of their missing returns."""

    period = forms.ModelChoiceField(
        queryset=ReportingPeriod.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "There is no such reporting period."},
    )
    providers = forms.Field(required=False, widget=forms.CheckboxSelectMultiple, label="Providers to remind")

    def clean_providers(self):
        try:
            return [int(value) for value in self.cleaned_data["providers"] or []]
        except (TypeError, ValueError):
            raise ValidationError(NO_PROVIDERS) from None


def completeness_context(request, filters: Filters, form: RemindForm | None = None) -> dict:
    """What the completeness page shows for these filters; ``form`` is the reminder form with its errors."""
    user = request.user
    context = {
        "filters": filters,
        "filter_form": filters.form,
        "form": form or RemindForm(),
        "may_remind": may_remind(user),
        "today": timezone.localdate(),
        "breadcrumbs": [home_crumb(), dashboard_crumb(), ("Completeness and timeliness", None)],
    }
    if filters.period is None:
        return context
    providers = selectors.expected_providers(
        filters.period,
        commissioner=filters.commissioner,
        provider_type=filters.provider_type,
        framework=filters.framework,
    )
    visible = selectors.assurance_provider_ids(user, filters.period.ends_on)
    if visible is not None:
        providers = providers.filter(pk__in=visible)
    rows = selectors.completeness_rows(filters.period, providers)
    last_reminders = dict(
        Reminder.objects.filter(period=filters.period, provider_id__in=[row.provider_id for row in rows])
        .values("provider_id")
        .annotate(last=Max("sent_at"))
        .values_list("provider_id", "last")
        .order_by()
    )
    ticked = set(form.data.getlist("providers")) if form is not None else set()
    shown = []
    for row in rows:
        standing = standing_of(row)
        shown.append(
            CompletenessOnPage(
                row, standing, STANDINGS[standing], last_reminders.get(row.provider_id), str(row.provider_id) in ticked
            )
        )
    counts = [(label, sum(1 for r in shown if r.standing == key), key) for key, label in STANDINGS.items()]
    context.update(rows=shown, counts=counts, remindable=[r for r in shown if r.may_be_reminded])
    return context


@login_required
def completeness(request):
    """Who has submitted for a period: on time, late, returned for revision, not yet or overdue; and reminders."""
    filters = filters_asked(request.user, request.GET)
    return render(request, "reviews/completeness.html", completeness_context(request, filters))


def _when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local:%-d %B %Y} at {local:%H:%M}"


@login_required
@require_POST
def remind(request):
    """E-mail the safeguarding leads of the providers ticked; refused (403) to anyone who does not review them."""
    if not may_remind(request.user):
        raise PermissionDenied(NOT_A_REMINDER)
    filters = filters_asked(request.user, request.POST)
    form = RemindForm(request.POST)
    if form.is_valid():
        period = form.cleaned_data["period"] or filters.period
        if period is None:
            form.add_error("period", "Choose a reporting period.")
        else:
            try:
                result = services.send_reminders(period, by=request.user, providers=form.cleaned_data["providers"])
            except ValidationError as error:
                problems = error.message_dict if hasattr(error, "error_dict") else {"providers": error.messages}
                for name, errors in problems.items():
                    form.add_error(name if name in form.fields else "providers", errors)
            else:
                for reminder in result.sent:
                    messages.success(
                        request,
                        f"Reminder sent to {reminder.provider.name} ({', '.join(reminder.recipients)}) "
                        f"on {_when(reminder.sent_at)}.",
                    )
                for provider_name, reason in result.skipped.items():
                    messages.warning(request, f"{provider_name} was not reminded: {reason}")
                url = reverse("reviews:completeness")
                query = {**filters.query, "period": str(period.pk)}
                return HttpResponseRedirect(f"{url}?{urlencode(query)}")
    context = completeness_context(request, filters, form)
    return render(request, "reviews/completeness.html", context, status=400)


# ----------------------------------------------------------------------------------------------------- trend

#: Kinds that make a series worth following; a narrative has neither a figure nor a colour.
TREND_KINDS = [kind for kind in RequirementKind.values if kind != RequirementKind.NARRATIVE]


@dataclass(frozen=True)
class MetricChoice:
    code: str
    title: str
    framework: str
    kind: str


def metrics_of(provider: Organisation) -> list[MetricChoice]:
    """The metrics of the frameworks on the provider's contracts, each code once, in catalogue order (one query)."""
    codes = Contract.objects.accepted().filter(provider=provider).values("frameworks__code")
    seen: dict[str, MetricChoice] = {}
    for code, title, framework, kind in (
        Metric.objects.filter(framework__code__in=codes, kind__in=TREND_KINDS)
        .order_by("framework__position", "framework__code", "-framework__effective_from", "position", "code")
        .values_list("code", "title", "framework__short_name", "kind")
    ):
        seen.setdefault(code, MetricChoice(code, title, framework, kind))
    return list(seen.values())


def first_to_show(choices: list[MetricChoice]) -> MetricChoice:
    """The metric shown when none is asked for: the first with a figure judged against a threshold, if any."""
    judged = (RequirementKind.PERCENTAGE, RequirementKind.AUDIT)
    return next((choice for choice in choices if choice.kind in judged), choices[0])


@login_required
def trend(request, provider):
    """A provider's figures for one metric over its last quarters (up to eight): a chart and the same figures in a
    table."""
    provider = selectors.assurance_provider(request.user, provider)
    if provider is None:
        raise Http404("No such provider.")
    choices = metrics_of(provider)
    code = request.GET.get("metric", "").strip()
    error = ""
    result = None
    if not choices:
        error = f"{provider.name} reports no metric that can be followed over time."
    else:
        code = code or first_to_show(choices).code
        if code not in {choice.code for choice in choices}:
            error = f"{provider.name} does not report a metric with the code {code}."
        else:
            result = selectors.trend(request.user, provider, code)
    frameworks: dict[str, list[MetricChoice]] = {}
    for choice in choices:
        frameworks.setdefault(choice.framework, []).append(choice)
    has_figures = result is not None and any(point.figure is not None for point in result.points)
    context = {
        "provider": provider,
        "metric_code": code,
        "choices_by_framework": frameworks,
        "error": error,
        "trend": result,
        # Two drawings of one chart: the wide one for a laptop, the narrow one (its text as large) for a phone.
        "chart": trend_chart(result, width=640, height=270, font_size=13) if has_figures else "",
        "narrow_chart": trend_chart(result, width=340, height=250, font_size=12, narrow=True) if has_figures else "",
        "legend": legend_items() if has_figures else [],
        "most_quarters": selectors.TREND_QUARTERS,
        "breadcrumbs": [home_crumb(), dashboard_crumb(), (f"{provider.name}: trend", None)],
    }
    return render(request, "reviews/trend.html", context, status=400 if error and choices else 200)
