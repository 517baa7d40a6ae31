"""Assurance reports as PDF: gather what a report shows into a snapshot, then render the snapshot with WeasyPrint.

A report records the data as it was when it was made. :func:`gather_committee` and :func:`gather_provider` read
every figure a report shows into plain JSON (the *snapshot*) in a fixed number of queries whatever the number of
providers; :func:`render_pdf` draws a PDF from a snapshot alone, with Django templates (autoescaped: text providers
typed appears as text, never as markup) under ``templates/reviews/pdf/``.

A committee's snapshot (one commissioner, one period) holds the summary, what changed since the previous quarter,
providers by type, the framework matrix (every provider against every framework, worst first), every exception with
the reviewers' comments, trends of the key measures (:class:`KeyMeasure`), the actions due and overdue, every
provider's answers, and the providers' self-assessments of the Section 11 and adult standards beside the reviewers'
judgements (:mod:`reviews.moderation`). It is cut into the parts of a committee pack by
:mod:`reviews.report_parts`: a bounded front section, an annex workbook, and each provider's appendix, which is that
provider's own provider report (its summary, exceptions, actions, trends and every answer), each drawn on its own.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db.models import OuterRef, Prefetch, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from providers.models import ContractCommissioner, Organisation, identity_on
from providers.scoping import restrict_by_period
from returns.models import ActionPlanItem, Answer, ReportingPeriod, Return, ReturnStatus, Submission
from standards.kinds import RequirementKind, figure, figure_text, percentage, percentage_text
from standards.models import MappingKind, Metric, Threshold
from standards.selectors import mappings_in_force

from . import moderation, selectors
from .models import AnswerComment, AnswerReview, AnswerStatus, KeyMeasure, ReportKind
from .rag import SEVERITY, Colour, colour_for_percentage

#: How many quarters a trend shows, the report's own and those before it.
TREND_QUARTERS = 8
#: Actions due within this many days of the day a report is made count as due.
ACTIONS_DUE_WITHIN_DAYS = 30
#: The letter in each matrix cell, so that colour is never the only signal.
LETTERS = {
    Colour.RED: "R",
    Colour.AMBER: "A",
    Colour.GREEN: "G",
    Colour.NONE: "–",
    Colour.NOT_DUE: "n/d",
    Colour.OVERDUE: "O",
}
COLOUR_LABELS = dict(Colour.choices)
SNAPSHOT_VERSION = 1


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _day(day: datetime.date) -> str:
    return f"{day:%-d %B %Y}"


def _moment(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


def _cell(colour: str, label: str = "", explanation: str = "") -> dict:
    return {
        "colour": colour,
        "letter": LETTERS.get(colour, "–"),
        "label": label or COLOUR_LABELS.get(colour, ""),
        "explanation": explanation,
    }


def previous_period(period: ReportingPeriod) -> ReportingPeriod | None:
    """The quarter before ``period``, if the service has it."""
    return ReportingPeriod.objects.filter(ends_on__lt=period.starts_on).order_by("-ends_on").first()


# Trends of the key measures, for many providers at once.


def _in_force(metric: Metric, period: ReportingPeriod) -> bool:
    framework = metric.framework
    return framework.effective_from <= period.starts_on and (
        framework.effective_to is None or framework.effective_to >= period.starts_on
    )


def _number(value) -> str | None:
    """A number for the snapshot's JSON, exactly: a figure as a fraction (“1999/20”), a threshold as a decimal."""
    return None if value is None else str(value)


def submitted_answers(returns, *, codes=None, kinds=None) -> dict[tuple[int, int, str], tuple[str, dict]]:
    """Each answer of ``returns`` as last submitted: (provider id, period id, metric code) → (kind, values).

    A submitted return cannot change, so its answers are read as they stand; a return sent back for revision is read
    from its latest submission's snapshot, so what a provider is redrafting never reaches a report. Drafts never
    submitted give nothing. ``codes`` and ``kinds`` narrow the metrics read. Two queries.
    """
    answers = Answer.objects.filter(provider_return__in=returns.filter(status=ReturnStatus.SUBMITTED))
    if codes is not None:
        answers = answers.filter(metric__code__in=codes)
    if kinds is not None:
        answers = answers.filter(metric__kind__in=kinds)
    result = {
        (provider_id, period_id, code): (kind, values or {})
        for provider_id, period_id, code, kind, values in answers.values_list(
            "provider_return__provider_id", "provider_return__period_id", "metric__code", "metric__kind", "values"
        ).order_by()
    }
    latest = Submission.objects.filter(provider_return=OuterRef("provider_return")).order_by("-number")
    revised = Submission.objects.filter(
        provider_return__in=returns.filter(status=ReturnStatus.RETURNED),
        number=Subquery(latest.values("number")[:1]),
    ).values_list("provider_return__provider_id", "provider_return__period_id", "snapshot")
    for provider_id, period_id, snapshot in revised:
        for answer in (snapshot or {}).get("answers", []):
            if (codes is None or answer["metric"] in codes) and (kinds is None or answer.get("kind") in kinds):
                result[(provider_id, period_id, answer["metric"])] = (answer.get("kind", ""), answer["values"] or {})
    return result


