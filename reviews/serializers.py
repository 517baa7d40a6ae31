"""Serializers of the review API: the dashboard, completeness, trends, a return's review and the review acts.

Reading is plain serialization of what :mod:`reviews.selectors` returns. Writing goes through
:mod:`reviews.services`: the input serializers here only read the request; the services judge it and word every
refusal, so a form, the API and the admin say the same thing.
"""

from __future__ import annotations

from rest_framework import serializers

from returns.serializers import PeriodSummarySerializer, PersonSerializer


class CellSerializer(serializers.Serializer):
    colour = serializers.CharField()
    label = serializers.CharField()
    explanation = serializers.CharField()


class StateSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    explanation = serializers.CharField()


class FrameworkColumnSerializer(serializers.Serializer):
    code = serializers.CharField()
    short_name = serializers.CharField()
    name = serializers.CharField()


class ColourCountsSerializer(serializers.Serializer):
    red = serializers.IntegerField()
    amber = serializers.IntegerField()
    green = serializers.IntegerField()


class FrameworkCellSerializer(serializers.Serializer):
    colour = serializers.CharField(help_text="red, amber, green, none, or not_asked (no answer in the framework)")
    label = serializers.CharField()
    counts = ColourCountsSerializer()
    answers = serializers.IntegerField(help_text="Every answer in the framework, coloured or not.")
    explanation = serializers.CharField()


class DashboardRowSerializer(serializers.Serializer):
    provider_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    ods_code = serializers.CharField()
    provider_type = serializers.CharField()
    return_id = serializers.IntegerField(allow_null=True)
    state = StateSerializer()
    standing = serializers.CharField(help_text="The overall status: overdue, red, amber, green, none, …")
    overall = CellSerializer()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Every answer by colour.")
    frameworks = serializers.DictField(
        child=FrameworkCellSerializer(), source="cells", help_text="By framework code; empty with no status yet."
    )


class ExceptionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    provider_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    return_id = serializers.IntegerField(allow_null=True)
    framework = serializers.CharField()
    metric_code = serializers.CharField()
    title = serializers.CharField()
    explanation = serializers.CharField()


class ExceptionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Red answers and overdue returns.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = ExceptionSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    """A page of the dashboard: DRF's page of providers (count, next, previous, results) with the period, the
    framework columns, the totals over every matching provider and a page of the exceptions."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    period = PeriodSummarySerializer()
    frameworks = FrameworkColumnSerializer(many=True)
    totals = serializers.DictField(child=serializers.IntegerField(), help_text="Matching providers by status.")
    framework_totals = serializers.DictField(child=ColourCountsSerializer(), help_text="Providers by worst colour.")
    exceptions = ExceptionPageSerializer()
    results = DashboardRowSerializer(many=True)


class RemindSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class CompletenessRowSerializer(serializers.Serializer):
    provider_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    ods_code = serializers.CharField()
    return_id = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()
    label = serializers.CharField()
    explanation = serializers.CharField()
    overdue = serializers.BooleanField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    remind = RemindSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    period_id = serializers.IntegerField()
    period = serializers.CharField()
    # The figure as shown, never more than is true (a percentage is rounded toward the side of its threshold).
    figure = serializers.DecimalField(
        source="shown_figure", max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    figure_text = serializers.CharField()
    value = serializers.CharField()
    colour = serializers.CharField()
    label = serializers.CharField()
    explanation = serializers.CharField()
    threshold = serializers.CharField()
    green_from = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)
    amber_from = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)


class TrendSerializer(serializers.Serializer):
    provider_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    metric_code = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField()
    points = TrendPointSerializer(many=True)


# A return's review.


class AnswerStatusSerializer(serializers.Serializer):
    metric = serializers.IntegerField(source="metric_id")
    code = serializers.CharField(source="metric.code")
    title = serializers.CharField(source="metric.title")
    colour = serializers.CharField()
    label = serializers.CharField(source="get_colour_display")
    computed_colour = serializers.CharField()
    review_decision = serializers.CharField()
    value = serializers.CharField()
    threshold = serializers.CharField()
    rule = serializers.CharField()
    direction = serializers.CharField()


class StandardStatusSerializer(serializers.Serializer):
    standard = serializers.IntegerField(source="standard_id")
    number = serializers.CharField(source="standard.number")
    colour = serializers.CharField()
    explanation = serializers.CharField()


class AnswerReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.IntegerField(source="metric_id")
    code = serializers.CharField(source="metric.code")
    decision = serializers.CharField()
    colour = serializers.CharField()
    reason = serializers.CharField()
    reviewed_by = PersonSerializer()
    reviewed_at = serializers.DateTimeField()
    submission = serializers.IntegerField(source="submission_id")


class AnswerCommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.IntegerField(source="metric_id")
    code = serializers.CharField(source="metric.code")
    author = PersonSerializer()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class AcceptanceSerializer(serializers.Serializer):
    submission = serializers.IntegerField(source="submission_id")
    accepted_by = PersonSerializer()
    accepted_at = serializers.DateTimeField()


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    colour = serializers.CharField()
    explanation = serializers.CharField()
    computed_at = serializers.DateTimeField()
    submission = serializers.IntegerField(source="submission_id")
    answers = AnswerStatusSerializer(many=True)
    standards = StandardStatusSerializer(many=True)


class ReturnReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="provider_return.pk")
    provider = serializers.CharField(source="provider_return.provider.name")
    period = serializers.CharField(source="provider_return.period.label")
    status = serializers.CharField(source="provider_return.status")
    run = RunSerializer(allow_null=True)
    reviews = AnswerReviewSerializer(many=True)
    comments = AnswerCommentSerializer(many=True)
    acceptance = AcceptanceSerializer(allow_null=True)


# Action plans.


class FollowUpSerializer(serializers.Serializer):
    is_done = serializers.BooleanField()
    done_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    updated_by = PersonSerializer()
    updated_at = serializers.DateTimeField()


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    state = serializers.CharField()
    provider_id = serializers.IntegerField(source="provider.pk")
    provider = serializers.CharField(source="provider.name")
    return_id = serializers.IntegerField(source="item.answer.provider_return_id")
    period = serializers.CharField(source="item.answer.provider_return.period.label")
    metric = serializers.CharField(source="item.answer.metric.code")
    action = serializers.CharField(source="item.action")
    owner = serializers.CharField(source="item.owner")
    due_on = serializers.DateField(source="item.due_on")
    follow_up = serializers.SerializerMethodField()

    def get_follow_up(self, due) -> dict | None:
        follow_up = getattr(due.item, "follow_up", None)
        return FollowUpSerializer(follow_up).data if follow_up is not None else None


# What the acts take, for the API's schema; the services judge the values and word every refusal.


class MetricRequestSerializer(serializers.Serializer):
    metric = serializers.IntegerField(help_text="The id of the metric whose answer this is about.")


class OverrideRequestSerializer(MetricRequestSerializer):
    colour = serializers.ChoiceField(choices=["red", "amber", "green"])
    reason = serializers.CharField()


class CommentRequestSerializer(MetricRequestSerializer):
    text = serializers.CharField()


class AcceptedSerializer(serializers.Serializer):
    submission = serializers.IntegerField()
    accepted_at = serializers.DateTimeField()


class FollowUpRequestSerializer(serializers.Serializer):
    done = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True)


class CompletenessSerializer(serializers.Serializer):
    period = serializers.CharField()
    deadline = serializers.DateField()
    providers = CompletenessRowSerializer(many=True)


class RemindRequestSerializer(serializers.Serializer):
    period = serializers.IntegerField(required=False, help_text="Empty for the latest period that has ended.")
    providers = serializers.ListField(child=serializers.IntegerField())


class ReminderSentSerializer(serializers.Serializer):
    provider = serializers.CharField()
    recipients = serializers.ListField(child=serializers.EmailField())
    sent_at = serializers.DateTimeField()


class RemindersSentSerializer(serializers.Serializer):
    sent = ReminderSentSerializer(many=True)
    skipped = serializers.DictField(child=serializers.CharField())
