"""Pages of assurance for commissioners: the dashboard of a period, completeness and timeliness, a provider's trend.

Every page reads from :mod:`reviews.selectors`, which start from what the person may see and ask a fixed number
of queries however many providers there are. Filters are GET forms that work without JavaScript. Reminders are a
POST form for designated professionals, sent through :func:`reviews.services.send_reminders`, which checks again
who may send them and to whom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from providers.models import Contract, Organisation, OrganisationKind
from providers.scoping import provider_ids
from returns.models import ReportingPeriod
from standards.kinds import RequirementKind
from standards.models import Framework, Metric, ProviderType

from .. import selectors, services
from ..charts import legend, trend_chart
from ..models import Reminder
from ..rag import Colour

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
        error_messages={"invalid_choice": "There is no such framework."},
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
        self.fields["commissioner"].choices = [("", "All commissioners")] + [
            (pk, organisation.name) for pk, organisation in self.commissioners.items()
        ]
        self.fields["provider_type"].choices = [("", "All types"), *ProviderType.objects.values_list("code", "name")]
        self.fields["framework"].choices = [("", "All frameworks"), *framework_choices()]

    def clean_period(self):
        return self.periods.get(self.cleaned_data["period"])

    def clean_commissioner(self):
        return self.commissioners.get(self.cleaned_data["commissioner"])


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
        }
        return {name: str(value) for name, value in asked.items() if value}

    @property
    def querystring(self) -> str:
        return urlencode(self.query)

    @property
    def narrowed(self) -> bool:
        return bool(self.commissioner or self.provider_type or self.framework)


def filters_asked(user, data) -> Filters:
    """Check the filters in ``data`` (GET, or a POST carrying them); the period defaults to the latest ended."""
    periods = list(ReportingPeriod.objects.filter(ends_on__lt=timezone.localdate()).order_by("-ends_on"))
    data = data.copy()
    if not data.get("period") and periods:
        data["period"] = str(periods[0].pk)
    form = AssuranceFilterForm(data, user=user, periods=periods)
    if not form.is_valid():
        return Filters(form)
    cleaned = form.cleaned_data
    return Filters(
        form,
        period=cleaned["period"],
        commissioner=cleaned["commissioner"],
        provider_type=cleaned["provider_type"] or None,
        framework=cleaned["framework"] or None,
    )


# ------------------------------------------------------------------------------------------------- dashboard


@dataclass
class FrameworkHeading:
    name: str
    columns: list = field(default_factory=list)


#: The tag colour of each submission state (its words are always shown with it).
STATE_COLOURS = {
    selectors.ON_TIME: "green",
    selectors.LATE: "yellow",
    selectors.RETURNED: "purple",
    selectors.NOT_YET: "grey",
    selectors.OVERDUE: "red",
}


@dataclass
class RowOnPage:
    row: selectors.DashboardRow
    review_url: str
    trend_url: str
    state_colour: str
    cells: SafeString  # the row's cells, one <td> per column, or "" before its status is computed


def framework_headings(columns: list[selectors.Column]) -> list[FrameworkHeading]:
    """The columns grouped under their framework, frameworks in the order they first appear."""
    headings: dict[str, FrameworkHeading] = {}
    for column in columns:
        headings.setdefault(column.framework, FrameworkHeading(column.framework)).columns.append(column)
    return list(headings.values())


def drill_down(column: selectors.Column) -> str:
    """The query that opens a return's review at a column's standard or metric group."""
    if column.kind == "standard":
        return "?" + urlencode({"standard": column.key.removeprefix("standard-")})
    return "?" + urlencode({"group": column.label})


def rows_on_page(result: selectors.Dashboard, columns: list[selectors.Column]) -> list[RowOnPage]:
    """Each row with its cells written out: a grid of 500 providers by 80 columns is 40,000 cells, too many to go
    through the template language one by one. Each cell is a link labelled with its colour in words, its class
    giving the colour and its title the explanation."""
    queries = [escape(drill_down(column)) for column in columns]
    escaped: dict[str, str] = {}  # many cells share an explanation ("no answer here is given a colour")
    shown = []
    for row in result.rows:
        review_url = reverse("reviews:return_review", args=[row.return_id]) if row.return_id else ""
        cells = []
        if row.cells:
            for column, query in zip(columns, queries, strict=True):
                cell = row.cells[column.key]
                title = escaped.get(cell.explanation)
                if title is None:
                    title = escaped[cell.explanation] = escape(cell.explanation)
                cells.append(
                    f'<td class="rag rag--{cell.colour}" title="{title}">'
                    f'<a href="{review_url}{query}">{escape(cell.label)}</a></td>'
                )
        trend_url = reverse("reviews:trend", args=[row.provider_id])
        cells_html = mark_safe("".join(cells))  # noqa: S308 - every part is escaped
        shown.append(RowOnPage(row, review_url, trend_url, STATE_COLOURS.get(row.state.code, "grey"), cells_html))
    return shown


def exception_rows(result: selectors.Dashboard, completeness_url: str) -> SafeString:
    """The rows of the exceptions table: each red answer linking to its review, each overdue return to the
    completeness page. Written out here for the same reason as the grid's cells: there can be thousands."""
    # One reverse, then each answer's numbers put in: reversing thousands of URLs one by one takes most of a second.
    pattern = reverse("reviews:answer_review", kwargs={"pk": 2147483647, "code": "CODE-PLACEHOLDER"})
    rows = []
    for exception in result.exceptions:
        if exception.kind == "red":
            url = pattern.replace("2147483647", str(exception.return_id)).replace(
                "CODE-PLACEHOLDER", quote(exception.metric_code, safe=":@!$&'()*+,;=-._~")
            )
            what = (
                f'<strong class="tag tag--red">Red</strong> <a href="{escape(url)}">'
                f'<span class="table__code">{escape(exception.metric_code)}</span>{escape(exception.title)}</a>'
            )
        else:
            what = (
                f'<strong class="tag tag--red">Overdue</strong> <a href="{escape(completeness_url)}">Return overdue</a>'
            )
        rows.append(
            f'<tr><th scope="row">{escape(exception.provider_name)}</th><td>{what}</td>'
            f"<td>{escape(exception.explanation)}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every part is escaped


#: Totals of providers by overall state, in the order the page shows them, with their words and tag colour.
TOTALS = [
    (Colour.RED, "Red", "red"),
    (Colour.AMBER, "Amber", "amber"),
    (Colour.GREEN, "Green", "green"),
    (Colour.NONE, "No colour", "none"),
    (selectors.OVERDUE, "Overdue", "overdue"),
    (selectors.NOT_YET, "Not yet submitted", "not-yet"),
    ("not_computed", "Not computed yet", "none"),
]


@login_required
def dashboard(request):
    """Providers by standards and metric groups for a period, each cell coloured and labelled, with exceptions."""
    filters = filters_asked(request.user, request.GET)
    context = {
        "form": filters.form,
        "filters": filters,
        "breadcrumbs": [home_crumb(), ("Dashboard", None)],
    }
    if filters.period is not None:
        result = selectors.dashboard(
            request.user,
            filters.period,
            commissioner=filters.commissioner,
            provider_type=filters.provider_type,
            framework=filters.framework,
        )
        headings = framework_headings(result.columns)
        columns = [column for heading in headings for column in heading.columns]
        context.update(
            result=result,
            headings=headings,
            columns=columns,
            rows=rows_on_page(result, columns),
            exception_rows=exception_rows(result, f"{reverse('reviews:completeness')}?{filters.querystring}"),
            totals=[(label, result.totals.get(key, 0), css) for key, label, css in TOTALS],
            column_totals=[
                (colour, label, [result.column_totals[column.key][colour] for column in columns])
                for colour, label in ((Colour.RED, "Red"), (Colour.AMBER, "Amber"), (Colour.GREEN, "Green"))
            ],
            red_exceptions=sum(1 for e in result.exceptions if e.kind == "red"),
            overdue_exceptions=sum(1 for e in result.exceptions if e.kind == "overdue"),
        )
    return render(request, "reviews/dashboard.html", context)


# ---------------------------------------------------------------------------------------------- completeness

#: Where a provider's return stands, as the completeness page counts and shows it: words and tag colour.
STANDINGS = {
    selectors.ON_TIME: ("On time", "green"),
    selectors.LATE: ("Late", "yellow"),
    selectors.RETURNED: ("Returned for revision", "purple"),
    selectors.NOT_YET: ("Not yet submitted", "grey"),
    selectors.OVERDUE: ("Overdue", "red"),
}


@dataclass
class CompletenessOnPage:
    row: selectors.CompletenessRow
    standing: str
    label: str
    colour: str
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
        label, colour = STANDINGS[standing]
        shown.append(
            CompletenessOnPage(
                row, standing, label, colour, last_reminders.get(row.provider_id), str(row.provider_id) in ticked
            )
        )
    counts = [(label, sum(1 for r in shown if r.standing == key), key) for key, (label, _) in STANDINGS.items()]
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
    """A provider's figures for one metric over the last eight quarters: a chart and the same figures in a table."""
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
        "chart": trend_chart(result, width=640, height=240) if has_figures else "",
        "legend": legend() if has_figures else "",
        "breadcrumbs": [home_crumb(), dashboard_crumb(), (f"{provider.name}: trend", None)],
    }
    return render(request, "reviews/trend.html", context, status=400 if error and choices else 200)