def key_measure_trends(
    providers: list[dict], period: ReportingPeriod, quarters: int = TREND_QUARTERS, *, by=None
) -> dict:
    """Each key measure's last ``quarters`` quarters for each of ``providers``, and pooled across them (seven queries).

    ``providers`` are dicts with ``id``, ``name`` and ``provider_type_id``. Returns ``{"measures": [...]}`` with,
    per measure, ``pooled`` (a trend of the figure across every provider: numerators over denominators pooled),
    ``counts`` (providers red, amber and green each quarter) and ``by_provider`` (provider id → its trend), each
    trend in the shape of :class:`reviews.selectors.Trend` as JSON. Measures that nobody answers are left out.
    """
    measures = list(KeyMeasure.objects.all())
    if not measures or not providers:
        return {"measures": []}
    codes = [m.metric_code for m in measures]
    periods = list(ReportingPeriod.objects.filter(ends_on__lte=period.ends_on).order_by("-ends_on")[:quarters])[::-1]
    metrics = list(
        Metric.objects.filter(code__in=codes)
        .select_related("framework")
        .order_by("framework__effective_from", "pk")
        .prefetch_related(Prefetch("thresholds", queryset=Threshold.objects.select_related("provider_type")))
    )
    ids = [p["id"] for p in providers]
    figures: dict[tuple[str, int, int], Fraction | None] = {}
    raw: dict[tuple[str, int, int], dict] = {}
    returns = Return.objects.filter(provider_id__in=ids, period__in=periods)
    run_statuses = AnswerStatus.objects.all()
    if by is not None:  # as ``by`` may see them: through a contract, only the quarters from its start
        returns = restrict_by_period(returns, by, "assurance")
        run_statuses = restrict_by_period(
            run_statuses, by, "assurance", "run__provider_return__provider", "run__provider_return__period"
        )
    for (provider_id, period_id, code), (kind, values) in submitted_answers(returns, codes=codes).items():
        figures[(code, provider_id, period_id)] = figure(kind, values)
        raw[(code, provider_id, period_id)] = values
    statuses = {
        (code, provider_id, period_id): (colour, value, threshold, rule)
        for provider_id, period_id, code, colour, value, threshold, rule in run_statuses.filter(
            run__is_current=True,
            run__provider_return__provider_id__in=ids,
            run__provider_return__period__in=periods,
            metric__code__in=codes,
        )
        .values_list(
            "run__provider_return__provider_id", "run__provider_return__period_id", "metric__code", "colour", "value",
            "threshold", "rule",
        )
        .order_by()
    }  # fmt: skip

    result = []
    for measure in measures:
        versions = [m for m in metrics if m.code == measure.metric_code]
        if not versions:
            continue
        newest = versions[-1]
        in_force = {p.pk: next((m for m in versions if _in_force(m, p)), newest) for p in periods}
        by_provider = {}
        for provider in providers:
            points = []
            for p in periods:
                key = (measure.metric_code, provider["id"], p.pk)
                threshold = in_force[p.pk].threshold_for(provider["provider_type_id"])
                status = statuses.get(key)
                value_figure = figures.get(key)
                if status is not None:
                    colour, value, threshold_words, rule = status
                    explanation = "; ".join(x for x in (value, threshold_words and f"threshold {threshold_words}",
                                                        rule) if x)  # fmt: skip
                else:
                    colour, value, threshold_words = Colour.NONE, "", ""
                    explanation = "No status for this quarter." if key in raw else "No return submitted."
                points.append(
                    {
                        "period_id": p.pk, "period": p.label, "figure": _number(value_figure), "value": value,
                        "colour": colour, "label": COLOUR_LABELS[colour], "explanation": explanation,
                        "threshold": threshold_words,
                        "green_from": _number(threshold.green_from if threshold else None),
                        "amber_from": _number(threshold.amber_from if threshold else None),
                    }
                )  # fmt: skip
            if any(pt["figure"] is not None or pt["colour"] != Colour.NONE for pt in points):
                by_provider[str(provider["id"])] = {
                    "provider_id": provider["id"], "provider_name": provider["name"], "metric_code": newest.code,
                    "title": newest.title, "kind": newest.kind, "points": points,
                }  # fmt: skip
        if not by_provider:
            continue
        pooled_points, counts = [], []
        for p in periods:
            shown = [(pid, figures.get((measure.metric_code, int(pid), p.pk))) for pid in by_provider]
            with_figure = [(pid, f) for pid, f in shown if f is not None]
            pooled = None
            value = ""
            default = in_force[p.pk].threshold_for(None)
            judged = newest.kind in (RequirementKind.PERCENTAGE, RequirementKind.AUDIT)
            if judged:
                top = bottom = 0
                for pid, _ in with_figure:
                    values = raw[(measure.metric_code, int(pid), p.pk)]
                    if newest.kind == RequirementKind.PERCENTAGE:
                        top += int(values.get("numerator") or 0)
                        bottom += int(values.get("denominator") or 0)
                    else:
                        top += int(values.get("compliant") or 0)
                        bottom += int(values.get("sampled") or 0)
                if bottom:
                    pooled = percentage(top, bottom)
                    value = f"{percentage_text(pooled, default)} ({top} of {bottom})"
            elif with_figure:
                pooled = sum(f for _, f in with_figure) / len(with_figure)
                value = f"{figure_text(newest.kind, pooled)} on average"
            tally = dict.fromkeys(SEVERITY, 0)
            for pid in by_provider:
                status = statuses.get((measure.metric_code, int(pid), p.pk))
                if status and status[0] in tally:
                    tally[status[0]] += 1
            colour = Colour.NONE
            if judged and pooled is not None and default is not None:
                colour, _ = colour_for_percentage(pooled, default)  # the exact pooled figure, as every answer is
            pooled_points.append(
                {
                    "period_id": p.pk, "period": p.label, "figure": _number(pooled), "value": value, "colour": colour,
                    "label": COLOUR_LABELS[colour],
                    "explanation": f"{len(with_figure)} of {len(by_provider)} providers gave a figure",
                    "threshold": "", "green_from": _number(default.green_from if default else None),
                    "amber_from": _number(default.amber_from if default else None),
                }
            )  # fmt: skip
            counts.append({"period": p.label, **tally, "providers": len(with_figure)})
        result.append(
            {
                "code": measure.metric_code,
                "heading": measure.heading,
                "title": newest.title,
                "pooled": {
                    "provider_id": 0, "provider_name": "all providers", "metric_code": newest.code,
                    "title": measure.heading, "kind": newest.kind, "points": pooled_points,
                },
                "counts": counts,
                "by_provider": by_provider,
            }
        )  # fmt: skip
    return {"measures": result}


