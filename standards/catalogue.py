"""Export a framework version as one JSON catalogue document, and import such a document.

The document format is described in ``docs/catalogue-format.md``. Import validates the whole document first
and refuses it, changing nothing, with every problem listed in plain English; a valid document then makes the
framework version in the database equal to it, inside one transaction. Rows whose values already match are not
saved, so importing the same document twice changes nothing, not even the change history.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, ProtectedError, Q

from .kinds import MetricDefinition, RequirementKind, definition_errors
from .models import (
    AssuranceCriterion,
    Framework,
    Frequency,
    Mapping,
    MappingKind,
    Metric,
    ProviderType,
    Service,
    SourceNote,
    SourceNoteKind,
    Standard,
    Threshold,
    TimeRuleKind,
    TimeUnit,
    framework_of,
    item_label,
    mapping_problems,
)

FORMAT = "safeguard-assure-catalogue"
FORMAT_VERSION = 1

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
METRIC_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")

DOCUMENT_KEYS = ("format", "format_version", "framework", "services", "standards", "metrics", "mappings")
OPTIONAL_DOCUMENT_KEYS = ("mappings",)
FRAMEWORK_KEYS = (
    "code", "version", "name", "short_name", "description", "source", "effective_from", "effective_to",
    "position", "notes",
)  # fmt: skip
SOURCE_KEYS = ("document", "publisher", "date", "section")
STANDARD_KEYS = ("number", "parent", "title", "guidance", "source_reference", "notes", "criteria")
CRITERION_KEYS = ("number", "text", "source_reference", "time_rule", "notes")
TIME_RULE_KEYS = ("text", "kind", "limit", "unit")
METRIC_KEYS = (
    "code", "title", "standard", "group", "kind", "description", "threshold_as_written",
    "method_of_measurement", "frequency", "frequency_as_written", "provider_types", "services",
    "numerator_label", "denominator_label", "sample_size", "review_interval_months", "higher_is_better",
    "source_reference", "thresholds", "notes",
)  # fmt: skip
THRESHOLD_KEYS = ("provider_type", "green_from", "amber_from", "as_written", "note")
NOTE_KEYS = ("kind", "text")
SERVICE_KEYS = ("code", "name")
MAPPING_KEYS = ("kind", "source", "target", "note")


class CatalogueImportError(Exception):
    """A catalogue document was refused; ``errors`` lists every problem found, in plain English."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("The catalogue document was not imported:\n" + "\n".join(f"- {e}" for e in errors))


@dataclass
class ImportResult:
    framework: Framework
    created: bool
    changes: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or self.changes > 0


# --------------------------------------------------------------------------------------------------- export


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _notes(notes) -> list[dict]:
    return [{"kind": n.kind, "text": n.text} for n in notes]


def _item_reference(item) -> dict:
    """How a document names a metric, a point of assurance or a standard of a framework version."""
    if isinstance(item, Metric):
        return {"metric": item.code}
    if isinstance(item, AssuranceCriterion):
        return {"standard": item.standard.number, "criterion": item.number}
    return {"standard": item.number}


def mappings_of(framework: Framework):
    """The mappings a framework version's document holds: those starting from its metrics and points."""
    return (
        Mapping.objects.filter(
            Q(source_metric__framework=framework) | Q(source_criterion__standard__framework=framework)
        )
        .select_related(
            "source_metric",
            "source_criterion__standard",
            "target_metric__framework",
            "target_criterion__standard__framework",
            "target_standard__framework",
        )
        .order_by("position", "id")
    )


def _export_mapping(mapping: Mapping) -> dict:
    target = mapping.target
    target_framework = target.standard.framework if isinstance(target, AssuranceCriterion) else target.framework
    return {
        "kind": mapping.kind,
        "source": _item_reference(mapping.source),
        "target": {
            "framework": target_framework.code,
            "version": target_framework.version,
            **_item_reference(target),
        },
        "note": mapping.note,
    }


