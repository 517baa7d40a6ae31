"""Accessible names for admin fields whose labels Django does not tie to them, for every app's admin.

A tabular inline shows its labels once, as column headings, so the fields of its rows have none of their own; a
date and time field shows "Date:" and "Time:" as plain text beside two boxes. Screen readers then announce bare,
unnamed boxes. ``standards`` is the lowest app, so the admin of every app may use these.
"""

from django import forms
from django.contrib import admin
from django.utils.text import capfirst


def name_split_date_time(formfield) -> None:
    """Name the date and the time box of a date and time field after the field: "Expires at: date"."""
    widget = getattr(formfield.widget, "widget", formfield.widget)  # inside the related-object wrapper, if any
    if isinstance(widget, forms.SplitDateTimeWidget):
        label = capfirst(formfield.label)
        widget.widgets[0].attrs["aria-label"] = f"{label}: date"
        widget.widgets[1].attrs["aria-label"] = f"{label}: time"


class LabelledFieldsAdmin(admin.ModelAdmin):
    """A model admin whose date and time fields name their two boxes, and whose fields edited in its list
    (``list_editable``) are named after their column and row: "Position of Staff with a DBS check"."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            name_split_date_time(formfield)
        return formfield

    def get_changelist_formset(self, request, **kwargs):
        formset = super().get_changelist_formset(request, **kwargs)
        editable = self.list_editable

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                for name in editable:
                    field = form.fields[name]
                    field.widget.attrs["aria-label"] = f"{capfirst(field.label)} of {form.instance}"

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose rows' fields, and their Delete boxes, carry their column's name."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            name_split_date_time(formfield)
            widget = getattr(formfield.widget, "widget", formfield.widget)
            if not isinstance(widget, forms.MultiWidget):
                widget.attrs.setdefault("aria-label", capfirst(formfield.label))
        return formfield

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:
                    shown = f" {form.instance}" if form.instance.pk else ""
                    form.fields["DELETE"].widget.attrs["aria-label"] = f"Delete{shown}"

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
