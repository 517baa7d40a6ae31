"""The standards catalogue, held as data.

A :class:`Framework` is one version of a set of requirements taken from a source document (the Section 11
children standards of the North East London policy, Luton's quality specification…). It holds
:class:`Standard` rows (with their :class:`AssuranceCriterion` points) and :class:`Metric` rows, the things a
provider answers in a return, each of a :class:`~standards.kinds.RequirementKind` and with its
:class:`Threshold` per provider type. Where the source documents contradict themselves or lost text, a
:class:`SourceNote` records it where a reviewer sees it.

Frameworks are versioned: a return is judged by the version in force at the start of its period, so a new
year's thresholds go into a new version and never change how last year's returns are judged.
"""

from __future__ import annotations

import datetime
import functools
import operator

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Greatest, Least
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .kinds import KINDS_WITH_THRESHOLDS, MetricDefinition, RequirementKind, answer_labels, definition_errors


class ProviderType(models.Model):
    """A type of provider organisation; thresholds and applicability can differ by type."""

    code = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A service a provider runs (children's, maternity, emergency department…); some metrics apply only to some."""

    code = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SIX_MONTHLY = "six_monthly", "Six-monthly"
    ANNUALLY = "annually", "Annually"
    AS_REQUIRED = "as_required", "As required"


#: The quarters of the financial year (1 = April–June … 4 = January–March) in which each frequency falls due.
QUARTERS_DUE = {
    Frequency.MONTHLY: (1, 2, 3, 4),
    Frequency.QUARTERLY: (1, 2, 3, 4),
    Frequency.SIX_MONTHLY: (2, 4),
    Frequency.ANNUALLY: (4,),
    Frequency.AS_REQUIRED: (),
}


class FrameworkQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date):
        """Framework versions whose period of effect includes ``day``."""
        return self.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day), effective_from__lte=day)


