"""Reads for the dashboard of a period: providers by framework, worst first, a page at a time, with the totals and
the exceptions; and a framework's drill-down by standard and metric group.

Built for an ICB of hundreds of providers: PostgreSQL does the reading. The providers the person may see and that
match the filters (:func:`reviews.selectors.expected_providers`, narrowed by :func:`assurance_provider_ids`) become
one SQL common table expression, written once per request; every statement below starts from it. Each provider's
submission state and overall status are worked out in SQL, so that sorting and paging (``LIMIT``/``OFFSET``) happen
there too; each framework's cell is a ``GROUP BY`` of the current runs' answers (the worst colour and the counts),
read only for the providers on the page shown. Python builds objects for that page and nothing else.

The rows (:class:`ProviderRows`) and the exceptions (:class:`ExceptionRows`) are sequences that Django's
``Paginator`` (and DRF's pagination) can page: their length is known from one counting statement and a slice asks
one more. So the dashboard asks the same number of statements for 5 providers or 5,000, on any page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from providers.models import Contract, ContractCommissioner, ContractStatus, Organisation
from returns.models import ReportingPeriod, Return, Submission
from standards.models import Framework, Metric, ProviderType, Standard

from .models import AnswerStatus, FrameworkStatus, RagRun, StandardStatus
from .rag import SEVERITY, Colour, RollUp
from .selectors import (
    NOT_HERE,
    NOT_YET,
    OVERDUE,
    Cell,
    Column,
    SubmissionState,
    _visible,
    colour_cell,
    expected_providers,
    submission_state,
)

NOT_COMPUTED = "not_computed"

#: Providers a page of the dashboard (its page and its API), and exceptions a page.
PROVIDERS_A_PAGE = 50
EXCEPTIONS_A_PAGE = 25

#: What a provider's overall status can be, worst first, with the words the page and the API use for each.
STANDINGS = {
    OVERDUE: "Overdue",
    Colour.RED: "Red",
    Colour.AMBER: "Amber",
    Colour.GREEN: "Green",
    Colour.NONE: "No colour",
    NOT_COMPUTED: "Not computed yet",
    NOT_YET: "Not yet submitted",
}

#: The ways the rows can be sorted: worst status first, by name, or by one framework's colour (``framework-<code>``).
SORT_BY_STATUS, SORT_BY_NAME, SORT_BY_FRAMEWORK = "status", "name", "framework-"

#: Kinds of exception: a red answer, or a return not in by its deadline.
RED_ANSWER, OVERDUE_RETURN = "red", "overdue"
EXCEPTION_KINDS = {RED_ANSWER: "Red answers", OVERDUE_RETURN: "Overdue returns"}
#: What the dashboard page and its API say of an exceptions filter that names no kind or framework there is.
NO_SUCH_EXCEPTION_KIND = "Choose red answers or overdue returns."
NO_SUCH_FRAMEWORK = "There is no such framework."


@dataclass(frozen=True)
class DashboardFilters:
    """Which providers the dashboard shows: the period, and optionally a commissioner (an organisation), a provider
    type's code, a framework's code, an overall status (a key of :data:`STANDINGS`) and part of a provider's name."""

    period: ReportingPeriod
    commissioner: Organisation | None = None
    provider_type: str | None = None
    framework: str | None = None
    status: str | None = None
    search: str = ""


@dataclass(frozen=True)
class FrameworkColumn:
    code: str
    short_name: str
    name: str


@dataclass(frozen=True)
class FrameworkCell:
    """One provider's status in one framework: the worst colour among its answers there, and their counts."""

    colour: str  # red, amber, green, none; "not_asked" when the return holds no answer in this framework
    label: str
    counts: dict  # red, amber and green answers
    answers: int  # every answer in the framework, coloured or not
    explanation: str

    @property
    def counts_text(self) -> str:
        return ", ".join(f"{self.counts[c]} {c}" for c in SEVERITY)


NOT_ASKED = "not_asked"


def framework_cell(red: int, amber: int, green: int, answers: int) -> FrameworkCell:
    """The cell of a framework from the counts of its answers by colour."""
    counts = {Colour.RED.value: red, Colour.AMBER.value: amber, Colour.GREEN.value: green}
    if not answers:
        return FrameworkCell(NOT_ASKED, "Not asked", counts, 0, "The return holds no answer in this framework.")
    worst = next((c for c in SEVERITY if counts[c]), None)
    if worst is None:
        return FrameworkCell(
            Colour.NONE,
            "No colour",
            counts,
            answers,
            f"None of its {answers} answer{'s' if answers != 1 else ''} here is given a colour "
            "(trends, narratives and metrics not due this period).",
        )
    return FrameworkCell(worst, Colour(worst).label, counts, answers, RollUp(worst, counts).explanation)


