"""Actions on returns: save answers to a draft, submit, return for revision, reopen a locked period.

Every action takes the acting person, checks what they may do through :mod:`providers.scoping`, runs in one
transaction and records who acted. Problems are raised as :class:`ReturnProblems`: plain-English messages keyed
by metric code and field, which the form, the Excel upload and the API all show as they are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from providers.scoping import may_act_on, sees_everything
from providers.services import ALREADY_DONE, when_and_who
from reviews.services import schedule_rag
from standards.kinds import (
    LONGEST_COMMENT,
    LONGEST_NAME,
    LONGEST_NOTE,
    RequirementKind,
    SelfAssessmentGrade,
    clean_answer,
    clean_typed_text,
    plausible_date,
)
from standards.models import Metric

from .checks import unusual_value_warning
from .evidence import check_evidence_file
from .models import (
    ActionPlanItem,
    Answer,
    Evidence,
    ReportingPeriod,
    Return,
    ReturnStatus,
    RevisionRequest,
    Submission,
)
from .selectors import AskedOnce, asked_once, metrics_for, recent_values

NOT_IN_RETURN = "This question is not part of this return."


def asked_elsewhere(asked: Metric) -> str:
    """Why an answer to a question asked once under another metric is refused, naming where it is asked."""
    framework = asked.framework.short_name or asked.framework.name
    return (
        f"This question is asked once, as {asked.code} in {framework}, and that answer counts for it too. "
        "Answer it there."
    )


DECLARATION = (
    "I confirm that this return is complete and accurate to the best of my knowledge, that the evidence it refers "
    "to is held by {provider}, and that I am authorised to submit it on {provider}'s behalf."
)


class ReturnProblems(Exception):
    """What stops an action, in plain English: ``by_metric[code][field]`` and ``general`` messages."""

    def __init__(
        self, by_metric: dict[str, dict[str, str]] | None = None, general: list[str] | None = None, code: str = ""
    ):
        self.by_metric = by_metric or {}
        self.general = general or []
        self.code = code  # ALREADY_DONE: the change was already made and nothing changed now
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = list(self.general)
        for code, fields in self.by_metric.items():
            lines.extend(f"{code}: {message}" for message in fields.values())
        return "\n".join(lines)


@dataclass
class Conflict:
    metric: Metric
    saved_by: object
    saved_at: datetime.datetime
    saved_values: dict
    saved_revision: int = 0  # to send back as the base of a save made knowingly over it


class EditConflict(Exception):
    """Someone else saved some of these answers since the person opened the form; nothing was saved."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        who = ", ".join(sorted({str(c.saved_by.get_full_name() or c.saved_by) for c in conflicts if c.saved_by}))
        super().__init__(f"{len(conflicts)} answers were changed by {who or 'someone else'} since you opened them.")


@dataclass
class AnswerInput:
    """What a person sent for one metric: the values, the revision they started from, their confirmations."""

    values: dict
    # The answer's revision the person started from, 0 for an answer not yet saved. None skips the check: only
    # for the project's own writers (demo data); the page and the API always send one (the API refuses without).
    base_revision: int | None = None
    confirm_unusual: bool = False
    unusual_note: str = ""
    actions: list[dict] | None = None  # None: leave the action plan as it is
    confirm_carried: bool = False  # the person confirms a carried-forward answer still holds unchanged


@dataclass
class SaveResult:
    saved: list[Answer] = field(default_factory=list)
    warnings: dict[str, str] = field(default_factory=dict)  # metric code → unusual value warning


def _record(obj, user) -> None:
    obj._history_user = user


def _check_open(provider_return: Return, today: datetime.date | None = None) -> None:
    period = provider_return.period
    if period.is_locked(today):
        raise ReturnProblems(
            general=[
                f"The period {period.label} was locked on {period.lock_date:%-d %B %Y}, so nothing can be submitted "
                "or changed. Ask your commissioner to have an administrator reopen it."
            ]
        )


def may(user, provider_return: Return, action: str) -> bool:
    """Whether ``user`` may act on the return: through a commissioner, only for a period ending on or after the
    start of a contract the provider accepted (:mod:`providers.scoping`). One query."""
    ends_on = None
    if provider_return.period_id is not None:
        if Return.period.is_cached(provider_return):
            ends_on = provider_return.period.ends_on
        else:
            ends_on = Subquery(ReportingPeriod.objects.filter(pk=provider_return.period_id).values("ends_on")[:1])
    return may_act_on(user, provider_return.provider_id, action, ends_on)


