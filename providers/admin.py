"""Django admin for organisations, contracts, people's roles and invitations, each with its change history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from assurance.admin_forms import show_refusal
from standards.admin_labels import LabelledFieldsAdmin, LabelledTabularInline

from . import services
from .models import (
    CommissionerRole,
    Contract,
    ContractCommissioner,
    Invitation,
    Membership,
    Organisation,
    OrganisationName,
)


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "organisation"]
    fields = ["user", "organisation", "role", "created_at"]
    readonly_fields = ["created_at"]


class FormerNameInline(LabelledTabularInline):
    """The names (and ODS codes) the organisation had before, with their days; each change is in their history."""

    model = OrganisationName
    extra = 0
    fields = ["name", "ods_code", "in_force_from", "in_force_until"]


class IsPlaceFilter(admin.SimpleListFilter):
    title = "ICB or place"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("icb", "ICBs (commissioners with no parent)"), ("place", "Places of an ICB")]

    def queryset(self, request, queryset):
        if self.value() == "icb":
            return queryset.commissioners().filter(parent__isnull=True)
        if self.value() == "place":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "ods_code", "kind", "parent", "provider_type", "is_active"]
    list_filter = ["kind", IsPlaceFilter, "provider_type", "services", "is_active"]
    list_select_related = ["parent"]
    search_fields = ["name", "ods_code", "former_names__name", "former_names__ods_code"]
    filter_horizontal = ["services"]
    autocomplete_fields = ["parent"]
    inlines = [FormerNameInline, MembershipInline]
    fields = ["name", "ods_code", "kind", "parent", "provider_type", "services", "is_active"]
    actions = ["merge_into_icb"]

    @admin.action(description="Merge the selected CCG into an ICB as a place, on a date", permissions=["change"])
    def merge_into_icb(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one CCG to make a place of an ICB.", messages.ERROR)
            return None
        ccg = queryset.get()
        form = MergeIntoICBForm(request.POST if "apply" in request.POST else None, ccg=ccg)
        if form.is_valid():
            data = form.cleaned_data
            try:
                place = services.merge_into_icb(
                    ccg, data["icb"], on=data["on"], by=request.user, name=data["name"], ods_code=data["ods_code"]
                )
            except (ValidationError, PermissionDenied) as refused:
                show_refusal(form, refused)
            else:
                self.message_user(
                    request,
                    f"{place.name} is a place of {place.parent.name} from {data['on']:%-d %B %Y}; returns, reports "
                    f"and history of earlier days show it as {ccg.name}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:providers_organisation_change", args=[place.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge {ccg.name} into an ICB as a place",
            "ccg": ccg,
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/providers/organisation/merge_into_icb.html", context)


class MergeIntoICBForm(forms.Form):
    icb = forms.ModelChoiceField(
        label="ICB", queryset=Organisation.objects.none(), help_text="The ICB the CCG becomes a place of."
    )
    on = forms.DateField(
        label="A place from", help_text="The first day it is a place, for example 2022-07-01. Pages and reports of "
        "earlier days keep showing the name it has today."
    )  # fmt: skip
    name = forms.CharField(
        label="Its name as a place", required=False, max_length=200,
        help_text="Leave empty for “<ICB>: <area>”, for example “NHS North East London ICB: Newham”.",
    )  # fmt: skip
    ods_code = forms.CharField(
        label="Its ODS code as a place", required=False, max_length=6,
        help_text="Leave empty to keep the one it has (sub-ICB locations kept their CCG's code).",
    )  # fmt: skip

    def __init__(self, *args, ccg, **kwargs):
        super().__init__(*args, **kwargs)
        icbs = Organisation.objects.commissioners().filter(parent__isnull=True)
        self.fields["icb"].queryset = icbs.exclude(pk=ccg.pk)


@admin.register(OrganisationName)
class OrganisationNameAdmin(SimpleHistoryAdmin):
    """Former names, each with its own History page."""

    list_display = ["name", "ods_code", "organisation", "in_force_from", "in_force_until"]
    list_select_related = ["organisation"]
    search_fields = ["name", "ods_code", "organisation__name", "organisation__ods_code"]
    autocomplete_fields = ["organisation"]


class CommissionerLinkFormSet(BaseInlineFormSet):
    """A contract has exactly one co-ordinating commissioner, and no commissioner twice."""

    once_message = (
        "A commissioner can be on a contract only once: the co-ordinating commissioner cannot also be an associate."
    )

    def get_unique_error_message(self, unique_check):
        return self.once_message

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        coordinating = [c for c in kept if c.get("role") == CommissionerRole.COORDINATING]
        if len(coordinating) != 1:
            raise ValidationError("Name exactly one co-ordinating commissioner.")
        commissioners = [c.get("commissioner") for c in kept]
        if len(commissioners) != len(set(commissioners)):
            raise ValidationError(self.once_message)


class ContractCommissionerInline(LabelledTabularInline):
    model = ContractCommissioner
    formset = CommissionerLinkFormSet
    extra = 1
    autocomplete_fields = ["commissioner"]


@admin.register(Contract)
class ContractAdmin(LabelledFieldsAdmin, SimpleHistoryAdmin):
    """Contracts with whether, when and by whom the provider accepted or refused them.

    Acceptance is never typed in: a change here that widens an accepted contract proposes it again, by the rule of
    :func:`providers.services.needs_acceptance_again`, and an administrator accepts on a provider's behalf with
    the action, which records them as the person who accepted.
    """

    list_display = ["reference", "title", "provider", "starts_on", "ends_on", "status", "decided_by", "decided_at"]
    list_filter = ["status", "frameworks", "commissioner_links__commissioner", "provider__provider_type"]
    search_fields = ["reference", "title", "provider__name", "provider__ods_code"]
    list_select_related = ["provider", "decided_by"]
    autocomplete_fields = ["provider"]
    filter_horizontal = ["frameworks"]
    inlines = [ContractCommissionerInline]
    readonly_fields = [
        "status", "proposed_at", "proposed_by", "decided_at", "decided_by", "earlier_start_agreed", "refusal_reason",
    ]  # fmt: skip
    actions = ["accept_on_behalf_of_provider"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = Organisation.objects.providers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj._state_before_change = services.contract_state(obj.pk) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        contract = form.instance
        before = getattr(contract, "_state_before_change", None)
        if services.contract_changed_directly(
            contract, before=before, by=request.user, base_url=request.build_absolute_uri("/")
        ):
            self.message_user(
                request,
                f"Contract {contract.reference} now waits for {contract.provider.name} to accept it; until then "
                "no commissioner on it sees the provider's returns through it.",
                messages.WARNING,
            )

    @admin.action(description="Accept the selected contracts on behalf of their providers (any earlier start too)")
    def accept_on_behalf_of_provider(self, request, queryset):
        accepted, problems = [], []
        for contract in queryset.select_related("provider"):
            try:
                services.accept_contract(
                    contract, by=request.user, agree_to_earlier_start=True, base_url=request.build_absolute_uri("/")
                )
            except (ValidationError, PermissionDenied) as refused:
                problems.append(f"{contract.reference}: {' '.join(getattr(refused, 'messages', [str(refused)]))}")
            else:
                accepted.append(contract.reference)
        if accepted:
            self.message_user(request, f"Accepted on the providers' behalf: {', '.join(accepted)}.", messages.SUCCESS)
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role", "created_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(Invitation)
class InvitationAdmin(LabelledFieldsAdmin, SimpleHistoryAdmin):
    list_display = ["email", "organisation", "role", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["email", "organisation__name"]
    list_select_related = ["organisation", "invited_by"]
    readonly_fields = ["invited_by", "created_at", "accepted_at", "accepted_by"]
    autocomplete_fields = ["organisation"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(LabelledFieldsAdmin, UserAdmin):
    """Django's user admin, with the person's organisations and roles alongside."""

    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
