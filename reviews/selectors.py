"""Reads for dashboards and review: the assurance grid, completeness, trends, action plans, a return's review.

Each read asks a fixed number of SQL queries however many providers it covers, and starts from what the person
may see (:func:`assurance_provider_ids`, built on :mod:`providers.scoping`). Overdue and late are worked out here
from the period's deadline and the submissions, so a page never waits for the nightly ``mark_overdue`` check.

- **Overdue**: nothing submitted (no return, or a draft) and the deadline has passed.
- **Late**: first submitted after the deadline. **On time**: first submitted by it.
- **Returned for revision**: submitted, then sent back; not complete until submitted again.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from providers.models import Contract, ContractStatus, Membership, Organisation, OrganisationKind, Role
from providers.scoping import (
    is_signed_in,
    organisations_with_permission,
    periods_of_provider,
    provider_ids,
    restrict_by_period,
)
from returns.models import ActionPlanItem, ReportingPeriod, Return, ReturnStatus, Submission
from standards.kinds import KINDS_WITH_THRESHOLDS, figure, figure_text, shown_percentage
from standards.models import Framework, Metric, Standard, Threshold

from .models import (
    AnswerComment,
    AnswerReview,
    AnswerStatus,
    FrameworkStatus,
    OverdueState,
    RagRun,
    ReturnAcceptance,
    StandardStatus,
)
from .rag import SEVERITY, Colour, RollUp, threshold_text


def assurance_provider_ids(user, period_ends_on=None):
    """Providers whose assurance ``user`` may see: those that accepted a contract with their commissioner
    (designated professionals, committee members, commissioner admins) and, for a provider's own people, their own.
    With ``period_ends_on`` (a period's last day), only contracts started by then count. None means every one."""
    commissioned = provider_ids(user, "view_assurance", period_ends_on)
    if commissioned is None or not is_signed_in(user):
        return commissioned
    own = organisations_with_permission(user, "view_organisation")
    return Organisation.objects.filter(Q(pk__in=commissioned) | Q(pk__in=own, kind=OrganisationKind.PROVIDER)).values(
        "pk"
    )


def assurance_provider(user, provider_id: int) -> Organisation | None:
    """The provider, with its type, if ``user`` may see its assurance; otherwise None."""
    providers = Organisation.objects.filter(pk=provider_id, kind=OrganisationKind.PROVIDER)
    return _visible(providers, user).select_related("provider_type").first()


def _visible(queryset, user, field_name: str = "pk", period: ReportingPeriod | None = None):
    ids = assurance_provider_ids(user, period.ends_on if period is not None else None)
    return queryset if ids is None else queryset.filter(**{f"{field_name}__in": ids})


def expected_contracts(period: ReportingPeriod):
    """Accepted contracts in force during the period that name a framework: those that ask for a return."""
    return Contract.objects.accepted().filter(
        starts_on__lte=period.ends_on, ends_on__gte=period.starts_on, frameworks__isnull=False
    )


def expected_providers(period: ReportingPeriod, *, commissioner=None, provider_type=None, framework=None):
    """Active providers with an accepted contract in force during the period that names a framework: they owe a
    return. A contract still proposed, or refused, asks nothing of the provider.

    Narrowed to a commissioner's contracts (an ICB's with its places'), a provider type (code) or a framework
    (code) when given.
    """
    contracts = expected_contracts(period)
    if commissioner is not None:
        contracts = contracts.filter(Q(commissioners=commissioner) | Q(commissioners__parent=commissioner))
    if framework:
        contracts = contracts.filter(frameworks__code=framework)
    providers = Organisation.objects.filter(
        kind=OrganisationKind.PROVIDER, is_active=True, pk__in=contracts.values("provider_id")
    )
    if provider_type:
        providers = providers.filter(provider_type_id=provider_type)
    return providers


# Submission state of a provider's return for a period.

ON_TIME, LATE, RETURNED, NOT_YET, OVERDUE = "on_time", "late", "returned", "not_yet", "overdue"
STATE_LABELS = {
    ON_TIME: "On time",
    LATE: "Late",
    RETURNED: "Returned for revision",
    NOT_YET: "Not yet submitted",
    OVERDUE: "Overdue",
}


@dataclass(frozen=True)
class SubmissionState:
    code: str
    label: str
    explanation: str


def _date(day) -> str:
    return f"{day:%-d %B %Y}"


def submission_state(provider_return, period: ReportingPeriod, today: datetime.date) -> SubmissionState:
    """On time, late, returned, not yet or overdue, for a return annotated by :func:`_returns_of` (or None)."""
    deadline = _date(period.submission_deadline)
    first = getattr(provider_return, "first_submitted_at", None)
    if first is not None:
        on = _date(timezone.localdate(first))
        if provider_return.status == ReturnStatus.RETURNED:
            return SubmissionState(
                RETURNED, STATE_LABELS[RETURNED], f"First submitted on {on}; sent back for revision."
            )
        if provider_return.first_late:
            return SubmissionState(LATE, STATE_LABELS[LATE], f"Submitted on {on}, after the deadline of {deadline}.")
        return SubmissionState(ON_TIME, STATE_LABELS[ON_TIME], f"Submitted on {on}, by the deadline of {deadline}.")
    started = "A draft was started but not submitted" if provider_return is not None else "Nothing has been submitted"
    if today > period.submission_deadline:
        return SubmissionState(OVERDUE, STATE_LABELS[OVERDUE], f"{started} by the deadline of {deadline}.")
    return SubmissionState(NOT_YET, STATE_LABELS[NOT_YET], f"{started} yet; due by {deadline}.")


def _returns_of(period: ReportingPeriod, provider_ids_list) -> dict[int, Return]:
    """The period's returns of these providers, by provider, with their first submission and current run."""
    first = Submission.objects.filter(provider_return=OuterRef("pk")).order_by("number")
    current = RagRun.objects.filter(provider_return=OuterRef("pk"), is_current=True)
    returns = Return.objects.filter(period=period, provider_id__in=provider_ids_list).annotate(
        first_submitted_at=Subquery(first.values("submitted_at")[:1]),
        first_late=Subquery(first.values("late")[:1]),
        run_id=Subquery(current.values("pk")[:1]),
        run_colour=Subquery(current.values("colour")[:1]),
        run_explanation=Subquery(current.values("explanation")[:1]),
    )
    return {r.provider_id: r for r in returns}


# The dashboard.


@dataclass(frozen=True)
class Cell:
    colour: str
    label: str
    explanation: str


COLOUR_LABELS = dict(Colour.choices)


def colour_cell(colour: str, explanation: str) -> Cell:
    return Cell(colour, COLOUR_LABELS[colour], explanation)


NOT_HERE = Cell(Colour.NONE, "No colour", "Nothing this provider answers here is given a colour this period.")


@dataclass(frozen=True)
class Column:
    key: str  # "standard-<id>" or "group-<framework code>-<group>"
    kind: str  # "standard" or "group"
    framework: str  # the framework's short name
    label: str  # "Standard 3" or the group's heading
    title: str


@dataclass
class DashboardRow:
    provider_id: int
    provider_name: str
    ods_code: str
    provider_type: str
    return_id: int | None
    state: SubmissionState
    overall: Cell
    cells: dict[str, Cell] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # answers by colour: red, amber, green


@dataclass(frozen=True)
class ExceptionItem:
    kind: str  # "red" (an answer) or "overdue" (a return)
    provider_id: int
    provider_name: str
    return_id: int | None
    metric_code: str
    title: str
    explanation: str


@dataclass
class Dashboard:
    period: ReportingPeriod
    columns: list[Column]
    rows: list[DashboardRow]
    totals: dict[str, int]  # providers by overall colour ("none": no colour), "overdue", "not_yet", "not_computed"
    column_totals: dict[str, dict[str, int]]  # column key → colour → providers
    exceptions: list[ExceptionItem]


def _overall(row_return, state: SubmissionState, framework_status, by_framework: bool) -> Cell:
    """A row's overall cell: overdue or not yet submitted, not computed yet, or the return's (or framework's) colour."""
    if state.code in (OVERDUE, NOT_YET):
        colour = Colour.OVERDUE if state.code == OVERDUE else Colour.NONE
        return Cell(colour, state.label, state.explanation)
    if row_return.run_id is None:
        return Cell(Colour.NONE, "Not computed yet", "The status of this return is being worked out.")
    if by_framework:
        return colour_cell(*framework_status) if framework_status is not None else NOT_HERE
    return colour_cell(row_return.run_colour, row_return.run_explanation)


def dashboard(user, period: ReportingPeriod, commissioner=None, provider_type=None, framework=None, today=None):
    """Providers (rows) by standards and metric groups (columns) for a period, with every cell's colour explained.

    ``commissioner`` (an organisation or its id) narrows to its contracts, ``provider_type`` and ``framework`` to a
    type's and a framework's code; with a framework, a row's overall colour is that framework's. Totals count
    providers by overall colour; the exceptions are every red answer and every overdue return. Eight queries
    (nine with a framework), whatever the number of providers.
    """
    today = today or timezone.localdate()
    providers = list(
        _visible(
            expected_providers(period, commissioner=commissioner, provider_type=provider_type, framework=framework),
            user,
            period=period,
        )
        .select_related("provider_type")
        .order_by("name", "pk")
    )
    ids = [p.pk for p in providers]
    returns = _returns_of(period, ids)

    frameworks = Framework.objects.in_force_on(period.starts_on).filter(
        contracts__provider_id__in=ids,
        contracts__status=ContractStatus.ACCEPTED,
        contracts__starts_on__lte=period.ends_on,
        contracts__ends_on__gte=period.starts_on,
    )
    if framework:
        frameworks = frameworks.filter(code=framework)
    framework_ids = frameworks.values("pk")
    standards = (
        Standard.objects.filter(framework__in=framework_ids, metrics__isnull=False)
        .select_related("framework")
        .distinct()
        .order_by("framework__position", "framework__code", "position", "id")
    )
    groups = (
        Metric.objects.filter(framework__in=framework_ids)
        .exclude(group="")
        .values_list("framework__position", "framework__code", "framework__short_name", "group")
        .distinct()
        .order_by("framework__position", "framework__code", "group")
    )
    columns = [
        Column(f"standard-{s.pk}", "standard", s.framework.short_name, f"Standard {s.number}", s.short_title)
        for s in standards
    ]
    columns += [
        Column(f"group-{code}-{group}", "group", short_name, group, group) for _, code, short_name, group in groups
    ]

    # A run judges only the versions in force for its period, so a framework's code is enough to narrow to it.
    in_runs = {
        "run__is_current": True,
        "run__provider_return__period": period,
        "run__provider_return__provider_id__in": ids,
    }
    of_framework = {"metric__framework__code": framework} if framework else {}
    cells: dict[int, dict[str, Cell]] = defaultdict(dict)
    for provider_id, standard_id, colour, explanation in StandardStatus.objects.filter(
        **({"standard__framework__code": framework} if framework else {}), **in_runs
    ).values_list("run__provider_return__provider_id", "standard_id", "colour", "explanation"):
        cells[provider_id][f"standard-{standard_id}"] = colour_cell(colour, explanation)

    group_counts: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    answer_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for provider_id, code, group, colour, n in (
        AnswerStatus.objects.filter(colour__in=SEVERITY, **of_framework, **in_runs)
        .values_list("run__provider_return__provider_id", "metric__framework__code", "metric__group", "colour")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if group:
            group_counts[provider_id][f"group-{code}-{group}"][colour] = n
        answer_counts[provider_id][colour] = answer_counts[provider_id].get(colour, 0) + n
    for provider_id, by_group in group_counts.items():
        for key, counts in by_group.items():
            worst = next(c for c in SEVERITY if counts.get(c))
            rolled = RollUp(worst, counts)
            cells[provider_id][key] = colour_cell(worst, rolled.explanation)

    framework_overall = {}
    if framework:
        for provider_id, colour, explanation in (
            FrameworkStatus.objects.filter(framework__code=framework, **in_runs)
            .values_list("run__provider_return__provider_id", "colour", "explanation")
            .order_by()
        ):
            framework_overall[provider_id] = (colour, explanation)

    reds = defaultdict(list)
    for provider_id, code, title, value, threshold, rule in (
        AnswerStatus.objects.filter(colour=Colour.RED, **of_framework, **in_runs)
        .values_list("run__provider_return__provider_id", "metric__code", "metric__title", "value", "threshold", "rule")
        .order_by("metric__framework__position", "metric__position", "metric_id")
    ):
        explanation = "; ".join(p for p in (value, threshold and f"threshold {threshold}", rule) if p)
        reds[provider_id].append((code, title, explanation))

    rows, exceptions = [], []
    totals = dict.fromkeys([*SEVERITY, Colour.NONE, OVERDUE, NOT_YET, "not_computed"], 0)
    column_totals = {column.key: dict.fromkeys(SEVERITY, 0) for column in columns}
    for provider in providers:
        provider_return = returns.get(provider.pk)
        state = submission_state(provider_return, period, today)
        has_run = provider_return is not None and provider_return.run_id is not None
        overall = _overall(provider_return, state, framework_overall.get(provider.pk), bool(framework))
        row_cells = {}
        if has_run:
            row_cells = {column.key: cells[provider.pk].get(column.key, NOT_HERE) for column in columns}
        row = DashboardRow(
            provider_id=provider.pk,
            provider_name=provider.name,
            ods_code=provider.ods_code,
            provider_type=provider.provider_type.name if provider.provider_type_id else "",
            return_id=provider_return.pk if provider_return is not None else None,
            state=state,
            overall=overall,
            cells=row_cells,
            counts={c: answer_counts[provider.pk].get(c, 0) for c in SEVERITY} if has_run else {},
        )
        rows.append(row)
        if state.code in (OVERDUE, NOT_YET):
            totals[state.code] += 1
        elif not has_run:
            totals["not_computed"] += 1
        else:
            totals[overall.colour] = totals.get(overall.colour, 0) + 1
        for key, cell in row_cells.items():
            if cell.colour in column_totals[key]:
                column_totals[key][cell.colour] += 1
        if state.code == OVERDUE:
            exceptions.append(
                ExceptionItem(
                    "overdue", provider.pk, provider.name, row.return_id, "", "Return overdue", state.explanation
                )
            )
        for code, title, explanation in reds.get(provider.pk, []) if has_run else []:
            exceptions.append(ExceptionItem("red", provider.pk, provider.name, row.return_id, code, title, explanation))
    return Dashboard(period, columns, rows, totals, column_totals, exceptions)


# Completeness and reminders.


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


@dataclass
class CompletenessRow:
    provider_id: int
    provider_name: str
    ods_code: str
    return_id: int | None
    state: str  # "on_time", "late" or "not_yet" (no return, a draft, or returned for revision)
    label: str  # what people read: "On time", "Late", "Not started", "Draft", "Returned for revision"
    explanation: str
    overdue: bool
    submitted_at: datetime.datetime | None
    remind: list[Person] = field(default_factory=list)  # the safeguarding leads, while the return is missing


def completeness_rows(period: ReportingPeriod, providers, today=None) -> list[CompletenessRow]:
    """Each of these providers that owes a return for the period: on time, late, or not yet (three queries)."""
    today = today or timezone.localdate()
    providers = list(
        providers.filter(pk__in=expected_providers(period).values("pk"))
        .order_by("name", "pk")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(role=Role.PROVIDER_LEAD, user__is_active=True)
                .select_related("user")
                .order_by("user__last_name", "user__first_name", "user_id"),
                to_attr="leads",
            )
        )
    )
    returns = _returns_of(period, [p.pk for p in providers])
    rows = []
    for provider in providers:
        provider_return = returns.get(provider.pk)
        state = submission_state(provider_return, period, today)
        missing = state.code in (NOT_YET, OVERDUE, RETURNED)
        if state.code in (NOT_YET, OVERDUE):
            label = "Draft" if provider_return is not None else "Not started"
        else:
            label = state.label
        rows.append(
            CompletenessRow(
                provider_id=provider.pk,
                provider_name=provider.name,
                ods_code=provider.ods_code,
                return_id=provider_return.pk if provider_return is not None else None,
                state=NOT_YET if missing else state.code,
                label=label,
                explanation=state.explanation,
                overdue=state.code == OVERDUE,
                submitted_at=getattr(provider_return, "first_submitted_at", None),
                remind=[
                    Person(m.user.pk, m.user.get_full_name() or m.user.get_username(), m.user.email)
                    for m in provider.leads
                    if m.user.email
                ]
                if missing
                else [],
            )
        )
    return rows


