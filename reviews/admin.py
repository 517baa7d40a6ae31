"""Django admin for stored RAG runs: read-only records of what Celery computed, with their explanations."""

from django.contrib import admin

from .models import AnswerStatus, FrameworkStatus, RagRun, StandardStatus


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerStatusInline(ReadOnlyInline):
    model = AnswerStatus
    fields = ["metric", "colour", "value", "threshold", "rule", "direction"]


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
