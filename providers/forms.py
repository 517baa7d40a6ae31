"""Forms for organisations, contracts, invitations and accepting an invitation.

The rules themselves live in :mod:`providers.services` and on the models; these forms only turn what was typed
into values and say, in plain English, what is missing. The messages for missing or unknown values are shared
with the API's serializers (:data:`CONTRACT_MESSAGES`), so a form and the API answer alike.
"""

from __future__ import annotations

from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q
from django.utils import timezone

from standards.kinds import LONGEST_NOTE
from standards.models import Framework, ProviderType, Service

from . import services
from .models import Organisation, OrganisationKind, normalise_ods_code, roles_for, validate_ods_code
from .scoping import sees_everything

#: Dates typed into a plain text box (where a browser has no date picker) as well as the ISO form a picker sends.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d %m %Y", "%d %B %Y", "%d %b %Y"]

#: What a contract form and the contracts API say when a value is missing or not one of the choices.
CONTRACT_MESSAGES = {
    "reference": {"required": "Enter the contract's reference, like NEL-2025-001."},
    "title": {"required": "Enter the contract's title."},
    "provider": {"required": "Choose the provider.", "invalid_choice": "Choose a provider from the list."},
    "coordinating_commissioner": {
        "required": "Choose the co-ordinating commissioner.",
        "invalid_choice": "Choose a co-ordinating commissioner whose contracts you manage.",
    },
    "associate_commissioners": {"invalid_choice": "Choose associate commissioners from the list."},
    "frameworks": {"invalid_choice": "Choose frameworks from the list."},
    "starts_on": {
        "required": "Enter the date the contract starts.",
        "invalid": "Enter the date the contract starts as a real date, like 01/04/2025.",
    },
    "ends_on": {
        "required": "Enter the date the contract ends.",
        "invalid": "Enter the date the contract ends as a real date, like 31/03/2028.",
    },
}


class Checkboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose field links (from the error summary) to the first box, as GOV.UK's pattern does."""

    def id_for_label(self, id_, index="0"):
        return forms.widgets.ChoiceWidget.id_for_label(self, id_, index)