@dataclass
class ProviderRow:
    provider_id: int
    provider_name: str
    ods_code: str
    provider_type: str
    return_id: int | None
    run_id: int | None
    state: SubmissionState
    standing: str  # a key of STANDINGS
    overall: Cell
    cells: dict[str, FrameworkCell] = field(default_factory=dict)  # by framework code; empty with no status yet
    counts: dict[str, int] = field(default_factory=dict)  # every answer by colour: red, amber, green
    details: dict[str, Cell] = field(default_factory=dict)  # in a drill-down: by standard and metric group


@dataclass(frozen=True)
class ExceptionRow:
    kind: str  # "red" (an answer) or "overdue" (a return)
    provider_id: int
    provider_name: str
    return_id: int | None
    framework: str  # the framework's short name, for a red answer
    metric_code: str
    title: str
    explanation: str


# ----------------------------------------------------------------------------------------------------- the SQL


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _severity(column: str) -> str:
    """SQL ranking a colour worst first: red 0, amber 1, green 2, anything else 3."""
    return f"CASE {column} WHEN 'red' THEN 0 WHEN 'amber' THEN 1 WHEN 'green' THEN 2 ELSE 3 END"


#: The overall status's place in the default order, worst first (the keys of STANDINGS in order).
_STANDING_RANK = "CASE standing " + " ".join(f"WHEN '{key}' THEN {n}" for n, key in enumerate(STANDINGS)) + " END"