def open_return(provider, period: ReportingPeriod, *, by, carry: bool = True) -> Return:
    """The provider's return for the period, made when someone who may edit it first opens it.

    A return made now starts from the provider's last submitted one (:func:`carry_forward`); ``carry=False`` is
    only for the demo's history, made as people answered before answers were carried forward.
    """
    if not may(by, Return(provider=provider), "edit_return") and not may(
        by, Return(provider=provider, period=period), "view"
    ):
        raise PermissionDenied("You cannot see this provider's returns.")
    existing = Return.objects.filter(provider=provider, period=period).first()
    if existing is not None:
        return existing
    if not may(by, Return(provider=provider), "edit_return"):
        raise PermissionDenied("This provider has not started its return for the period yet.")
    with transaction.atomic():
        provider_return = Return(provider=provider, period=period)
        _record(provider_return, by)
        provider_return.save()
        if carry:
            carry_forward(provider_return, by)
    return provider_return


#: The kinds whose answer describes a state that holds until someone changes it (a narrative, a self-assessment
#: with its evidence and action plan, a policy with its review date), and so starts the next quarter from the last.
#: Percentages, counts and audit samples are the quarter's own figures and are never carried.
CARRIED_KINDS = frozenset({RequirementKind.NARRATIVE, RequirementKind.SELF_ASSESSMENT, RequirementKind.POLICY})


def carried_message(answer: Answer) -> str:
    """What stops a return with this carried-forward answer unconfirmed being submitted, in one set of words."""
    return f"Confirm the answer carried forward from {carried_quarter(answer)} is unchanged, or change it."


def carried_quarter(answer: Answer) -> str:
    """“Q1 2025/26”: the quarter a carried-forward answer came from (its submission's return, already loaded)."""
    return answer.carried_from.provider_return.period.short_label if answer.carried_from_id else ""


def previous_submission(provider_return: Return) -> Submission | None:
    """The latest submission of the provider's latest submitted return of a period ending before this one's."""
    return (
        Submission.objects.filter(
            provider_return__provider_id=provider_return.provider_id,
            provider_return__period__ends_on__lt=provider_return.period.starts_on,
        )
        .select_related("provider_return__period")
        .order_by("-provider_return__period__ends_on", "-number")
        .first()
    )


def carry_forward(provider_return: Return, by) -> list[Answer]:
    """Start a return from the provider's previous submitted answers that describe a state, not a period's figures.

    From the latest submission (its snapshot, never a draft's later edits) of the provider's latest submitted return
    of an earlier period, copies each answer of a kind in :data:`CARRIED_KINDS` to a question this return asks
    (matched by metric code within the framework's code, so a new framework version continues the old one; what no
    longer exists is skipped) and not answered yet, with its evidence files (the same stored files, linked again)
    and its action plan's actions not marked done by a reviewer. Each carried answer names the submission it came
    from and must be confirmed or changed before the return can be submitted. Returns the answers made.
    """
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    source = previous_submission(provider_return)
    if source is None:
        return []
    metrics = metrics_for(provider_return.provider, provider_return.period)
    asked = {(metric.framework.code, metric.code): metric for metric in metrics if metric.kind in CARRIED_KINDS}
    answered = set(Answer.objects.filter(provider_return=provider_return).values_list("metric_id", flat=True))
    done = {
        (code, action, owner, due_on.isoformat())
        for code, action, owner, due_on in ActionPlanItem.objects.filter(
            answer__provider_return_id=source.provider_return_id, follow_up__is_done=True
        ).values_list("answer__metric__code", "action", "owner", "due_on")
    }
    planned = []
    for entry in source.snapshot.get("answers", []):
        framework_code = str(entry.get("framework") or "").split(" ", 1)[0]
        metric = asked.get((framework_code, entry.get("metric")))
        if metric is None or metric.pk in answered or entry.get("kind") != metric.kind:
            continue
        cleaned, errors = clean_answer(metric.kind, entry.get("values") or {}, complete=False)
        if errors or not any(value not in (None, "") for value in cleaned.values()):
            continue
        actions = [
            row
            for row in entry.get("actions") or []
            if metric.kind == RequirementKind.SELF_ASSESSMENT
            and (metric.code, row.get("action"), row.get("owner"), row.get("due_on")) not in done
        ]
        files = [file["id"] for file in entry.get("evidence") or [] if isinstance(file.get("id"), int)]
        planned.append((metric, _jsonable(cleaned), actions, files))
    if not planned:
        return []
    # A question asked once starts from one answer for every framework it serves: the first of its metrics that
    # was answered before (a provider may have answered only one of them last quarter, under one contract).
    plans = {plan[0].pk: plan for plan in planned}
    for group in asked_once(metrics, provider_return.period).groups.values():
        first = next((plans[member.pk] for member in group if member.pk in plans), None)
        for member in group if first is not None else []:
            if member.pk not in answered and member.kind in CARRIED_KINDS:
                plans[member.pk] = (member, *first[1:])
    planned = [plans[metric.pk] for metric in metrics if metric.pk in plans]

    now = timezone.now()
    answers = [
        Answer(
            provider_return=provider_return,
            metric=metric,
            values=values,
            revision=1,
            updated_by=by,
            updated_at=now,
            carried_from=source,
        )
        for metric, values, _, _ in planned
    ]
    with transaction.atomic():
        answers = bulk_create_with_history(answers, Answer, default_user=by, default_date=now)
        by_metric = {answer.metric_id: answer for answer in answers}
        items = [
            ActionPlanItem(
                answer=by_metric[metric.pk],
                action=row["action"],
                owner=row["owner"],
                due_on=datetime.date.fromisoformat(row["due_on"]),
                position=position,
            )
            for metric, _, actions, _ in planned
            for position, row in enumerate(actions)
        ]
        if items:
            bulk_create_with_history(items, ActionPlanItem, default_user=by, default_date=now)
        wanted: dict[int, list[Answer]] = {}
        for metric, _, _, files in planned:
            for pk in files:
                wanted.setdefault(pk, []).append(by_metric[metric.pk])
        held = Evidence.objects.filter(pk__in=list(wanted), answer__provider_return_id=source.provider_return_id)
        files = [
            _linked_again(evidence, answer)
            for evidence in held.order_by("uploaded_at", "pk")
            for answer in wanted[evidence.pk]
        ]
        if files:
            bulk_create_with_history(files, Evidence, default_user=by, default_date=now)
    return answers


