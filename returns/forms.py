"""Forms of the return pages: one form per question of a return, the declaration, revision comments, a workbook.

The answer forms only carry what was typed: every value is validated by :func:`standards.kinds.clean_answer`
inside :func:`returns.services.save_answers`, so a rule and its wording exist once. Each answer field keeps a
hidden copy of the value the page was rendered with (``initial-m12-numerator``), so that only the questions a
person changed are sent, and an answer someone else saved meanwhile is never overwritten by an untouched one.
"""

from __future__ import annotations

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from standards.kinds import (
    LARGEST_FIGURE,
    LONGEST_COMMENT,
    LONGEST_NOTE,
    LONGEST_TEXT,
    RequirementKind,
    SelfAssessmentGrade,
)
from standards.models import Metric

from .excel import workbook_limits_in_words
from .models import Answer
from .services import AnswerInput

K = RequirementKind

#: The answer fields each kind of question asks for, in the order they are shown.
ANSWER_FIELDS: dict[str, tuple[str, ...]] = {
    K.PERCENTAGE: ("numerator", "denominator"),
    K.COUNT: ("count",),
    K.POLICY: ("in_place", "review_date"),
    K.AUDIT: ("sampled", "compliant"),
    K.SELF_ASSESSMENT: ("grade", "evidence"),
    K.NARRATIVE: ("text",),
}
#: The answer fields that hold a whole number.
NUMBER_FIELDS = frozenset({"numerator", "denominator", "count", "sampled", "compliant"})
ACTION_FIELDS = ("action", "owner", "due_on")
ACTION_LABELS = {"action": "Action", "owner": "Owner", "due_on": "Due date"}
#: Blank rows offered under an action plan; "Save and add more rows" adds as many again.
BLANK_ACTION_ROWS = 3
MOST_ACTION_ROWS = 60
YES_NO_CHOICES = (("yes", "Yes"), ("no", "No"))
GRADE_CHOICES = tuple(SelfAssessmentGrade.choices)


def prefix_for(metric: Metric) -> str:
    return f"m{metric.pk}"


def field_labels(metric: Metric) -> dict[str, str]:
    """What each answer field of the metric is called on the form and when answers are shown as text."""
    return metric.answer_labels


def shown_value(field: str, value) -> str:
    """A stored answer value as the form's input shows it: numbers as typed, yes/no for a policy in place."""
    if value is None:
        return ""
    if field == "in_place":
        return "yes" if value is True else "no" if value is False else str(value)
    return str(value)


def action_rows(answer: Answer | None) -> list[dict[str, str]]:
    """The answer's action plan as the form's rows show it (from the prefetched actions)."""
    if answer is None or answer.pk is None:
        return []
    return [
        {"action": item.action, "owner": item.owner, "due_on": item.due_on.isoformat()} for item in answer.actions.all()
    ]


