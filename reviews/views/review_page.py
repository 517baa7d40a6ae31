"""What the review pages show: a return's answers with their status, reviews, comments and evidence, in fixed queries.

A :class:`ReviewPage` reads the return's current RAG run, the answers as last submitted (from the submission's
snapshot, never the live draft), the reviews standing, the comments and the acceptance, and groups the answers
by framework and standard as the return asks them. :class:`AnswerPage` adds what one answer's page needs: the
previous quarter's value, the history of review acts and the answer's action plan with its follow-ups. Both ask
the same number of SQL queries however many answers, comments and reviews the return has.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from providers.models import names_then
from returns.models import ActionPlanItem, Return, RevisionRequest, Submission
from returns.selectors import asked_once, evidence_towards, mapping_links, metrics_for
from returns.services import may
from returns.views.display import answer_in_words, person, return_status
from standards.kinds import RequirementKind
from standards.models import Framework, Metric, Standard
from standards.wording import threshold_for_provider_in_words

from .. import selectors
from ..models import AnswerComment, AnswerReview, AnswerStatus, ReviewDecision
from ..rag import Colour
from ..services import previous_submission

#: Kinds of metric with a figure, which have a trend over the quarters.
WITH_A_FIGURE = (RequirementKind.PERCENTAGE, RequirementKind.AUDIT, RequirementKind.COUNT)


def when(moment: datetime.datetime) -> str:
    """A moment as people read it: “3 November 2025 at 14:05”."""
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


@dataclass
class AnswerRow:
    """One answer of the return as reviewers see it: the value submitted, its status and what was done about it."""

    metric: Metric
    status: AnswerStatus | None
    values: dict | None  # as submitted; None when the latest submission has no answer to the metric
    review: AnswerReview | None = None
    comments: list[AnswerComment] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)  # id and name, as submitted
    unusual_note: str = ""
    threshold_words: str = ""  # the threshold in force for the provider, when no status says it
    in_force: object = None  # that Threshold, if any: the percentage shown stays on its side of each edge
    #: Asked once: the rows of the other frameworks' metrics the same answer serves, each with its own colour.
    shared: list[AnswerRow] = field(default_factory=list)

    @property
    def words(self) -> list[tuple[str, str]]:
        return answer_in_words(self.metric.kind, self.values or {}, self.metric, self.in_force)

    @property
    def colour(self) -> str:
        return self.status.colour if self.status is not None else Colour.NONE

    @property
    def label(self) -> str:
        if self.status is None:
            return "Not computed yet"
        return Colour(self.status.colour).label

    @property
    def computed_label(self) -> str:
        return Colour(self.status.computed_colour).label if self.status is not None else ""

    @property
    def threshold(self) -> str:
        return (self.status.threshold if self.status is not None else "") or self.threshold_words

    @property
    def explanation(self) -> str:
        """The value, the threshold in force and the rule that gave the colour shown, in one sentence."""
        if self.status is None:
            return "The status of this answer is being worked out."
        parts = [self.status.value, self.status.threshold and f"threshold {self.status.threshold}", self.status.rule]
        return "; ".join(p for p in parts if p)

    @property
    def overridden(self) -> bool:
        return self.status is not None and self.status.review_decision == ReviewDecision.OVERRIDDEN

    @property
    def decision(self) -> str:
        """The reviewer's decision standing on this answer, in words; empty when nobody has reviewed it."""
        review = self.review
        if review is None:
            return ""
        who = f"{person(review.reviewed_by)} on {when(review.reviewed_at)}"
        if self.status is not None and not self.status.review_decision:
            return f"Reviewed by {who}, but the answer has changed since: it needs reviewing again."
        if review.decision == ReviewDecision.OVERRIDDEN:
            return f"Status changed to {Colour(review.colour).label.lower()} by {who}, because: {review.reason}"
        return f"Status agreed by {who}."

    @property
    def has_figure(self) -> bool:
        return self.metric.kind in WITH_A_FIGURE and bool(self.words)

    @property
    def anchor(self) -> str:
        return f"answer-{self.metric.code}"