def as_trend(data: dict) -> selectors.Trend:
    """A trend stored in a snapshot, back as a :class:`~reviews.selectors.Trend` to draw with ``trend_chart``."""

    def decimal(value):
        return None if value is None else Decimal(value)

    def exact(value):  # a fraction (“1999/20”), or a decimal in a snapshot made before figures were exact
        return None if value is None else Fraction(value)

    points = [
        selectors.TrendPoint(
            period_id=p["period_id"], period=p["period"], figure=exact(p["figure"]), value=p["value"],
            colour=p["colour"], label=p["label"], explanation=p["explanation"], threshold=p["threshold"],
            green_from=decimal(p["green_from"]), amber_from=decimal(p["amber_from"]), kind=data["kind"],
        )
        for p in data["points"]
    ]  # fmt: skip
    return selectors.Trend(
        data["provider_id"], data["provider_name"], data["metric_code"], data["title"], data["kind"], points
    )


# The parts of a report.


def _comments_and_reviews(return_ids) -> tuple[dict, dict]:
    """Comments and reviewers' judgements on the answers of these returns, by (return id, metric code) (two queries)."""
    comments = defaultdict(list)
    for return_id, code, first, last, username, created_at, text in (
        AnswerComment.objects.filter(provider_return_id__in=return_ids)
        .values_list("provider_return_id", "metric__code", "author__first_name", "author__last_name",
                     "author__username", "created_at", "text")
        .order_by("created_at", "id")
    ):  # fmt: skip
        author = f"{first} {last}".strip() or username
        comments[(return_id, code)].append({"author": author, "at": _moment(created_at), "text": text})
    reviews = {}
    for return_id, code, decision, colour, reason, first, last, username, at in AnswerReview.objects.filter(
        provider_return_id__in=return_ids
    ).values_list(
        "provider_return_id", "metric__code", "decision", "colour", "reason", "reviewed_by__first_name",
        "reviewed_by__last_name", "reviewed_by__username", "reviewed_at",
    ):  # fmt: skip
        by = f"{first} {last}".strip() or username
        if decision == "agreed":
            words = f"{by} agreed with this status on {_moment(at)}."
        else:
            words = f"{by} set this to {COLOUR_LABELS.get(colour, colour).lower()} on {_moment(at)}: {reason}"
        reviews[(return_id, code)] = words
    return comments, reviews