class Framework(models.Model):
    """One version of a set of standards and metrics taken from a source document."""

    code = models.SlugField(
        max_length=60,
        help_text="Stable identifier shared by every version of this framework, e.g. “nel-section-11-children”.",
    )
    version = models.CharField(max_length=20, help_text="For example “2019/20”. Unique with the code.")
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=60, help_text="Used in dashboards and table headings.")
    description = models.TextField(blank=True)
    source_document = models.CharField(max_length=200, help_text="Title of the document the framework comes from.")
    source_publisher = models.CharField(max_length=200, blank=True)
    source_date = models.CharField(max_length=40, blank=True, help_text="As the document gives it, e.g. “March 2019”.")
    source_section = models.CharField(max_length=120, blank=True, help_text="Where in the document, e.g. “4.0–4.1”.")
    effective_from = models.DateField(help_text="First day a return can be judged by this version.")
    effective_to = models.DateField(
        null=True, blank=True, help_text="Last day this version is in force; empty while it is the current one."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in which frameworks are listed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = FrameworkQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="framework_code_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="framework_effective_to_after_from",
                violation_error_message="The last day in force cannot be before the first.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.version})"

    def get_absolute_url(self):
        return reverse("standards:framework_detail", args=[self.pk])

    def clean(self):
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": "The last day in force cannot be before the first."})
        if not self.code or not self.effective_from:
            return
        overlapping = Framework.objects.filter(code=self.code).exclude(pk=self.pk)
        end = self.effective_to or datetime.date.max
        overlapping = overlapping.filter(
            Q(effective_to__isnull=True) | Q(effective_to__gte=self.effective_from), effective_from__lte=end
        )
        clash = overlapping.first()
        if clash:
            raise ValidationError(
                {
                    "effective_from": (
                        f"Version {clash.version} of this framework is already in force between "
                        f"{clash.effective_from:%d %B %Y} and "
                        f"{clash.effective_to:%d %B %Y}."
                        if clash.effective_to
                        else f"Version {clash.version} of this framework is already in force from "
                        f"{clash.effective_from:%d %B %Y} with no end date; end it before this one starts."
                    )
                }
            )

    @property
    def source_citation(self) -> str:
        parts = [self.source_document, self.source_publisher, self.source_date]
        citation = ", ".join(p for p in parts if p)
        return f"{citation}, section {self.source_section}" if self.source_section else citation


class Standard(models.Model):
    """A standard (or contract clause, or principle) of a framework, with its guidance."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="standards")
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        help_text="For a sub-clause (e.g. 32.2.1 under 32.2).",
    )
    number = models.CharField(max_length=20, help_text="As the source numbers it, e.g. “11” or “32.2.1”.")
    title = models.TextField(help_text="The standard as the source states it.")
    guidance = models.TextField(blank=True, help_text="Introductory guidance the source gives before its points.")
    position = models.PositiveIntegerField(default=0)
    source_reference = models.CharField(max_length=200, blank=True, help_text="Section(s) of the source document.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="standard_number_unique_in_framework"),
            models.CheckConstraint(condition=~Q(number=""), name="standard_number_not_empty"),
        ]

    def __str__(self):
        return f"{self.number}. {self.short_title}"

    def get_absolute_url(self):
        return reverse("standards:standard_detail", args=[self.pk])

    @property
    def short_title(self) -> str:
        return self.title if len(self.title) <= 90 else self.title[:87].rstrip() + "…"

    def clean(self):
        if self.parent_id and self.framework_id and self.parent.framework_id != self.framework_id:
            raise ValidationError({"parent": "A sub-clause must belong to the same framework as its parent."})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": "A standard cannot be its own parent."})


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", "working days"
    DAYS = "days", "days"
    WEEKS = "weeks", "weeks"
    MONTHS = "months", "months"
    YEARS = "years", "years"


class TimeRuleKind(models.TextChoices):
    WITHIN = "within", "Within (act no later than this after an event)"
    AT_LEAST_EVERY = "at_least_every", "At least every (review or repeat at this interval)"
    DURATION_OF_AT_LEAST = "duration_of_at_least", "When a duration reaches (applies after this long)"
    EVERY = "every", "Every (at this regular frequency)"


class AssuranceCriterion(models.Model):
    """One point of assurance expected under a standard, with its time rule where it has one."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="criteria")
    number = models.CharField(
        max_length=20, help_text="Position under the standard; “4.2” is the second sub-point of point 4."
    )
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)
    source_reference = models.CharField(max_length=200, blank=True)
    time_rule = models.CharField(
        max_length=200, blank=True, help_text="The time rule as the source words it, e.g. “within one working day”."
    )
    time_rule_kind = models.CharField(max_length=30, choices=TimeRuleKind.choices, blank=True)
    time_limit = models.PositiveIntegerField(null=True, blank=True)
    time_unit = models.CharField(max_length=20, choices=TimeUnit.choices, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["standard", "position", "id"]
        verbose_name_plural = "assurance criteria"
        constraints = [
            models.UniqueConstraint(fields=["standard", "number"], name="criterion_number_unique_in_standard"),
            models.CheckConstraint(
                condition=(
                    Q(time_rule_kind="", time_limit__isnull=True, time_unit="")
                    | (~Q(time_rule_kind="") & Q(time_limit__gte=1) & ~Q(time_unit="") & ~Q(time_rule=""))
                ),
                name="criterion_time_rule_complete",
                violation_error_message=(
                    "A time rule needs its wording, its kind, a number of 1 or more and a unit, or none of them."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.standard.number}.{self.number} {self.text[:60]}"

    @property
    def depth(self) -> int:
        return self.number.count(".")

    @property
    def time_rule_summary(self) -> str:
        if not self.time_rule_kind:
            return ""
        unit = self.get_time_unit_display()
        if self.time_limit == 1:
            unit = unit.rstrip("s")
        return f"{self.get_time_rule_kind_display().split(' (')[0]} {self.time_limit} {unit}"

    def clean(self):
        parts = [bool(self.time_rule_kind), self.time_limit is not None, bool(self.time_unit)]
        if any(parts) and not all(parts):
            raise ValidationError(
                {"time_rule_kind": "A time rule needs its kind, a number and a unit, or none of them."}
            )
        if all(parts) and not self.time_rule.strip():
            raise ValidationError({"time_rule": "Give the time rule in the source's words."})


class MetricQuerySet(models.QuerySet):
    def applicable_to(self, provider_type_code: str, service_codes):
        """Metrics that apply to a provider of this type running these services."""
        service_codes = list(service_codes)
        return (
            self.filter(Q(provider_types__isnull=True) | Q(provider_types=provider_type_code))
            .filter(Q(services__isnull=True) | Q(services__in=service_codes))
            .distinct()
        )


class Metric(models.Model):
    """A requirement a provider answers in a return: its kind, frequency, applicability and thresholds."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="metrics")
    standard = models.ForeignKey(
        Standard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="metrics",
        help_text="The standard this metric evidences, if any.",
    )
    code = models.CharField(
        max_length=40,
        help_text="Short identifier, unique in its framework version, e.g. “S11-11-TRAINING”.",
    )
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, help_text="The quality requirement as the source words it.")
    group = models.CharField(max_length=120, blank=True, help_text="Heading the metric is listed under.")
    kind = models.CharField(max_length=20, choices=RequirementKind.choices)
    position = models.PositiveIntegerField(default=0)
    threshold_as_written = models.TextField(blank=True, help_text="The source's threshold column, word for word.")
    method_of_measurement = models.TextField(blank=True, help_text="The source's method of measurement.")
    frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.QUARTERLY)
    frequency_as_written = models.CharField(
        max_length=200, blank=True, help_text="The source's reporting frequency, word for word (empty if none)."
    )
    provider_types = models.ManyToManyField(
        ProviderType, blank=True, related_name="metrics", help_text="Leave empty if it applies to every type."
    )
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="metrics",
        help_text="Leave empty if it applies whatever services the provider runs.",
    )
    numerator_label = models.CharField(max_length=200, blank=True, help_text="Percentages: what is counted.")
    denominator_label = models.CharField(max_length=200, blank=True, help_text="Percentages: out of what.")
    sample_size = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Audit samples: records to review."
    )
    review_interval_months = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Policies: the longest time allowed between reviews.",
    )
    higher_is_better = models.BooleanField(
        default=True, help_text="Direction of a good trend; thresholds are met at or above their value."
    )
    source_reference = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords(m2m_fields=[provider_types, services])
    objects = MetricQuerySet.as_manager()

    class Meta:
        ordering = ["framework", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="metric_code_unique_in_framework"),
            models.CheckConstraint(condition=~Q(code=""), name="metric_code_not_empty"),
            models.CheckConstraint(condition=Q(kind__in=RequirementKind.values), name="metric_kind_known"),
            models.CheckConstraint(
                condition=Q(sample_size__isnull=True) | Q(kind=RequirementKind.AUDIT, sample_size__gte=1),
                name="metric_sample_size_only_for_audits",
            ),
            models.CheckConstraint(
                condition=Q(review_interval_months__isnull=True)
                | Q(kind=RequirementKind.POLICY, review_interval_months__gte=1),
                name="metric_review_interval_only_for_policies",
            ),
        ]

    def __str__(self):
        return f"{self.code}: {self.title}"

    def get_absolute_url(self):
        return reverse("standards:metric_detail", args=[self.pk])

    @property
    def quarters_due(self) -> tuple[int, ...]:
        return QUARTERS_DUE[Frequency(self.frequency)]

    @property
    def has_thresholds(self) -> bool:
        return self.kind in KINDS_WITH_THRESHOLDS

    def threshold_for(self, provider_type_code: str | None):
        """The threshold in force for a provider type: its own, else the one for every type, else None.

        Uses prefetched thresholds when they are there, so a page listing many metrics asks no more queries.
        """
        default = None
        for threshold in self.thresholds.all():
            if threshold.provider_type_id == provider_type_code and provider_type_code is not None:
                return threshold
            if threshold.provider_type_id is None:
                default = threshold
        return default

    @property
    def answer_labels(self) -> dict[str, str]:
        """What each answer field is called on the return's form, for messages that name it."""
        return answer_labels(self.numerator_label, self.denominator_label)

    def definition(self, threshold_count: int | None = None) -> MetricDefinition:
        if threshold_count is None:
            threshold_count = self.thresholds.count() if self.pk else 0
        return MetricDefinition(
            kind=self.kind,
            threshold_count=threshold_count,
            numerator_label=self.numerator_label,
            denominator_label=self.denominator_label,
            sample_size=self.sample_size,
            review_interval_months=self.review_interval_months,
            higher_is_better=self.higher_is_better,
        )

    def clean(self):
        if self.standard_id and self.framework_id and self.standard.framework_id != self.framework_id:
            raise ValidationError({"standard": "Choose a standard of the same framework version."})
        errors = definition_errors(self.definition())
        errors.pop("thresholds", None)  # checked with the thresholds themselves, which may be changing too
        if errors:
            raise ValidationError(errors)


class Threshold(models.Model):
    """Where green starts and amber starts for a metric, for one provider type or for every type."""

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="thresholds")
    provider_type = models.ForeignKey(
        ProviderType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="thresholds",
        help_text="Leave empty for the threshold that applies to every type without one of its own.",
    )
    green_from = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="The threshold: a percentage at or above it is green.",
    )
    amber_from = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Bottom of the tolerance band: from here up to the threshold is amber, below it red.",
    )
    as_written = models.CharField(max_length=300, blank=True, help_text="The threshold as the source words it.")
    note = models.TextField(blank=True, help_text="A condition or comment, e.g. “first six months of the year”.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["metric", "provider_type__position"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "provider_type"], name="threshold_one_per_provider_type"),
            models.UniqueConstraint(
                fields=["metric"],
                condition=Q(provider_type__isnull=True),
                name="threshold_one_default_per_metric",
            ),
            models.CheckConstraint(
                condition=Q(green_from__gte=0, green_from__lte=100),
                name="threshold_green_within_0_100",
                violation_error_message="The threshold must be a percentage from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(amber_from__gte=0, amber_from__lte=models.F("green_from")),
                name="threshold_amber_below_green",
                violation_error_message="Amber must start at 0 or more and no higher than the threshold.",
            ),
        ]

    def __str__(self):
        who = self.provider_type.name if self.provider_type_id else "Every provider type"
        return f"{who}: green from {self.green_from:g}%, amber from {self.amber_from:g}%"

    def clean(self):
        if self.green_from is not None and self.amber_from is not None and self.amber_from > self.green_from:
            raise ValidationError({"amber_from": "Amber must start at or below the threshold."})