class _Statements:
    """The SQL of one dashboard request: the common table expression of the providers shown, and the statements
    built on it. ``shown`` holds every matching provider (for the totals); ``listed`` those of the status asked."""

    def __init__(self, user, filters: DashboardFilters, today: datetime.date):
        self.filters = filters
        period = filters.period
        providers = _visible(
            expected_providers(
                period,
                commissioner=filters.commissioner,
                provider_type=filters.provider_type,
                framework=filters.framework,
            ),
            user,
            period=period,
        )
        if filters.search:
            providers = providers.filter(name__icontains=filters.search)
        matching = providers.order_by().values("pk")
        matching_sql, matching_params = matching.query.get_compiler(connection=connection).as_sql()
        unsubmitted = OVERDUE if today > period.submission_deadline else NOT_YET

        def first_submission(column: str) -> str:
            return (
                f"SELECT s.{column} FROM {_table(Submission)} s WHERE s.provider_return_id = r.id "
                "ORDER BY s.number LIMIT 1"
            )

        self.cte = f"""
            WITH shown AS (
                SELECT provider.*,
                       CASE WHEN provider.first_submitted_at IS NULL THEN %s
                            WHEN provider.run_id IS NULL THEN '{NOT_COMPUTED}'
                            WHEN provider.run_colour IN ('red', 'amber', 'green') THEN provider.run_colour
                            ELSE 'none' END AS standing
                FROM (
                    SELECT o.id, o.name, o.ods_code, COALESCE(pt.name, '') AS type_name,
                           r.id AS return_id, r.status AS return_status,
                           ({first_submission("submitted_at")}) AS first_submitted_at,
                           ({first_submission("late")}) AS first_late,
                           run.id AS run_id, run.colour AS run_colour, run.explanation AS run_explanation
                    FROM {_table(Organisation)} o
                    LEFT JOIN {_table(ProviderType)} pt ON pt.code = o.provider_type_id
                    LEFT JOIN {_table(Return)} r ON r.provider_id = o.id AND r.period_id = %s
                    LEFT JOIN {_table(RagRun)} run ON run.provider_return_id = r.id AND run.is_current
                    WHERE o.id IN ({matching_sql})
                ) provider
            ),
            listed AS (SELECT * FROM shown {"WHERE standing = %s" if filters.status else ""})
        """
        self.params = [unsubmitted, period.pk, *matching_params, *([filters.status] if filters.status else [])]

    def summary(self, kind: str | None, framework: str | None) -> tuple[str, list]:
        """In one statement, so that the providers shown are worked out once: every matching provider counted by
        overall status (``status``), the providers listed by their worst colour in each framework (``framework``,
        from the runs' stored roll-ups) and the exceptions asked counted by kind (``exceptions``); when only some
        are asked, every exception counted by kind as well (``all_exceptions``)."""
        sql, params = self._exceptions(kind, framework)
        sql += f"""
            SELECT 'status', standing, '', COUNT(*) FROM shown GROUP BY standing
            UNION ALL
            SELECT 'framework', f.code, fs.colour, COUNT(*)
            FROM listed
            JOIN {_table(FrameworkStatus)} fs ON fs.run_id = listed.run_id
            JOIN {_table(Framework)} f ON f.id = fs.framework_id
            WHERE fs.colour IN ('red', 'amber', 'green')
            GROUP BY f.code, fs.colour
            UNION ALL
            SELECT 'exceptions', kind, '', COUNT(*) FROM exceptions GROUP BY kind
        """
        if kind or framework:  # the exceptions of every kind and framework too, for the summary of what needs action
            sql += f"""
                UNION ALL
                SELECT 'all_exceptions', '{OVERDUE_RETURN}', '', COUNT(*) FROM listed WHERE standing = '{OVERDUE}'
                UNION ALL
                SELECT 'all_exceptions', '{RED_ANSWER}', '', COUNT(*)
                FROM listed JOIN {_table(AnswerStatus)} a ON a.run_id = listed.run_id AND a.colour = 'red'
            """
        icb = self.filters.commissioner
        if icb is not None and getattr(icb, "parent_id", 0) is None:
            # An ICB's totals place by place: the providers shown that hold a contract with each of its places.
            period = self.filters.period
            sql += f"""
                UNION ALL
                SELECT 'place', CAST(place.id AS TEXT) || ':' || place.name, shown.standing, COUNT(DISTINCT shown.id)
                FROM shown
                JOIN {_table(Contract)} c ON c.provider_id = shown.id AND c.status = %s
                     AND c.starts_on <= %s AND c.ends_on >= %s
                JOIN {_table(ContractCommissioner)} cc ON cc.contract_id = c.id
                JOIN {_table(Organisation)} place ON place.id = cc.commissioner_id AND place.parent_id = %s
                GROUP BY place.id, place.name, shown.standing
            """
            params = [*params, ContractStatus.ACCEPTED, period.ends_on, period.starts_on, icb.pk]
        return sql, params

    def page(self, sort: str, descending: bool, limit: int, offset: int) -> tuple[str, list]:
        """One page of the providers listed, in the order asked."""
        params = list(self.params)
        direction = "DESC" if descending else "ASC"
        if sort.startswith(SORT_BY_FRAMEWORK):
            # Worst first within the framework (its stored roll-up); then those with nothing there, then no status.
            worst = f"""
                SELECT {_severity("fs.colour")}
                FROM {_table(FrameworkStatus)} fs JOIN {_table(Framework)} f ON f.id = fs.framework_id
                WHERE fs.run_id = listed.run_id AND f.code = %s
            """
            params.append(sort.removeprefix(SORT_BY_FRAMEWORK))
            key = f"CASE WHEN listed.run_id IS NULL THEN 5 ELSE COALESCE(({worst}), 4) END {direction}, "
        elif sort == SORT_BY_NAME:
            key = f"listed.name {direction}, "
        else:
            key = f"{_STANDING_RANK} {direction}, "
        sql = f"""{self.cte}
            SELECT listed.id, listed.name, listed.ods_code, listed.type_name, listed.return_id, listed.return_status,
                   listed.first_submitted_at, listed.first_late, listed.run_id, listed.run_colour,
                   listed.run_explanation, listed.standing
            FROM listed
            ORDER BY {key}listed.name ASC, listed.id ASC
            LIMIT %s OFFSET %s
        """
        return sql, [*params, limit, offset]

    def _exceptions(self, kind: str | None, framework: str | None) -> tuple[str, list]:
        """The exceptions, narrow (what orders them and the answer's id): overdue returns, then red answers."""
        params = list(self.params)
        parts = []
        if kind in (None, OVERDUE_RETURN):
            parts.append(f"""
                SELECT 0 AS sort, '{OVERDUE_RETURN}' AS kind, listed.id AS provider_id, listed.name,
                       listed.return_id, 0 AS framework_position, 0 AS metric_position, '' AS code,
                       CAST(NULL AS integer) AS answer_id
                FROM listed WHERE listed.standing = '{OVERDUE}'
            """)
        if kind in (None, RED_ANSWER):
            parts.append(f"""
                SELECT 1 AS sort, '{RED_ANSWER}' AS kind, listed.id AS provider_id, listed.name, listed.return_id,
                       f.position AS framework_position, m.position AS metric_position, m.code, a.id AS answer_id
                FROM listed
                JOIN {_table(AnswerStatus)} a ON a.run_id = listed.run_id AND a.colour = 'red'
                JOIN {_table(Metric)} m ON m.id = a.metric_id
                JOIN {_table(Framework)} f ON f.id = m.framework_id
                {"WHERE f.code = %s" if framework else ""}
            """)
            params += [framework] if framework else []
        return f"{self.cte}, exceptions AS ({' UNION ALL '.join(parts)})", params

    def exception_page(self, kind: str | None, framework: str | None, limit: int, offset: int) -> tuple[str, list]:
        """A page of the exceptions, ordered and cut while narrow; the answers' words read for that page only."""
        sql, params = self._exceptions(kind, framework)
        order = "sort, name, provider_id, framework_position, metric_position, code"
        sql += f"""
            SELECT e.kind, e.provider_id, e.name, e.return_id, COALESCE(f.short_name, ''), e.code,
                   COALESCE(m.title, ''), COALESCE(a.value, ''), COALESCE(a.threshold, ''), COALESCE(a.rule, '')
            FROM (SELECT * FROM exceptions ORDER BY {order} LIMIT %s OFFSET %s) e
            LEFT JOIN {_table(AnswerStatus)} a ON a.id = e.answer_id
            LEFT JOIN {_table(Metric)} m ON m.id = a.metric_id
            LEFT JOIN {_table(Framework)} f ON f.id = m.framework_id
            ORDER BY {", ".join("e." + column for column in order.split(", "))}
        """
        return sql, [*params, limit, offset]