def export_framework(framework: Framework) -> dict:
    """The catalogue document for one framework version (see ``docs/catalogue-format.md``).

    ``mappings`` is written only when the version has some, so documents without mappings keep their shape.
    """
    notes = defaultdict(list)
    for note in framework.source_notes.all().order_by("position", "id"):
        notes[(note.standard_id, note.criterion_id, note.metric_id)].append(note)

    standards = list(
        framework.standards.select_related("parent").prefetch_related(
            Prefetch("criteria", queryset=AssuranceCriterion.objects.order_by("position", "id"))
        )
    )
    metrics = list(
        framework.metrics.select_related("standard").prefetch_related(
            Prefetch("provider_types", queryset=ProviderType.objects.order_by("position", "code")),
            Prefetch("services", queryset=Service.objects.order_by("position", "code")),
            Prefetch("thresholds", queryset=Threshold.objects.select_related("provider_type")),
        )
    )
    services: dict[str, Service] = {}
    for metric in metrics:
        for service in metric.services.all():
            services[service.code] = service

    def threshold_order(t: Threshold):
        return (-1, "") if t.provider_type is None else (t.provider_type.position, t.provider_type.code)

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "framework": {
            "code": framework.code,
            "version": framework.version,
            "name": framework.name,
            "short_name": framework.short_name,
            "description": framework.description,
            "source": {
                "document": framework.source_document,
                "publisher": framework.source_publisher,
                "date": framework.source_date,
                "section": framework.source_section,
            },
            "effective_from": framework.effective_from.isoformat(),
            "effective_to": framework.effective_to.isoformat() if framework.effective_to else None,
            "position": framework.position,
            "notes": _notes(notes[(None, None, None)]),
        },
        "services": [
            {"code": s.code, "name": s.name} for s in sorted(services.values(), key=lambda s: (s.position, s.code))
        ],
        "standards": [
            {
                "number": standard.number,
                "parent": standard.parent.number if standard.parent_id else None,
                "title": standard.title,
                "guidance": standard.guidance,
                "source_reference": standard.source_reference,
                "notes": _notes(notes[(standard.pk, None, None)]),
                "criteria": [
                    {
                        "number": criterion.number,
                        "text": criterion.text,
                        "source_reference": criterion.source_reference,
                        "time_rule": (
                            {
                                "text": criterion.time_rule,
                                "kind": criterion.time_rule_kind,
                                "limit": criterion.time_limit,
                                "unit": criterion.time_unit,
                            }
                            if criterion.time_rule_kind
                            else None
                        ),
                        "notes": _notes(notes[(None, criterion.pk, None)]),
                    }
                    for criterion in standard.criteria.all()
                ],
            }
            for standard in standards
        ],
        "metrics": [
            {
                "code": metric.code,
                "title": metric.title,
                "standard": metric.standard.number if metric.standard_id else None,
                "group": metric.group,
                "kind": metric.kind,
                "description": metric.description,
                "threshold_as_written": metric.threshold_as_written,
                "method_of_measurement": metric.method_of_measurement,
                "frequency": metric.frequency,
                "frequency_as_written": metric.frequency_as_written,
                "provider_types": [p.code for p in metric.provider_types.all()],
                "services": [s.code for s in metric.services.all()],
                "numerator_label": metric.numerator_label,
                "denominator_label": metric.denominator_label,
                "sample_size": metric.sample_size,
                "review_interval_months": metric.review_interval_months,
                "higher_is_better": metric.higher_is_better,
                "source_reference": metric.source_reference,
                "thresholds": [
                    {
                        "provider_type": t.provider_type_id,
                        "green_from": _decimal_text(t.green_from),
                        "amber_from": _decimal_text(t.amber_from),
                        "as_written": t.as_written,
                        "note": t.note,
                    }
                    for t in sorted(metric.thresholds.all(), key=threshold_order)
                ],
                "notes": _notes(notes[(None, None, metric.pk)]),
            }
            for metric in metrics
        ],
    }
    mappings = [_export_mapping(mapping) for mapping in mappings_of(framework)]
    if mappings:
        document["mappings"] = mappings
    return document


# ----------------------------------------------------------------------------------------------- validation


