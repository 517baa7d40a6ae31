"""Thresholds and kinds of requirement in words, as the catalogue pages and the return form show them.

Every colour must be explainable where it is shown, so the same sentences describe a threshold on the metric's
catalogue page and beside the question on a provider's return.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .kinds import RequirementKind
from .models import AssuranceCriterion, MappingKind, Metric, Standard, Threshold, framework_of


def percent(value: Decimal) -> str:
    """A threshold as people write it: ``85%``, ``62.5%`` (never ``85.00%``)."""
    return f"{value.normalize():f}%"


def band_in_words(threshold: Threshold) -> str:
    """Where green, amber and red fall for a threshold, as a sentence a committee member can check."""
    green, amber = percent(threshold.green_from), percent(threshold.amber_from)
    if threshold.green_from == 0:
        return "Always green: the threshold is 0%."
    parts = [f"Green at {green} or above"]
    if threshold.amber_from == threshold.green_from:
        parts.append(f"no amber band; red below {green}")
    elif threshold.amber_from == 0:
        parts.append(f"amber below {green}; never red")
    else:
        parts.append(f"amber from {amber} to under {green}")
        parts.append(f"red below {amber}")
    return "; ".join(parts) + "."


def thresholds_in_order(metric: Metric) -> list[Threshold]:
    """A metric's thresholds, each provider type's own first (in the types' order), the one for every type last."""
    return sorted(
        metric.thresholds.all(),
        key=lambda t: (t.provider_type_id is None, t.provider_type.position if t.provider_type_id else 0),
    )


#: Kinds of requirement as a table column names them (the full label is on the metric's page).
KIND_SHORT_LABELS = {
    RequirementKind.PERCENTAGE: "Percentage",
    RequirementKind.COUNT: "Count",
    RequirementKind.POLICY: "Policy",
    RequirementKind.AUDIT: "Audit sample",
    RequirementKind.SELF_ASSESSMENT: "Self-assessment",
    RequirementKind.NARRATIVE: "Narrative",
}


def judged_without_threshold(metric: Metric) -> str:
    """How a metric with no threshold is judged, in words."""
    if metric.kind == RequirementKind.COUNT:
        return "No threshold — monitored as a trend"
    if metric.kind == RequirementKind.POLICY:
        if metric.review_interval_months:
            return f"In place, reviewed at least every {metric.review_interval_months} months"
        return "In place"
    if metric.kind == RequirementKind.SELF_ASSESSMENT:
        return "Graded by the provider, agreed by the commissioner"
    if metric.kind == RequirementKind.NARRATIVE:
        return "Narrative — not coloured"
    return "No threshold — monitored"


def threshold_summary(metric: Metric) -> str:
    """The threshold(s) in force by provider type, e.g. “Community health services 100% · Acute hospital 50%”.

    A metric without thresholds says how it is judged instead.
    """
    thresholds = thresholds_in_order(metric)
    if not thresholds:
        return judged_without_threshold(metric)
    if len(thresholds) == 1 and thresholds[0].provider_type_id is None:
        return percent(thresholds[0].green_from)
    return " · ".join(
        f"{t.provider_type.name if t.provider_type_id else 'Other provider types'} {percent(t.green_from)}"
        for t in thresholds
    )


def threshold_for_provider_in_words(metric: Metric, provider_type_code: str | None) -> str:
    """The rule that judges this metric for a provider of this type, as a sentence.

    “Green at 85% or above; amber from 80% to under 85%; red below 80%.” for a metric with a threshold; how it
    is judged otherwise. Uses the prefetched thresholds, so a form of many questions asks no more queries.
    """
    if not metric.has_thresholds:
        return judged_without_threshold(metric) + "."
    threshold = metric.threshold_for(provider_type_code)
    if threshold is None:
        return "No threshold for this type of provider — monitored."
    return band_in_words(threshold)


def describe_metric(metric: Metric) -> Metric:
    """Attach the worded thresholds the templates show, from the prefetched thresholds."""
    metric.threshold_summary = threshold_summary(metric)
    metric.kind_short = KIND_SHORT_LABELS.get(metric.kind, metric.get_kind_display())
    metric.thresholds_in_order = thresholds_in_order(metric)
    metric.has_default_threshold = any(t.provider_type_id is None for t in metric.thresholds_in_order)
    for threshold in metric.thresholds_in_order:
        threshold.green_text = percent(threshold.green_from)
        threshold.amber_text = percent(threshold.amber_from)
        threshold.band_in_words = band_in_words(threshold)
    return metric


@dataclass(frozen=True)
class MappingLine:
    """One mapping as a catalogue page shows it: “Same measure as <link> (Luton children 2019/20, metric X)”."""

    words: str
    title: str
    url: str
    where: str
    note: str


def _item_in_words(item) -> tuple[str, str, str]:
    """The link text, address and place (framework, version and item) of a metric, point or standard."""
    framework = framework_of(item)
    version = f"{framework.short_name} {framework.version}"
    if isinstance(item, Metric):
        return f"{item.code}: {item.title}", item.get_absolute_url(), f"{version}, metric {item.code}"
    if isinstance(item, AssuranceCriterion):
        text = item.text if len(item.text) <= 90 else item.text[:87].rstrip() + "…"
        return (
            text,
            f"{item.standard.get_absolute_url()}#criterion-{item.pk}",
            f"{version}, standard {item.standard.number}, point {item.number}",
        )
    return f"Standard {item.number}: {item.short_title}", item.get_absolute_url(), f"{version}, standard {item.number}"


def _line(words: str, other, note: str) -> MappingLine:
    title, url, where = _item_in_words(other)
    return MappingLine(words=words, title=title, url=url, where=where, note=note)


def mapping_lines(item) -> list[MappingLine]:
    """The mappings of a metric, point of assurance or standard, from its prefetched mappings, either way round.

    A same measure reads the same from both items; evidence towards reads “Evidence towards” from the item and
    “Evidenced by” from the standard.
    """
    if isinstance(item, Standard):
        return [_line("Evidenced by", mapping.source, mapping.note) for mapping in item.evidence_mappings.all()]
    lines = [_line(mapping.get_kind_display(), mapping.target, mapping.note) for mapping in item.source_mappings.all()]
    lines += [
        _line(MappingKind.SAME_MEASURE.label, mapping.source, mapping.note) for mapping in item.target_mappings.all()
    ]
    return lines