def _placeholders(values) -> str:
    """As many parameters as ``values`` for an ``IN (...)`` (a page's runs, 500 at most); NULL, matching nothing,
    for none, so that the statement still runs and the count of statements stays the same."""
    return ", ".join(["%s"] * len(values)) or "NULL"


def _run(statement: tuple[str, list]) -> list[tuple]:
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# ------------------------------------------------------------------------------------------------- the results


def _state_and_overall(found: tuple, period, today) -> tuple[SubmissionState, Cell]:
    """A row's submission state and overall cell from the statement's columns, return id to standing."""
    return_id, return_status, first_submitted_at, first_late, run_id, run_colour, run_explanation, standing = found
    if isinstance(first_submitted_at, str):  # SQLite may give a subquery's timestamp as text
        first_submitted_at = parse_datetime(first_submitted_at)
    if first_submitted_at is not None and timezone.is_naive(first_submitted_at):  # SQLite's, stored in UTC
        first_submitted_at = timezone.make_aware(first_submitted_at, datetime.UTC)
    provider_return = None
    if return_id is not None:
        provider_return = SimpleNamespace(
            status=return_status, first_submitted_at=first_submitted_at, first_late=first_late
        )
    state = submission_state(provider_return, period, today)
    if standing in (OVERDUE, NOT_YET):
        overall = Cell(Colour.OVERDUE if standing == OVERDUE else Colour.NONE, state.label, state.explanation)
    elif standing == NOT_COMPUTED:
        overall = Cell(Colour.NONE, "Not computed yet", "The status of this return is being worked out.")
    else:
        overall = colour_cell(run_colour, run_explanation)
    return state, overall


class PagedRows:
    """Rows that Django's paginator pages without reading them all: their number is known beforehand (``count``),
    and a slice reads that page's rows alone (``rows(offset, limit)``, a statement or two)."""

    _count = 0

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("Page the rows with a slice.")
        start, stop, _ = index.indices(self.count())
        return self.rows(start, max(stop - start, 0))

    def rows(self, offset: int, limit: int) -> list:
        raise NotImplementedError


