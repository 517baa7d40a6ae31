"""Pages for each person's home, organisations, contracts, members and invitations.

Every page starts from ``restrict(user, action)`` (:mod:`providers.scoping`), so an object of another
organisation is simply not found (404). Every change goes through :mod:`providers.services`; its
``ValidationError`` messages are shown next to their fields and in the error summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from . import selectors, services
from .filters import OrganisationFilter
from .forms import (
    AcceptContractForm,
    AcceptInvitationForm,
    ContractForm,
    InviteForm,
    OrganisationForm,
    RefuseContractForm,
)
from .models import (
    ROLE_PERMISSIONS,
    CommissionerRole,
    Contract,
    ContractCommissioner,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    quarter_label,
)
from .scoping import (
    ScopedQuerysetMixin,
    has_organisation_permission,
    may_manage_contracts,
    sees_everything,
)


def home_crumb() -> tuple[str, str]:
    return ("Home", reverse("home"))


def organisations_crumb() -> tuple[str, str]:
    return ("Organisations", reverse("providers:organisation_list"))


def contracts_crumb() -> tuple[str, str]:
    return ("Contracts", reverse("providers:contract_list"))


def show_service_errors(form, error: ValidationError) -> None:
    """Put a service's errors next to the form's fields they name, and the others at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, field_errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


# ------------------------------------------------------------------------------------------------------- home


@dataclass
class ProviderOnHome:
    """A provider a commissioner holds contracts with, and its role on each."""

    provider: Organisation
    links: list[ContractCommissioner] = field(default_factory=list)


@dataclass
class OrganisationOnHome:
    """One of the person's organisations, their roles in it, and its business."""

    organisation: Organisation
    roles: list[str] = field(default_factory=list)
    role_codes: list[str] = field(default_factory=list)  # the same roles as codes (Role values)
    permissions: set[str] = field(default_factory=set)
    contracts: list[Contract] = field(default_factory=list)
    providers_by_id: dict[int, ProviderOnHome] = field(default_factory=dict)

    @property
    def providers(self) -> list[ProviderOnHome]:
        return list(self.providers_by_id.values())

    @property
    def coordinating_count(self) -> int:
        return sum(1 for p in self.providers for link in p.links if link.role == CommissionerRole.COORDINATING)

    @property
    def associate_count(self) -> int:
        return sum(1 for p in self.providers for link in p.links if link.role == CommissionerRole.ASSOCIATE)

    @property
    def may_manage_members(self) -> bool:
        return "manage_members" in self.permissions

    @property
    def may_manage_contracts(self) -> bool:
        return "manage_contracts" in self.permissions

    @property
    def contracts_to_answer(self) -> list[Contract]:
        """Contracts proposed to this provider, for a person who accepts or refuses them (its safeguarding lead)."""
        if "submit_return" not in self.permissions:
            return []
        return [contract for contract in self.contracts if contract.is_proposed]


def my_organisations(user) -> list[OrganisationOnHome]:
    """The person's organisations with their roles and what each holds; four queries however many there are."""
    memberships = (
        Membership.objects.restrict(user)
        .filter(user=user)
        .select_related("organisation__provider_type")
        .order_by("organisation__name", "role")
    )
    organisations: dict[int, OrganisationOnHome] = {}
    for membership in memberships:
        entry = organisations.setdefault(membership.organisation_id, OrganisationOnHome(membership.organisation))
        entry.roles.append(membership.get_role_display())
        entry.role_codes.append(membership.role)
        entry.permissions |= ROLE_PERMISSIONS[Role(membership.role)]
    provider_ids = [pk for pk, entry in organisations.items() if entry.organisation.is_provider]
    commissioner_ids = [pk for pk, entry in organisations.items() if entry.organisation.is_commissioner]
    if provider_ids:
        contracts = selectors.contracts(Contract.objects.restrict(user).filter(provider_id__in=provider_ids))
        for contract in contracts.order_by("-starts_on", "reference"):
            organisations[contract.provider_id].contracts.append(contract)
    if commissioner_ids:
        links = (
            ContractCommissioner.objects.filter(
                commissioner_id__in=commissioner_ids, contract__in=Contract.objects.restrict(user)
            )
            .select_related("contract__provider__provider_type")
            .order_by("contract__provider__name", "contract__reference")
        )
        for link in links:
            provider = link.contract.provider
            entry = organisations[link.commissioner_id]
            entry.providers_by_id.setdefault(provider.pk, ProviderOnHome(provider)).links.append(link)
    return list(organisations.values())