def _linked_again(evidence: Evidence, answer: Answer) -> Evidence:
    """A new evidence record of ``answer`` for the same stored file as ``evidence`` (linked again, not copied)."""
    return Evidence(
        answer=answer,
        file=evidence.file.name,
        original_name=evidence.original_name,
        content_type=evidence.content_type,
        size=evidence.size,
        uploaded_by_id=evidence.uploaded_by_id,
    )


def confirm_carried_answers(provider_return: Return, *, by, metric_ids=None, today=None) -> list[Answer]:
    """Confirm that carried-forward answers still hold unchanged (all of them unless ``metric_ids`` says which).

    Recorded on each answer with who and when, and in its change history. Returns the answers confirmed now; those
    confirmed before are left as they are, so a repeated request changes nothing.
    """
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    _check_open(provider_return, today)
    with transaction.atomic():
        provider_return = Return.objects.select_for_update().get(pk=provider_return.pk)
        if not provider_return.is_editable_by_provider:
            raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
        answers = Answer.objects.select_for_update().filter(
            provider_return=provider_return, carried_from__isnull=False, confirmed_at__isnull=True
        )
        if metric_ids is not None:
            # A question asked once is confirmed for every framework its answer serves.
            period = provider_return.period
            asked = asked_once(metrics_for(provider_return.provider, period), period)
            answers = answers.filter(metric_id__in=list(asked.with_copies(metric_ids)))
        answers = list(answers)
        if not answers:
            return []
        now = timezone.now()
        for answer in answers:
            answer.confirmed_at, answer.confirmed_by = now, by
            answer.revision += 1
            answer.updated_by, answer.updated_at = by, now
            _record(answer, by)
        fields = ["confirmed_at", "confirmed_by", "revision", "updated_by", "updated_at"]
        bulk_update_with_history(answers, Answer, fields, default_user=by, default_date=now)
        _record(provider_return, by)
        provider_return.save(update_fields=["updated_at"])
    return answers


def _clean_actions(rows: list[dict]) -> tuple[list[dict], dict[str, str], list[int]]:
    """The rows of an action plan checked, their problems by field, and each kept row's place among those sent."""
    cleaned, errors, places = [], {}, []
    for index, row in enumerate(rows, start=1):
        action, action_problem = clean_typed_text(row.get("action"), "the action", LONGEST_NOTE)
        owner, owner_problem = clean_typed_text(row.get("owner"), "the owner", LONGEST_NAME)
        due = row.get("due_on")
        for name, problem in (("action", action_problem), ("owner", owner_problem)):
            if problem:
                errors[f"actions-{index}-{name}"] = f"Action {index}: {problem[0].lower()}{problem[1:]}"
        if not (action or owner or due):
            continue  # an empty row of the form, or an action taken out of the plan
        if not action and not action_problem:
            errors[f"actions-{index}-action"] = f"Action {index}: describe the action."
        if not owner and not owner_problem:
            errors[f"actions-{index}-owner"] = f"Action {index}: say who owns the action."
        due_on = None
        if isinstance(due, datetime.date):
            due_on = due
        elif due:
            try:
                due_on = datetime.date.fromisoformat(str(due).strip())
            except ValueError:
                errors[f"actions-{index}-due_on"] = (
                    f"Action {index}: enter the due date as a real date, like 2026-03-31."
                )
        else:
            errors[f"actions-{index}-due_on"] = f"Action {index}: enter the date the action is due."
        if due_on and plausible_date(due_on, "the due date"):
            errors[f"actions-{index}-due_on"] = f"Action {index}: {plausible_date(due_on, 'the due date')}"
            due_on = None
        cleaned.append({"action": action, "owner": owner, "due_on": due_on})
        places.append(index - 1)
    return cleaned, errors, places


