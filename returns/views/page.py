"""Everything a return's page shows, loaded in a fixed number of queries however many questions the return asks.

A :class:`ReturnPage` holds the return's questions grouped by framework then standard, each with its answer,
the threshold in force for the provider worded out, any unusual-value warning, the history of its answer and,
when the person may change the return, its :class:`~returns.forms.AnswerForm`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from standards.kinds import RequirementKind, figure, figure_text, label_in_message
from standards.models import Framework, Metric, SourceNote, Standard
from standards.wording import threshold_for_provider_in_words

from ..checks import unusual_value_warning
from ..forms import ANSWER_FIELDS, AnswerForm, shown_value
from ..models import Answer, Evidence, Return, RevisionRequest, Submission
from ..selectors import asked_once, metrics_for, recent_values
from ..services import Conflict, ReturnProblems, carried_quarter, may
from .display import answer_in_words, person, return_status, values_in_words


@dataclass
class Change:
    """One change to an answer or its evidence, from the change history: who, when, and what became what."""

    who: str
    when: datetime.datetime
    what: str


#: Each question's guidance as rendered, keyed by everything it is drawn from, so that an edit to the catalogue
#: makes a new key and never shows stale guidance. The guidance is the same on every provider's page, so it is
#: rendered once per process rather than once per page; emptied when it holds :data:`MOST_GUIDANCE`.
_guidance: dict[tuple, str] = {}
MOST_GUIDANCE = 5000


def guidance_html(metric: Metric, notes: list[SourceNote], provider_type: str, threshold: str) -> str:
    """What a question asks and how it is judged (``returns/partials/guidance.html``), rendered once per process."""
    key = (
        metric.pk, metric.code, metric.title, metric.description, metric.kind, metric.method_of_measurement,
        metric.threshold_as_written, metric.frequency, metric.frequency_as_written, metric.sample_size,
        metric.review_interval_months, provider_type, threshold,
        tuple((note.pk, note.kind, note.text) for note in notes),
    )  # fmt: skip
    html = _guidance.get(key)
    if html is None:
        context = {
            "question": {"metric": metric, "threshold": threshold},
            "notes": notes,
            "provider_type": provider_type,
        }
        html = render_to_string("returns/partials/guidance.html", context)
        if len(_guidance) >= MOST_GUIDANCE:
            _guidance.clear()
        _guidance[key] = html
    return html


@dataclass
class Question:
    """One metric of the return as its page shows it."""

    metric: Metric
    answer: Answer | None
    in_force: object = None  # the Threshold that judges this metric for the provider, if any
    form: AnswerForm | None = None
    conflict: Conflict | None = None
    #: The page's change history by metric, read when first shown (a save that redirects never reads it).
    changes_of: Callable[[int], list[Change]] | None = field(default=None, repr=False)
    provider_type: str = ""  # the provider type's name, as the guidance words the threshold
    #: The page's notes on the source by metric, read when the guidance is first shown.
    notes_of: Callable[[int], list[SourceNote]] | None = field(default=None, repr=False)
    provider_type_code: str | None = None  # the provider's type, whose threshold is worded
    #: The provider's figures of recent periods by metric code, read when a warning is first asked for.
    recent_of: Callable[[str], list] | None = field(default=None, repr=False)
    #: Asked once for several frameworks: the metric whose question this one's answer is (None when asked here),
    #: and the other metrics the answer to this question serves.
    asked_in: Metric | None = None
    also_for: list[Metric] = field(default_factory=list)

    # Worded only when shown: a save that redirects shows neither (issue 14).

    @cached_property
    def threshold(self) -> str:
        return threshold_for_provider_in_words(self.metric, self.provider_type_code)

    @cached_property
    def warning(self) -> str:
        """Why the saved figure asks to be confirmed, while it is unconfirmed and far from recent ones."""
        answer = self.answer
        if answer is None or answer.unusual_value_confirmed or self.recent_of is None:
            return ""
        return unusual_value_warning(self.metric.kind, answer.values, self.recent_of(self.metric.code))

    @property
    def guidance(self) -> str:
        notes = self.notes_of(self.metric.pk) if self.notes_of else []
        return guidance_html(self.metric, notes, self.provider_type, self.threshold)

    @property
    def changes(self) -> list[Change]:
        return self.changes_of(self.metric.pk) if self.changes_of else []

    @property
    def prefix(self) -> str:
        return f"m{self.metric.pk}"

    @property
    def section(self) -> str:
        """The id of the page's section (its framework) the question is in."""
        return section_id(self.metric.framework_id)

    @property
    def words(self) -> list[tuple[str, str]]:
        return answer_in_words(self.metric.kind, self.answer.values if self.answer else {}, self.metric, self.in_force)

    @property
    def evidence(self) -> list[Evidence]:
        return list(self.answer.evidence.all()) if self.answer else []

    @property
    def actions(self) -> list:
        return list(self.answer.actions.all()) if self.answer else []

    @property
    def is_self_assessment(self) -> bool:
        return self.metric.kind == RequirementKind.SELF_ASSESSMENT

    @property
    def file_error(self) -> str:
        """Why a file was refused, or why the policy document is needed."""
        if self.form is None:
            return ""
        return self.form.other_errors.get("file") or self.form.other_errors.get("evidence", "")

    @property
    def base_revision(self) -> str:
        """The saved answer's revision the person started from (moved on after an edit conflict)."""
        return self.form.shown("base_revision") if self.form is not None else ""

    @property
    def conflict_person(self) -> str:
        return person(self.conflict.saved_by) if self.conflict else ""

    @property
    def sample_hint(self) -> str:
        size = self.metric.sample_size
        return f"The audit asks for a sample of {size} records." if size else "A whole number."

    @property
    def saved_figure(self) -> str:
        """What the saved answer comes to (a percentage or compliance rate), shown after it is saved."""
        if self.answer is None or self.metric.kind not in (RequirementKind.PERCENTAGE, RequirementKind.AUDIT):
            return ""
        total = figure(self.metric.kind, self.answer.values)
        return figure_text(self.metric.kind, total, self.in_force) if total is not None else ""

    @property
    def inputs(self) -> dict[str, dict]:
        """Each answer input of the form by field: name, id, label, value shown, hidden initial, errors, theirs."""
        form = self.form
        if form is None:
            return {}
        theirs = self.conflict_by_field
        return {name: dict(self._input(name), theirs=theirs.get(name)) for name in ANSWER_FIELDS[self.metric.kind]}

    @cached_property
    def serves(self) -> list[dict]:
        """Every framework the answer to a question asked once serves, each with the threshold it is judged by."""
        if not self.also_for:
            return []
        return [
            {
                "metric": metric,
                "framework": metric.framework.short_name or metric.framework.name,
                "threshold": threshold_for_provider_in_words(metric, self.provider_type_code),
            }
            for metric in [self.metric, *self.also_for]
        ]

    @property
    def carried_from(self) -> str:
        """The quarter the answer was carried forward from (“Q1 2025/26”), or "" for an answer of this quarter."""
        return carried_quarter(self.answer) if self.answer is not None else ""

    @property
    def carried_confirmation(self) -> dict:
        """The “Confirm unchanged” checkbox of a carried-forward answer not yet confirmed."""
        if self.form is None or self.answer is None or not self.answer.awaits_confirmation:
            return {}
        return self._input("confirm_carried")

    @property
    def confirmation(self) -> dict[str, dict]:
        """The “Yes, this figure is right” checkbox and its note."""
        if self.form is None:
            return {}
        return {name: self._input(name) for name in ("confirm_unusual", "unusual_note")}

    def _input(self, name: str) -> dict:
        form = self.form
        bound = form[name]
        return {
            "name": bound.html_name,
            "id": f"id_{form.prefix}-{name}",
            "label": bound.label,
            "value": form.shown(name),
            "initial_name": bound.html_initial_name,
            "initial": form.hidden_initial(name),
            "errors": list(bound.errors) if form.is_bound else [],
            "limit": getattr(bound.field, "limit", ""),
            "longest": getattr(bound.field, "longest", None),
        }

    @property
    def conflict_words(self) -> str:
        if self.conflict is None:
            return ""
        return values_in_words(self.metric.kind, self.conflict.saved_values, self.metric, self.in_force)

    @property
    def conflict_by_field(self) -> dict[str, str]:
        """The other person's saved value of each field where it differs from what this person typed."""
        if self.conflict is None or self.form is None:
            return {}
        saved = self.conflict.saved_values
        shown = {}
        for name in ANSWER_FIELDS[self.metric.kind]:
            theirs = shown_value(name, saved.get(name))
            if theirs != self.form.shown(name).strip():
                words = answer_in_words(self.metric.kind, {name: saved.get(name)}, self.metric)
                shown[name] = words[0][1] if words else "nothing (left blank)"
        return shown