def administrator_summary() -> dict:
    """Every organisation at a glance, for administrators: four queries however many there are."""
    commissioners = (
        Organisation.objects.commissioners()
        .annotate(
            coordinating=Count(
                "contract_links", filter=Q(contract_links__role=CommissionerRole.COORDINATING), distinct=True
            ),
            associate=Count("contract_links", filter=Q(contract_links__role=CommissionerRole.ASSOCIATE), distinct=True),
            member_count=Count("memberships__user", distinct=True),
        )
        .order_by("name")
    )
    providers_by_type = (
        Organisation.objects.providers()
        .values("provider_type", "provider_type__name")
        .annotate(count=Count("pk"))
        .order_by("provider_type__position", "provider_type__name")
    )
    totals = Organisation.objects.aggregate(
        commissioners=Count("pk", filter=Q(kind=OrganisationKind.COMMISSIONER)),
        providers=Count("pk", filter=Q(kind=OrganisationKind.PROVIDER)),
    )
    totals["contracts"] = Contract.objects.count()
    return {"commissioners": list(commissioners), "providers_by_type": list(providers_by_type), "totals": totals}


@login_required
def home(request):
    """A person's home page: their organisations, their roles there, and what each holds."""
    user = request.user
    organisations = my_organisations(user)
    context = {
        "organisations": organisations,
        "summary": administrator_summary() if sees_everything(user) else None,
        "may_manage_contracts": sees_everything(user) or any(o.may_manage_contracts for o in organisations),
    }
    return render(request, "providers/home.html", context)


# ---------------------------------------------------------------------------------------------- organisations


class OrganisationListView(LoginRequiredMixin, ScopedQuerysetMixin, ListView):
    """The organisations a person may see, searched by name or ODS code and filtered by kind and type."""

    model = Organisation
    template_name = "providers/organisation_list.html"
    context_object_name = "organisations"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = OrganisationFilter(
            self.request.GET or None, queryset=selectors.organisations(super().get_queryset())
        )
        form = self.filterset.form
        for name in form.errors:
            if name in form.fields:
                form.fields[name].widget.attrs["aria-describedby"] = f"{form[name].id_for_label}-error"
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            form=self.filterset.form,
            filtered=any(value for key, value in self.request.GET.items() if key != "page"),
            may_add=may_manage_contracts(self.request.user),
            breadcrumbs=[home_crumb(), ("Organisations", None)],
            **kwargs,
        )


class OrganisationDetailView(LoginRequiredMixin, ScopedQuerysetMixin, DetailView):
    """One organisation: what it is, the contracts the viewer may see, and its members for those who manage them."""

    model = Organisation
    template_name = "providers/organisation_detail.html"
    context_object_name = "organisation"

    def get_queryset(self):
        return selectors.organisations(super().get_queryset())

    def get_context_data(self, **kwargs):
        organisation, user = self.object, self.request.user
        contracts = selectors.contracts(
            Contract.objects.restrict(user).filter(
                Q(provider=organisation) | Q(pk__in=organisation.contract_links.values("contract_id"))
            )
        ).order_by("provider__name", "-starts_on")
        may_manage_members = has_organisation_permission(user, organisation, "manage_members")
        return super().get_context_data(
            contracts=[with_role_of(contract, organisation) for contract in contracts],
            may_manage_members=may_manage_members,
            members=selectors.members_of(organisation, user) if may_manage_members else None,
            may_edit=Organisation.objects.restrict(user, "manage_contracts").filter(pk=organisation.pk).exists(),
            breadcrumbs=[home_crumb(), organisations_crumb(), (organisation.name, None)],
            **kwargs,
        )


def with_role_of(contract: Contract, organisation: Organisation) -> Contract:
    """Note on a contract what ``organisation`` is on it: the provider, co-ordinating or associate commissioner."""
    if contract.provider_id == organisation.pk:
        contract.role_of_organisation = "Provider"
    else:
        role = next(
            (link.role for link in contract.commissioner_links.all() if link.commissioner_id == organisation.pk), ""
        )
        contract.role_of_organisation = CommissionerRole(role).label if role else ""
    return contract


class MayManageContractsMixin(UserPassesTestMixin):
    """Only administrators and people who manage some commissioner's contracts; others are refused (403)."""

    def test_func(self):
        return may_manage_contracts(self.request.user)