def _update_action_plan(answer: Answer, rows: list[dict], places: list[int], *, by) -> None:
    """Make the answer's action plan these rows, keeping each action's identity (and so a reviewer's follow-up).

    The rows sent are matched to the plan's actions by their place: the form shows the actions in order, then
    blank rows, so row 2 is the second action. A row emptied takes that action out of the plan; only such actions
    are deleted, and the others are updated in place.
    """
    items = list(answer.actions.order_by("position", "id"))
    kept = set()
    for position, (row, place) in enumerate(zip(rows, places, strict=True)):
        item = items[place] if place < len(items) else ActionPlanItem(answer=answer)
        if item.pk is not None:
            kept.add(item.pk)
        wanted = (row["action"], row["owner"], row["due_on"], position)
        if item.pk is None or (item.action, item.owner, item.due_on, item.position) != wanted:
            item.action, item.owner, item.due_on, item.position = wanted
            _record(item, by)
            item.save()
    for item in items:
        if item.pk not in kept:
            _record(item, by)
            item.delete()


def _action_rows(answer: Answer) -> list[dict]:
    """The answer's action plan as saved, in the shape of :func:`_clean_actions`'s rows."""
    if answer.pk is None:
        return []
    return [{"action": a.action, "owner": a.owner, "due_on": a.due_on} for a in answer.actions.all()]


def _answer_state(answer: Answer) -> tuple:
    """What makes two answers to one question the same answer, beside their action plans and evidence files."""
    return (
        answer.values,
        answer.unusual_value_confirmed,
        answer.unusual_value_note,
        answer.carried_from_id,
        answer.confirmed_at,
        answer.confirmed_by_id,
    )


def mirror_shared(provider_return: Return, asked: AskedOnce, metric_ids, *, by, now=None) -> list[Answer]:
    """Copy the answers of questions asked once to every other metric they serve, so each framework has its own.

    For each metric of ``metric_ids`` asked once for several frameworks (:class:`~returns.selectors.AskedOnce`),
    the other metrics of its group get the same values, confirmations, carried-forward state, action plan (each
    action kept in place, so a reviewer's follow-up stays with it) and evidence files (the same stored files,
    linked again). Only what differs is written, each change recorded with ``by`` in the answer's history, so a
    copy already alike costs one query. Called inside the caller's transaction, with the return locked. Returns
    the answers written.
    """
    groups = [asked.groups[pk] for pk in dict.fromkeys(metric_ids) if pk in asked.groups]
    if not groups:
        return []
    now = now or timezone.now()
    wanted = [metric.pk for group in groups for metric in group]
    answers = {
        answer.metric_id: answer
        for answer in Answer.objects.select_for_update()
        .filter(provider_return=provider_return, metric_id__in=wanted)
        .prefetch_related("actions", "evidence")
    }
    created, updated, plans, files = [], [], [], []
    for group in groups:
        source = answers.get(group[0].pk)
        if source is None:
            continue
        rows = _action_rows(source)
        source_files = list(source.evidence.all())
        for member in group[1:]:
            target = answers.get(member.pk)
            if target is None:
                target = Answer(provider_return=provider_return, metric=member)
            if target.pk is None or _answer_state(target) != _answer_state(source):
                target.values = source.values
                target.unusual_value_confirmed = source.unusual_value_confirmed
                target.unusual_value_note = source.unusual_value_note
                target.carried_from_id = source.carried_from_id
                target.confirmed_at, target.confirmed_by_id = source.confirmed_at, source.confirmed_by_id
                target.revision += 1
                target.updated_by, target.updated_at = by, now
                _record(target, by)
                (created if target.pk is None else updated).append(target)
            if rows != _action_rows(target):
                plans.append((target, rows))
            held = [] if target.pk is None else list(target.evidence.all())
            files.append((target, source_files, held))
    if created:
        bulk_create_with_history(created, Answer, default_user=by, default_date=now)
    if updated:
        bulk_update_with_history(updated, Answer, SAVED_ANSWER_FIELDS, default_user=by, default_date=now)
    for target, rows in plans:
        _update_action_plan(target, rows, list(range(len(rows))), by=by)
    for target, source_files, held in files:
        names = [evidence.file.name for evidence in held]
        for evidence in source_files:
            if evidence.file.name in names:
                names.remove(evidence.file.name)
                continue
            copy = _linked_again(evidence, target)
            _record(copy, by)
            copy.save()
        for evidence in held:
            if evidence.file.name in names:  # not (or no longer) on the asked answer
                names.remove(evidence.file.name)
                _record(evidence, by)
                evidence.delete()
    return created + updated


