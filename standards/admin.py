"""Django admin for the catalogue: frameworks, standards with their criteria, metrics with their thresholds.

Every model keeps its change history (django-simple-history): the History button on each change page lists who
changed what and when. Frameworks can be exported as a catalogue document, imported from one, and copied as
the next version for a new year.
"""

import datetime
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from assurance.admin_forms import show_refusal

from .admin_labels import LabelledTabularInline
from .catalogue import CatalogueImportError, export_framework, import_catalogue
from .kinds import definition_errors
from .management.commands.export_catalogue import document_text
from .models import (
    MAPPED_FRAMEWORKS,
    AssuranceCriterion,
    Framework,
    Mapping,
    Metric,
    ProviderType,
    Service,
    SourceNote,
    Standard,
    Threshold,
    framework_of,
    item_label,
)
from .services import create_next_version


class SourceNoteInline(LabelledTabularInline):
    model = SourceNote
    extra = 0
    fields = ["kind", "text", "position"]
    verbose_name = "note on the source document"
    verbose_name_plural = "notes on the source document"


class FrameworkNoteInline(SourceNoteInline):
    """Notes on the framework as a whole (not on one of its standards, criteria or metrics)."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(standard=None, criterion=None, metric=None)


class StandardNoteInline(SourceNoteInline):
    fk_name = "standard"


class MetricNoteInline(SourceNoteInline):
    fk_name = "metric"


class StandardInline(LabelledTabularInline):
    model = Standard
    extra = 0
    fields = ["number", "title", "parent", "position", "edit_link"]
    readonly_fields = ["edit_link"]
    show_change_link = True
    formfield_overrides = {Standard._meta.get_field("title"): {"widget": forms.Textarea(attrs={"rows": 2, "cols": 70})}}

    @admin.display(description="Criteria and notes")
    def edit_link(self, obj):
        if not obj.pk:
            return "Save first"
        return format_html('<a href="{}">Edit criteria</a>', reverse("admin:standards_standard_change", args=[obj.pk]))


class AssuranceCriterionInline(LabelledTabularInline):
    model = AssuranceCriterion
    extra = 0
    fields = ["number", "text", "time_rule", "time_rule_kind", "time_limit", "time_unit", "position"]
    formfield_overrides = {
        AssuranceCriterion._meta.get_field("text"): {"widget": forms.Textarea(attrs={"rows": 3, "cols": 60})}
    }


class ThresholdFormSet(BaseInlineFormSet):
    """Checks the thresholds against the metric's kind, which may be changing in the same save."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("green_from") is not None
        ]
        problems = definition_errors(self.instance.definition(threshold_count=len(kept)))
        for key in ("thresholds", "higher_is_better"):
            if key in problems:
                raise ValidationError(problems[key])
        types = [form.cleaned_data.get("provider_type") for form in kept]
        if len(types) != len(set(types)):
            raise ValidationError("Give each provider type at most one threshold, and at most one for every type.")


class ThresholdInline(LabelledTabularInline):
    model = Threshold
    formset = ThresholdFormSet
    extra = 0
    fields = ["provider_type", "green_from", "amber_from", "as_written", "note"]