def completeness(user, period: ReportingPeriod, today=None) -> list[CompletenessRow]:
    """For each provider the person may see: submitted on time, late, or not yet, with the people to remind."""
    return completeness_rows(period, _visible(Organisation.objects.all(), user), today)


@dataclass(frozen=True)
class OverdueReturn:
    provider_id: int
    period_id: int
    found_as: str  # an OverdueState: not started, a draft, or since submitted late


def overdue_returns(today: datetime.date) -> list[OverdueReturn]:
    """Every provider with nothing submitted by its period's deadline, for periods whose deadline has passed.

    One query per such period (the nightly check, not a page).
    """
    found = []
    for period in ReportingPeriod.objects.filter(submission_deadline__lt=today):
        submissions = Submission.objects.filter(
            provider_return__provider=OuterRef("pk"), provider_return__period=period
        )
        started = Return.objects.filter(provider=OuterRef("pk"), period=period)
        for provider_id, was_started, submitted in (
            expected_providers(period)
            # ``late`` was decided when the return was submitted, as the dashboards read it.
            .exclude(Exists(submissions.filter(late=False)))
            .annotate(was_started=Exists(started), submitted=Exists(submissions))
            .values_list("pk", "was_started", "submitted")
        ):
            state = OverdueState.LATE if submitted else OverdueState.DRAFT if was_started else OverdueState.NOT_STARTED
            found.append(OverdueReturn(provider_id, period.pk, state))
    return found


