"""Read-only serializers of the catalogue for the REST API.

They read only what :mod:`standards.selectors` prefetches, so a list or a framework in full costs a fixed
number of queries.
"""

from __future__ import annotations

from rest_framework import serializers

from .models import (
    AssuranceCriterion,
    Framework,
    Mapping,
    Metric,
    SourceNote,
    Standard,
    Threshold,
    framework_of,
)


class SourceNoteSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = SourceNote
        fields = ["kind", "kind_display", "text"]


class TimeRuleSerializer(serializers.Serializer):
    text = serializers.CharField(source="time_rule")
    kind = serializers.CharField(source="time_rule_kind")
    limit = serializers.IntegerField(source="time_limit")
    unit = serializers.CharField(source="time_unit")
    summary = serializers.CharField(source="time_rule_summary")


class AssuranceCriterionSerializer(serializers.ModelSerializer):
    time_rule = serializers.SerializerMethodField()
    notes = SourceNoteSerializer(source="source_notes", many=True, read_only=True)

    class Meta:
        model = AssuranceCriterion
        fields = ["number", "text", "source_reference", "time_rule", "notes"]

    def get_time_rule(self, criterion) -> dict | None:
        return TimeRuleSerializer(criterion).data if criterion.time_rule_kind else None


class ThresholdSerializer(serializers.ModelSerializer):
    provider_type = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Threshold
        fields = ["provider_type", "green_from", "amber_from", "as_written", "note"]


class MetricSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="metric-detail")
    framework = serializers.PrimaryKeyRelatedField(read_only=True)
    standard = serializers.PrimaryKeyRelatedField(read_only=True)
    provider_types = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    thresholds = ThresholdSerializer(many=True, read_only=True)
    notes = SourceNoteSerializer(source="source_notes", many=True, read_only=True)

    class Meta:
        model = Metric
        fields = [
            "id", "url", "framework", "standard", "code", "title", "group", "kind", "description",
            "threshold_as_written", "method_of_measurement", "frequency", "frequency_as_written",
            "provider_types", "services", "numerator_label", "denominator_label", "sample_size",
            "review_interval_months", "higher_is_better", "source_reference", "thresholds", "notes",
        ]  # fmt: skip


class StandardSerializer(serializers.ModelSerializer):
    """A standard with its criteria and notes; ``parent`` is the id of the standard it is a sub-clause of."""

    url = serializers.HyperlinkedIdentityField(view_name="standard-detail")
    framework = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    criteria = AssuranceCriterionSerializer(many=True, read_only=True)
    notes = SourceNoteSerializer(source="source_notes", many=True, read_only=True)

    class Meta:
        model = Standard
        fields = [
            "id", "url", "framework", "parent", "number", "title", "guidance", "source_reference",
            "criteria", "notes",
        ]  # fmt: skip


class StandardWithMetricsSerializer(StandardSerializer):
    """A standard on its own, with the metrics that evidence it."""

    metrics = MetricSerializer(many=True, read_only=True)

    class Meta(StandardSerializer.Meta):
        fields = [*StandardSerializer.Meta.fields, "metrics"]


class FrameworkSourceSerializer(serializers.Serializer):
    document = serializers.CharField(source="source_document")
    publisher = serializers.CharField(source="source_publisher")
    date = serializers.CharField(source="source_date")
    section = serializers.CharField(source="source_section")
    citation = serializers.CharField(source="source_citation")


class FrameworkSerializer(serializers.ModelSerializer):
    """A framework version as listed, with how many standards and metrics it holds."""

    url = serializers.HyperlinkedIdentityField(view_name="framework-detail")
    export_url = serializers.HyperlinkedIdentityField(view_name="framework-export")
    source = FrameworkSourceSerializer(source="*", read_only=True)
    standard_count = serializers.IntegerField(read_only=True)
    metric_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Framework
        fields = [
            "id", "url", "export_url", "code", "version", "name", "short_name", "source",
            "effective_from", "effective_to", "position", "standard_count", "metric_count",
        ]  # fmt: skip


class FrameworkDetailSerializer(FrameworkSerializer):
    """A framework version in full: its notes, its standards with criteria, its metrics with thresholds."""

    notes = SourceNoteSerializer(source="framework_notes", many=True, read_only=True)
    standards = StandardSerializer(many=True, read_only=True)
    metrics = MetricSerializer(many=True, read_only=True)
    standard_count = serializers.SerializerMethodField()
    metric_count = serializers.SerializerMethodField()

    class Meta(FrameworkSerializer.Meta):
        fields = [*FrameworkSerializer.Meta.fields, "description", "notes", "standards", "metrics"]

    def get_standard_count(self, framework) -> int:
        return len(framework.standards.all())

    def get_metric_count(self, framework) -> int:
        return len(framework.metrics.all())


def _mapped_item(item) -> dict | None:
    """A metric, point of assurance or standard at either end of a mapping, with the framework version it is of."""
    if item is None:
        return None
    framework = framework_of(item)
    found = {"framework": framework.code, "framework_version": framework.version, "framework_id": framework.pk}
    if isinstance(item, Metric):
        return {"type": "metric", "id": item.pk, "code": item.code, "title": item.title, **found}
    if isinstance(item, AssuranceCriterion):
        return {
            "type": "criterion", "id": item.pk, "number": item.number, "standard": item.standard.number,
            "text": item.text, **found,
        }  # fmt: skip
    return {"type": "standard", "id": item.pk, "number": item.number, "title": item.title, **found}


class MappingSerializer(serializers.ModelSerializer):
    """A mapping between two frameworks' items: *same measure* (asked once) or *evidence towards* a standard."""

    url = serializers.HyperlinkedIdentityField(view_name="mapping-detail")
    kind_display = serializers.CharField(source="get_kind_display")
    source = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()

    class Meta:
        model = Mapping
        fields = ["id", "url", "kind", "kind_display", "source", "target", "note"]

    def get_source(self, mapping) -> dict | None:
        return _mapped_item(mapping.source)

    def get_target(self, mapping) -> dict | None:
        return _mapped_item(mapping.target)