#: The fields of an answer that a save changes (with ``bulk_update``, which sets no ``auto_now`` by itself).
SAVED_ANSWER_FIELDS = [
    "values",
    "revision",
    "unusual_value_confirmed",
    "unusual_value_note",
    "updated_by",
    "updated_at",
    "carried_from",
    "confirmed_at",
    "confirmed_by",
]


def save_answers(
    provider_return: Return,
    *,
    by,
    answers: dict[int, AnswerInput],
    today=None,
    metrics: list[Metric] | None = None,
    asked: AskedOnce | None = None,
) -> SaveResult:
    """Save answers to a draft, all or nothing. Incomplete answers are fine in a draft; wrong ones are not.

    Raises :class:`ReturnProblems` for wrong values and :class:`EditConflict` when another person saved one of the
    same answers after this person opened it; in both cases nothing is saved and the caller keeps what was typed.
    ``metrics`` are the return's questions (:func:`~returns.selectors.metrics_for`) when the caller has them already,
    and ``asked`` their grouping (:func:`~returns.selectors.asked_once`).

    A measure shared by several frameworks is asked once: an answer is taken only for the metric asked, and is
    then copied to every metric it serves (:func:`mirror_shared`), each judged later by its own framework.

    A fixed number of queries whatever the number of answers: the answers are read in one query (with their
    action plans), then created and updated in bulk, each with its history record naming ``by`` (django-simple-
    history's bulk helpers), so every change is still recorded with who and when. Only a changed action plan
    costs queries of its own.
    """
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    if not provider_return.is_editable_by_provider:
        raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
    _check_open(provider_return, today)

    if metrics is None:
        metrics = metrics_for(provider_return.provider, provider_return.period)
    if asked is None:
        asked = asked_once(metrics, provider_return.period)
    metrics = {m.pk: m for m in metrics}
    problems: dict[str, dict[str, str]] = {}
    with transaction.atomic():
        # Saves of one return queue behind each other; the status is read again on the locked row, so a save
        # that raced a submission cannot change what was submitted.
        if not Return.objects.select_for_update().get(pk=provider_return.pk).is_editable_by_provider:
            raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
        existing = {
            a.metric_id: a
            for a in Answer.objects.select_for_update()
            .filter(provider_return=provider_return, metric_id__in=answers)
            .prefetch_related("actions")
        }
        conflicts: list[Conflict] = []
        planned = []
        for metric_id, given in answers.items():
            metric = metrics.get(metric_id)
            if metric is None:
                problems.setdefault(str(metric_id), {})["metric"] = NOT_IN_RETURN
                continue
            if not asked.is_asked(metric):
                problems[metric.code] = {"metric": asked_elsewhere(asked.asked(metric))}
                continue
            cleaned, errors = clean_answer(metric.kind, given.values, complete=False, labels=metric.answer_labels)
            note, note_problem = clean_typed_text(given.unusual_note, "the note", LONGEST_NOTE)
            if note_problem:
                errors["unusual_note"] = note_problem
            actions = places = None
            if given.actions is not None:
                actions, action_errors, places = _clean_actions(given.actions)
                errors.update(action_errors)
            if errors:
                problems[metric.code] = dict(errors)
                continue
            stored = _jsonable(cleaned)
            answer = existing.get(metric_id)
            if (
                answer is not None
                and given.base_revision is not None
                and answer.revision != given.base_revision
                and (answer.values != stored or (actions is not None and actions != _action_rows(answer)))
            ):
                # Sending again what is saved now is not a conflict (a retried request): only a change is.
                conflicts.append(Conflict(metric, answer.updated_by, answer.updated_at, answer.values, answer.revision))
                continue
            planned.append((metric, answer, stored, given, note, actions, places))
        if problems:
            raise ReturnProblems(problems)
        if conflicts:
            raise EditConflict(conflicts)

        result = SaveResult()
        recent = recent_values(provider_return.provider, provider_return.period, [m.code for m, *_ in planned])
        now = timezone.now()
        created, updated, plans = [], [], []
        for metric, answer, stored, given, note, actions, places in planned:
            answer = answer or Answer(provider_return=provider_return, metric=metric)
            changed = answer.pk is None or answer.values != stored
            warning = unusual_value_warning(metric.kind, stored, recent.get(metric.code, []))
            confirmed = bool(warning) and (given.confirm_unusual or (answer.unusual_value_confirmed and not changed))
            note = note if given.confirm_unusual else answer.unusual_value_note
            actions_changed = actions is not None and actions != _action_rows(answer)
            # A carried-forward answer changed is the person's own answer now; one sent unchanged stays carried
            # until the person confirms it.
            carried_changed = answer.carried_from_id is not None and (changed or actions_changed)
            carried_confirmed = answer.awaits_confirmation and given.confirm_carried and not carried_changed
            if carried_changed:
                answer.carried_from, answer.confirmed_at, answer.confirmed_by = None, None, None
            elif carried_confirmed:
                answer.confirmed_at, answer.confirmed_by = now, by
            if (
                changed
                or confirmed != answer.unusual_value_confirmed
                or actions_changed
                or carried_changed
                or carried_confirmed
            ):
                answer.values = stored
                answer.revision += 1
                answer.unusual_value_confirmed = confirmed
                answer.unusual_value_note = note if confirmed else ""
                answer.updated_by = by
                answer.updated_at = now
                _record(answer, by)
                (created if answer.pk is None else updated).append(answer)
                result.saved.append(answer)
            if actions_changed:
                plans.append((answer, actions, places))
            if warning and not confirmed:
                result.warnings[metric.code] = warning
        if created:
            bulk_create_with_history(created, Answer, default_user=by, default_date=now)
        if updated:
            bulk_update_with_history(updated, Answer, SAVED_ANSWER_FIELDS, default_user=by, default_date=now)
        for answer, actions, places in plans:  # after the answers, so that a new answer has its id
            _update_action_plan(answer, actions, places, by=by)
        mirror_shared(provider_return, asked, [answer.metric_id for answer in result.saved], by=by, now=now)
        if result.saved:
            _record(provider_return, by)
            provider_return.save(update_fields=["updated_at"])
    return result