@dataclass
class StandardSection:
    standard: Standard | None
    questions: list[Question]


@dataclass
class FrameworkSection:
    framework: Framework
    sections: list[StandardSection]

    @property
    def id(self) -> str:
        """The section's id on the page: the address's fragment after its "Save this section"."""
        return section_id(self.framework.pk)

    @property
    def questions(self) -> list[Question]:
        return [question for section in self.sections for question in section.questions]


@dataclass
class Problem:
    """A line of the error summary, linking to the input it is about (or to nothing for the return as a whole)."""

    text: str
    anchor: str = ""
    #: The question the message is about, when the field's own label does not name it ("Number"), so that
    #: several such messages in one summary can be told apart; it follows the message, never leads it.
    question: str = ""

    @property
    def href(self) -> str:
        """A link to the input: on this page (an id), or on another page (an address ending in its id)."""
        if not self.anchor:
            return ""
        return self.anchor if self.anchor.startswith("/") else f"#{self.anchor}"


def section_id(framework_pk: int) -> str:
    return f"framework-{framework_pk}"


def question_named(metric: Metric, name: str) -> str:
    """The question a message about the field ``name`` is about, unless the field's label names it already."""
    if metric.kind == RequirementKind.PERCENTAGE and name in ("numerator", "denominator"):
        return ""
    return label_in_message(metric.title)


