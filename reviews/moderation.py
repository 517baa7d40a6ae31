"""Reads for moderation: each provider's self-assessment grade of a standard beside the reviewer's judgement of it.

A safeguarding partnership's moderation panel compares, for the Section 11 children and adult standards
(:data:`MODERATED_FRAMEWORKS`), the grade each provider gave itself with what the designated professional made of
it. The judgement is the reviewer's :class:`~reviews.models.AnswerReview` of the self-assessment: agreed, or another
colour set with a reason, which stands for the grade of that colour (:data:`reviews.rag.GRADE_COLOURS`). As
everywhere, a judgement stands only while the answer is as the reviewer saw it; a grade changed since is not yet
reviewed.

:func:`moderation` reads what the page, its API and the committee report show, in a fixed number of queries
whatever the number of providers: the standards, the count of providers, every matching provider's grades and
judgements (for the counts), and one page of providers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.utils import timezone

from providers.models import Contract, Organisation
from returns.models import ReportingPeriod, Return, ReturnStatus
from returns.selectors import is_due
from standards.kinds import RequirementKind, SelfAssessmentGrade
from standards.models import Framework, Metric

from .dashboard import PagedRows
from .models import AnswerReview, ReviewDecision
from .rag import GRADE_COLOURS
from .selectors import _visible, expected_providers

#: The frameworks whose standards providers grade themselves on for moderation, by code (every version).
MODERATED_FRAMEWORKS = ("nel-section-11-children", "nel-safeguarding-adults")

#: Providers a page, on the page and in the API.
PROVIDERS_A_PAGE = 50

#: How a provider's own grade compares with the reviewer's judgement of it.
HIGHER, LOWER, AGREED, NOT_REVIEWED, NO_GRADE = "higher", "lower", "agreed", "not_reviewed", "no_grade"
#: What is counted, in the order the page shows the counts, with the words it uses.
COMPARISONS = {
    HIGHER: "Graded higher than the reviewer",
    LOWER: "Graded lower than the reviewer",
    AGREED: "Agreed",
    NOT_REVIEWED: "Not yet reviewed",
}

#: Grades from highest to lowest.
GRADE_RANK = {
    SelfAssessmentGrade.COMPLIANT: 2,
    SelfAssessmentGrade.PARTIALLY_COMPLIANT: 1,
    SelfAssessmentGrade.NOT_COMPLIANT: 0,
}
GRADE_OF_COLOUR = {colour.value: grade.value for grade, colour in GRADE_COLOURS.items()}
GRADE_LABELS = dict(SelfAssessmentGrade.choices)

RETURN_STATES = {
    ReturnStatus.SUBMITTED: "Submitted",
    ReturnStatus.RETURNED: "Returned for revision",
}
NOT_SUBMITTED = "Not yet submitted"

#: The orders of the providers: by name (A to Z), or those graded most apart from the reviewer first.
SORT_BY_NAME, SORT_BY_DIFFERENCES = "name", "differences"
SORTS = {SORT_BY_NAME: "by name", SORT_BY_DIFFERENCES: "most differences first, then by name"}
NO_SUCH_SORT = "Sort the providers by name or by differences."


@dataclass(frozen=True)
class ModerationFilters:
    """Which providers are compared: the period, and optionally a commissioner (an organisation), a provider type's
    code, one of :data:`MODERATED_FRAMEWORKS` and part of a provider's name."""

    period: ReportingPeriod
    commissioner: Organisation | None = None
    provider_type: str | None = None
    framework: str | None = None
    search: str = ""
    sort: str = SORT_BY_NAME  # a key of SORTS


@dataclass(frozen=True)
class StandardColumn:
    """A standard a provider grades itself on: its self-assessment question."""

    code: str  # the self-assessment metric's code
    metric_id: int
    framework: str  # the framework's code
    number: str
    title: str
    due: bool  # asked this period

    @property
    def label(self) -> str:
        return f"Standard {self.number}"