def attach_evidence(provider_return: Return, metric: Metric, upload, *, by) -> Evidence:
    """Attach an evidence file to the provider's answer to ``metric``, making an empty answer if there is none.

    The same people and the same moments as saving answers: someone who may edit the return, while it is a draft
    (or returned for revision) and its period is not locked. Raises ``PermissionDenied`` or :class:`ReturnProblems`.
    """
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    if not provider_return.is_editable_by_provider:
        raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
    _check_open(provider_return)
    metrics = metrics_for(provider_return.provider, provider_return.period)
    if metric.pk not in {m.pk for m in metrics}:
        raise ReturnProblems({metric.code: {"metric": NOT_IN_RETURN}})
    asked = asked_once(metrics, provider_return.period)
    if not asked.is_asked(metric):
        raise ReturnProblems({metric.code: {"metric": asked_elsewhere(asked.asked(metric))}})
    try:
        content_type = check_evidence_file(upload)
    except ValidationError as refused:
        raise ReturnProblems({metric.code: {"file": " ".join(refused.messages)}}) from refused

    with transaction.atomic():
        # Locking the return makes an upload wait for a submission in progress, and then see it.
        provider_return = Return.objects.select_for_update().select_related("period").get(pk=provider_return.pk)
        if not provider_return.is_editable_by_provider:
            raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
        answer = Answer.objects.filter(provider_return=provider_return, metric=metric).first()
        if answer is None:
            answer = Answer(provider_return=provider_return, metric=metric, values={})
            answer._history_user = by
            answer.save()
        evidence = Evidence(
            answer=answer,
            file=upload,
            original_name=upload.name[-255:],
            content_type=content_type,
            size=upload.size,
            uploaded_by=by,
        )
        evidence._history_user = by
        evidence.save()
        mirror_shared(provider_return, asked, [metric.pk], by=by)
        provider_return._history_user = by
        provider_return.save(update_fields=["updated_at"])
    return evidence


def remove_evidence(evidence: Evidence, *, by) -> None:
    """Remove an evidence file from an answer, while the return can be changed; the removal is recorded.

    The same people and moments as attaching one. The stored file is kept: a submission made earlier may name
    it, and the evidence's history records who removed it and when.
    """
    provider_return = evidence.answer.provider_return
    if not may(by, provider_return, "edit_return"):
        raise PermissionDenied("You cannot change this provider's return.")
    _check_open(provider_return)
    with transaction.atomic():
        provider_return = Return.objects.select_for_update().get(pk=provider_return.pk)
        if not provider_return.is_editable_by_provider:
            raise ReturnProblems(general=["This return has been submitted, so it can no longer be changed."])
        asked = asked_once(metrics_for(provider_return.provider, provider_return.period), provider_return.period)
        metric = evidence.answer.metric
        shown = asked.asked(metric)
        if shown.pk != metric.pk:
            # A file of a question asked once elsewhere is taken off the asked answer, and so off every copy.
            evidence = (
                Evidence.objects.filter(
                    answer__provider_return=provider_return, answer__metric=shown, file=evidence.file.name
                ).first()
                or evidence
            )
        _record(evidence, by)
        evidence.delete()
        mirror_shared(provider_return, asked, [shown.pk], by=by)
        _record(provider_return, by)
        provider_return.save(update_fields=["updated_at"])


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in values.items()}