class ProviderRows(PagedRows):
    """The providers listed, in the order asked, paged: a page reads its providers and their framework cells (two
    statements)."""

    def __init__(self, statements: _Statements, count: int, period, today, sort: str, descending: bool):
        self._statements = statements
        self._count = count
        self._period = period
        self._today = today
        self.sort = sort
        self.descending = descending

    def rows(self, offset: int, limit: int) -> list[ProviderRow]:
        found = _run(self._statements.page(self.sort, self.descending, limit, offset))
        run_ids = [row[8] for row in found if row[8] is not None]
        cells: dict[int, dict[str, FrameworkCell]] = {}
        counts: dict[int, dict[str, int]] = {}
        for run_id, code, red, amber, green, answers in _run(_cells_of(run_ids)):
            cells.setdefault(run_id, {})[code] = framework_cell(red, amber, green, answers)
            total = counts.setdefault(run_id, dict.fromkeys(SEVERITY, 0))
            total[Colour.RED] += red
            total[Colour.AMBER] += amber
            total[Colour.GREEN] += green
        rows = []
        for provider_id, name, ods_code, type_name, *status in found:
            state, overall = _state_and_overall(status, self._period, self._today)
            return_id, run_id, standing = status[0], status[4], status[-1]
            has_status = run_id is not None and standing not in (OVERDUE, NOT_YET)
            rows.append(
                ProviderRow(
                    provider_id=provider_id,
                    provider_name=name,
                    ods_code=ods_code,
                    provider_type=type_name,
                    return_id=return_id,
                    run_id=run_id if has_status else None,
                    state=state,
                    standing=standing,
                    overall=overall,
                    cells=cells.get(run_id, {}) if has_status else {},
                    counts=counts.get(run_id, dict.fromkeys(SEVERITY, 0)) if has_status else {},
                )
            )
        return rows


def _cells_of(run_ids: list[int]) -> tuple[str, list]:
    """Each run's answers by framework: red, amber, green and every answer (one statement for the page)."""
    sql = f"""
        SELECT a.run_id, f.code,
               SUM(CASE WHEN a.colour = 'red' THEN 1 ELSE 0 END), SUM(CASE WHEN a.colour = 'amber' THEN 1 ELSE 0 END),
               SUM(CASE WHEN a.colour = 'green' THEN 1 ELSE 0 END), COUNT(*)
        FROM {_table(AnswerStatus)} a
        JOIN {_table(Metric)} m ON m.id = a.metric_id
        JOIN {_table(Framework)} f ON f.id = m.framework_id
        WHERE a.run_id IN ({_placeholders(run_ids)})
        GROUP BY a.run_id, f.code
    """
    return sql, list(run_ids)


class ExceptionRows(PagedRows):
    """The exceptions of the providers listed, paged: overdue returns first, then red answers by provider and by
    their place in the catalogue."""

    def __init__(self, statements: _Statements, kind: str | None, framework: str | None, counts, period, today):
        self._statements = statements
        self.kind = kind
        self.framework = framework
        self.counts = counts  # red answers and overdue returns
        self._period = period
        self._today = today

    def count(self) -> int:
        return sum(self.counts.values())

    def rows(self, offset: int, limit: int) -> list[ExceptionRow]:
        found = _run(self._statements.exception_page(self.kind, self.framework, limit, offset))
        rows = []
        for kind, provider_id, name, return_id, framework, code, title, value, threshold, rule in found:
            if kind == OVERDUE_RETURN:
                draft = SimpleNamespace(first_submitted_at=None) if return_id is not None else None
                explanation = submission_state(draft, self._period, self._today).explanation
                title = "Return overdue"
            else:
                explanation = "; ".join(p for p in (value, threshold and f"threshold {threshold}", rule) if p)
            rows.append(ExceptionRow(kind, provider_id, name, return_id, framework, code, title, explanation))
        return rows


@dataclass(frozen=True)
class PlaceTotals:
    """One place of an ICB on the ICB's dashboard: its providers among those matching, by overall status (a provider
    on contracts with two places counts in both)."""

    place_id: int
    name: str
    totals: dict[str, int]  # the keys of STANDINGS


@dataclass
class FrameworkDashboard:
    filters: DashboardFilters
    frameworks: list[FrameworkColumn]  # the columns: frameworks on the matching providers' contracts
    totals: dict[str, int]  # every matching provider by overall status (the keys of STANDINGS)
    framework_totals: dict[str, dict[str, int]]  # framework code → worst colour → providers listed
    providers: ProviderRows
    exceptions: ExceptionRows
    exception_totals: dict[str, int] = field(default_factory=dict)  # every exception by kind, whatever was asked
    #: For a whole ICB: each place's providers (of those matching) by overall status, beside each other.
    place_totals: list[PlaceTotals] = field(default_factory=list)

    @property
    def matching(self) -> int:
        """How many providers match the filters other than the status."""
        return sum(self.totals.values())