def _actions(provider_ids: list[int], today: datetime.date, by=None) -> list[dict]:
    """Actions not done in the providers' standing action plans (as on the action plans page), due within 30 days or
    overdue (one query); as ``by`` may see them, when given."""
    plans = ActionPlanItem.objects.filter(answer__provider_return__provider_id__in=provider_ids)
    if by is not None:
        plans = restrict_by_period(
            plans, by, "assurance", "answer__provider_return__provider", "answer__provider_return__period"
        )
    items = (
        selectors.standing_actions(plans)
        .filter(due_on__lte=today + datetime.timedelta(days=ACTIONS_DUE_WITHIN_DAYS))
        .exclude(follow_up__is_done=True)
        .values_list("answer__provider_return__provider_id", "answer__provider_return__provider__name",
                     "answer__metric__code", "action", "owner", "due_on")
        .order_by("due_on", "answer__provider_return__provider__name", "id")
    )  # fmt: skip
    return [
        {
            "provider_id": provider_id, "provider": name, "metric_code": code, "action": action, "owner": owner,
            "due_on": _day(due_on), "state": "Overdue" if due_on < today else "Due",
        }
        for provider_id, name, code, action, owner, due_on in items
    ]  # fmt: skip


#: The words a provider typed in an answer, by kind: shown in the appendix beside the status.
TYPED = {RequirementKind.NARRATIVE: "text", RequirementKind.SELF_ASSESSMENT: "evidence"}


def _answers(period: ReportingPeriod, provider_ids: list[int]) -> tuple[dict[int, list[dict]], dict[int, int]]:
    """Every answer's status in the providers' current runs for the period, with the words they typed, and how many
    questions each was not asked this period (three queries)."""
    typed = {}
    returns = Return.objects.filter(period=period, provider_id__in=provider_ids)
    for (provider_id, _, code), (kind, values) in submitted_answers(returns, kinds=list(TYPED)).items():
        text = values.get(TYPED[kind])
        if text:
            typed[(provider_id, code)] = str(text)
    answers = defaultdict(list)
    not_due = defaultdict(int)
    for provider_id, framework, standard, code, title, colour, value, threshold, rule in (
        AnswerStatus.objects.filter(
            run__is_current=True,
            run__provider_return__period=period,
            run__provider_return__provider_id__in=provider_ids,
        )
        .values_list("run__provider_return__provider_id", "metric__framework__short_name", "metric__standard__number",
                     "metric__code", "metric__title", "colour", "value", "threshold", "rule")
        .order_by("metric__framework__position", "metric__framework__code", "metric__position", "metric_id")
    ):  # fmt: skip
        if colour == Colour.NOT_DUE:  # not asked this period: not an answer
            not_due[provider_id] += 1
            continue
        answers[provider_id].append(
            {
                "framework": framework, "standard": standard or "", "code": code, "title": title,
                **_cell(colour), "value": value, "threshold": threshold, "rule": rule,
                "typed": typed.get((provider_id, code), ""),
            }
        )  # fmt: skip
    _add_mappings(period, answers)
    return answers, not_due


def _add_mappings(period: ReportingPeriod, answers: dict[int, list[dict]]) -> None:
    """Name, beside each answer, the other frameworks' metrics it was asked once for and the standards it is
    evidence towards, where the provider's return holds them (one query for every provider)."""
    if not any(len({a["framework"] for a in found}) > 1 for found in answers.values()):
        return
    links = mappings_in_force(period).values_list(
        "kind", "source_metric__code", "source_metric__framework__short_name", "target_metric__code",
        "target_metric__framework__short_name", "target_standard__number", "target_standard__framework__short_name",
    )  # fmt: skip
    same, towards = defaultdict(list), defaultdict(list)
    for kind, source, source_framework, target, target_framework, standard, standard_framework in links:
        if kind == MappingKind.SAME_MEASURE and source and target:
            same[source].append((target, target_framework))
            same[target].append((source, source_framework))
        elif kind == MappingKind.EVIDENCE_TOWARDS and source:
            towards[source].append((standard_framework, standard))
    for found in answers.values():
        codes = {a["code"] for a in found}
        standards = {(a["framework"], a["standard"]) for a in found}
        for answer in found:
            shared = [f"{code} ({framework})" for code, framework in same.get(answer["code"], []) if code in codes]
            evidence = [f"{framework}, standard {number}" for framework, number in towards.get(answer["code"], [])
                        if (framework, number) in standards]  # fmt: skip
            if shared:
                answer["asked_once_with"] = shared
            if evidence:
                answer["evidence_towards"] = evidence


#: Worst first: the order of the front section's matrix and lists.
RANK = {Colour.OVERDUE: 0, Colour.RED: 1, Colour.AMBER: 2, Colour.GREEN: 3, Colour.NONE: 4, Colour.NOT_DUE: 5}


def _tally(colours) -> dict:
    tally = dict.fromkeys(SEVERITY, 0) | {"none": 0}
    for colour in colours:
        tally[colour if colour in SEVERITY else "none"] += 1
    return tally