# Trends.


@dataclass(frozen=True)
class TrendPoint:
    period_id: int
    period: str
    figure: Fraction | Decimal | None  # exact: a percentage, a compliance rate or a count, to plot
    value: str
    colour: str
    label: str
    explanation: str
    threshold: str
    green_from: Decimal | None
    amber_from: Decimal | None
    kind: str = ""  # the metric's kind, which says how the figure reads
    in_progress: bool = False  # the quarter has not ended, or its return is not due yet and not in: no figure yet

    @property
    def figure_text(self) -> str:
        """The figure as people read it: a percentage rounded toward the side of the threshold it is on."""
        return "" if self.figure is None else figure_text(self.kind, self.figure, self)

    @property
    def shown_figure(self) -> Decimal | None:
        """The figure as shown (:attr:`figure_text`), as a number, for the API."""
        if self.figure is None:
            return None
        if self.kind in KINDS_WITH_THRESHOLDS:
            return shown_percentage(self.figure, self)
        exact = Fraction(self.figure)
        return Decimal(exact.numerator) if exact.denominator == 1 else Decimal(exact.numerator) / exact.denominator


@dataclass
class Trend:
    provider_id: int
    provider_name: str
    metric_code: str
    title: str
    kind: str
    points: list[TrendPoint]


#: How many quarters a trend shows at most: the latest, the quarter in progress among them.
TREND_QUARTERS = 8