def _answers_with_plans(provider_return: Return) -> list[Answer]:
    """The return's answers with their metric, action plan and evidence, as a submission checks and keeps them."""
    answers = provider_return.answers.select_related(
        "metric__framework", "updated_by", "confirmed_by", "carried_from__provider_return__period"
    )
    return list(answers.prefetch_related("actions", "evidence"))


def completeness_problems(
    provider_return: Return,
    answers: list[Answer] | None = None,
    metrics: list[Metric] | None = None,
    asked: AskedOnce | None = None,
) -> dict[str, dict[str, str]]:
    """Everything that stops a return being submitted, by metric code and field (``answers`` when already read).

    A question asked once is checked once, under the metric asked: its copies for other frameworks are the same.
    """
    problems: dict[str, dict[str, str]] = {}
    if metrics is None:
        metrics = metrics_for(provider_return.provider, provider_return.period)
    if asked is None:
        asked = asked_once(metrics, provider_return.period)
    metrics = asked.questions(metrics)
    answers = {a.metric_id: a for a in (answers if answers is not None else _answers_with_plans(provider_return))}
    recent = recent_values(provider_return.provider, provider_return.period, [m.code for m in metrics])
    for metric in metrics:
        answer = answers.get(metric.pk)
        if metric.frequency == "as_required" and (answer is None or not any(answer.values.values())):
            continue  # asked only when the commissioner requires it
        values = answer.values if answer else {}
        _, errors = clean_answer(metric.kind, values, complete=True, labels=metric.answer_labels)
        errors = dict(errors)
        if answer is not None and not errors:
            values = answer.values
            short_of_standard = values.get("grade") != SelfAssessmentGrade.COMPLIANT
            if metric.kind == RequirementKind.SELF_ASSESSMENT and short_of_standard and not answer.actions.all():
                errors["actions"] = "Add at least one action, with its owner and due date, to meet the standard."
            if metric.kind == RequirementKind.POLICY and values.get("in_place") and not answer.evidence.all():
                errors["evidence"] = "Attach the policy document."
            warning = unusual_value_warning(metric.kind, values, recent.get(metric.code, []))
            if warning and not answer.unusual_value_confirmed:
                errors["confirm_unusual"] = warning
        if answer is not None and answer.awaits_confirmation:
            errors["confirm_carried"] = carried_message(answer)
        if errors:
            problems[metric.code] = errors
    return problems


def snapshot(provider_return: Return, answers: list[Answer] | None = None) -> dict:
    """Every answer as it stands, with its action plan and evidence, in a form that never changes."""
    answers = answers if answers is not None else _answers_with_plans(provider_return)
    return {
        "provider": {"name": provider_return.provider.name, "ods_code": provider_return.provider.ods_code},
        "period": provider_return.period.label,
        "answers": [
            {
                "metric": a.metric.code,
                "framework": f"{a.metric.framework.code} {a.metric.framework.version}",
                "title": a.metric.title,
                "kind": a.metric.kind,
                "values": a.values,
                "unusual_value_confirmed": a.unusual_value_confirmed,
                "unusual_value_note": a.unusual_value_note,
                "revision": a.revision,
                "updated_by": a.updated_by.get_username() if a.updated_by else None,
                "updated_at": a.updated_at.isoformat(),
                "actions": [
                    {"action": i.action, "owner": i.owner, "due_on": i.due_on.isoformat()} for i in a.actions.all()
                ],
                "evidence": [
                    {"id": e.pk, "name": e.original_name, "content_type": e.content_type, "size": e.size}
                    for e in a.evidence.all()
                ],
                **_carried_record(a),
            }
            for a in answers
        ],
    }


def _carried_record(answer: Answer) -> dict:
    """Where a carried-forward answer came from and who confirmed it, for the snapshot (nothing for others)."""
    if answer.carried_from_id is None:
        return {}
    return {
        "carried_forward": {
            "from": carried_quarter(answer),
            "confirmed_by": answer.confirmed_by.get_username() if answer.confirmed_by else None,
            "confirmed_at": answer.confirmed_at.isoformat() if answer.confirmed_at else None,
        }
    }