class OrganisationFormMixin:
    model = Organisation
    form_class = OrganisationForm
    template_name = "providers/organisation_form.html"
    context_object_name = "organisation"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        form.instance._history_user = self.request.user
        response = super().form_valid(form)
        messages.success(self.request, f"{self.object.name} ({self.object.ods_code}) is saved.")
        return response


class OrganisationCreateView(LoginRequiredMixin, MayManageContractsMixin, OrganisationFormMixin, CreateView):
    """Add a provider organisation (administrators: any organisation)."""

    def get_success_url(self):
        if Organisation.objects.restrict(self.request.user).filter(pk=self.object.pk).exists():
            return self.object.get_absolute_url()
        # A commissioner sees a provider once they hold a contract with it: the next step is that contract.
        return f"{reverse('providers:contract_create')}?provider={self.object.pk}"

    def get_context_data(self, **kwargs):
        user = self.request.user
        commissioners = (
            [] if sees_everything(user) else Organisation.objects.commissioners().restrict(user, "manage_contracts")
        )
        return super().get_context_data(
            commissioners=commissioners,
            breadcrumbs=[
                home_crumb(),
                organisations_crumb(),
                ("Add an organisation" if sees_everything(user) else "Add a provider organisation", None),
            ],
            **kwargs,
        )


class OrganisationEditView(LoginRequiredMixin, ScopedQuerysetMixin, OrganisationFormMixin, UpdateView):
    """Change an organisation the person may manage: its name, ODS code, provider type and services."""

    scope_action = "manage_contracts"

    def get_queryset(self):
        return selectors.organisations(super().get_queryset())

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        organisation = self.object
        return super().get_context_data(
            breadcrumbs=[
                home_crumb(),
                organisations_crumb(),
                (organisation.name, organisation.get_absolute_url()),
                ("Change", None),
            ],
            **kwargs,
        )


# -------------------------------------------------------------------------------------------------- contracts


class ContractListView(LoginRequiredMixin, ScopedQuerysetMixin, ListView):
    """The contracts a person may see, searched by reference, title or provider."""

    model = Contract
    template_name = "providers/contract_list.html"
    context_object_name = "contracts"
    paginate_by = 50

    def get_queryset(self):
        queryset = selectors.contracts(super().get_queryset()).order_by("provider__name", "-starts_on", "reference")
        self.query = self.request.GET.get("q", "").strip()
        for word in self.query.split():
            queryset = queryset.filter(
                Q(reference__icontains=word) | Q(title__icontains=word) | Q(provider__name__icontains=word)
            )
        return queryset

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            query=self.query,
            may_add=may_manage_contracts(self.request.user),
            breadcrumbs=[home_crumb(), ("Contracts", None)],
            **kwargs,
        )


def contract_page_context(contract: Contract, user, accept_form=None, refuse_form=None) -> dict:
    """What the contract page shows besides the contract: who may change or answer it, and the answer forms."""
    may_answer = contract.is_proposed and services.may_answer_contract(user, contract)
    return {
        "contract": contract,
        "may_edit": Contract.objects.restrict(user, "manage_contracts").filter(pk=contract.pk).exists(),
        "may_answer": may_answer,
        "accept_form": accept_form or AcceptContractForm(),
        "refuse_form": refuse_form or RefuseContractForm(),
        "earlier_start": may_answer and services.earlier_start_needs_agreement(contract),
        "start_quarter": quarter_label(contract.starts_on),
        "this_quarter": quarter_label(timezone.localdate()),
        "version": services.contract_version(contract),
        "commissioner_names": services.commissioner_names(contract),
        "breadcrumbs": [home_crumb(), contracts_crumb(), (contract.reference, None)],
    }


class ContractDetailView(LoginRequiredMixin, ScopedQuerysetMixin, DetailView):
    """One contract: its provider, commissioners, frameworks, dates and whether the provider accepted it; for the
    provider's safeguarding lead, while it is proposed, the forms to accept or refuse it."""

    model = Contract
    template_name = "providers/contract_detail.html"
    context_object_name = "contract"

    def get_queryset(self):
        return selectors.contracts(super().get_queryset())

    def get_context_data(self, **kwargs):
        return super().get_context_data(**contract_page_context(self.object, self.request.user), **kwargs)


