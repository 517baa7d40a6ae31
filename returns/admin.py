"""Django admin for reporting periods and returns. Submissions are records and cannot be changed here."""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from standards.admin_labels import LabelledFieldsAdmin, LabelledTabularInline

from .models import ActionPlanItem, Answer, Evidence, ReportingPeriod, Return, RevisionRequest, Submission
from .services import reopen_period


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["label", "submission_deadline", "lock_date", "reopened_until", "locked_now"]
    list_filter = ["financial_year", "quarter"]
    fields = ["financial_year", "quarter", "submission_deadline", "lock_date", "reopened_until"]
    actions = ["reopen_for_a_week"]

    @admin.display(description="Locked now", boolean=True)
    def locked_now(self, obj):
        return obj.is_locked()

    @admin.action(description="Reopen for seven days (recorded in the period's history)")
    def reopen_for_a_week(self, request, queryset):
        until = timezone.localdate() + datetime.timedelta(days=7)
        for period in queryset:
            try:
                reopen_period(period, by=request.user, until=until)
            except (PermissionDenied, ValidationError) as refused:
                self.message_user(request, f"{period}: {refused}", messages.ERROR)
            else:
                self.message_user(request, f"{period} is open for changes until {until:%-d %B %Y}.", messages.SUCCESS)


class SubmissionInline(LabelledTabularInline):
    model = Submission
    extra = 0
    can_delete = False
    fields = ["number", "submitted_by", "submitted_at", "late"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Return)
class ReturnAdmin(SimpleHistoryAdmin):
    list_display = ["provider", "period", "status", "updated_at"]
    list_filter = ["status", "period", "provider__provider_type"]
    search_fields = ["provider__name", "provider__ods_code"]
    list_select_related = ["provider", "period"]
    readonly_fields = ["provider", "period", "created_at", "updated_at"]
    fields = ["provider", "period", "status", "created_at", "updated_at"]
    inlines = [SubmissionInline]

    def has_add_permission(self, request):
        return False


class ActionPlanItemInline(LabelledTabularInline):
    model = ActionPlanItem
    extra = 0


class EvidenceInline(LabelledTabularInline):
    model = Evidence
    extra = 0
    fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Answer)
class AnswerAdmin(LabelledFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["metric", "provider_return", "revision", "updated_by", "updated_at"]
    list_filter = ["metric__framework", "metric__kind", "provider_return__period"]
    search_fields = ["metric__code", "provider_return__provider__name"]
    list_select_related = ["metric", "provider_return__provider", "provider_return__period", "updated_by"]
    readonly_fields = ["provider_return", "metric", "revision", "updated_by", "updated_at"]
    inlines = [ActionPlanItemInline, EvidenceInline]

    def has_add_permission(self, request):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["provider_return", "number", "submitted_by", "submitted_at", "late"]
    list_filter = ["late", "provider_return__period"]
    search_fields = ["provider_return__provider__name"]
    list_select_related = ["provider_return__provider", "provider_return__period", "submitted_by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RevisionRequest)
class RevisionRequestAdmin(admin.ModelAdmin):
    list_display = ["provider_return", "requested_by", "requested_at"]
    list_select_related = ["provider_return__provider", "provider_return__period", "requested_by"]
    readonly_fields = ["provider_return", "submission", "requested_by", "requested_at", "comments"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