@dataclass
class StandardBlock:
    standard: Standard | None
    colour: str
    explanation: str
    answers: list[AnswerRow]
    #: Answers of other frameworks mapped as evidence towards this standard, shown beside it, not asked again.
    evidence_from: list[AnswerRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Colour(self.colour).label

    @property
    def anchor(self) -> str:
        return f"standard-{self.standard.pk}" if self.standard is not None else "no-standard"


@dataclass
class FrameworkBlock:
    framework: Framework
    colour: str
    explanation: str
    standards: list[StandardBlock]

    @property
    def label(self) -> str:
        return Colour(self.colour).label


class ReviewPage:
    """A return's review: status, answers by framework and standard, and what the person may do (fixed queries)."""

    def __init__(self, provider_return: Return, user):
        self.provider_return, self.user = provider_return, user
        provider, period = provider_return.provider, provider_return.period
        self.provider, self.period = provider, period
        self.metrics = metrics_for(provider, period)
        self.submissions = list(
            Submission.objects.filter(provider_return=provider_return).select_related("submitted_by").order_by("number")
        )
        self.latest = self.submissions[-1] if self.submissions else None
        review = selectors.return_review(provider_return)
        self.run, self.acceptance = review.run, review.acceptance
        self.reviews = {answer_review.metric_id: answer_review for answer_review in review.reviews}
        comments: dict[int, list[AnswerComment]] = {}
        for comment in review.comments:
            comments.setdefault(comment.metric_id, []).append(comment)
        self.revision_request = (
            RevisionRequest.objects.filter(provider_return=provider_return)
            .select_related("requested_by")
            .order_by("-requested_at")
            .first()
        )
        self.may_review = may(user, provider_return, "review")
        self.may_comment = self.may_review or may(user, provider_return, "edit_return")

        snapshot = {
            entry["metric"]: entry for entry in (self.latest.snapshot if self.latest else {}).get("answers", [])
        }
        statuses = {status.metric_id: status for status in self.run.answers.all()} if self.run else {}
        self.rows: list[AnswerRow] = []
        for metric in self.metrics:
            entry = snapshot.get(metric.code, {})
            self.rows.append(
                AnswerRow(
                    metric=metric,
                    status=statuses.get(metric.pk),
                    values=entry.get("values"),
                    review=self.reviews.get(metric.pk),
                    comments=comments.get(metric.pk, []),
                    evidence=entry.get("evidence", []),
                    unusual_note=entry.get("unusual_value_note", "") if entry.get("unusual_value_confirmed") else "",
                    threshold_words=threshold_for_provider_in_words(metric, provider.provider_type_id),
                    in_force=metric.threshold_for(provider.provider_type_id),
                )
            )
        by_metric = {row.metric.pk: row for row in self.rows}
        links = mapping_links(self.metrics, period)  # one read for both
        asked = asked_once(self.metrics, period, links)
        for row in self.rows:
            row.shared = [by_metric[other.pk] for other in asked.others(row.metric)]
        self.evidence_from = {
            standard: [by_metric[metric.pk] for metric in sources]
            for standard, sources in evidence_towards(self.metrics, period, links).items()
        }

    # The return as a whole -----------------------------------------------------------------------------------

    @property
    def is_submitted(self) -> bool:
        return self.provider_return.status == "submitted" and self.latest is not None

    @property
    def status(self):
        return return_status(self.provider_return, self.period)

    @property
    def colour(self) -> str:
        return self.run.colour if self.run else Colour.NONE

    @property
    def label(self) -> str:
        return Colour(self.run.colour).label if self.run else "Not computed yet"

    @property
    def explanation(self) -> str:
        if self.run is not None:
            return self.run.explanation
        if self.latest is None:
            return "The return has not been submitted yet, so it has no status."
        return "The status of this return is being worked out; reload the page in a moment."

    @property
    def run_is_stale(self) -> bool:
        """Whether the status shown judged an earlier submission than the latest (a recomputation is queued)."""
        return self.run is not None and self.latest is not None and self.run.submission_id != self.latest.pk

    @property
    def may_accept(self) -> bool:
        return self.may_review and self.is_submitted and self.acceptance is None

    @property
    def counts(self) -> dict[str, int]:
        """Answers by colour shown: red, amber, green."""
        found = {Colour.RED: 0, Colour.AMBER: 0, Colour.GREEN: 0}
        for row in self.rows:
            if row.colour in found:
                found[row.colour] += 1
        return found

    # Narrowing to one cell of the dashboard ----------------------------------------------------------------

    def narrowed(self, standard: str | None = None, group: str | None = None) -> tuple[list[FrameworkBlock], str]:
        """The answers grouped by framework and standard, only those of one standard (an id) or metric group when
        asked; with what they were narrowed to, in words ("" for every answer)."""
        rows, narrowed_to = self.rows, ""
        if standard:
            rows = [row for row in rows if str(row.metric.standard_id) == standard]
            found = rows[0].metric.standard if rows else None
            narrowed_to = f"standard {found.number}, {found.short_title}" if found else "a standard this return lacks"
        elif group:
            rows = [row for row in rows if row.metric.group == group]
            narrowed_to = f"the metrics under “{group}”"
        return self.group(rows), narrowed_to

    def group(self, rows: list[AnswerRow]) -> list[FrameworkBlock]:
        standards = {s.standard_id: s for s in self.run.standards.all()} if self.run else {}
        frameworks = {f.framework_id: f for f in self.run.frameworks.all()} if self.run else {}
        blocks: list[FrameworkBlock] = []
        for row in rows:
            framework = row.metric.framework
            if not blocks or blocks[-1].framework.pk != framework.pk:
                stored = frameworks.get(framework.pk)
                blocks.append(
                    FrameworkBlock(
                        framework,
                        stored.colour if stored else Colour.NONE,
                        stored.explanation if stored else "",
                        [],
                    )
                )
            block = blocks[-1]
            standard = row.metric.standard
            match = next((s for s in block.standards if s.standard == standard), None)
            if match is None:
                stored = standards.get(standard.pk) if standard is not None else None
                match = StandardBlock(
                    standard,
                    stored.colour if stored else Colour.NONE,
                    stored.explanation if stored else "",
                    [],
                    self.evidence_from.get(standard.pk, []) if standard is not None else [],
                )
                block.standards.append(match)
            match.answers.append(row)
        for block in blocks:
            block.standards.sort(
                key=lambda s: (1, 0, 0) if s.standard is None else (0, s.standard.position, s.standard.pk)
            )
        return blocks

    def row_for(self, code: str) -> AnswerRow | None:
        return next((row for row in self.rows if row.metric.code == code), None)


def _standard_order(block: StandardBlock):
    standard = block.standard
    return (1, 0, 0) if standard is None else (0, standard.position, standard.pk)


@dataclass
class ReviewAct:
    """One act of review of an answer, from the change history: who, when and what they decided."""

    who: str
    when: datetime.datetime
    what: str


class AnswerPage:
    """Everything about one answer of a return: its row of the review, the previous quarter, history, actions."""

    def __init__(self, page: ReviewPage, row: AnswerRow):
        self.page, self.row = page, row
        provider_return, metric = page.provider_return, row.metric
        previous = previous_submission(provider_return)
        self.previous_period = ""
        self.previous_words: list[tuple[str, str]] = []
        if previous is not None:
            entry = next((a for a in previous.snapshot.get("answers", []) if a.get("metric") == metric.code), None)
            if entry is not None:
                self.previous_period = previous.provider_return.period.label
                self.previous_words = answer_in_words(metric.kind, entry.get("values") or {}, metric, row.in_force)
        self.acts: list[ReviewAct] = []
        for record in (
            AnswerReview.history.filter(provider_return_id=provider_return.pk, metric_id=metric.pk)
            .select_related("history_user", "reviewed_by")
            .order_by("history_date", "history_id")
        ):
            if record.history_type == "-":
                continue
            if record.decision == ReviewDecision.OVERRIDDEN:
                what = f"Changed the status to {Colour(record.colour).label.lower()}, because: {record.reason}"
            else:
                what = "Agreed with the status."
            self.acts.append(ReviewAct(person(record.history_user or record.reviewed_by), record.history_date, what))
        self.actions = list(
            ActionPlanItem.objects.filter(answer__provider_return=provider_return, answer__metric=metric)
            .select_related("follow_up__updated_by")
            .order_by("position", "id")
        )


def return_for_review(queryset, pk: int) -> Return | None:
    """The return with what its review pages need joined, from a queryset already narrowed to the person, and the
    provider's name then (``provider_name_then``, when it had another name in the period)."""
    queryset = queryset.select_related("provider__provider_type", "period")
    return queryset.annotate(**names_then("provider", "period__ends_on", "provider")).filter(pk=pk).first()