class TypedText(forms.CharField):
    """Text as typed, for a service to judge with :func:`standards.kinds.clean_typed_text`.

    Django's own refusal of a null character is left out, so that the service refuses it in the same words as
    on the API and in a workbook.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class AnswerText(TypedText):
    """Text as typed, with line endings made alike, so what a browser sends back compares equal to what it was shown."""

    def __init__(self, *, limit: str = "", longest: int | None = None, **kwargs):
        super().__init__(required=False, show_hidden_initial=True, **kwargs)
        #: What the hint says of the field's limit ("Up to 10,000 characters."); ``longest`` feeds the counter.
        self.limit, self.longest = limit, longest

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class AnswerForm(forms.Form):
    """One question of a return: its answer fields for the metric's kind, its action plan, its confirmation.

    ``rows`` asks for at least that many action plan rows (a self-assessment shows its actions and three blank
    rows; "Save and add more rows" asks for more).
    """

    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    confirm_unusual = forms.BooleanField(required=False, show_hidden_initial=True, label="Yes, this figure is right")
    confirm_carried = forms.BooleanField(required=False, show_hidden_initial=True, label="Confirm unchanged")
    unusual_note = AnswerText(
        label="Why it is right (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        limit=f"Up to {LONGEST_NOTE:,} characters.",
        longest=LONGEST_NOTE,
    )

    def __init__(self, metric: Metric, answer: Answer | None = None, *, data=None, rows: int = 0):
        self.metric, self.answer = metric, answer
        values = answer.values if answer else {}
        initial = {"base_revision": answer.revision if answer else 0}
        initial.update({name: shown_value(name, values.get(name)) for name in ANSWER_FIELDS[metric.kind]})
        actions = action_rows(answer) if metric.kind == K.SELF_ASSESSMENT else []
        for index, row in enumerate(actions, start=1):
            initial.update({f"actions-{index}-{name}": row[name] for name in ACTION_FIELDS})
        super().__init__(data=data, prefix=prefix_for(metric), initial=initial)

        labels = field_labels(metric)
        largest, longest = LARGEST_FIGURE.get(metric.kind), LONGEST_TEXT.get(metric.kind)
        for name in ANSWER_FIELDS[metric.kind]:
            if name in ("evidence", "text"):
                limits = {"limit": f"Up to {longest:,} characters.", "longest": longest}
                self.fields[name] = AnswerText(label=labels[name], widget=forms.Textarea(attrs={"rows": 5}), **limits)
            elif name in NUMBER_FIELDS:
                self.fields[name] = AnswerText(label=labels[name], limit=f"Up to {largest:,}.")
            else:
                self.fields[name] = AnswerText(label=labels[name])
        self.action_row_count = 0
        if metric.kind == K.SELF_ASSESSMENT:
            posted = self._whole(self.data.get(self.add_prefix("rows"))) if self.is_bound else None
            count = max(len(actions) + BLANK_ACTION_ROWS, posted or 0, rows)
            self.action_row_count = min(count, MOST_ACTION_ROWS)
            for index in range(1, self.action_row_count + 1):
                for name in ACTION_FIELDS:
                    self.fields[f"actions-{index}-{name}"] = AnswerText()
        #: Problems with things that are not inputs of this form (evidence files, a missing action plan…).
        self.other_errors: dict[str, str] = {}

    @staticmethod
    def _whole(value) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    # What was sent -------------------------------------------------------------------------------------------

    @property
    def answer_field_names(self) -> list[str]:
        return [name for name, field in self.fields.items() if field.show_hidden_initial]

    def answer_has_changed(self) -> bool:
        """Whether the person changed anything of this question since the page was rendered."""
        changed = set(self.changed_data)
        return any(name in changed for name in self.answer_field_names)

    def answer_input(self) -> AnswerInput:
        """What was sent for this question, for :func:`returns.services.save_answers` to validate and save."""
        self.is_valid()  # every answer field accepts any text; the service's validation is the one that counts
        data = getattr(self, "cleaned_data", {})
        base_revision = self._whole(self.data.get(self.add_prefix("base_revision")))
        actions = None
        if self.metric.kind == K.SELF_ASSESSMENT:
            actions = [
                {name: data.get(f"actions-{index}-{name}", "") for name in ACTION_FIELDS}
                for index in range(1, self.action_row_count + 1)
            ]
        return AnswerInput(
            values={name: data.get(name, "") for name in ANSWER_FIELDS[self.metric.kind]},
            # A revision that is missing or tampered with counts as "never saved", so it is checked, not trusted.
            base_revision=base_revision if base_revision is not None and base_revision >= 0 else 0,
            confirm_unusual=bool(data.get("confirm_unusual")),
            unusual_note=data.get("unusual_note", ""),
            actions=actions,
            confirm_carried=bool(data.get("confirm_carried")),
        )

    # What is shown -------------------------------------------------------------------------------------------

    def hidden_initial(self, name: str) -> str:
        """The value the page was first rendered with, carried through every re-render until it is saved."""
        bound = self[name]
        if self.is_bound:
            return self.data.get(bound.html_initial_name, "")
        value = bound.initial
        if isinstance(value, bool):
            return "True" if value else ""
        return "" if value is None else str(value)

    def shown(self, name: str) -> str:
        """The value an input shows: what was typed when the form was sent, else the saved answer."""
        value = self[name].value()
        return "" if value is None else str(value)

    def add_service_errors(self, errors: dict[str, str]) -> None:
        """Put the service's messages (by answer field) beside their inputs; others beside what they are about."""
        for name, message in errors.items():
            if name in self.fields and self.is_bound:
                self.add_error(name, message)
            else:
                self.other_errors[name] = message

    def anchor(self, name: str) -> str:
        """The id a message about ``name`` links to from the error summary."""
        if name in self.fields:
            return f"id_{self.prefix}-{name}"
        return anchor_for(self.metric, name)

    @property
    def action_table(self) -> list[dict]:
        """The action plan rows to render, each with its inputs' names, ids, values and errors."""
        rows = []
        for index in range(1, self.action_row_count + 1):
            cells = []
            for name in ACTION_FIELDS:
                key = f"actions-{index}-{name}"
                bound = self[key]
                cells.append(
                    {
                        "field": name,
                        "label": ACTION_LABELS[name],
                        "name": bound.html_name,
                        "id": f"id_{self.prefix}-{key}",
                        "initial_name": bound.html_initial_name,
                        "initial": self.hidden_initial(key),
                        "value": self.shown(key),
                        "errors": bound.errors,
                    }
                )
            rows.append({"number": index, "cells": cells})
        return rows