class DateInput(forms.DateInput):
    """A date picker where the browser has one; a text box accepting 01/04/2025 or 2025-04-01 otherwise."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class FrameworkChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, framework):
        return f"{framework.name} ({framework.version})"


def _messages(field: str, **extra) -> dict:
    return {**CONTRACT_MESSAGES[field], **extra}


# ---------------------------------------------------------------------------------------------- organisations


class OrganisationForm(forms.ModelForm):
    """A provider organisation (or, for administrators, any organisation): name, ODS code, type and services.

    Administrators choose the kind of a new organisation; commissioner admins add providers. The kind of an
    existing organisation does not change here: its contracts and members depend on it.
    """

    name = forms.CharField(label="Name", max_length=200, error_messages={"required": "Enter the organisation's name."})
    ods_code = forms.CharField(
        label="ODS code",
        help_text="The NHS Organisation Data Service code: 3 to 6 letters and digits, like RF4, 07T or F82001.",
        error_messages={"required": "Enter the organisation's ODS code."},
    )
    kind = forms.ChoiceField(
        label="Kind of organisation",
        choices=OrganisationKind.choices,
        error_messages={
            "required": "Choose the kind of organisation.",
            "invalid_choice": "Choose a kind from the list.",
        },
    )
    provider_type = forms.ModelChoiceField(
        label="Provider type",
        queryset=ProviderType.objects.all(),
        required=False,
        empty_label="Choose a provider type",
        help_text="Decides which thresholds and metrics apply to the provider.",
        error_messages={"invalid_choice": "Choose a provider type from the list."},
    )
    services = forms.ModelMultipleChoiceField(
        label="Services",
        queryset=Service.objects.all(),
        required=False,
        widget=Checkboxes,
        help_text="Tick every service the provider runs; some metrics apply only to some services.",
        error_messages={"invalid_choice": "Choose services from the list."},
    )

    class Meta:
        model = Organisation
        fields = ["name", "ods_code", "kind", "provider_type", "services"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        if not (creating and sees_everything(user)):
            del self.fields["kind"]
        if creating and "kind" not in self.fields:
            self.instance.kind = OrganisationKind.PROVIDER
        if not creating and self.instance.is_commissioner:
            del self.fields["provider_type"]
            del self.fields["services"]
        elif "kind" in self.fields:
            self.fields["provider_type"].help_text = "Providers only. " + self.fields["provider_type"].help_text
            self.fields["services"].help_text = "Providers only. " + self.fields["services"].help_text

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_ods_code(self):
        code = normalise_ods_code(self.cleaned_data["ods_code"])
        validate_ods_code(code)
        return code

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind", self.instance.kind)
        if kind == OrganisationKind.COMMISSIONER and cleaned.get("services"):
            self.add_error("services", "A commissioner runs no services; leave them all unticked.")
        return cleaned


# -------------------------------------------------------------------------------------------------- contracts


class ContractForm(forms.Form):
    """A contract's values, for :func:`providers.services.save_contract`, which decides whether they are allowed.

    A new contract may be with any provider; an existing one with a provider its editor may see. The
    co-ordinating commissioner is one whose contracts the editor manages. Frameworks are those in force today,
    with any the contract already holds.
    """

    reference = forms.CharField(
        label="Reference",
        max_length=60,
        help_text="As on the signed contract, like NEL-2025-001.",
        error_messages=_messages("reference"),
    )
    title = forms.CharField(label="Title", max_length=200, error_messages=_messages("title"))
    provider = forms.ModelChoiceField(
        label="Provider", queryset=Organisation.objects.none(), empty_label="Choose a provider",
        error_messages=_messages("provider"),
    )  # fmt: skip
    coordinating_commissioner = forms.ModelChoiceField(
        label="Co-ordinating commissioner",
        queryset=Organisation.objects.none(),
        empty_label="Choose a commissioner",
        help_text="The commissioner that manages the contract for all the commissioners on it.",
        error_messages=_messages("coordinating_commissioner"),
    )
    associate_commissioners = forms.ModelMultipleChoiceField(
        label="Associate commissioners",
        queryset=Organisation.objects.none(),
        required=False,
        widget=Checkboxes,
        help_text="Other commissioners on the contract. They see the provider's returns too.",
        error_messages=_messages("associate_commissioners"),
    )
    frameworks = FrameworkChoiceField(
        label="Frameworks that apply",
        queryset=Framework.objects.none(),
        required=False,  # the service says why at least one is needed
        widget=Checkboxes,
        help_text="The standards the provider gives assurance against under this contract.",
        error_messages=_messages("frameworks"),
    )
    starts_on = forms.DateField(
        label="Starts on",
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput,
        help_text="For example, 1 April 2025.",
        error_messages=_messages("starts_on"),
    )
    ends_on = forms.DateField(
        label="Ends on",
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput,
        help_text="The last day of the contract, for example 31 March 2028.",
        error_messages=_messages("ends_on"),
    )

    def __init__(self, *args, user, contract=None, **kwargs):
        if contract is not None:
            kwargs["initial"] = {**initial_for(contract), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        for name, queryset in contract_choices(user, contract).items():
            self.fields[name].queryset = queryset

    def clean_reference(self):
        return self.cleaned_data["reference"].strip()

    def clean_title(self):
        return self.cleaned_data["title"].strip()

    def clean(self):
        """Check the contract rules now, so that every problem shows at once, not only after the form's own."""
        cleaned = super().clean()
        problems = services.contract_problems(
            provider=cleaned.get("provider"),
            coordinating_commissioner=cleaned.get("coordinating_commissioner"),
            associate_commissioners=cleaned.get("associate_commissioners"),
            frameworks=cleaned.get("frameworks"),
            starts_on=cleaned.get("starts_on"),
            ends_on=cleaned.get("ends_on"),
        )
        for field, messages in problems.items():
            for message in messages:
                if field not in self.errors:
                    self.add_error(field, message)
        return cleaned