class SourceNoteKind(models.TextChoices):
    INCONSISTENCY = "inconsistency", "The source contradicts itself"
    LOST_TEXT = "lost_text", "Text lost from the source"
    MISSING_REFERENCE = "missing_reference", "Refers to something the source does not show"
    INTERPRETATION = "interpretation", "How the catalogue reads the source"


class SourceNote(models.Model):
    """A visible note where the source document is inconsistent, lost text or needed reading."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="source_notes")
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, null=True, blank=True, related_name="source_notes")
    criterion = models.ForeignKey(
        AssuranceCriterion, on_delete=models.CASCADE, null=True, blank=True, related_name="source_notes"
    )
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, null=True, blank=True, related_name="source_notes")
    kind = models.CharField(max_length=30, choices=SourceNoteKind.choices)
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(standard__isnull=True, criterion__isnull=True)
                    | Q(standard__isnull=True, metric__isnull=True)
                    | Q(criterion__isnull=True, metric__isnull=True)
                ),
                name="source_note_on_one_item",
                violation_error_message="A note belongs to the framework or to one standard, criterion or metric.",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="source_note_text_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:80]}"

    @property
    def subject(self):
        return self.metric or self.criterion or self.standard or self.framework


class MappingKind(models.TextChoices):
    SAME_MEASURE = "same_measure", "Same measure as"
    EVIDENCE_TOWARDS = "evidence_towards", "Evidence towards"


def _one_of(*fields: str) -> Q:
    """Exactly one of ``fields`` is set."""
    return functools.reduce(
        operator.or_,
        (Q(**{f"{name}__isnull": name != chosen for name in fields}) for chosen in fields),
    )


#: The framework of each item a mapping can link, as a lookup from the mapping.
MAPPED_FRAMEWORKS = (
    "source_metric__framework",
    "source_criterion__standard__framework",
    "target_metric__framework",
    "target_criterion__standard__framework",
    "target_standard__framework",
)


class MappingQuerySet(models.QuerySet):
    def with_an_item_in(self, **framework) -> MappingQuerySet:
        """Mappings with an item, at either end, in the framework versions the lookup names: ``pk=12``, ``code=…``."""
        found = Q()
        for path in MAPPED_FRAMEWORKS:
            found |= Q(**{f"{path}__{lookup}": value for lookup, value in framework.items()})
        return self.filter(found)


class Mapping(models.Model):
    """One item of a framework declared the same measure as another framework's, or evidence towards its standard.

    The source is a metric or an assurance criterion. A *same measure* mapping links it to an item of the same sort
    (metric to metric, criterion to criterion) that counts the same people in the same way, so that a provider can
    be asked it once; an *evidence towards* mapping links it to a standard of another framework that it helps
    evidence. Items belong to framework versions, so a mapping is in force only while both versions are
    (:func:`standards.selectors.mappings_in_force`). The catalogue document of the source's framework holds it.
    """

    kind = models.CharField(max_length=20, choices=MappingKind.choices)
    source_metric = models.ForeignKey(
        Metric, on_delete=models.CASCADE, null=True, blank=True, related_name="source_mappings"
    )
    source_criterion = models.ForeignKey(
        AssuranceCriterion, on_delete=models.CASCADE, null=True, blank=True, related_name="source_mappings"
    )
    target_metric = models.ForeignKey(
        Metric,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="target_mappings",
        help_text="For a same measure: the other framework's metric.",
    )
    target_criterion = models.ForeignKey(
        AssuranceCriterion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="target_mappings",
        help_text="For a same measure: the other framework's point of assurance.",
    )
    target_standard = models.ForeignKey(
        Standard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_mappings",
        help_text="For evidence towards: the other framework's standard.",
    )
    note = models.TextField(
        help_text="Why the two are linked, citing both sources (document and section or metric row)."
    )
    position = models.PositiveIntegerField(default=0, help_text="Order in the source framework's document.")

    history = HistoricalRecords()
    objects = MappingQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MappingKind.values), name="mapping_kind_known"),
            models.CheckConstraint(
                condition=_one_of("source_metric", "source_criterion"),
                name="mapping_one_source",
                violation_error_message="A mapping starts from one metric or one point of assurance.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=MappingKind.SAME_MEASURE,
                        source_metric__isnull=False,
                        target_metric__isnull=False,
                        target_criterion__isnull=True,
                        target_standard__isnull=True,
                    )
                    | Q(
                        kind=MappingKind.SAME_MEASURE,
                        source_criterion__isnull=False,
                        target_criterion__isnull=False,
                        target_metric__isnull=True,
                        target_standard__isnull=True,
                    )
                    | Q(
                        kind=MappingKind.EVIDENCE_TOWARDS,
                        target_standard__isnull=False,
                        target_metric__isnull=True,
                        target_criterion__isnull=True,
                    )
                ),
                name="mapping_target_fits_kind",
                violation_error_message=(
                    "A same measure links a metric to a metric or a point to a point; evidence towards links to a "
                    "standard."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(source_metric=models.F("target_metric"))
                | Q(source_metric__isnull=True)
                | Q(target_metric__isnull=True),
                name="mapping_metric_not_to_itself",
                violation_error_message="A metric cannot be mapped to itself.",
            ),
            models.CheckConstraint(
                condition=~Q(source_criterion=models.F("target_criterion"))
                | Q(source_criterion__isnull=True)
                | Q(target_criterion__isnull=True),
                name="mapping_criterion_not_to_itself",
                violation_error_message="A point of assurance cannot be mapped to itself.",
            ),
            # A same measure is the same either way round, so a pair is held once whichever item is the source.
            models.UniqueConstraint(
                Least("source_metric", "target_metric"),
                Greatest("source_metric", "target_metric"),
                condition=Q(source_metric__isnull=False, target_metric__isnull=False),
                name="mapping_metric_pair_unique",
                violation_error_message="These two metrics are already mapped.",
            ),
            models.UniqueConstraint(
                Least("source_criterion", "target_criterion"),
                Greatest("source_criterion", "target_criterion"),
                condition=Q(source_criterion__isnull=False, target_criterion__isnull=False),
                name="mapping_criterion_pair_unique",
                violation_error_message="These two points of assurance are already mapped.",
            ),
            models.UniqueConstraint(
                fields=["source_metric", "target_standard"],
                name="mapping_metric_evidence_unique",
                violation_error_message="This metric is already mapped to this standard.",
            ),
            models.UniqueConstraint(
                fields=["source_criterion", "target_standard"],
                name="mapping_criterion_evidence_unique",
                violation_error_message="This point of assurance is already mapped to this standard.",
            ),
            models.CheckConstraint(
                condition=~Q(note=""),
                name="mapping_note_not_empty",
                violation_error_message="Give the note citing both sources.",
            ),
        ]

    def __str__(self):
        def named(item):
            if item is None:
                return "nothing"
            framework = framework_of(item)
            return f"{item_label(item)} of {framework.short_name} {framework.version}"

        return f"{named(self.source)} — {self.get_kind_display().lower()} {named(self.target)}"

    @property
    def source(self):
        return self.source_metric or self.source_criterion

    @property
    def target(self):
        return self.target_metric or self.target_criterion or self.target_standard

    def clean(self):
        problems = mapping_problems(self.kind, self.source, self.target)
        if problems:
            raise ValidationError(problems)


def framework_of(item) -> Framework:
    """The framework version a metric, standard or assurance criterion belongs to."""
    return item.standard.framework if isinstance(item, AssuranceCriterion) else item.framework


def item_label(item) -> str:
    """An item as a mapping names it: “metric S11-11-TRAINING”, “point 4.1 of standard 10”, “standard 10”."""
    if item is None:
        return "nothing"
    if isinstance(item, Metric):
        return f"metric “{item.code}”"
    if isinstance(item, AssuranceCriterion):
        return f"point {item.number} of standard {item.standard.number}"
    return f"standard {item.number}"


def _words(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".;:")


def same_measure_problems(source: Metric, target: Metric) -> list[str]:
    """Why two metrics cannot be asked once as the same measure (empty when they can).

    They must be of the same kind; percentages must count out of the same people (their denominators worded
    alike, ignoring case, spacing and a final full stop); audits must sample the same number of records where both
    say; counts must agree which way is better. Thresholds may differ: each framework judges the answer by its own.
    """
    if source.kind != target.kind:
        return [
            f"{item_label(source)} is of the kind “{source.kind.replace('_', ' ')}” and {item_label(target)} of "
            f"“{target.kind.replace('_', ' ')}”; a same measure must be of the same kind."
        ]
    problems = []
    if source.kind == RequirementKind.PERCENTAGE and _words(source.denominator_label) != _words(
        target.denominator_label
    ):
        problems.append(
            f"{item_label(source)} counts out of “{source.denominator_label}” and {item_label(target)} out of "
            f"“{target.denominator_label}”; a same measure counts out of the same people (word the denominators "
            "alike if they are), otherwise map it as evidence towards the standard."
        )
    if (
        source.kind == RequirementKind.AUDIT
        and source.sample_size
        and target.sample_size
        and source.sample_size != target.sample_size
    ):
        problems.append(
            f"{item_label(source)} samples {source.sample_size} records and {item_label(target)} "
            f"{target.sample_size}; a same measure samples the same number."
        )
    if source.kind == RequirementKind.COUNT and source.higher_is_better != target.higher_is_better:
        problems.append(f"{item_label(source)} and {item_label(target)} disagree which way is better.")
    return problems


def mapping_problems(kind: str, source, target) -> list[str]:
    """Everything wrong with a mapping of ``kind`` from ``source`` to ``target``, in plain English.

    The one place mappings are validated: admin (through :meth:`Mapping.clean`) and the catalogue loader both call
    it. The database constraints hold the rest (one source, a target that fits the kind, no pair twice).
    """
    if source is None or target is None:
        return ["Choose the metric or point of assurance it starts from and what it maps to."]
    if kind == MappingKind.SAME_MEASURE:
        if isinstance(target, Standard) or type(source) is not type(target):
            return ["A same measure links a metric to another framework's metric, or a point to a point."]
    elif kind == MappingKind.EVIDENCE_TOWARDS:
        if not isinstance(target, Standard):
            return ["Evidence towards links to another framework's standard."]
    else:
        return [f"“{kind}” is not a kind of mapping."]
    if isinstance(source, Standard):
        return ["A mapping starts from a metric or a point of assurance, not a standard."]
    source_framework, target_framework = framework_of(source), framework_of(target)
    if source_framework.code == target_framework.code:
        return [
            f"{item_label(source)} and {item_label(target)} are both of {source_framework.code}; a mapping links "
            "two different frameworks."
        ]
    if kind == MappingKind.SAME_MEASURE and isinstance(source, Metric):
        return same_measure_problems(source, target)
    return []