def _frameworks(user, filters: DashboardFilters) -> list[FrameworkColumn]:
    """The frameworks in force for the period on the accepted contracts of the providers the person may see, each
    code once (its version in force), in catalogue order."""
    period = filters.period
    providers = _visible(
        expected_providers(period, commissioner=filters.commissioner, provider_type=filters.provider_type),
        user,
        period=period,
    )
    named = Contract.frameworks.through.objects.filter(
        contract__provider_id__in=providers.order_by().values("pk"),
        contract__status=ContractStatus.ACCEPTED,
        contract__starts_on__lte=period.ends_on,
        contract__ends_on__gte=period.starts_on,
    )
    frameworks = Framework.objects.in_force_on(period.starts_on).filter(pk__in=named.values("framework_id"))
    if filters.framework:
        frameworks = frameworks.filter(code=filters.framework)
    seen: dict[str, FrameworkColumn] = {}
    for code, short_name, name in frameworks.order_by("position", "code", "-effective_from").values_list(
        "code", "short_name", "name"
    ):
        seen.setdefault(code, FrameworkColumn(code, short_name, name))
    return list(seen.values())


def framework_dashboard(
    user,
    filters: DashboardFilters,
    *,
    sort: str = SORT_BY_STATUS,
    descending: bool = False,
    exception_kind: str | None = None,
    exception_framework: str | None = None,
    today=None,
) -> FrameworkDashboard:
    """Providers (rows) by framework (columns) for a period: each cell the worst colour among the provider's answers
    in the framework with their counts, each row its submission state and overall status.

    Worst first by default (overdue, red, amber, green, no colour, not computed, not yet submitted; then by name);
    ``sort`` may be :data:`SORT_BY_NAME` or ``framework-<code>`` (worst first in that framework), ``descending``
    reverses it. Totals count every provider matching the filters but the status; the exceptions (overdue returns
    and red answers, of one ``exception_kind`` or both, red answers of one ``exception_framework`` or all) are those
    of the providers listed. Four statements here, and two for each page of rows or of exceptions read, whatever
    the number of providers.
    """
    today = today or timezone.localdate()
    statements = _Statements(user, filters, today)
    frameworks = _frameworks(user, filters)
    totals = dict.fromkeys(STANDINGS, 0)
    framework_totals = {column.code: dict.fromkeys(SEVERITY, 0) for column in frameworks}
    exception_counts = dict.fromkeys(EXCEPTION_KINDS, 0)
    exception_totals = dict.fromkeys(EXCEPTION_KINDS, 0)
    place_totals = {}
    for what, key, colour, n in _run(statements.summary(exception_kind, exception_framework)):
        if what == "status":
            totals[key] = n
        elif what == "exceptions":
            exception_counts[key] = n
        elif what == "all_exceptions":
            exception_totals[key] = n
        elif what == "place":
            place_totals.setdefault(key, dict.fromkeys(STANDINGS, 0))[colour] = n
        elif key in framework_totals:
            framework_totals[key][colour] = n
    places = [PlaceTotals(int(key.split(":", 1)[0]), key.split(":", 1)[1], n) for key, n in place_totals.items()]
    listed = totals[filters.status] if filters.status else sum(totals.values())
    return FrameworkDashboard(
        filters=filters,
        frameworks=frameworks,
        totals=totals,
        framework_totals=framework_totals,
        providers=ProviderRows(statements, listed, filters.period, today, sort, descending),
        exceptions=ExceptionRows(
            statements, exception_kind, exception_framework, exception_counts, filters.period, today
        ),
        exception_totals=exception_totals if exception_kind or exception_framework else exception_counts,
        place_totals=sorted(places, key=lambda place: place.name),
    )


# ------------------------------------------------------------------------------------------ a framework's drill-down