class _Checker:
    """Walks a document, collecting every problem with where it is, and returns cleaned values."""

    def __init__(self):
        self.errors: list[str] = []

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}" if where else message)

    def mapping(self, value, where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict | None:
        if not isinstance(value, dict):
            self.error(where, f"should be an object with the keys {', '.join(keys)}; it is {_describe(value)}.")
            return None
        missing = [k for k in keys if k not in value and k not in optional]
        unknown = [k for k in value if k not in keys]
        if missing:
            self.error(where, f"missing {_plural('key', missing)} {_list(missing)}.")
        if unknown:
            self.error(where, f"unknown {_plural('key', unknown)} {_list(unknown)} (check the spelling).")
        return value if not missing else None

    def text(self, data: dict, key: str, where: str, *, required=False, max_length=None) -> str:
        value = data.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(where, f"“{key}” should be text; it is {_describe(value)}.")
            return ""
        value = value.strip()
        if required and not value:
            self.error(where, f"“{key}” must not be empty.")
        if max_length and len(value) > max_length:
            self.error(where, f"“{key}” is {len(value)} characters long; the most allowed is {max_length}.")
        return value

    def whole(self, data: dict, key: str, where: str, *, minimum: int, nullable: bool) -> int | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            wanted = f"a whole number of {minimum} or more" + (" or null" if nullable else "")
            self.error(where, f"“{key}” should be {wanted}; it is {_describe(value)}.")
            return None
        if value < minimum:
            self.error(where, f"“{key}” should be {minimum} or more; it is {value}.")
            return None
        return value

    def date(self, data: dict, key: str, where: str, *, nullable: bool) -> datetime.date | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.error(where, f"“{key}” should be a date written like 2019-04-01; it is {_describe(value)}.")
            return None

    def choice(self, data: dict, key: str, where: str, choices, *, nullable=False) -> str | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if value not in choices:
            self.error(where, f"“{key}” is {_describe(value)}; it should be one of {_list(list(choices))}.")
            return None
        return value

    def percentage(self, data: dict, key: str, where: str) -> Decimal | None:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(where, f'“{key}” should be a percentage such as "85"; it is {_describe(value)}.')
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.error(where, f'“{key}” should be a percentage such as "85"; it is {_describe(value)}.')
            return None
        if not number.is_finite() or number < 0 or number > 100:
            self.error(where, f"“{key}” must be a percentage from 0 to 100; it is {value}.")
            return None
        if number != number.quantize(Decimal("0.01")):
            self.error(where, f"“{key}” can have at most two decimal places; it is {value}.")
            return None
        return number

    def notes(self, data: dict, where: str) -> list[tuple[str, str]]:
        value = data.get("notes", [])
        if not isinstance(value, list):
            self.error(where, f"“notes” should be a list; it is {_describe(value)}.")
            return []
        cleaned = []
        for i, note in enumerate(value):
            at = f"{where} notes[{i}]"
            note = self.mapping(note, at, NOTE_KEYS)
            if note is None:
                continue
            kind = self.choice(note, "kind", at, SourceNoteKind.values)
            text = self.text(note, "text", at, required=True)
            if kind and text:
                cleaned.append((kind, text))
        return cleaned

    def items(self, data: dict, key: str, where: str) -> list:
        value = data.get(key)
        if not isinstance(value, list):
            self.error(where, f"“{key}” should be a list; it is {_describe(value)}.")
            return []
        return value


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"“{value}”" if len(value) < 60 else f"“{value[:57]}…”"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _list(items) -> str:
    quoted = [f"“{i}”" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _plural(word: str, items) -> str:
    return word if len(items) == 1 else word + "s"


def validate_document(document) -> dict:
    """Check a whole document; return it cleaned, or raise :class:`CatalogueImportError` with every problem."""
    check = _Checker()
    doc = check.mapping(document, "The document", DOCUMENT_KEYS, optional=OPTIONAL_DOCUMENT_KEYS)
    if doc is None:
        raise CatalogueImportError(check.errors)
    if doc.get("format") != FORMAT:
        check.error("The document", f"“format” should be “{FORMAT}”; it is {_describe(doc.get('format'))}.")
    if doc.get("format_version") != FORMAT_VERSION:
        check.error(
            "The document",
            f"“format_version” {_describe(doc.get('format_version'))} is not one this installation reads "
            f"(it reads {FORMAT_VERSION}).",
        )

    cleaned = {"framework": _check_framework(check, doc.get("framework"))}
    cleaned["services"] = _check_services(check, doc)
    known_services = {s["code"] for s in cleaned["services"]}
    cleaned["standards"] = _check_standards(check, doc)
    standard_numbers = {s["number"] for s in cleaned["standards"]}
    cleaned["metrics"] = _check_metrics(check, doc, standard_numbers, known_services)
    cleaned["mappings"] = _check_mappings(check, doc, cleaned)
    if check.errors:
        raise CatalogueImportError(check.errors)
    return cleaned


def _check_framework(check: _Checker, value) -> dict:
    where = "framework"
    data = check.mapping(value, where, FRAMEWORK_KEYS)
    if data is None:
        return {}
    fw = {
        "code": check.text(data, "code", where, required=True, max_length=60),
        "version": check.text(data, "version", where, required=True, max_length=20),
        "name": check.text(data, "name", where, required=True, max_length=200),
        "short_name": check.text(data, "short_name", where, required=True, max_length=60),
        "description": check.text(data, "description", where),
        "effective_from": check.date(data, "effective_from", where, nullable=False),
        "effective_to": check.date(data, "effective_to", where, nullable=True),
        "position": check.whole(data, "position", where, minimum=0, nullable=False) or 0,
        "notes": check.notes(data, where),
    }
    if fw["code"] and not SLUG.match(fw["code"]):
        check.error(where, f"“code” {_describe(fw['code'])} may only hold lower-case letters, digits and hyphens.")
    source = check.mapping(data.get("source"), f"{where} source", SOURCE_KEYS)
    if source is not None:
        fw["source_document"] = check.text(source, "document", f"{where} source", required=True, max_length=200)
        fw["source_publisher"] = check.text(source, "publisher", f"{where} source", max_length=200)
        fw["source_date"] = check.text(source, "date", f"{where} source", max_length=40)
        fw["source_section"] = check.text(source, "section", f"{where} source", max_length=120)
    if fw["effective_from"] and fw["effective_to"] and fw["effective_to"] < fw["effective_from"]:
        check.error(where, "“effective_to” is before “effective_from”.")
    return fw


def _check_services(check: _Checker, doc: dict) -> list[dict]:
    services = []
    seen = set()
    for i, value in enumerate(check.items(doc, "services", "The document")):
        where = f"services[{i}]"
        data = check.mapping(value, where, SERVICE_KEYS)
        if data is None:
            continue
        code = check.text(data, "code", where, required=True, max_length=40)
        name = check.text(data, "name", where, required=True, max_length=120)
        if code and not SLUG.match(code):
            check.error(where, f"“code” {_describe(code)} may only hold lower-case letters, digits and underscores.")
        if code in seen:
            check.error(where, f"service “{code}” is listed twice.")
        seen.add(code)
        services.append({"code": code, "name": name})
    return services


def _check_time_rule(check: _Checker, value, where: str) -> dict | None:
    if value is None:
        return None
    data = check.mapping(value, f"{where} time_rule", TIME_RULE_KEYS)
    if data is None:
        return None
    at = f"{where} time_rule"
    return {
        "time_rule": check.text(data, "text", at, required=True, max_length=200),
        "time_rule_kind": check.choice(data, "kind", at, TimeRuleKind.values) or "",
        "time_limit": check.whole(data, "limit", at, minimum=1, nullable=False),
        "time_unit": check.choice(data, "unit", at, TimeUnit.values) or "",
    }


def _check_standards(check: _Checker, doc: dict) -> list[dict]:
    standards = []
    numbers: set[str] = set()
    for i, value in enumerate(check.items(doc, "standards", "The document")):
        where = f"standards[{i}]"
        data = check.mapping(value, where, STANDARD_KEYS)
        if data is None:
            continue
        number = check.text(data, "number", where, required=True, max_length=20)
        where = f"standard {number or i}"
        if number in numbers:
            check.error(where, f"the number “{number}” is used by an earlier standard.")
        parent = data.get("parent")
        if parent is not None and parent not in numbers:
            check.error(where, f"“parent” {_describe(parent)} is not the number of a standard listed before it.")
        standard = {
            "number": number,
            "parent": parent,
            "title": check.text(data, "title", where, required=True),
            "guidance": check.text(data, "guidance", where),
            "source_reference": check.text(data, "source_reference", where, max_length=200),
            "notes": check.notes(data, where),
            "criteria": [],
        }
        criterion_numbers: set[str] = set()
        for j, raw in enumerate(check.items(data, "criteria", where)):
            at = f"{where} criteria[{j}]"
            item = check.mapping(raw, at, CRITERION_KEYS)
            if item is None:
                continue
            c_number = check.text(item, "number", at, required=True, max_length=20)
            if c_number in criterion_numbers:
                check.error(at, f"the number “{c_number}” is used by an earlier point of this standard.")
            criterion_numbers.add(c_number)
            criterion = {
                "number": c_number,
                "text": check.text(item, "text", at, required=True),
                "source_reference": check.text(item, "source_reference", at, max_length=200),
                "notes": check.notes(item, at),
            }
            criterion.update(
                _check_time_rule(check, item.get("time_rule"), at)
                or {"time_rule": "", "time_rule_kind": "", "time_limit": None, "time_unit": ""}
            )
            standard["criteria"].append(criterion)
        numbers.add(number)
        standards.append(standard)
    return standards


def _check_metrics(check: _Checker, doc: dict, standard_numbers: set[str], services: set[str]) -> list[dict]:
    metrics = []
    codes: set[str] = set()
    provider_types = set(ProviderType.objects.values_list("code", flat=True))
    known_services = services | set(Service.objects.values_list("code", flat=True))
    for i, value in enumerate(check.items(doc, "metrics", "The document")):
        where = f"metrics[{i}]"
        data = check.mapping(value, where, METRIC_KEYS)
        if data is None:
            continue
        code = check.text(data, "code", where, required=True, max_length=40)
        where = f"metric {code or i}"
        if code and not METRIC_CODE.match(code):
            check.error(where, "“code” may only hold upper-case letters, digits and single hyphens.")
        if code in codes:
            check.error(where, f"the code “{code}” is used by an earlier metric.")
        codes.add(code)
        standard = data.get("standard")
        if standard is not None and standard not in standard_numbers:
            check.error(where, f"“standard” {_describe(standard)} is not the number of a standard in this document.")
        metric = {
            "code": code,
            "title": check.text(data, "title", where, required=True, max_length=300),
            "standard": standard,
            "group": check.text(data, "group", where, max_length=120),
            "kind": check.choice(data, "kind", where, RequirementKind.values),
            "description": check.text(data, "description", where),
            "threshold_as_written": check.text(data, "threshold_as_written", where),
            "method_of_measurement": check.text(data, "method_of_measurement", where),
            "frequency": check.choice(data, "frequency", where, Frequency.values),
            "frequency_as_written": check.text(data, "frequency_as_written", where, max_length=200),
            "numerator_label": check.text(data, "numerator_label", where, max_length=200),
            "denominator_label": check.text(data, "denominator_label", where, max_length=200),
            "sample_size": check.whole(data, "sample_size", where, minimum=1, nullable=True),
            "review_interval_months": check.whole(data, "review_interval_months", where, minimum=1, nullable=True),
            "source_reference": check.text(data, "source_reference", where, max_length=200),
            "notes": check.notes(data, where),
        }
        higher = data.get("higher_is_better")
        if not isinstance(higher, bool):
            check.error(where, f"“higher_is_better” should be true or false; it is {_describe(higher)}.")
            higher = True
        metric["higher_is_better"] = higher
        metric["provider_types"] = _codes(check, data, "provider_types", where, provider_types, "provider type")
        metric["services"] = _codes(check, data, "services", where, known_services, "service")
        metric["thresholds"] = _check_thresholds(check, data, where, provider_types)
        if metric["kind"]:
            problems = definition_errors(
                MetricDefinition(
                    kind=metric["kind"],
                    threshold_count=len(metric["thresholds"]),
                    numerator_label=metric["numerator_label"],
                    denominator_label=metric["denominator_label"],
                    sample_size=metric["sample_size"],
                    review_interval_months=metric["review_interval_months"],
                    higher_is_better=higher,
                )
            )
            for message in problems.values():
                check.error(where, message)
        metrics.append(metric)
    return metrics


def _codes(check: _Checker, data: dict, key: str, where: str, known: set[str], what: str) -> list[str]:
    values = check.items(data, key, where)
    codes = []
    for value in values:
        if value not in known:
            check.error(where, f"{_describe(value)} in “{key}” is not a known {what} (known: {_list(sorted(known))}).")
        elif value in codes:
            check.error(where, f"{what} “{value}” is listed twice in “{key}”.")
        else:
            codes.append(value)
    return codes


def _check_thresholds(check: _Checker, data: dict, where: str, provider_types: set[str]) -> list[dict]:
    thresholds = []
    seen = set()
    for j, value in enumerate(check.items(data, "thresholds", where)):
        at = f"{where} thresholds[{j}]"
        item = check.mapping(value, at, THRESHOLD_KEYS)
        if item is None:
            continue
        provider_type = check.choice(item, "provider_type", at, sorted(provider_types), nullable=True)
        if provider_type in seen:
            who = provider_type or "every provider type (null)"
            check.error(at, f"there is already a threshold for {who}.")
        seen.add(provider_type)
        green = check.percentage(item, "green_from", at)
        amber = check.percentage(item, "amber_from", at)
        if green is not None and amber is not None and amber > green:
            check.error(at, f"“amber_from” ({amber}) must not be above “green_from” ({green}).")
        thresholds.append(
            {
                "provider_type": provider_type,
                "green_from": green,
                "amber_from": amber,
                "as_written": check.text(item, "as_written", at, max_length=300),
                "note": check.text(item, "note", at),
            }
        )
    return thresholds


def _reference_label(reference: tuple) -> str:
    """A reference as messages name it: “metric “S11-11-TRAINING””, “point 4.1 of standard 10”, “standard 10”."""
    if reference[0] == "metric":
        return f"metric “{reference[1]}”"
    if reference[0] == "criterion":
        return f"point {reference[2]} of standard {reference[1]}"
    return f"standard {reference[1]}"


def _check_reference(check: _Checker, value, where: str, *, target: bool) -> tuple | None:
    """An item a mapping names: ``("metric", code)``, ``("criterion", standard, number)``, ``("standard", number)``."""
    names = ("metric", "standard", "criterion")
    data = check.mapping(value, where, (("framework", "version") if target else ()) + names, optional=names)
    if data is None:
        return None
    names = {key: data.get(key) for key in names if data.get(key) is not None}
    for key, name in names.items():
        if not isinstance(name, str) or not name.strip():
            check.error(where, f"“{key}” should be text; it is {_describe(name)}.")
            return None
    if set(names) == {"metric"}:
        return ("metric", names["metric"].strip())
    if set(names) == {"standard", "criterion"}:
        return ("criterion", names["standard"].strip(), names["criterion"].strip())
    if target and set(names) == {"standard"}:
        return ("standard", names["standard"].strip())
    wanted = "“metric”, or “standard” with “criterion”" + (", or “standard” alone" if target else "")
    check.error(where, f"should name {wanted}.")
    return None


def _check_mappings(check: _Checker, doc: dict, cleaned: dict) -> list[dict]:
    if "mappings" not in doc:
        return []
    own_code = cleaned["framework"].get("code")
    metric_codes = {metric["code"] for metric in cleaned["metrics"]}
    criteria = {(s["number"], c["number"]) for s in cleaned["standards"] for c in s["criteria"]}
    mappings = []
    seen = set()
    for number, value in enumerate(check.items(doc, "mappings", "The document"), start=1):
        where = f"mapping {number}"
        data = check.mapping(value, where, MAPPING_KEYS)
        if data is None:
            continue
        kind = check.choice(data, "kind", where, MappingKind.values)
        note = check.text(data, "note", where, required=True)
        source = _check_reference(check, data.get("source"), f"{where} source", target=False)
        target = _check_reference(check, data.get("target"), f"{where} target", target=True)
        if source and source[0] == "metric" and source[1] not in metric_codes:
            check.error(where, f"its source, {_reference_label(source)}, is not a metric of this document.")
        elif source and source[0] == "criterion" and source[1:] not in criteria:
            check.error(where, f"its source, {_reference_label(source)}, is not a point of this document.")
        code = version = ""
        if target:
            code = check.text(data["target"], "framework", f"{where} target", required=True)
            version = check.text(data["target"], "version", f"{where} target", required=True)
            if code and code == own_code:
                check.error(
                    where,
                    f"it points to {_reference_label(target)} of this document's own framework; a mapping links two "
                    "different frameworks.",
                )
        key = (kind, source, code, version, target)
        if key in seen:
            check.error(where, "the same mapping is listed earlier in the document.")
        seen.add(key)
        if kind and note and source and target and code and version:
            mappings.append(
                {
                    "number": number,
                    "kind": kind,
                    "source": source,
                    "target": target,
                    "code": code,
                    "version": version,
                    "note": note,
                    "key": key,
                }  # fmt: skip
            )
    return mappings


# --------------------------------------------------------------------------------------------------- import


class _Writer:
    """Saves rows only when their values differ, counting what changed."""

    def __init__(self, user=None):
        self.user = user
        self.changes = 0
        self.details: list[str] = []

    def save(self, obj, values: dict, label: str) -> bool:
        is_new = obj.pk is None
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if not is_new and not changed:
            return False
        for key, value in values.items():
            setattr(obj, key, value)
        if self.user is not None:
            obj._history_user = self.user
        obj.save()
        self.changes += 1
        self.details.append(f"{'added' if is_new else 'changed'} {label}")
        return True

    def delete(self, obj, label: str) -> None:
        if self.user is not None:
            obj._history_user = self.user
        obj.delete()
        self.changes += 1
        self.details.append(f"removed {label}")


def import_document(document, *, user=None) -> Framework:
    """Import one catalogue document and return its framework version. See :func:`import_catalogue`."""
    return import_catalogue(document, user=user).framework


def import_catalogue(document, *, user=None) -> ImportResult:
    """Validate and import one catalogue document, all or nothing; ``user`` is recorded in the history.

    Its mappings may point to any framework version already in the catalogue.
    """
    cleaned = validate_document(document)
    return _import_all([("", cleaned)], user)[0]


def import_catalogues(documents: list, *, user=None) -> list[ImportResult]:
    """Validate every document first, then import them all in one transaction (all or nothing)."""
    errors = []
    cleaned = []
    for name, document in documents:
        try:
            cleaned.append(validate_document(document))
        except CatalogueImportError as refused:
            errors.extend(f"{name}: {e}" for e in refused.errors)
    if errors:
        raise CatalogueImportError(errors)
    return _import_all(list(zip([name for name, _ in documents], cleaned, strict=True)), user)


def _import_all(documents: list[tuple[str, dict]], user) -> list[ImportResult]:
    """Import validated documents in one transaction, their mappings last, so they may point to one another.

    Mappings a document no longer holds go first (so that items they point to can be removed); mappings are
    made once every document's items are in place. A mapping to an item the catalogue does not have refuses the
    whole import, and nothing is kept.
    """
    writers = [_Writer(user) for _ in documents]
    with transaction.atomic():
        try:
            for (_, doc), write in zip(documents, writers, strict=True):
                _remove_mappings_not_wanted(doc, write)
            results = [_apply(doc, write) for (_, doc), write in zip(documents, writers, strict=True)]
        except ProtectedError as exc:
            raise _refusal(exc) from exc
        errors = []
        for (name, doc), result, write in zip(documents, results, writers, strict=True):
            errors.extend(f"{name}: {e}" if name else e for e in _sync_mappings(doc, result.framework, write))
        if errors:
            raise CatalogueImportError(errors)
    for result, write in zip(results, writers, strict=True):
        result.changes, result.details = write.changes, write.details
    return results


def _refusal(exc: ProtectedError) -> CatalogueImportError:
    """Why items could not be removed: a mapping of another framework points to them, or returns use them."""
    mappings = [obj for obj in exc.protected_objects if isinstance(obj, Mapping)]
    if not mappings:
        return CatalogueImportError(
            [
                "This document removes metrics or standards that returns already use. Make a new version of the "
                "framework instead of changing this one."
            ]
        )
    errors = []
    for mapping in mappings:
        source_framework = framework_of(mapping.source)
        errors.append(
            f"This document removes {item_label(mapping.target)}, which a mapping of {source_framework.code} "
            f"{source_framework.version} points to (from its {item_label(mapping.source)}). Change or remove that "
            "mapping first."
        )
    return CatalogueImportError(errors)


def _reference_of(item) -> tuple:
    if isinstance(item, Metric):
        return ("metric", item.code)
    if isinstance(item, AssuranceCriterion):
        return ("criterion", item.standard.number, item.number)
    return ("standard", item.number)


def _key_of(mapping: Mapping) -> tuple:
    """A stored mapping as a document names it, to compare the two."""
    target = mapping.target
    framework = framework_of(target)
    return (mapping.kind, _reference_of(mapping.source), framework.code, framework.version, _reference_of(target))


def _find(framework: Framework, reference: tuple):
    """The metric, point or standard of ``framework`` a reference names, or None."""
    if reference[0] == "metric":
        return Metric.objects.select_related("framework").filter(framework=framework, code=reference[1]).first()
    if reference[0] == "criterion":
        return (
            AssuranceCriterion.objects.select_related("standard__framework")
            .filter(standard__framework=framework, standard__number=reference[1], number=reference[2])
            .first()
        )
    return Standard.objects.select_related("framework").filter(framework=framework, number=reference[1]).first()


def _remove_mappings_not_wanted(doc: dict, write: _Writer) -> None:
    fw_data = doc["framework"]
    framework = Framework.objects.filter(code=fw_data["code"], version=fw_data["version"]).first()
    if framework is None:
        return
    wanted = {mapping["key"] for mapping in doc["mappings"]}
    for mapping in mappings_of(framework):
        if _key_of(mapping) not in wanted:
            write.delete(mapping, f"mapping of {item_label(mapping.source)}")


def _sync_mappings(doc: dict, framework: Framework, write: _Writer) -> list[str]:
    """Make or update the document's mappings; return what is wrong with them (then nothing may be kept)."""
    existing = {_key_of(mapping): mapping for mapping in mappings_of(framework)}
    versions: dict[tuple[str, str], Framework | None] = {}
    errors = []
    for position, data in enumerate(doc["mappings"]):
        number = data["number"]
        source = _find(framework, data["source"])
        at = (data["code"], data["version"])
        if at not in versions:
            versions[at] = Framework.objects.filter(code=data["code"], version=data["version"]).first()
        target = _find(versions[at], data["target"]) if versions[at] else None
        if target is None:
            errors.append(
                f"Mapping {number} points to {_reference_label(data['target'])} of {data['code']} "
                f"{data['version']}, which the catalogue does not have."
            )
            continue
        problems = mapping_problems(data["kind"], source, target)
        if not problems and data["kind"] == MappingKind.SAME_MEASURE:
            reverse = Mapping.objects.filter(kind=data["kind"])
            reverse = (
                reverse.filter(source_metric=target, target_metric=source)
                if isinstance(source, Metric)
                else reverse.filter(source_criterion=target, target_criterion=source)
            )
            if reverse.exists():
                problems.append(
                    f"{item_label(target)} of {data['code']} {data['version']} is already mapped as the same "
                    f"measure as {item_label(source)} (in the document of {data['code']}); a pair is held once."
                )
        if problems:
            errors.extend(f"Mapping {number}: {problem}" for problem in problems)
            continue
        mapping = existing.get(data["key"])
        if mapping is None:
            mapping = Mapping(kind=data["kind"])
            setattr(mapping, "source_metric" if isinstance(source, Metric) else "source_criterion", source)
            target_field = {Metric: "target_metric", AssuranceCriterion: "target_criterion"}.get(
                type(target), "target_standard"
            )
            setattr(mapping, target_field, target)
        write.save(
            mapping, {"note": data["note"], "position": position}, f"mapping of {_reference_label(data['source'])}"
        )
    return errors


def _apply(doc: dict, write: _Writer) -> ImportResult:
    fw_data = doc["framework"]
    for service in doc["services"]:
        if not Service.objects.filter(code=service["code"]).exists():
            position = Service.objects.count()
            Service.objects.create(code=service["code"], name=service["name"], position=position)
            write.changes += 1
            write.details.append(f"added service {service['code']}")

    framework = Framework.objects.filter(code=fw_data["code"], version=fw_data["version"]).first()
    created = framework is None
    framework = framework or Framework(code=fw_data["code"], version=fw_data["version"])
    values = {k: v for k, v in fw_data.items() if k not in ("code", "version", "notes")}
    probe = Framework(pk=framework.pk, code=fw_data["code"], **values)
    try:
        probe.clean()
    except ValidationError as exc:  # overlapping versions: a clear message, nothing changed
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        raise CatalogueImportError([f"framework: {m}" for ms in messages.values() for m in ms]) from exc
    write.save(framework, values, f"framework {framework.code} {framework.version}")

    notes_by_subject = defaultdict(list)
    for note in framework.source_notes.all().order_by("position", "id"):
        notes_by_subject[(note.standard_id, note.criterion_id, note.metric_id)].append(note)
    seen_subjects = set()

    def sync_notes(wanted: list[tuple[str, str]], standard=None, criterion=None, metric=None):
        key = (getattr(standard, "pk", None), getattr(criterion, "pk", None), getattr(metric, "pk", None))
        seen_subjects.add(key)
        existing = notes_by_subject.get(key, [])
        if [(n.kind, n.text) for n in existing] == wanted:
            return
        for note in existing:
            write.delete(note, "a note")
        for position, (kind, text) in enumerate(wanted):
            note = SourceNote(framework=framework, standard=standard, criterion=criterion, metric=metric)
            write.save(note, {"kind": kind, "text": text, "position": position}, "a note")

    sync_notes(fw_data["notes"])

    # Standards, in document order; parents are always listed before their sub-clauses.
    existing_standards = {s.number: s for s in framework.standards.all()}
    criteria_by_standard = defaultdict(dict)
    for criterion in AssuranceCriterion.objects.filter(standard__framework=framework):
        criteria_by_standard[criterion.standard_id][criterion.number] = criterion
    standards: dict[str, Standard] = {}
    for position, data in enumerate(doc["standards"]):
        standard = existing_standards.pop(data["number"], None) or Standard(framework=framework)
        parent = standards[data["parent"]] if data["parent"] else None
        write.save(
            standard,
            {
                "number": data["number"],
                "parent": parent,
                "title": data["title"],
                "guidance": data["guidance"],
                "source_reference": data["source_reference"],
                "position": position,
            },
            f"standard {data['number']}",
        )
        standards[data["number"]] = standard
        sync_notes(data["notes"], standard=standard)
        existing_criteria = criteria_by_standard.get(standard.pk, {})
        for c_position, c_data in enumerate(data["criteria"]):
            criterion = existing_criteria.pop(c_data["number"], None) or AssuranceCriterion(standard=standard)
            values = {k: v for k, v in c_data.items() if k != "notes"}
            values["position"] = c_position
            write.save(criterion, values, f"point {c_data['number']} of standard {data['number']}")
            sync_notes(c_data["notes"], criterion=criterion)
        for criterion in existing_criteria.values():
            write.delete(criterion, f"point {criterion.number} of standard {data['number']}")

    # Metrics.
    existing_metrics = {
        m.code: m for m in framework.metrics.prefetch_related("provider_types", "services", "thresholds")
    }
    for position, data in enumerate(doc["metrics"]):
        metric = existing_metrics.pop(data["code"], None) or Metric(framework=framework)
        values = {
            k: v for k, v in data.items() if k not in ("standard", "provider_types", "services", "thresholds", "notes")
        }
        values["standard"] = standards[data["standard"]] if data["standard"] else None
        values["position"] = position
        is_new = metric.pk is None
        write.save(metric, values, f"metric {data['code']}")
        for relation, wanted in (("provider_types", data["provider_types"]), ("services", data["services"])):
            manager = getattr(metric, relation)
            current = set() if is_new else {obj.pk for obj in manager.all()}
            if current != set(wanted):
                manager.set(wanted)
                write.changes += 1
                write.details.append(f"changed {relation.replace('_', ' ')} of metric {data['code']}")
        existing_thresholds = {} if is_new else {t.provider_type_id: t for t in metric.thresholds.all()}
        for t_data in data["thresholds"]:
            threshold = existing_thresholds.pop(t_data["provider_type"], None) or Threshold(metric=metric)
            values = dict(t_data)
            values["provider_type_id"] = values.pop("provider_type")
            write.save(threshold, values, f"threshold of metric {data['code']}")
        for threshold in existing_thresholds.values():
            write.delete(threshold, f"threshold of metric {data['code']}")
        sync_notes(data["notes"], metric=metric)

    try:
        for metric in existing_metrics.values():
            write.delete(metric, f"metric {metric.code}")
        for standard in existing_standards.values():
            write.delete(standard, f"standard {standard.number}")
    except ProtectedError as exc:
        raise _refusal(exc) from exc
    for key, notes in notes_by_subject.items():
        if key not in seen_subjects:
            for note in notes:
                if SourceNote.objects.filter(pk=note.pk).exists():
                    write.delete(note, "a note")

    return ImportResult(framework=framework, created=created, changes=write.changes, details=write.details)