def _standard_order(metric: Metric):
    standard = metric.standard
    return (1, 0, 0) if standard is None else (0, standard.position, standard.pk)


class ReturnPage:
    """A return with its questions, answers, submissions, revision requests and what the person may do to it."""

    def __init__(self, provider_return: Return, user, today: datetime.date | None = None, may_edit: bool | None = None):
        """``may_edit``: whether ``user`` may edit the return, when the caller has asked already."""
        self.provider_return, self.user = provider_return, user
        self.today = today or timezone.localdate()
        provider, period = provider_return.provider, provider_return.period
        self.period = period
        self.metrics = metrics_for(provider, period)
        self.asked = asked_once(self.metrics, period)
        answers = (
            Answer.objects.filter(provider_return=provider_return)
            .select_related("updated_by", "confirmed_by", "carried_from__provider_return__period")
            .prefetch_related("actions", Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")))
        )
        self.answers = {answer.metric_id: answer for answer in answers}
        self.may_edit = may(user, provider_return, "edit_return") if may_edit is None else may_edit
        self.locked = period.is_locked(self.today)
        self.editable = self.may_edit and provider_return.is_editable_by_provider and not self.locked

        provider_type = provider.provider_type_id
        provider_type_name = provider.provider_type.name if provider_type else ""
        self.questions: list[Question] = []
        for metric in self.metrics:
            self.questions.append(
                Question(
                    metric=metric,
                    answer=self.answers.get(metric.pk),
                    in_force=metric.threshold_for(provider_type),
                    changes_of=self.changes_of,
                    provider_type=provider_type_name,
                    notes_of=self.notes_of,
                    provider_type_code=provider_type,
                    recent_of=self.recent_of,
                    asked_in=None if self.asked.is_asked(metric) else self.asked.asked(metric),
                    also_for=self.asked.others(metric) if self.asked.is_asked(metric) else [],
                )
            )
        self.by_metric = {question.metric.pk: question for question in self.questions}
        self.problems: list[Problem] = []
        self.conflicts: list[Conflict] = []

    # Loading: what only the page shows is read when it is first shown, not by a save that redirects -------------

    @cached_property
    def submissions(self) -> list[Submission]:
        return list(
            Submission.objects.filter(provider_return=self.provider_return)
            .select_related("submitted_by")
            .order_by("number")
        )

    @cached_property
    def revision_requests(self) -> list[RevisionRequest]:
        return list(
            RevisionRequest.objects.filter(provider_return=self.provider_return)
            .select_related("requested_by", "submission")
            .order_by("requested_at")
        )

    @cached_property
    def may_submit(self) -> bool:
        return may(self.user, self.provider_return, "submit_return")

    @cached_property
    def may_review(self) -> bool:
        return may(self.user, self.provider_return, "review")

    def recent_of(self, code: str) -> list:
        """The provider's figures for a metric in recent periods (all the page's read at the first call, one query)."""
        return self._recent.get(code, [])

    @cached_property
    def _recent(self) -> dict[str, list]:
        provider_return = self.provider_return
        return recent_values(provider_return.provider, self.period, [metric.code for metric in self.metrics])

    def notes_of(self, metric_pk: int) -> list[SourceNote]:
        """The catalogue's notes on the source of one metric (all the page's read at the first call, one query)."""
        return self._all_notes.get(metric_pk, [])

    @cached_property
    def _all_notes(self) -> dict[int, list[SourceNote]]:
        notes: dict[int, list[SourceNote]] = defaultdict(list)
        for note in SourceNote.objects.filter(metric__in=[metric.pk for metric in self.metrics]):
            notes[note.metric_id].append(note)
        return notes

    def changes_of(self, metric_pk: int) -> list[Change]:
        """The saved changes of the answer to one metric, newest first (all of them read at the first call)."""
        return self._all_changes.get(metric_pk, [])

    @cached_property
    def _all_changes(self) -> dict[int, list[Change]]:
        return self._changes()

    def _changes(self) -> dict[int, list[Change]]:
        """Every saved change of every answer and its evidence, newest first, by metric: two queries."""
        metric_of_answer = {answer.pk: metric_id for metric_id, answer in self.answers.items()}
        metrics = {metric.pk: metric for metric in self.metrics}
        provider_type = self.provider_return.provider.provider_type_id
        changes: dict[int, list[Change]] = defaultdict(list)
        records = (
            Answer.history.filter(provider_return_id=self.provider_return.pk)
            .select_related("history_user", "carried_from__provider_return__period")
            .order_by("id", "history_date", "history_id")
        )
        before: dict[int, dict] = {}
        confirmed_before: dict[int, bool] = {}
        carried_confirmed_before: dict[int, bool] = {}
        for record in records:
            metric = metrics.get(record.metric_id)
            if metric is None or record.history_type == "-":
                continue
            old = before.get(record.id, {})
            who = person(record.history_user)
            if record.values != old:
                in_force = metric.threshold_for(provider_type)
                was = values_in_words(metric.kind, old, metric, in_force)
                now = values_in_words(metric.kind, record.values, metric, in_force)
                what = f"{now}" if not old else f"{was} → {now}"
                if record.history_type == "+" and record.carried_from_id and record.carried_from:
                    what = f"Carried forward from {record.carried_from.provider_return.period.short_label}: {now}"
                if record.values or old:
                    changes[metric.pk].append(Change(who, record.history_date, what))
            if record.unusual_value_confirmed and not confirmed_before.get(record.id):
                note = f" ({record.unusual_value_note})" if record.unusual_value_note else ""
                changes[metric.pk].append(Change(who, record.history_date, f"Confirmed the figure is right{note}"))
            if record.confirmed_at and record.carried_from and not carried_confirmed_before.get(record.id):
                label = record.carried_from.provider_return.period.short_label
                what = f"Confirmed the answer carried forward from {label} is unchanged"
                changes[metric.pk].append(Change(who, record.history_date, what))
            before[record.id] = record.values
            confirmed_before[record.id] = record.unusual_value_confirmed
            carried_confirmed_before[record.id] = record.confirmed_at is not None
        files = (
            Evidence.history.filter(answer_id__in=list(metric_of_answer))
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        for record in files:
            metric_id = metric_of_answer.get(record.answer_id)
            if metric_id is None or record.history_type == "~":
                continue
            verb = "Attached" if record.history_type == "+" else "Removed"
            changes[metric_id].append(
                Change(person(record.history_user), record.history_date, f"{verb} {record.original_name}")
            )
        for entries in changes.values():
            entries.sort(key=lambda change: change.when, reverse=True)
        return changes

    def build_forms(self, data=None, rows: dict[int, int] | None = None) -> None:
        """Give each question its form (bound to ``data`` when the page was sent), if the person may edit."""
        if not self.editable:
            return
        rows = rows or {}
        for question in self.questions:
            if question.asked_in is not None:
                continue  # asked once, under another framework's question: shown as that answer, not asked here
            question.form = AnswerForm(
                question.metric, question.answer, data=data, rows=rows.get(question.metric.pk, 0)
            )

    # What the page shows -----------------------------------------------------------------------------------

    @property
    def frameworks(self) -> list[FrameworkSection]:
        """The questions grouped by framework, then by standard in the standard's order (as in the workbook)."""
        sections: list[FrameworkSection] = []
        for question in self.questions:
            framework = question.metric.framework
            if not sections or sections[-1].framework.pk != framework.pk:
                sections.append(FrameworkSection(framework, []))
            sections[-1].sections.append(StandardSection(question.metric.standard, [question]))
        for section in sections:
            section.sections.sort(key=lambda s: _standard_order(s.questions[0].metric))
            merged: list[StandardSection] = []
            for standard_section in section.sections:
                if merged and merged[-1].standard == standard_section.standard:
                    merged[-1].questions.extend(standard_section.questions)
                else:
                    merged.append(standard_section)
            section.sections = merged
        return sections

    @property
    def status(self):
        return return_status(self.provider_return, self.period, self.today)

    @property
    def latest_submission(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None

    @property
    def open_revision_request(self) -> RevisionRequest | None:
        """The comments the provider is revising against, while the return is back with them."""
        if self.provider_return.status != "returned" or not self.revision_requests:
            return None
        return self.revision_requests[-1]

    @property
    def history(self) -> list[dict]:
        """Submissions and revision requests, oldest first."""
        entries = [{"when": s.submitted_at, "submission": s} for s in self.submissions]
        entries += [{"when": r.requested_at, "request": r} for r in self.revision_requests]
        return sorted(entries, key=lambda entry: entry["when"])

    @property
    def warnings(self) -> list[Question]:
        return [question for question in self.questions if question.warning]

    @property
    def asked_questions(self) -> list[Question]:
        """The questions the provider answers: a measure shared by several frameworks counts once."""
        return [question for question in self.questions if question.asked_in is None]

    @property
    def answered_count(self) -> int:
        return sum(1 for question in self.asked_questions if question.words)

    # Problems ------------------------------------------------------------------------------------------------

    def show_problems(self, problems: ReturnProblems) -> None:
        """Put a service's problems beside their inputs and in the error summary, in the order of the questions."""
        self.problems.extend(Problem(message) for message in problems.general)
        codes = {question.metric.code: question for question in self.questions}
        for code, fields in problems.by_metric.items():
            question = codes.get(code)
            if question is None or question.form is None:
                self.problems.extend(Problem(f"{code}: {message}") for message in fields.values())
                continue
            question.form.add_service_errors(fields)

    def collect_form_problems(self) -> None:
        """Add every message shown beside an input to the error summary, in the same words, linking to that input."""
        for question in self.questions:
            form = question.form
            if form is None:
                continue
            metric = question.metric
            for name, errors in (form._errors if form.is_bound and form._errors else {}).items():
                for message in errors:
                    self.problems.append(Problem(message, form.anchor(name), question_named(metric, name)))
            for name, message in form.other_errors.items():
                self.problems.append(Problem(message, form.anchor(name), question_named(metric, name)))

    def show_conflicts(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        for conflict in conflicts:
            question = self.by_metric.get(conflict.metric.pk)
            if question is not None:
                question.conflict = conflict

    @property
    def conflict_people(self) -> str:
        names = sorted({person(conflict.saved_by) for conflict in self.conflicts})
        return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def conflict_time(self) -> datetime.datetime | None:
        return max((conflict.saved_at for conflict in self.conflicts), default=None)