def trend(user, provider, metric_code: str, periods: int = TREND_QUARTERS, today=None) -> Trend | None:
    """A metric's last ``periods`` quarters for one provider: figures, colours and thresholds (seven queries).

    None when the person may not see the provider's assurance. Metrics are matched by code, so a new framework
    version continues the series; each quarter shows the threshold of the version in force then.
    """
    today = today or timezone.localdate()
    provider = assurance_provider(user, provider.pk if isinstance(provider, Organisation) else int(provider))
    if provider is None:
        return None
    periods_seen = ReportingPeriod.objects.filter(starts_on__lte=today)
    seen = periods_of_provider(user, provider.pk, "assurance")
    if seen is not None:  # through a commissioner, only the quarters from the start of an accepted contract
        periods_seen = periods_seen.filter(seen)
    period_list = list(periods_seen.order_by("-ends_on")[:periods])[::-1]
    codes = Contract.objects.accepted().filter(provider=provider).values("frameworks__code")
    metrics = list(
        Metric.objects.filter(code=metric_code, framework__code__in=codes)
        .select_related("framework")
        .order_by("framework__effective_from", "pk")
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.select_related("provider_type")))
    )
    if not metrics:
        return None
    statuses = {
        period_id: (colour, value, threshold, rule)
        for period_id, colour, value, threshold, rule in AnswerStatus.objects.filter(
            run__is_current=True,
            run__provider_return__provider=provider,
            run__provider_return__period__in=period_list,
            metric__code=metric_code,
        ).values_list("run__provider_return__period_id", "colour", "value", "threshold", "rule")
    }
    latest = {}
    for submission in (
        Submission.objects.filter(provider_return__provider=provider, provider_return__period__in=period_list)
        .only("snapshot", "number", "provider_return__period_id")
        .select_related("provider_return")
        .order_by("number")
    ):
        latest[submission.provider_return.period_id] = submission
    points = []
    for period in period_list:
        metric = next((m for m in metrics if _in_force(m.framework, period)), metrics[-1])
        submission = latest.get(period.pk)
        values = None
        if submission is not None:
            values = next(
                (a["values"] for a in submission.snapshot.get("answers", []) if a["metric"] == metric_code), None
            )
        threshold = metric.threshold_for(provider.provider_type_id)
        status = statuses.get(period.pk)
        in_progress = status is None and submission is None and today <= period.submission_deadline
        label = ""
        if status is not None:
            colour, value, threshold_words, rule = status
            explanation = "; ".join(p for p in (value, threshold_words and f"threshold {threshold_words}", rule) if p)
        elif in_progress:
            colour, value, threshold_words, label = Colour.NONE, "", "", "In progress"
            deadline = f"{period.submission_deadline:%-d %B %Y}"
            if today <= period.ends_on:
                explanation = f"The quarter is in progress; its return is due by {deadline}."
            else:
                explanation = f"The quarter has ended; its return is not in yet and is due by {deadline}."
        else:
            colour, value, threshold_words = Colour.NONE, "", ""
            explanation = "Submitted; the status is being worked out." if submission else "No return submitted."
        if not threshold_words and threshold is not None:
            threshold_words = threshold_text(threshold, provider.provider_type.name)
        points.append(
            TrendPoint(
                period_id=period.pk,
                period=period.label,
                figure=figure(metric.kind, values) if values else None,
                value=value,
                colour=colour,
                label=label or Colour(colour).label,
                explanation=explanation,
                threshold=threshold_words,
                green_from=threshold.green_from if threshold is not None else None,
                amber_from=threshold.amber_from if threshold is not None else None,
                kind=metric.kind,
                in_progress=in_progress,
            )
        )
    newest = metrics[-1]
    return Trend(provider.pk, provider.name, metric_code, newest.title, newest.kind, points)


