"""Django admin for stored RAG runs and review records: read-only, because every change goes through a service.

RAG runs are what Celery computed, with their explanations; recompute jobs show how far along the computation of
many returns is (a threshold changed, the sweep, the command); reviews, comments, acceptances, follow-ups, overdue
flags and reminders are records of what people did, each with its change history where it has one.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from standards.admin_labels import LabelledFieldsAdmin, LabelledTabularInline

from .models import (
    ActionFollowUp,
    AnswerComment,
    AnswerReview,
    AnswerStatus,
    AssuranceReport,
    FrameworkStatus,
    KeyMeasure,
    OverdueFlag,
    RagRun,
    RecomputeChunk,
    RecomputeJob,
    Reminder,
    ReportPart,
    ReturnAcceptance,
    StandardStatus,
)


class ReadOnlyInline(LabelledTabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerStatusInline(ReadOnlyInline):
    model = AnswerStatus
    fields = ["metric", "colour", "computed_colour", "review_decision", "value", "threshold", "rule", "direction"]


class StandardStatusInline(ReadOnlyInline):
    model = StandardStatus
    fields = ["standard", "colour", "explanation"]


class FrameworkStatusInline(ReadOnlyInline):
    model = FrameworkStatus
    fields = ["framework", "colour", "explanation"]


@admin.register(RagRun)
class RagRunAdmin(admin.ModelAdmin):
    list_display = ["provider_return", "colour", "is_current", "computed_at"]
    list_filter = ["is_current", "colour", "provider_return__period"]
    search_fields = ["provider_return__provider__name", "provider_return__provider__ods_code"]
    list_select_related = ["provider_return__provider", "provider_return__period"]
    inlines = [FrameworkStatusInline, StandardStatusInline, AnswerStatusInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in RagRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyRecordAdmin(SimpleHistoryAdmin):
    """A record people make through the app's services; admin shows it and its history, never changes it."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AnswerReview)
class AnswerReviewAdmin(ReadOnlyRecordAdmin):
    list_display = ["provider_return", "metric", "decision", "colour", "reviewed_by", "reviewed_at"]
    list_filter = ["decision", "colour", "provider_return__period"]
    search_fields = ["provider_return__provider__name", "metric__code", "reason"]
    list_select_related = ["provider_return__provider", "provider_return__period", "metric", "reviewed_by"]


@admin.register(AnswerComment)
class AnswerCommentAdmin(ReadOnlyRecordAdmin):
    list_display = ["provider_return", "metric", "author", "created_at"]
    list_filter = ["provider_return__period"]
    search_fields = ["provider_return__provider__name", "metric__code", "text"]
    list_select_related = ["provider_return__provider", "provider_return__period", "metric", "author"]


@admin.register(ReturnAcceptance)
class ReturnAcceptanceAdmin(ReadOnlyRecordAdmin):
    list_display = ["provider_return", "submission", "accepted_by", "accepted_at"]
    list_filter = ["provider_return__period"]
    search_fields = ["provider_return__provider__name"]
    list_select_related = ["provider_return__provider", "provider_return__period", "submission", "accepted_by"]


@admin.register(ActionFollowUp)
class ActionFollowUpAdmin(ReadOnlyRecordAdmin):
    list_display = ["item", "is_done", "done_on", "updated_by", "updated_at"]
    list_filter = ["is_done"]
    search_fields = ["item__action", "item__owner", "item__answer__provider_return__provider__name"]
    list_select_related = ["item", "updated_by"]


@admin.register(OverdueFlag)
class OverdueFlagAdmin(ReadOnlyRecordAdmin):
    list_display = ["provider", "period", "found_on", "found_as"]
    list_filter = ["period", "found_as"]
    search_fields = ["provider__name", "provider__ods_code"]
    list_select_related = ["provider", "period"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyRecordAdmin):
    list_display = ["provider", "period", "sent_by", "sent_at"]
    list_filter = ["period"]
    search_fields = ["provider__name", "provider__ods_code"]
    list_select_related = ["provider", "period", "sent_by"]


# Assurance reports.