def submit_return(provider_return: Return, *, by, declaration_confirmed: bool, today=None) -> Submission:
    """The safeguarding lead submits a complete return; it becomes read-only to the provider.

    Submitted once: the status is read from the locked row, so of two submits at the same moment (a double click,
    two tabs, a retried request) the second finds the return submitted and is refused with ``ALREADY_DONE``.
    """
    if not may(by, provider_return, "submit_return"):
        raise PermissionDenied("Only the provider's safeguarding lead can submit its return.")
    _check_open(provider_return, today)
    with transaction.atomic():
        provider_return = (
            Return.objects.select_for_update().select_related("provider", "period").get(pk=provider_return.pk)
        )
        if not provider_return.is_editable_by_provider:
            raise ReturnProblems(general=[already_submitted(provider_return)], code=ALREADY_DONE)
        metrics = metrics_for(provider_return.provider, provider_return.period)
        asked = asked_once(metrics, provider_return.period)
        # Every framework a shared question serves is sent the asked answer, even one copied before the mapping.
        mirror_shared(provider_return, asked, list(asked.groups), by=by)
        answers = _answers_with_plans(provider_return)  # read once, for the check and the snapshot
        problems = completeness_problems(provider_return, answers, metrics, asked)
        general = [] if declaration_confirmed else ["Confirm the declaration to submit the return."]
        if problems or general:
            raise ReturnProblems(problems, general)
        today = today or timezone.localdate()
        submission = Submission.objects.create(
            provider_return=provider_return,
            number=provider_return.submissions.count() + 1,
            submitted_by=by,
            declaration=DECLARATION.format(provider=provider_return.provider.name),
            snapshot=snapshot(provider_return, answers),
            late=today > provider_return.period.submission_deadline,
        )
        provider_return.status = ReturnStatus.SUBMITTED
        _record(provider_return, by)
        provider_return.save(update_fields=["status", "updated_at"])
        transaction.on_commit(lambda: schedule_rag(provider_return.pk))
    return submission


def already_submitted(provider_return: Return) -> str:
    """“This return was already submitted on 6 December 2026 by Jane Smith.”"""
    latest = provider_return.submissions.select_related("submitted_by").order_by("-number").first()
    if latest is None:
        return "This return has already been submitted."
    return f"This return was already submitted {when_and_who(latest.submitted_at, latest.submitted_by)}."


def return_for_revision(provider_return: Return, *, by, comments: str) -> RevisionRequest:
    """A designated professional sends a submitted return back to the provider with their comments.

    The status is read from the locked row: of two at the same moment, the second is refused with ``ALREADY_DONE``.
    """
    if not may(by, provider_return, "review"):
        raise PermissionDenied("Only a designated professional of a commissioner of this provider can do this.")
    comments, problem = clean_typed_text(comments, "your comments", LONGEST_COMMENT)
    if problem or not comments:
        raise ValidationError({"comments": problem or "Say what the provider needs to revise."})
    with transaction.atomic():
        provider_return = Return.objects.select_for_update().get(pk=provider_return.pk)
        if provider_return.status == ReturnStatus.RETURNED:
            latest = provider_return.revision_requests.select_related("requested_by").order_by("-pk").first()
            when = when_and_who(latest.requested_at, latest.requested_by) if latest else "by someone else"
            raise ValidationError(f"This return was already returned for revision {when}.", code=ALREADY_DONE)
        if provider_return.status != ReturnStatus.SUBMITTED:
            raise ValidationError("Only a submitted return can be returned for revision.")
        request = RevisionRequest.objects.create(
            provider_return=provider_return,
            submission=provider_return.submissions.order_by("-number").first(),
            requested_by=by,
            comments=comments,
        )
        provider_return.status = ReturnStatus.RETURNED
        _record(provider_return, by)
        provider_return.save(update_fields=["status", "updated_at"])
        transaction.on_commit(lambda: schedule_rag(provider_return.pk))
    return request


def reopen_period(period: ReportingPeriod, *, by, until: datetime.date) -> ReportingPeriod:
    """An administrator reopens a locked period until a day; the change is recorded with who and when."""
    if not sees_everything(by):
        raise PermissionDenied("Only an administrator can reopen a period.")
    if until < timezone.localdate():
        raise ValidationError({"reopened_until": "Reopen the period until today or a later day."})
    with transaction.atomic():
        # Read from the locked row: two administrators reopening it at the same moment until the same day change
        # it, and its history, once; a retried request changes nothing.
        stored = ReportingPeriod.objects.select_for_update().values_list("reopened_until", flat=True).get(pk=period.pk)
        if stored == until:
            period.reopened_until = until
            return period
        period.reopened_until = until
        _record(period, by)
        period.save(update_fields=["reopened_until"])
    return period