def _in_force(framework: Framework, period: ReportingPeriod) -> bool:
    return framework.effective_from <= period.starts_on and (
        framework.effective_to is None or framework.effective_to >= period.starts_on
    )


# Action plans.


@dataclass(frozen=True)
class ActionDue:
    item: ActionPlanItem
    state: str  # "overdue" (due date passed, not done) or "due" (due within the window)

    @property
    def provider(self):
        return self.item.answer.provider_return.provider


#: The states of an action in a provider's action plan, in the order the action list shows them.
ACTION_STATES = {"overdue": "Overdue", "due": "Due soon", "later": "Not due yet", "done": "Done"}


def standing_actions(items):
    """Of ``items`` (action plan items), those in each provider's standing plan for each question.

    A provider's plan for a question is the one in its latest submitted return that has a plan for it: a later
    return restating the plan replaces it, and one that has none (the standard now met) leaves it to be followed up.
    """
    submitted = Submission.objects.filter(provider_return=OuterRef("answer__provider_return"))
    restated_later = ActionPlanItem.objects.filter(
        answer__provider_return__provider=OuterRef("answer__provider_return__provider"),
        answer__metric__code=OuterRef("answer__metric__code"),
        answer__provider_return__period__ends_on__gt=OuterRef("answer__provider_return__period__ends_on"),
        answer__provider_return__submissions__isnull=False,
    )
    return items.filter(Exists(submitted)).filter(~Exists(restated_later))