def _framework_matrix(board: selectors.Dashboard, answers: tuple[dict, dict]) -> dict:
    """Providers against frameworks, worst first: each cell the worst colour of the provider's answers to the
    framework this quarter, its word, and its answers counted by colour."""
    by_provider, _ = answers
    frameworks = list(dict.fromkeys(column.framework for column in board.columns))
    rows = []
    for row in board.rows:
        colours = defaultdict(list)
        for answer in by_provider.get(row.provider_id, []):
            colours[answer["framework"]].append(answer["colour"])
        frameworks += [f for f in colours if f not in frameworks]
        cells = {}
        for framework, found in colours.items():
            tally = _tally(found)
            worst = next((c for c in SEVERITY if tally[c]), Colour.NONE)
            cells[framework] = {**_cell(worst), "counts": tally}
        rows.append(
            {
                "id": row.provider_id, "name": row.provider_name, "ods_code": row.ods_code,
                "provider_type": row.provider_type, "state": row.state.label,
                "overall": _cell(row.overall.colour, row.overall.label), "counts": _tally([]) | row.counts,
                "cells": cells,
            }
        )  # fmt: skip
    rows.sort(key=lambda r: (RANK.get(r["overall"]["colour"], 9), -r["counts"].get(Colour.RED, 0),
                             -r["counts"].get(Colour.AMBER, 0), r["name"], r["id"]))  # fmt: skip
    return {"frameworks": frameworks, "rows": rows}


def _by_provider_type(board: selectors.Dashboard) -> list[dict]:
    """Providers by type and overall status: the summary that stays one table however many providers there are."""
    types: dict[str, dict] = {}
    for row in board.rows:
        tally = types.setdefault(row.provider_type or "Type not recorded",
                                 dict.fromkeys((*SEVERITY, Colour.OVERDUE, "none"), 0) | {"providers": 0})  # fmt: skip
        colour = row.overall.colour
        tally[colour if colour in tally else "none"] += 1
        tally["providers"] += 1
    return [{"provider_type": name, **tally} for name, tally in sorted(types.items())]


def _standing(row) -> str:
    """Where a provider stands overall, as the summary counts it: overdue, not yet, not computed, or its colour."""
    if row.state.code in (selectors.OVERDUE, selectors.NOT_YET):
        return row.state.code
    if not row.cells:
        return "not_computed"
    return row.overall.colour


def _board_totals(board: selectors.Dashboard) -> dict:
    """Providers by overall status and answers by colour, counted from the rows the report shows."""
    answers = dict.fromkeys(SEVERITY, 0)
    by_overall = dict.fromkeys(board.totals, 0)
    for row in board.rows:
        for colour, n in row.counts.items():
            answers[colour] += n
        standing = _standing(row)
        by_overall[standing] = by_overall.get(standing, 0) + 1
    return {"providers": len(board.rows), "by_overall": by_overall, "answers": answers}


def _by_place(commissioner: Organisation, period: ReportingPeriod, board: selectors.Dashboard) -> dict | None:
    """An ICB's providers place by place: each place (by its name at the end of the period), and the ICB itself when
    it holds contracts of its own, with its providers by overall status, their red answers and overdue returns; and
    each provider with its places. A provider on contracts of two places counts in both. None for a commissioner
    without places (a place's report is that place's alone). Two queries, whatever the number of providers."""
    places = list(
        Organisation.objects.filter(parent=commissioner).prefetch_related("former_names").order_by("name", "pk")
    )
    if not places:
        return None
    rows = {row.provider_id: row for row in board.rows}
    holders = {commissioner.pk: commissioner, **{place.pk: place for place in places}}
    held = defaultdict(set)  # holder id → provider ids
    for provider_id, holder_id in (
        ContractCommissioner.objects.filter(
            commissioner_id__in=holders,
            contract__in=selectors.expected_contracts(period),
            contract__provider_id__in=rows,
        )
        .values_list("contract__provider_id", "commissioner_id")
        .order_by()
    ):
        held[holder_id].add(provider_id)
    names = {pk: identity_on(holder, period.ends_on)[0] for pk, holder in holders.items()}
    names[commissioner.pk] = f"{names[commissioner.pk]} (its own contracts)"
    shown = [place.pk for place in places]
    if held[commissioner.pk]:
        shown.insert(0, commissioner.pk)
    totals = []
    for pk in shown:
        found = [rows[provider_id] for provider_id in held[pk]]
        by_overall = dict.fromkeys(board.totals, 0)
        for row in found:
            by_overall[_standing(row)] = by_overall.get(_standing(row), 0) + 1
        totals.append(
            {"name": names[pk], "providers": len(found), "by_overall": by_overall,
             "others": sum(by_overall.get(key, 0) for key in (selectors.NOT_YET, "not_computed", Colour.NONE)),
             "red_answers": sum(row.counts.get(Colour.RED, 0) for row in found),
             "overdue_returns": sum(1 for row in found if row.state.code == selectors.OVERDUE)}
        )  # fmt: skip
    providers = [
        {"name": row.provider_name, "ods_code": row.ods_code, "state": row.state.label,
         "overall": row.overall.label, "red_answers": row.counts.get(Colour.RED, 0),
         "places": [names[pk] for pk in shown if row.provider_id in held[pk]]}
        for row in sorted(board.rows, key=lambda r: (r.provider_name, r.provider_id))
    ]  # fmt: skip
    return {"icb": names[commissioner.pk].removesuffix(" (its own contracts)"), "places": totals,
            "providers": providers}  # fmt: skip