class ContractAnswerView(LoginRequiredMixin, View):
    """Accept or refuse a proposed contract (POST only, from the contract page) through :mod:`providers.services`.

    Only the provider's safeguarding leads (and administrators) find the contract here; others get 404.
    """

    http_method_names = ["post"]
    answer = "accept"  # or "refuse"

    def post(self, request, *args, **kwargs):
        contract = get_object_or_404(
            selectors.contracts(Contract.objects.restrict(request.user, "answer")), pk=kwargs["pk"]
        )
        form_class = AcceptContractForm if self.answer == "accept" else RefuseContractForm
        form = form_class(request.POST)
        if form.is_valid():
            try:
                if self.answer == "accept":
                    services.accept_contract(
                        contract,
                        by=request.user,
                        agree_to_earlier_start=form.cleaned_data["agree_to_earlier_start"],
                        base_url=request.build_absolute_uri("/"),
                        version=form.cleaned_data["version"] or None,
                    )
                else:
                    services.refuse_contract(
                        contract,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        base_url=request.build_absolute_uri("/"),
                    )
            except ValidationError as error:
                show_service_errors(form, error)
            else:
                names = services.commissioner_names(contract)
                if self.answer == "accept":
                    text = f"You accepted contract {contract.reference}. {names} can now read your returns under it."
                else:
                    text = f"You refused contract {contract.reference}. {names} have been told why."
                messages.success(request, text)
                return redirect(contract.get_absolute_url())
        forms_shown = {"accept_form": form} if self.answer == "accept" else {"refuse_form": form}
        context = contract_page_context(contract, request.user, **forms_shown)
        context["form"] = form  # the error summary's
        return render(request, "providers/contract_detail.html", context)


def saved_message(contract: Contract) -> str:
    if contract.is_proposed:
        return (
            f"Contract {contract.reference} is saved and waits for {contract.provider.name} to accept it. Its "
            "safeguarding leads have been e-mailed; until one accepts, nobody on the contract sees its returns."
        )
    return f"Contract {contract.reference} is saved."


class ContractFormView(LoginRequiredMixin, FormView):
    """Create or change a contract through :func:`providers.services.save_contract`."""

    form_class = ContractForm
    template_name = "providers/contract_form.html"
    contract: Contract | None = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "contract": self.contract}

    def form_valid(self, form):
        try:
            contract = services.save_contract(
                by=self.request.user,
                contract=self.contract,
                base_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            show_service_errors(form, error)
            return self.form_invalid(form)
        except PermissionDenied as refused:
            form.add_error("coordinating_commissioner", str(refused))
            return self.form_invalid(form)
        messages.success(self.request, saved_message(contract))
        return HttpResponseRedirect(contract.get_absolute_url())


class ContractCreateView(MayManageContractsMixin, ContractFormView):
    def get_initial(self):
        initial = {}
        provider = self.request.GET.get("provider", "")
        if provider.isdigit():
            initial["provider"] = int(provider)
        return initial

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        choices = list(form.fields["coordinating_commissioner"].queryset[:2])
        if len(choices) == 1 and not form.is_bound:
            form.initial.setdefault("coordinating_commissioner", choices[0].pk)
        return form

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title="Add a contract", breadcrumbs=[home_crumb(), contracts_crumb(), ("Add a contract", None)], **kwargs
        )


class ContractEditView(ContractFormView):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.contract = get_object_or_404(
                selectors.contracts(Contract.objects.restrict(request.user, "manage_contracts")), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        contract = self.contract
        return super().get_context_data(
            title=f"Change contract {contract.reference}",
            contract=contract,
            breadcrumbs=[
                home_crumb(),
                contracts_crumb(),
                (contract.reference, contract.get_absolute_url()),
                ("Change", None),
            ],
            **kwargs,
        )


# ----------------------------------------------------------------------------------------------------- people


class ManagedOrganisationMixin(LoginRequiredMixin):
    """Pages about an organisation's people: only for those who manage its members; others get 404."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.organisation = get_object_or_404(
                Organisation.objects.restrict(request.user, "manage_members"), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def members_url(self) -> str:
        return reverse("providers:members", args=[self.organisation.pk])

    def crumbs(self, *last):
        # Managing an organisation's members comes with seeing it, so its page is always there to go back to.
        organisation = self.organisation
        return [home_crumb(), organisations_crumb(), (organisation.name, organisation.get_absolute_url()), *last]


class MembersView(ManagedOrganisationMixin, View):
    """An organisation's members and open invitations, with a form to invite someone."""

    template_name = "providers/members.html"

    def get(self, request, *args, **kwargs):
        return self.show(InviteForm(organisation=self.organisation))

    def post(self, request, *args, **kwargs):
        form = InviteForm(request.POST, organisation=self.organisation)
        if form.is_valid():
            try:
                invitation = services.invite(
                    by=request.user,
                    organisation=self.organisation,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    base_url=request.build_absolute_uri("/"),
                )
            except ValidationError as error:
                show_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"An invitation to join as {invitation.get_role_display().lower()} is on its way to "
                    f"{invitation.email}.",
                )
                return redirect(self.members_url())
        return self.show(form)

    def show(self, form):
        organisation = self.organisation
        invitations = organisation.invitations.filter(accepted_at__isnull=True).select_related("invited_by")
        return render(
            self.request,
            self.template_name,
            {
                "organisation": organisation,
                "members": selectors.members_of(organisation, self.request.user),
                "invitations": invitations.order_by("email"),
                "now": timezone.now(),
                "form": form,
                "breadcrumbs": self.crumbs(("People", None)),
            },
        )


