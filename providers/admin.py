"""Django admin for organisations, contracts, people's roles and invitations, each with its change history."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from standards.admin_labels import LabelledFieldsAdmin, LabelledTabularInline

from . import services
from .models import (
    CommissionerRole,
    Contract,
    ContractCommissioner,
    Invitation,
    Membership,
    Organisation,
)


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "organisation"]
    fields = ["user", "organisation", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "ods_code", "kind", "provider_type", "is_active"]
    list_filter = ["kind", "provider_type", "services", "is_active"]
    search_fields = ["name", "ods_code"]
    filter_horizontal = ["services"]
    inlines = [MembershipInline]
    fields = ["name", "ods_code", "kind", "provider_type", "services", "is_active"]


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