def _changes(board: selectors.Dashboard, before: selectors.Dashboard | None) -> dict:
    """Providers whose overall colour changed since the previous quarter (better or worse), and new exceptions."""
    if before is None:
        return {"previous": None, "changed": [], "new_exceptions": []}
    rank = {Colour.GREEN: 0, Colour.AMBER: 1, Colour.RED: 2, Colour.OVERDUE: 3}
    earlier = {row.provider_id: row for row in before.rows}
    changed = []
    for row in board.rows:
        old = earlier.get(row.provider_id)
        if old is None or old.overall.label == row.overall.label:
            continue
        a, b = rank.get(old.overall.colour), rank.get(row.overall.colour)
        way = "Better" if a is not None and b is not None and b < a else "Worse" if a is not None and b is not None \
            and b > a else "Changed"  # fmt: skip
        changed.append(
            {"provider": row.provider_name, "before": _cell(old.overall.colour, old.overall.label),
             "after": _cell(row.overall.colour, row.overall.label), "way": way}
        )  # fmt: skip
    seen = {(e.provider_id, e.kind, e.metric_code) for e in before.exceptions}
    new = [
        {"provider": e.provider_name, "kind": e.kind, "metric_code": e.metric_code, "title": e.title}
        for e in board.exceptions
        if (e.provider_id, e.kind, e.metric_code) not in seen
    ]
    return {"previous": before.period.label, "changed": changed, "new_exceptions": new}


def _exceptions(board: selectors.Dashboard, comments: dict, reviews: dict) -> list[dict]:
    return [
        {
            "kind": "Overdue return" if e.kind == "overdue" else "Red answer", "provider": e.provider_name,
            "provider_id": e.provider_id, "metric_code": e.metric_code, "title": e.title, "explanation": e.explanation,
            "review": reviews.get((e.return_id, e.metric_code), ""),
            "comments": comments.get((e.return_id, e.metric_code), []),
        }
        for e in board.exceptions
    ]  # fmt: skip


def _provider_entries(board: selectors.Dashboard, answers: tuple[dict, dict], trends: dict) -> list[dict]:
    answers, not_due = answers
    entries = []
    for row in board.rows:
        entries.append(
            {
                "id": row.provider_id, "name": row.provider_name, "ods_code": row.ods_code,
                "provider_type": row.provider_type,
                "state": {"label": row.state.label, "explanation": row.state.explanation},
                "overall": _cell(row.overall.colour, row.overall.label, row.overall.explanation),
                "counts": row.counts, "answers": answers.get(row.provider_id, []),
                "not_due": not_due.get(row.provider_id, 0),
                "trends": [
                    {"heading": m["heading"], "trend": m["by_provider"][str(row.provider_id)]}
                    for m in trends["measures"] if str(row.provider_id) in m["by_provider"]
                ],
            }
        )  # fmt: skip
    return entries


def _subject(subject: Organisation, period: ReportingPeriod) -> dict:
    """The commissioner or provider by the name and ODS code it had at the end of the period (a CCG's name for a
    quarter before it became a place of an ICB), with its name now when that differs."""
    name, ods_code = identity_on(subject, period.ends_on)
    shown = {"name": name, "ods_code": ods_code}
    if (name, ods_code) != (subject.name, subject.ods_code):
        shown |= {"name_now": subject.name, "ods_code_now": subject.ods_code}
    return shown


def _header(kind: str, subject: Organisation, period: ReportingPeriod, by, made_at: datetime.datetime) -> dict:
    return {
        "version": SNAPSHOT_VERSION,
        "kind": kind,
        "title": "Safeguarding assurance report" if kind == ReportKind.COMMITTEE else "Provider assurance report",
        "subject": _subject(subject, period),
        "period": {
            "label": period.label, "starts_on": _day(period.starts_on), "ends_on": _day(period.ends_on),
            "deadline": _day(period.submission_deadline),
        },
        "made_at": _moment(made_at),
        "made_on": _day(timezone.localdate(made_at)),
        "requested_by": _person(by),
    }  # fmt: skip


def _trend_providers(board: selectors.Dashboard) -> list[dict]:
    types = dict(
        Organisation.objects.filter(pk__in=[r.provider_id for r in board.rows]).values_list("pk", "provider_type_id")
    )
    return [{"id": r.provider_id, "name": r.provider_name, "provider_type_id": types.get(r.provider_id)}
            for r in board.rows]  # fmt: skip