class DrillDownRows(ProviderRows):
    """The providers listed, as :class:`ProviderRows`, each with its cells by standard and metric group of one
    framework (two more statements a page)."""

    def __init__(self, *args, code: str, columns: list[Column], **kwargs):
        super().__init__(*args, **kwargs)
        self.code = code
        self.columns = columns

    def rows(self, offset: int, limit: int) -> list[ProviderRow]:
        rows = super().rows(offset, limit)
        run_ids = [row.run_id for row in rows if row.run_id is not None]
        details: dict[int, dict[str, Cell]] = {}
        for run_id, standard_id, colour, explanation in _run(_standards_of(run_ids, self.code)):
            details.setdefault(run_id, {})[f"standard-{standard_id}"] = colour_cell(colour, explanation)
        group_counts: dict[tuple[int, str], dict[str, int]] = {}
        for run_id, group, colour, n in _run(_groups_of(run_ids, self.code)):
            group_counts.setdefault((run_id, group), {})[colour] = n
        for (run_id, group), counts in group_counts.items():
            worst = next(c for c in SEVERITY if counts.get(c))
            details.setdefault(run_id, {})[f"group-{self.code}-{group}"] = colour_cell(
                worst, RollUp(worst, counts).explanation
            )
        for row in rows:
            if row.run_id is not None:
                found = details.get(row.run_id, {})
                row.details = {column.key: found.get(column.key, NOT_HERE) for column in self.columns}
        return rows


def _standards_of(run_ids: list[int], code: str) -> tuple[str, list]:
    """Each run's status of every standard of the framework."""
    sql = f"""
        SELECT st.run_id, st.standard_id, st.colour, st.explanation
        FROM {_table(StandardStatus)} st
        JOIN {_table(Standard)} s ON s.id = st.standard_id
        JOIN {_table(Framework)} f ON f.id = s.framework_id
        WHERE st.run_id IN ({_placeholders(run_ids)}) AND f.code = %s
    """
    return sql, [*run_ids, code]


def _groups_of(run_ids: list[int], code: str) -> tuple[str, list]:
    """Each run's answers by metric group of the framework and colour (red, amber, green)."""
    sql = f"""
        SELECT a.run_id, m."group", a.colour, COUNT(*)
        FROM {_table(AnswerStatus)} a
        JOIN {_table(Metric)} m ON m.id = a.metric_id
        JOIN {_table(Framework)} f ON f.id = m.framework_id
        WHERE a.run_id IN ({_placeholders(run_ids)}) AND f.code = %s AND m."group" <> ''
              AND a.colour IN ('red', 'amber', 'green')
        GROUP BY a.run_id, m."group", a.colour
    """
    return sql, [*run_ids, code]


@dataclass
class FrameworkDrillDown:
    filters: DashboardFilters
    framework: FrameworkColumn
    columns: list[Column]  # the framework's standards, then its metric groups
    totals: dict[str, int]
    providers: DrillDownRows


def framework_columns(period: ReportingPeriod, code: str) -> list[Column]:
    """The standards (with a metric) and the metric groups of the framework's version in force for the period."""
    in_force = Framework.objects.in_force_on(period.starts_on).filter(code=code).values("pk")
    standards = (
        Standard.objects.filter(framework__in=in_force, metrics__isnull=False)
        .select_related("framework")
        .distinct()
        .order_by("position", "id")
    )
    columns = [
        Column(f"standard-{s.pk}", "standard", s.framework.short_name, f"Standard {s.number}", s.title)
        for s in standards
    ]
    groups = (
        Metric.objects.filter(framework__in=in_force)
        .exclude(group="")
        .values_list("framework__short_name", "group")
        .distinct()
        .order_by("group")
    )
    columns += [Column(f"group-{code}-{group}", "group", short_name, group, group) for short_name, group in groups]
    return columns


def framework_drill_down(
    user, filters: DashboardFilters, code: str, *, sort: str = SORT_BY_STATUS, descending: bool = False, today=None
) -> FrameworkDrillDown | None:
    """One framework's standards and metric groups (columns) for the providers matching ``filters`` whose contracts
    name it, sorted and paged as the dashboard is. None when no contract of those providers names the framework.
    Four statements, and four for each page of rows read, whatever the number of providers."""
    today = today or timezone.localdate()
    filters = DashboardFilters(**{**filters.__dict__, "framework": code})
    frameworks = _frameworks(user, filters)
    if not frameworks:
        return None
    statements = _Statements(user, filters, today)
    totals = dict.fromkeys(STANDINGS, 0)
    for what, standing, _, n in _run(statements.summary(OVERDUE_RETURN, None)):
        if what == "status":
            totals[standing] = n
    columns = framework_columns(filters.period, code)
    listed = totals[filters.status] if filters.status else sum(totals.values())
    rows = DrillDownRows(statements, listed, filters.period, today, sort, descending, code=code, columns=columns)
    return FrameworkDrillDown(filters, frameworks[0], columns, totals, rows)