@dataclass
class Tally:
    """How many providers graded themselves higher than the reviewer, lower, the same (agreed), or are not yet
    reviewed."""

    higher: int = 0
    lower: int = 0
    agreed: int = 0
    not_reviewed: int = 0

    def add(self, comparison: str) -> None:
        if comparison in COMPARISONS:
            setattr(self, comparison, getattr(self, comparison) + 1)

    @property
    def differ(self) -> int:
        return self.higher + self.lower

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in COMPARISONS} | {"differ": self.differ}


@dataclass(frozen=True)
class FrameworkGroup:
    code: str
    short_name: str
    name: str
    columns: list[StandardColumn]
    tally: Tally


@dataclass(frozen=True)
class Judgement:
    """One provider's grade of one standard beside the reviewer's judgement of it."""

    comparison: str  # a key of COMPARISONS, or NO_GRADE
    grade: str  # the provider's grade (a SelfAssessmentGrade value), "" when none
    judged_grade: str  # the grade the reviewer set, "" unless they changed it
    reason: str = ""
    reviewed_by: str = ""
    reviewed_on: str = ""
    no_grade_words: str = ""  # why there is no grade

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade, "")

    @property
    def judged_label(self) -> str:
        return GRADE_LABELS.get(self.judged_grade, "")

    @property
    def differs(self) -> bool:
        return self.comparison in (HIGHER, LOWER)

    @property
    def words(self) -> str:
        """The judgement in words: "Agreed", "Changed to Partially compliant — the reason", "Not yet reviewed"."""
        if self.comparison == NO_GRADE:
            return self.no_grade_words
        if self.comparison == NOT_REVIEWED:
            return "Not yet reviewed"
        if self.judged_grade and self.judged_grade != self.grade:
            return f"Changed to {self.judged_label} — {self.reason}"
        return "Agreed"

    @property
    def comparison_words(self) -> str:
        """How the provider's grade stands to the judgement, for people who cannot tell it from the layout."""
        return {
            HIGHER: "graded higher than the reviewer",
            LOWER: "graded lower than the reviewer",
            AGREED: "agreed",
            NOT_REVIEWED: "not yet reviewed",
        }.get(self.comparison, "no grade")


@dataclass
class ProviderModeration:
    """A provider's row: its grade and the judgement of each standard, grouped by framework."""

    provider_id: int
    name: str
    ods_code: str
    provider_type: str
    return_id: int | None
    state: str  # the return's state in words
    groups: list[tuple[FrameworkGroup, list[tuple[StandardColumn, Judgement]]]] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return sum(judgement.differs for _, judgements in self.groups for _, judgement in judgements)