def gather_committee(commissioner: Organisation, period: ReportingPeriod, *, by, now=None) -> dict:
    """Everything a committee report for ``commissioner`` and ``period`` shows, as JSON, as ``by`` may see it.

    A fixed number of queries whatever the number of providers: two dashboards (this quarter and the one before),
    the trends of the key measures, comments and reviews of the exceptions, actions and every answer.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    board = selectors.dashboard(by, period, commissioner=commissioner, today=today)
    before_period = previous_period(period)
    before = selectors.dashboard(by, before_period, commissioner=commissioner, today=today) if before_period else None
    ids = [row.provider_id for row in board.rows]
    comments, reviews = _comments_and_reviews([e.return_id for e in board.exceptions if e.return_id])
    trends = key_measure_trends(_trend_providers(board), period, by=by)
    actions = _actions(ids, today, by)
    answers = _answers(period, ids)
    snapshot = _header(ReportKind.COMMITTEE, commissioner, period, by, now)
    snapshot.update(
        summary={
            **_board_totals(board),
            "actions_overdue": sum(1 for a in actions if a["state"] == "Overdue"),
            "actions_due": sum(1 for a in actions if a["state"] == "Due"),
            "exceptions": len(board.exceptions),
        },
        changes=_changes(board, before),
        framework_matrix=_framework_matrix(board, answers),
        by_type=_by_provider_type(board),
        exceptions=_exceptions(board, comments, reviews),
        trends=[{k: v for k, v in m.items() if k != "by_provider"} for m in trends["measures"]],
        actions=actions,
        providers=_provider_entries(board, answers, trends),
        moderation=moderation.snapshot(by, period, commissioner),
        by_place=_by_place(commissioner, period, board),
    )
    return snapshot


def gather_provider(provider: Organisation, period: ReportingPeriod, *, by, now=None) -> dict:
    """Everything a provider report for ``provider`` and ``period`` shows, as JSON: its summary and every answer."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    board = selectors.dashboard(by, period, today=today)
    board.rows = [row for row in board.rows if row.provider_id == provider.pk]
    board.exceptions = [e for e in board.exceptions if e.provider_id == provider.pk]
    comments, reviews = _comments_and_reviews([e.return_id for e in board.exceptions if e.return_id])
    trends = key_measure_trends(_trend_providers(board), period, by=by)
    actions = _actions([provider.pk], today, by)
    answers = _answers(period, [provider.pk])
    snapshot = _header(ReportKind.PROVIDER, provider, period, by, now)
    snapshot.update(
        summary={
            **_board_totals(board),
            "actions_overdue": sum(1 for a in actions if a["state"] == "Overdue"),
            "actions_due": sum(1 for a in actions if a["state"] == "Due"),
            "exceptions": len(board.exceptions),
        },
        exceptions=_exceptions(board, comments, reviews),
        actions=actions,
        providers=_provider_entries(board, answers, trends),
    )
    return snapshot


# Rendering.


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    page_count: int


def _with_charts(snapshot: dict) -> dict:
    """The snapshot with each trend drawn as inline SVG by :func:`reviews.charts.trend_chart` (charts are drawn, not
    stored: the figures they are drawn from are)."""
    from .charts import legend, trend_chart

    context = dict(snapshot)
    context["trends"] = [
        {
            **m,
            "chart": trend_chart(as_trend(m["pooled"]), width=600, height=210),
            "rows": [
                {"period": point["period"], "value": point["value"], **counts}
                for point, counts in zip(m["pooled"]["points"], m["counts"], strict=True)
            ],
        }
        for m in snapshot.get("trends", [])
    ]
    if snapshot["kind"] == ReportKind.PROVIDER:  # a committee report's appendix is its answers, without charts
        context["providers"] = [
            {**p, "trends": [{**t, "chart": trend_chart(as_trend(t["trend"]), width=480, height=180)}
                             for t in p["trends"]]}
            for p in snapshot.get("providers", [])
        ]  # fmt: skip
    context["chart_legend"] = legend()
    return context


#: The most characters of any one piece of typed text (an answer's words, a reviewer's reason or comment, an action)
#: that a committee report shows: a committee reads every provider, so no one answer may take it over. Longer text
#: is cut there and the report says how long it is and that the provider report and the return hold all of it.
COMMITTEE_TEXT_LIMIT = 1_500
#: The same bound for a provider report, which is read for that one provider's detail: a few pages of A4 at most.
#: Longer text is cut there too, and the report says that the return in Safeguard Assure holds all of it.
PROVIDER_TEXT_LIMIT = 10_000