@admin.register(AssuranceReport)
class AssuranceReportAdmin(ReadOnlyRecordAdmin):
    """Reports as they were asked for and made: never edited (a finished report is never changed)."""

    list_display = ["__str__", "state", "requested_by", "requested_at", "finished_at", "page_count", "size"]
    list_filter = ["state", "kind", "period"]
    search_fields = ["commissioner__name", "provider__name", "requested_by__username"]
    list_select_related = ["commissioner", "provider", "period", "requested_by"]
    exclude = ["snapshot"]  # the data the PDF was drawn from: large, and in the PDF itself

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "snapshot"]

    date_hierarchy = "requested_at"


@admin.register(ReportPart)
class ReportPartAdmin(admin.ModelAdmin):
    """The parts of committee packs as they were made: the front section, the annex and each provider's appendix;
    never edited (a part is made by its job, and reused while its snapshot is unchanged)."""

    list_display = ["__str__", "kind", "state", "size", "page_count", "attempts", "reused_from", "finished_at"]
    list_filter = ["state", "kind"]
    search_fields = ["provider__name", "snapshot_sha256", "report__commissioner__name"]
    list_select_related = ["provider", "report"]
    raw_id_fields = ["report", "provider", "reused_from"]
    exclude = ["snapshot"]  # the data the part was drawn from: large, and in its file

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "snapshot"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(KeyMeasure)
class KeyMeasureAdmin(LabelledFieldsAdmin, SimpleHistoryAdmin):
    """The metrics whose trends committee reports chart, by code, in order."""

    list_display = ["heading", "metric_code", "position"]
    list_editable = ["position"]
    search_fields = ["heading", "metric_code"]


# Recompute jobs.


class RecomputeChunkInline(ReadOnlyInline):
    model = RecomputeChunk
    fields = ["number", "state", "return_count", "sent_at", "done_at"]
    readonly_fields = fields
    verbose_name_plural = "Chunks"

    @admin.display(description="Returns")
    def return_count(self, obj):
        return len(obj.return_ids)


@admin.register(RecomputeJob)
class RecomputeJobAdmin(admin.ModelAdmin):
    """The progress of recompute jobs, read-only: chunks done of total, returns done of total, failures, who, when.

    The page of a job not yet finished updates itself every few seconds (static/js/auto-refresh.js, stoppable).
    """

    list_display = ["pk", "description", "state", "chunks", "returns", "returns_failed", "created_at", "finished_at"]
    list_display_links = ["pk", "description"]
    list_filter = ["state", "reason"]
    search_fields = ["description", "requested_by__username"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"
    fields = [
        "description", "reason", "framework", "requested_by", "created_at", "state", "progress", "chunks", "returns",
        "returns_changed", "returns_failed", "finished_at", "failures",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [RecomputeChunkInline]
    change_form_template = "admin/reviews/recomputejob/change_form.html"

    @admin.display(description="Chunks done")
    def chunks(self, obj):
        return f"{obj.chunks_done} of {obj.chunks_total}"

    @admin.display(description="Returns done")
    def returns(self, obj):
        return f"{obj.returns_done} of {obj.returns_total}"

    @admin.display(description="How far along")
    def progress(self, obj):
        done = obj.returns_done + obj.returns_failed
        percent = round(100 * done / obj.returns_total) if obj.returns_total else 100
        failed = f", {obj.returns_failed} failed" if obj.returns_failed else ""
        return format_html(
            '<progress max="{}" value="{}">{}%</progress> {}% ({} of {} returns judged{})',
            obj.returns_total, done, percent, percent, obj.returns_done, obj.returns_total, failed,
        )  # fmt: skip

    @admin.display(description="Failures")
    def failures(self, obj):
        failed = {}
        for chunk in obj.chunks.exclude(failures={}).order_by("number"):
            failed.update(chunk.failures)
        if not failed:
            return "None"
        from returns.models import Return

        named = Return.objects.select_related("provider", "period").in_bulk([int(pk) for pk in failed])
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {}</li>", ((named.get(int(pk), f"Return {pk}"), reason) for pk, reason in failed.items())
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