@admin.register(Framework)
class FrameworkAdmin(SimpleHistoryAdmin):
    list_display = ["name", "version", "code", "effective_from", "effective_to", "standard_count", "metric_count"]
    list_filter = ["code", "source_publisher"]
    search_fields = ["name", "short_name", "code", "version", "description", "source_document"]
    ordering = ["position", "code", "-effective_from"]
    fieldsets = [
        (None, {"fields": ["code", "version", "name", "short_name", "description", "position"]}),
        ("Source", {"fields": ["source_document", "source_publisher", "source_date", "source_section"]}),
        ("In force", {"fields": ["effective_from", "effective_to"]}),
    ]
    inlines = [FrameworkNoteInline, StandardInline]
    actions = ["export_document", "make_next_version"]
    change_list_template = "admin/standards/framework/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(standard_total=Count("standards", distinct=True), metric_total=Count("metrics", distinct=True))
        )

    @admin.display(description="Standards", ordering="standard_total")
    def standard_count(self, obj):
        return obj.standard_total

    @admin.display(description="Metrics", ordering="metric_total")
    def metric_count(self, obj):
        return obj.metric_total

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="standards_framework_import",
            ),
        ] + super().get_urls()

    @admin.action(description="Export as a catalogue document (JSON)")
    def export_document(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one framework version to export.", messages.ERROR)
            return None
        framework = queryset.get()
        response = HttpResponse(
            document_text(export_framework(framework)), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{framework.code}-{framework.version.replace("/", "-")}.json"'
        )
        return response

    @admin.action(description="Make the next version (for a new year)", permissions=["add"])
    def make_next_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one framework version to copy.", messages.ERROR)
            return None
        framework = queryset.get()
        form = NextVersionForm(request.POST if "apply" in request.POST else None, framework=framework)
        if form.is_valid():
            try:
                new = create_next_version(
                    framework,
                    version=form.cleaned_data["version"],
                    effective_from=form.cleaned_data["effective_from"],
                    user=request.user,
                )
            except (ValidationError, PermissionDenied) as refused:
                show_refusal(form, refused)
            else:
                self.message_user(
                    request,
                    f"Version {new.version} made; version {framework.version} now ends on "
                    f"{framework.effective_to:%d %B %Y}. Edit the new version's thresholds for the new year.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:standards_framework_change", args=[new.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Make the next version of {framework.name}",
            "framework": framework,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/standards/framework/next_version.html", context)

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = ImportDocumentForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = import_catalogue(form.cleaned_data["document"], user=request.user)
            except CatalogueImportError as refused:
                for error in refused.errors:
                    form.add_error("document", error)
            else:
                fw = result.framework
                if result.created:
                    text = f"Imported {fw.name} ({fw.version})."
                elif result.changed:
                    text = f"Updated {fw.name} ({fw.version}): {result.changes} changes."
                else:
                    text = f"{fw.name} ({fw.version}) already matched the document; nothing changed."
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:standards_framework_change", args=[fw.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a catalogue document",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/standards/framework/import.html", context)


class NextVersionForm(forms.Form):
    version = forms.CharField(max_length=20, help_text="For example “2020/21”.")
    effective_from = forms.DateField(
        label="In force from", help_text="The first day of the new year, for example 2020-04-01."
    )

    def __init__(self, *args, framework, **kwargs):
        super().__init__(*args, **kwargs)
        year = max(framework.effective_from.year + 1, datetime.date.today().year)
        self.fields["effective_from"].initial = datetime.date(year, 4, 1)


class ImportDocumentForm(forms.Form):
    document = forms.FileField(
        label="Catalogue document",
        help_text="A JSON file exported from Safeguard Assure (one framework version). Nothing changes unless the "
        "whole document is valid; importing the same document again changes nothing.",
    )

    def clean_document(self):
        upload = self.cleaned_data["document"]
        if upload.size > 5 * 1024 * 1024:
            raise ValidationError("The file is larger than 5 MB; a catalogue document is much smaller.")
        try:
            return json.loads(upload.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValidationError("The file is not text in UTF-8; choose the .json file that was exported.") from exc
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc


@admin.register(Standard)
class StandardAdmin(SimpleHistoryAdmin):
    list_display = ["number", "short_title", "framework", "parent", "criterion_count"]
    list_display_links = ["number", "short_title"]
    list_filter = ["framework"]
    search_fields = ["number", "title", "guidance", "criteria__text", "framework__short_name"]
    list_select_related = ["framework", "parent"]
    autocomplete_fields = ["parent"]
    inlines = [AssuranceCriterionInline, StandardNoteInline]
    fields = ["framework", "number", "parent", "title", "guidance", "source_reference", "position"]

    def get_queryset(self, request):
        # Ordered explicitly: a default ordering does not order a grouped query, which the autocomplete pages.
        queryset = super().get_queryset(request).annotate(criterion_total=Count("criteria")).distinct()
        return queryset.order_by(*Standard._meta.ordering)

    @admin.display(description="Criteria", ordering="criterion_total")
    def criterion_count(self, obj):
        return obj.criterion_total

    def save_formset(self, request, form, formset, change):
        # Notes added on a standard's page belong to that standard's framework.
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, SourceNote):
                instance.framework = form.instance.framework
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(AssuranceCriterion)
class AssuranceCriterionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "standard", "time_rule"]
    list_filter = ["standard__framework", "time_rule_kind"]
    search_fields = ["text", "time_rule", "standard__title", "standard__number", "standard__framework__short_name"]
    list_select_related = ["standard", "standard__framework"]
    autocomplete_fields = ["standard"]


@admin.register(Metric)
class MetricAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "framework", "kind", "frequency", "thresholds_summary"]
    list_filter = ["framework", "kind", "frequency", "provider_types", "services", "group"]
    search_fields = ["code", "title", "description", "method_of_measurement", "threshold_as_written"]
    list_select_related = ["framework"]
    autocomplete_fields = ["standard"]
    filter_horizontal = ["provider_types", "services"]
    inlines = [ThresholdInline, MetricNoteInline]
    fieldsets = [
        (None, {"fields": ["framework", "standard", "code", "title", "group", "kind", "position"]}),
        (
            "As the source document words it",
            {"fields": ["description", "threshold_as_written", "method_of_measurement", "source_reference"]},
        ),
        ("When it is asked", {"fields": ["frequency", "frequency_as_written"]}),
        (
            "Who it applies to",
            {
                "fields": ["provider_types", "services"],
                "description": "Leave both empty for a metric every provider answers.",
            },
        ),
        (
            "What is asked",
            {
                "fields": [
                    "numerator_label",
                    "denominator_label",
                    "sample_size",
                    "review_interval_months",
                    "higher_is_better",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("thresholds__provider_type")

    @admin.display(description="Thresholds")
    def thresholds_summary(self, obj):
        parts = [
            f"{t.provider_type.name if t.provider_type_id else 'All'} {t.green_from:g}%" for t in obj.thresholds.all()
        ]
        return " · ".join(parts) or "—"

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, SourceNote):
                instance.framework = form.instance.framework
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(Threshold)
class ThresholdAdmin(SimpleHistoryAdmin):
    list_display = ["metric", "provider_type", "green_from", "amber_from", "as_written"]
    list_filter = ["provider_type", "metric__framework"]
    search_fields = ["metric__code", "metric__title", "as_written", "note"]
    list_select_related = ["metric", "provider_type"]
    autocomplete_fields = ["metric"]


@admin.register(SourceNote)
class SourceNoteAdmin(SimpleHistoryAdmin):
    list_display = ["kind", "text", "framework", "standard", "metric"]
    list_filter = ["kind", "framework"]
    search_fields = ["text"]
    list_select_related = ["framework", "standard", "metric"]
    autocomplete_fields = ["standard", "criterion", "metric"]


@admin.register(ProviderType)
class ProviderTypeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "position"]
    search_fields = ["name", "code"]


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "position"]
    search_fields = ["name", "code"]


class MappingFrameworkFilter(admin.SimpleListFilter):
    """Mappings with an item, at either end, in one framework version."""

    title = "framework"
    parameter_name = "framework"

    def lookups(self, request, model_admin):
        return [(str(fw.pk), str(fw)) for fw in Framework.objects.order_by("position", "code", "-effective_from")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.with_an_item_in(pk=value)


@admin.register(Mapping)
class MappingAdmin(SimpleHistoryAdmin):
    """Same measure as / evidence towards, between items of two frameworks; validated by ``mapping_problems``."""

    list_display = ["source_item", "kind", "target_item", "position"]
    list_filter = ["kind", MappingFrameworkFilter]
    search_fields = [
        "note",
        "source_metric__code",
        "source_metric__title",
        "source_criterion__text",
        "target_metric__code",
        "target_metric__title",
        "target_criterion__text",
        "target_standard__title",
    ]
    list_select_related = list(MAPPED_FRAMEWORKS)
    autocomplete_fields = ["source_metric", "source_criterion", "target_metric", "target_criterion", "target_standard"]
    fieldsets = [
        (None, {"fields": ["kind"]}),
        (
            "Starts from",
            {
                "fields": ["source_metric", "source_criterion"],
                "description": "Choose one: a metric or a point of assurance.",
            },
        ),
        (
            "Maps to",
            {
                "fields": ["target_metric", "target_criterion", "target_standard"],
                "description": (
                    "Same measure as: another framework's metric (from a metric) or point (from a point), counting "
                    "the same people the same way. Evidence towards: another framework's standard."
                ),
            },
        ),
        (None, {"fields": ["note", "position"]}),
    ]

    @staticmethod
    def _describe(item) -> str:
        framework = framework_of(item)
        return f"{item_label(item)} of {framework.short_name} {framework.version}"

    @admin.display(description="From")
    def source_item(self, obj):
        return self._describe(obj.source)

    @admin.display(description="To")
    def target_item(self, obj):
        return self._describe(obj.target)