def contract_choices(user, contract=None) -> dict:
    """What a contract's editor may choose from, for the contract form and the contracts API alike."""
    commissioners = Organisation.objects.commissioners()
    if contract is None:
        providers = Organisation.objects.providers()
    else:
        visible = Organisation.objects.restrict(user).providers().values("pk")
        providers = Organisation.objects.filter(Q(pk__in=visible) | Q(pk=contract.provider_id))
    in_force = Framework.objects.in_force_on(timezone.localdate()).values("pk")
    held = contract.frameworks.values("pk") if contract is not None else Framework.objects.none().values("pk")
    return {
        "provider": providers.order_by("name"),
        "coordinating_commissioner": commissioners
        if sees_everything(user)
        else commissioners.restrict(user, "manage_contracts"),
        "associate_commissioners": commissioners,
        "frameworks": Framework.objects.filter(Q(pk__in=in_force) | Q(pk__in=held)).order_by(
            "position", "code", "-effective_from"
        ),
    }


def initial_for(contract) -> dict:
    return {
        "reference": contract.reference,
        "title": contract.title,
        "provider": contract.provider_id,
        "coordinating_commissioner": getattr(contract.coordinating_commissioner, "pk", None),
        "associate_commissioners": [c.pk for c in contract.associate_commissioners],
        "frameworks": [f.pk for f in contract.frameworks.all()],
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
    }


class AcceptContractForm(forms.Form):
    """A provider's lead accepts a proposed contract; a start before this quarter needs the box ticked.

    The service (:func:`providers.services.accept_contract`) decides whether the box is needed and says so.
    """

    agree_to_earlier_start = forms.BooleanField(label="I agree to the earlier start", required=False)
    version = forms.CharField(required=False, widget=forms.HiddenInput)  # the contract as read: see the service


class RefuseContractForm(forms.Form):
    """A provider's lead refuses a proposed contract, saying why (the service requires a reason)."""

    reason = forms.CharField(
        label="Why are you refusing the contract?",
        required=False,  # the service says why a reason is needed
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "The co-ordinating commissioner's admins read this and can change the contract and propose it again. "
            f"Up to {LONGEST_NOTE:,} characters."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service judges the reason by the one rule for typed text (standards.kinds.clean_typed_text), a null
        # character included, so the page says what the API says.
        field = self.fields["reason"]
        field.validators = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)]


# ------------------------------------------------------------------------------------------------------ people


class InviteForm(forms.Form):
    """Invite someone by e-mail, in one of the roles people of this kind of organisation have."""

    email = forms.EmailField(
        label="E-mail address",
        help_text="They are sent a link to choose a password. It works once, for 7 days.",
        error_messages={
            "required": "Enter an e-mail address.",
            "invalid": "Enter an e-mail address in the right format, like name@example.nhs.uk.",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        error_messages={"required": "Choose a role.", "invalid_choice": "Choose a role from the list."},
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "Choose a role"), *roles_for(organisation.kind)]


class AcceptInvitationForm(forms.Form):
    """A new person's name and password, chosen from an invitation link."""

    first_name = forms.CharField(
        label="First name", max_length=150, error_messages={"required": "Enter your first name."}
    )
    last_name = forms.CharField(label="Last name", max_length=150, error_messages={"required": "Enter your last name."})
    password = forms.CharField(
        label="Password",
        strip=False,
        help_text="At least 12 characters. Not a common password, and not like your name or e-mail address.",
        error_messages={"required": "Enter a password."},
    )
    password_confirmation = forms.CharField(
        label="Confirm password",
        strip=False,
        help_text="Type the same password again.",
        error_messages={"required": "Type the password again to confirm it."},
    )

    def clean(self):
        cleaned = super().clean()
        password, confirmation = cleaned.get("password"), cleaned.get("password_confirmation")
        if password and confirmation and password != confirmation:
            self.add_error("password_confirmation", "Enter the same password in both fields.")
        return cleaned