class RemoveMembershipView(ManagedOrganisationMixin, View):
    """Confirm, then end a person's role in the organisation (the service keeps at least one manager)."""

    template_name = "providers/membership_remove.html"

    def get_membership(self) -> Membership:
        return get_object_or_404(
            selectors.members_of(self.organisation, self.request.user), pk=self.kwargs["membership_pk"]
        )

    def get(self, request, *args, **kwargs):
        return self.show(self.get_membership())

    def post(self, request, *args, **kwargs):
        membership = self.get_membership()
        try:
            services.remove_membership(membership, by=request.user)
        except ValidationError as error:
            return self.show(membership, errors=error.messages)
        person = membership.user.get_full_name() or membership.user.username
        messages.success(
            request, f"{person} is no longer {membership.get_role_display().lower()} of {self.organisation.name}."
        )
        if has_organisation_permission(request.user, self.organisation, "manage_members"):
            return redirect(self.members_url())
        return redirect("home")

    def show(self, membership, errors=()):
        return render(
            self.request,
            self.template_name,
            {
                "organisation": self.organisation,
                "membership": membership,
                "errors": errors,
                "breadcrumbs": self.crumbs(("People", self.members_url()), ("Remove a role", None)),
            },
        )


class CancelInvitationView(ManagedOrganisationMixin, View):
    """Cancel an invitation that has not been accepted (POST only, from the members page)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        invitation = get_object_or_404(self.organisation.invitations, pk=kwargs["invitation_pk"])
        try:
            services.cancel_invitation(invitation, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"The invitation to {invitation.email} is cancelled.")
        return redirect(self.members_url())


# ---------------------------------------------------------------------------------------- accept an invitation


class AcceptInvitationView(View):
    """The page an invitation's link opens: a new person chooses a password; a signed-in invitee confirms.

    A link that cannot be used shows the service's reason: 404 for a link that is not valid, 410 for one that
    has expired or been used.
    """

    template_name = "providers/invitation_accept.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.invitation = services.invitation_from_token(kwargs["token"])
        except ValidationError as error:
            message = " ".join(error.messages)
            status = 404 if error.code == "invalid" else 410  # an unknown link, or one that was good once
            return render(request, "providers/invitation_unusable.html", {"message": message}, status=status)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        form = None if request.user.is_authenticated else AcceptInvitationForm()
        return self.show(form)

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                services.accept_invitation(self.invitation, user=request.user)
            except ValidationError as error:
                return self.show(None, errors=error.messages)
            return self.welcome(request.user)
        form = AcceptInvitationForm(request.POST)
        if form.is_valid():
            try:
                person = services.accept_invitation(
                    self.invitation,
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    password=form.cleaned_data["password"],
                )
            except ValidationError as error:
                show_service_errors(form, error)
            else:
                login(request, person, backend="django.contrib.auth.backends.ModelBackend")
                return self.welcome(person)
        return self.show(form)

    def welcome(self, person):
        invitation = self.invitation
        messages.success(
            self.request,
            f"Welcome, {person.get_full_name() or person.username}. You are now "
            f"{invitation.get_role_display().lower()} of {invitation.organisation.name}.",
        )
        return redirect("home")

    def show(self, form, errors=()):
        return render(
            self.request,
            self.template_name,
            {"invitation": self.invitation, "form": form, "errors": errors, "sign_in_url": self.sign_in_url()},
        )

    def sign_in_url(self) -> str:
        return f"{reverse('login')}?{urlencode({'next': self.request.path})}"