def action_plans(user, today=None, within_days: int = 30) -> list[ActionDue]:
    """Every action in the standing action plans (:func:`standing_actions`) of the providers the person may see,
    done or not, with its state: overdue first, then due soon (within ``within_days``), not due yet and done.
    One query.
    """
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=within_days)
    items = (
        standing_actions(
            restrict_by_period(
                ActionPlanItem.objects.all(),
                user,
                "view",
                "answer__provider_return__provider",
                "answer__provider_return__period",
            )
        )
        .select_related(
            "answer__metric",
            "answer__provider_return__provider",
            "answer__provider_return__period",
            "follow_up__updated_by",
        )
        .order_by("due_on", "answer__provider_return__provider__name", "id")
    )
    found = []
    for item in items:
        follow_up = getattr(item, "follow_up", None)
        if follow_up is not None and follow_up.is_done:
            state = "done"
        else:
            state = "overdue" if item.due_on < today else "due" if item.due_on <= soon else "later"
        found.append(ActionDue(item, state))
    order = list(ACTION_STATES)
    return sorted(found, key=lambda due: order.index(due.state))  # stable: by due date within a state


def actions_due(user, today=None, within_days: int = 30) -> list[ActionDue]:
    """The actions of :func:`action_plans` not done and due within ``within_days`` or overdue: overdue first. One
    query."""
    return [due for due in action_plans(user, today, within_days) if due.state in ("overdue", "due")]