def _person(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def judge(column: StandardColumn, values: dict | None, review: tuple | None, *, submitted: bool) -> Judgement:
    """The comparison of a provider's grade (the answer's ``values`` as last submitted, None when there is none) with
    the reviewer's standing judgement (``review``: decision, colour, reason, the values the reviewer saw, by, when)."""
    grade = (values or {}).get("grade")
    if grade not in GRADE_RANK:
        if not column.due:
            words = "Not asked this quarter"
        elif submitted:
            words = "Not graded" if values is not None else "Not asked of this provider"
        else:
            words = "No return submitted"
        return Judgement(NO_GRADE, "", "", no_grade_words=words)
    if review is None or review[3] != values:  # none yet, or the grade changed since the reviewer saw it
        return Judgement(NOT_REVIEWED, grade, "")
    decision, colour, reason, _, by, at = review
    judged = GRADE_OF_COLOUR.get(colour, "") if decision == ReviewDecision.OVERRIDDEN else ""
    rank = GRADE_RANK.get(judged, GRADE_RANK[grade])
    comparison = HIGHER if GRADE_RANK[grade] > rank else LOWER if GRADE_RANK[grade] < rank else AGREED
    return Judgement(
        comparison, grade, judged, reason=reason if judged else "", reviewed_by=by,
        reviewed_on=f"{timezone.localdate(at):%-d %B %Y}",
    )  # fmt: skip


class ModerationRows(PagedRows):
    """The providers compared, by name or most differences first, paged: a page reads its providers (one query);
    their grades and judgements, and so how many standards each is graded apart on, were read with the counts."""

    def __init__(
        self, providers, count: int, period, groups, answers: dict, reviews: dict, differences=None, sort=SORT_BY_NAME
    ):
        self._differences = differences or {}
        self._sort = sort
        self._providers = providers
        self._count = count
        self._period = period
        self._groups = groups
        self._answers = answers
        self._reviews = reviews

    def rows(self, offset: int, limit: int) -> list[ProviderModeration]:
        returns = Return.objects.filter(provider=OuterRef("pk"), period=self._period)
        found = (
            self._providers.annotate(
                return_id=Subquery(returns.values("pk")[:1]), return_status=Subquery(returns.values("status")[:1])
            )
            .order_by(*self._order())
            .values_list("pk", "name", "ods_code", "provider_type__name", "return_id", "return_status")
        )[offset : offset + limit]
        rows = []
        for provider_id, name, ods_code, type_name, return_id, status in found:
            submitted = status in RETURN_STATES
            row = ProviderModeration(
                provider_id, name, ods_code, type_name or "", return_id, RETURN_STATES.get(status, NOT_SUBMITTED)
            )
            for group in self._groups:
                row.groups.append(
                    (
                        group,
                        [
                            (
                                column,
                                judge(
                                    column,
                                    self._answers.get((provider_id, column.code)),
                                    self._reviews.get((provider_id, column.code)),
                                    submitted=submitted,
                                ),
                            )
                            for column in group.columns
                        ],
                    )
                )
            rows.append(row)
        return rows

    def _order(self) -> list:
        """By name; most differences first when asked, the count given to the database as a value by provider."""
        apart = {pk: count for pk, count in self._differences.items() if count}
        if self._sort != SORT_BY_DIFFERENCES or not apart:
            return ["name", "pk"]
        differences = Case(
            *(When(pk=pk, then=Value(count)) for pk, count in apart.items()),
            default=Value(0),
            output_field=IntegerField(),
        )
        return [differences.desc(), "name", "pk"]


@dataclass
class Moderation:
    period: ReportingPeriod
    frameworks: list[FrameworkGroup]
    tallies: dict[str, Tally]  # by standard's column code
    total: Tally
    providers: ModerationRows
    differences: dict[int, int]  # by provider id: how many standards the provider and the reviewer grade apart

    @property
    def matching(self) -> int:
        return len(self.providers)

    @property
    def columns(self) -> list[StandardColumn]:
        return [column for group in self.frameworks for column in group.columns]

    @property
    def asked(self) -> bool:
        """Whether any of the standards' self-assessments is asked this period."""
        return any(column.due for column in self.columns)


def moderated_metrics(period: ReportingPeriod, framework: str | None = None) -> list[Metric]:
    """The self-assessment questions of the moderated frameworks' versions in force in ``period``, by framework and
    standard (one query)."""
    codes = [framework] if framework else list(MODERATED_FRAMEWORKS)
    return list(
        Metric.objects.filter(
            framework__in=Framework.objects.in_force_on(period.starts_on).filter(code__in=codes),
            kind=RequirementKind.SELF_ASSESSMENT,
            standard__isnull=False,
        )
        .select_related("framework", "standard")
        .order_by("framework__position", "framework__code", "standard__position", "position", "id")
    )


def moderated_providers(user, filters: ModerationFilters):
    """Providers owing a return in the period on a contract naming a moderated framework, as ``user`` may see them."""
    period = filters.period
    contracts = Contract.objects.accepted().filter(
        starts_on__lte=period.ends_on,
        ends_on__gte=period.starts_on,
        frameworks__code__in=[filters.framework] if filters.framework else list(MODERATED_FRAMEWORKS),
    )
    if filters.commissioner is not None:
        contracts = contracts.filter(commissioners=filters.commissioner)
    providers = expected_providers(period, provider_type=filters.provider_type).filter(
        pk__in=contracts.values("provider_id")
    )
    if filters.search:
        providers = providers.filter(name__icontains=filters.search)
    return _visible(providers, user, period=period)


def moderation(user, filters: ModerationFilters) -> Moderation:
    """Every matching provider's grades beside the judgements of them, counted by framework and standard, with the
    rows a page at a time (:class:`ModerationRows`)."""
    from .reports import submitted_answers  # reports gathers what moderation reads, with the rest

    period = filters.period
    metrics = moderated_metrics(period, filters.framework)
    columns = {
        metric.code: StandardColumn(
            metric.code, metric.pk, metric.framework.code, metric.standard.number, metric.standard.title,
            is_due(metric, period),
        )
        for metric in metrics
    }  # fmt: skip
    providers = moderated_providers(user, filters)
    count = providers.count()

    returns = Return.objects.filter(period=period, provider__in=providers.values("pk"))
    answers = {
        (provider_id, code): values
        for (provider_id, _, code), (_, values) in submitted_answers(returns, codes=list(columns)).items()
    }
    code_of = {column.metric_id: column.code for column in columns.values()}
    judgements = AnswerReview.objects.filter(provider_return__in=returns, metric_id__in=list(code_of)).values_list(
        "provider_return__provider_id", "metric_id", "decision", "colour", "reason", "values_reviewed",
        "reviewed_by__first_name", "reviewed_by__last_name", "reviewed_by__username", "reviewed_at",
    )  # fmt: skip
    reviews = {
        (provider_id, code_of[metric_id]): (decision, colour, reason, seen, _person(first, last, username), at)
        for provider_id, metric_id, decision, colour, reason, seen, first, last, username, at in judgements
    }

    # Every provider's comparisons, for the counts: a provider with a grade has a submitted return.
    tallies = {code: Tally() for code in columns}
    differences: Counter = Counter()
    for (provider_id, code), values in answers.items():
        judgement = judge(columns[code], values, reviews.get((provider_id, code)), submitted=True)
        tallies[code].add(judgement.comparison)
        differences[provider_id] += judgement.differs

    groups, total = [], Tally()
    for metric in metrics:
        framework = metric.framework
        if not groups or groups[-1].code != framework.code:
            groups.append(FrameworkGroup(framework.code, framework.short_name, framework.name, [], Tally()))
        group = groups[-1]
        group.columns.append(columns[metric.code])
        for key in COMPARISONS:
            amount = getattr(tallies[metric.code], key)
            setattr(group.tally, key, getattr(group.tally, key) + amount)
            setattr(total, key, getattr(total, key) + amount)
    rows = ModerationRows(providers, count, period, groups, answers, reviews, dict(differences), filters.sort)
    return Moderation(period, groups, tallies, total, rows, dict(differences))


def snapshot(user, period: ReportingPeriod, commissioner: Organisation) -> dict:
    """The comparison for a committee report, as JSON: the counts by framework and standard and every provider's
    grades and judgements (by name), as ``user`` may see them; a fixed number of queries."""
    result = moderation(user, ModerationFilters(period, commissioner=commissioner))
    providers = []
    for row in result.providers.rows(0, len(result.providers)):
        providers.append(
            {
                "id": row.provider_id,
                "name": row.name,
                "ods_code": row.ods_code,
                "state": row.state,
                "differences": row.differences,
                "standards": [
                    {
                        "framework": group.short_name,
                        "standard": column.label,
                        "title": column.title,
                        "grade": judgement.grade_label,
                        "comparison": judgement.comparison,
                        "comparison_words": judgement.comparison_words,
                        "judgement": judgement.words,
                        "judged_grade": judgement.judged_label,
                        "reviewed_by": judgement.reviewed_by,
                        "reviewed_on": judgement.reviewed_on,
                    }
                    for group, pairs in row.groups
                    for column, judgement in pairs
                ],
            }  # fmt: skip
        )
    return {
        "counts": result.total.as_dict(),
        "frameworks": [
            {
                "code": group.code, "short_name": group.short_name, "counts": group.tally.as_dict(),
                "standards": [
                    {"code": column.code, "label": column.label, "title": column.title, "asked": column.due,
                     "counts": result.tallies[column.code].as_dict()}
                    for column in group.columns
                ],
            }
            for group in result.frameworks
        ],
        "providers": providers,
    }  # fmt: skip