def anchor_for(metric: Metric, name: str) -> str:
    """The id of the input of the return's form that a message about an answer's ``name`` links to."""
    prefix = prefix_for(metric)
    if name in ANSWER_FIELDS.get(metric.kind, ()) or name in ("confirm_unusual", "unusual_note", "confirm_carried"):
        return f"id_{prefix}-{name}"
    if name.startswith("actions-"):
        return f"id_{prefix}-{name}"
    if name in ("file", "evidence"):
        return f"id_{prefix}-file"
    if name == "actions" and metric.kind == K.SELF_ASSESSMENT:
        return f"id_{prefix}-actions-1-action"
    return prefix


def rebase(data, metric: Metric, answer: Answer | None) -> None:
    """Make sent form ``data`` start from the answer as now saved: its revision and its values as the baseline.

    After an edit conflict, saving again then overwrites the other person's answer knowingly, and putting their
    value back counts as no change.
    """
    prefix = prefix_for(metric)
    values = answer.values if answer else {}
    data[f"{prefix}-base_revision"] = str(answer.revision if answer else 0)
    for name in ANSWER_FIELDS[metric.kind]:
        data[f"initial-{prefix}-{name}"] = shown_value(name, values.get(name))


class DeclarationForm(forms.Form):
    confirmed = forms.BooleanField(
        required=True,
        label="I confirm the declaration",
        error_messages={"required": "Confirm the declaration to submit the return."},
    )


class RevisionRequestForm(forms.Form):
    #: For the page's character counter; the service refuses longer comments.
    longest = LONGEST_COMMENT

    comments = TypedText(
        required=False,  # the service says what is missing, in its own words
        label="What does the provider need to revise?",
        help_text="Name the questions and say what is wrong or missing. The provider sees this at the top of "
        f"their return. Up to {LONGEST_COMMENT:,} characters.",
        widget=forms.Textarea(attrs={"rows": 8}),
        strip=False,
    )


class WorkbookUploadForm(forms.Form):
    workbook = forms.FileField(
        label="Upload the filled workbook",
        help_text=f"The .xlsx workbook you downloaded from this return and filled in. {workbook_limits_in_words()}",
        error_messages={"required": "Choose the workbook to upload.", "empty": "The file is empty. Choose it again."},
    )