# One return's review.


@dataclass
class ReturnReview:
    provider_return: Return
    run: RagRun | None
    reviews: list[AnswerReview]
    comments: list[AnswerComment]
    acceptance: ReturnAcceptance | None


def return_review(provider_return: Return) -> ReturnReview:
    """A return's current status with every answer's colour, the reviews standing, comments and its acceptance."""
    run = (
        RagRun.objects.filter(provider_return=provider_return, is_current=True)
        .prefetch_related(
            Prefetch("answers", queryset=AnswerStatus.objects.select_related("metric").order_by("metric__position")),
            Prefetch("standards", queryset=StandardStatus.objects.select_related("standard")),
            "frameworks",
        )
        .first()
    )
    reviews = list(AnswerReview.objects.filter(provider_return=provider_return).select_related("metric", "reviewed_by"))
    comments = list(AnswerComment.objects.filter(provider_return=provider_return).select_related("metric", "author"))
    acceptance = (
        ReturnAcceptance.objects.filter(
            provider_return=provider_return,
            submission__number=Subquery(
                Submission.objects.filter(provider_return=provider_return).order_by("-number").values("number")[:1]
            ),
        )
        .select_related("accepted_by")
        .first()
    )
    return ReturnReview(provider_return, run, reviews, comments, acceptance)