def _direction(text: str) -> str:
    """``rtl`` when the first letter of ``text`` with a direction is of a right-to-left script (Arabic, Urdu,
    Hebrew...), else ``ltr``: the way a block of typed text runs and is aligned, as ``dir="auto"`` would find it."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def excerpt(text: str, limit: int) -> dict:
    """``text`` as a report shows it: all of it when it is at most ``limit`` characters, else its first ``limit``
    characters (back to the last space when one is near), marked ``cut``, with the numbers of characters shown and
    in the whole text written out for the report to say so; and the ``direction`` it runs in."""
    if len(text) <= limit:
        return {"text": text, "cut": False, "direction": _direction(text)}
    shown = text[:limit]
    space = shown.rfind(" ", limit - 100)
    shown = (shown[:space] if space > 0 else shown).rstrip()
    return {"text": shown + " …", "cut": True, "shown": f"{len(shown):,}", "length": f"{len(text):,}",
            "direction": _direction(text)}  # fmt: skip


def _typed_text_bounded(context: dict, limit: int) -> dict:
    """The report's context with every piece of typed text as an :func:`excerpt` of at most ``limit`` characters
    (the snapshot itself keeps the whole text)."""

    def answer(a: dict) -> dict:
        return {**a, "typed": excerpt(a.get("typed", ""), limit), "rule": excerpt(a.get("rule", ""), limit)}

    context["providers"] = [{**p, "answers": [answer(a) for a in p["answers"]]} for p in context.get("providers", [])]
    context["actions"] = [{**a, "action": excerpt(a["action"], limit)} for a in context.get("actions", [])]

    def exception(e: dict) -> dict:
        return {**e, "review": excerpt(e["review"], limit),
                "comments": [{**c, "text": excerpt(c["text"], limit)} for c in e["comments"]]}  # fmt: skip

    context["exceptions"] = [exception(e) for e in context.get("exceptions", [])]
    context["exception_groups"] = [
        {**group, "items": [exception(e) for e in group["items"]]} for group in context.get("exception_groups", [])
    ]
    return context


#: The fonts of every report, in order: Noto Sans for Latin, Greek and Cyrillic, then Noto's fonts for the scripts
#: that the NHS's population writes in (Arabic and Urdu, Bengali, Gujarati, Punjabi's Gurmukhi, Hindi's Devanagari,
#: Tamil, Chinese). Emoji are left to fontconfig, which finds Noto Color Emoji: named here, that font would also
#: draw the digits, which it holds for keycaps. Debian's fonts-noto-core, fonts-noto-cjk and fonts-noto-color-emoji
#: hold them all.
REPORT_FONTS = (
    '"Noto Sans", "Noto Sans Arabic", "Noto Sans Bengali", "Noto Sans Gujarati", "Noto Sans Gurmukhi", '
    '"Noto Sans Devanagari", "Noto Sans Tamil", "Noto Sans CJK SC", "DejaVu Sans", sans-serif'
)


def _drawable(snapshot: dict) -> dict:
    """The snapshot as a report draws it: charts drawn and typed text bounded by the report's kind."""
    limit = COMMITTEE_TEXT_LIMIT if snapshot["kind"] == ReportKind.COMMITTEE else PROVIDER_TEXT_LIMIT
    return _typed_text_bounded(_with_charts(snapshot), limit)


def render_html(snapshot: dict, **context) -> str:
    """The report's HTML, from its snapshot alone (``context``: how a part of a long report is drawn)."""
    template = "reviews/pdf/committee.html" if snapshot["kind"] == ReportKind.COMMITTEE else "reviews/pdf/provider.html"
    report = context.pop("report", None) or _drawable(snapshot)
    return render_to_string(template, {"report": report, "mode": "whole", "fonts": REPORT_FONTS, **context})


def render_pdf(snapshot: dict) -> RenderedReport:
    """The report as PDF bytes with its page count, drawn by WeasyPrint from the snapshot (a provider report, or a
    committee pack's front section: each is bounded, so one document is laid out at a time).

    The PDF is tagged (PDF/UA-1): its headings, lists and tables, with their header cells, are in a structure tree
    in reading order, so a screen reader reads it as it reads a page, not as loose text."""
    from weasyprint import HTML

    document = HTML(string=render_html(snapshot)).render(pdf_tags=True)
    rendered = RenderedReport(document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True), len(document.pages))
    del document
    _after_a_document()
    return rendered


#: How many documents a process draws between two full collections (:func:`give_back_memory`): a full collection
#: takes about half a second, as long as a sixth of an appendix, so it is not paid after every one.
DOCUMENTS_BETWEEN_COLLECTIONS = 10
_drawn = 0


def _after_a_document() -> None:
    global _drawn
    _drawn += 1
    if _drawn % DOCUMENTS_BETWEEN_COLLECTIONS == 0:
        give_back_memory()


def give_back_memory() -> None:
    """Free what earlier documents' layouts held and hand it back to the system, so that parts do not pile up in a
    long-lived worker: WeasyPrint's many small objects otherwise leave the C heap fragmented and the process growing
    with every part (glibc's ``malloc_trim``; elsewhere only the collection is done)."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
