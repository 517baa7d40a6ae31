"""Serializers of organisations, contracts and memberships for the REST API.

Contracts are written through :func:`providers.services.save_contract`: :class:`ContractWriteSerializer` only
turns the request into values, with the same messages and the same choices as the contract form
(:data:`providers.forms.CONTRACT_MESSAGES`, :func:`providers.forms.contract_choices`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from standards.models import Framework

from .forms import CONTRACT_MESSAGES, DATE_INPUT_FORMATS, contract_choices
from .models import Contract, Membership, Organisation
from .services import contract_version

#: "commissioner" or "provider". A plain string, not an enum: the catalogue's metrics have a ``kind`` of their own,
#: and two enums of one name make an ambiguous API schema.
KIND = {"read_only": True, "help_text": "“commissioner” or “provider”."}


class OrganisationBriefSerializer(serializers.ModelSerializer):
    """An organisation named in another object: a contract's provider and commissioners, a membership's organisation."""

    kind = serializers.CharField(**KIND)

    class Meta:
        model = Organisation
        fields = ["id", "name", "ods_code", "kind"]


class OrganisationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="organisation-detail")
    kind = serializers.CharField(**KIND)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    provider_type = serializers.PrimaryKeyRelatedField(read_only=True)
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "url", "name", "ods_code", "kind", "kind_display", "provider_type", "services", "is_active"]


class FrameworkSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = ["id", "code", "name", "version"]


class ContractSerializer(serializers.ModelSerializer):
    """A contract as read: its provider, co-ordinating and associate commissioners, frameworks and dates."""

    url = serializers.HyperlinkedIdentityField(view_name="contract-detail")
    provider = OrganisationBriefSerializer(read_only=True)
    coordinating_commissioner = OrganisationBriefSerializer(read_only=True)
    associate_commissioners = OrganisationBriefSerializer(many=True, read_only=True)
    frameworks = FrameworkSummarySerializer(many=True, read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="“proposed”, “accepted” or “refused”: only an accepted contract shows returns."
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    decided_by = serializers.SerializerMethodField(help_text="Who accepted or refused it; null for the system.")
    version = serializers.SerializerMethodField(
        help_text="The contract as read: send it with an acceptance so that a contract changed since is refused."
    )

    class Meta:
        model = Contract
        fields = [
            "id", "url", "reference", "title", "provider", "coordinating_commissioner", "associate_commissioners",
            "frameworks", "starts_on", "ends_on", "status", "status_display", "proposed_at", "decided_at",
            "decided_by", "earlier_start_agreed", "refusal_reason", "version",
        ]  # fmt: skip

    def get_version(self, contract) -> str:
        return contract_version(contract)

    def get_decided_by(self, contract) -> str | None:
        person = contract.decided_by
        return (person.get_full_name() or person.email or person.username) if person else None


class AcceptContractSerializer(serializers.Serializer):
    """Accepting a proposed contract: ``agree_to_earlier_start`` must be true when it starts before this quarter."""

    agree_to_earlier_start = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True to agree that the commissioners may read returns of quarters before this one.",
        error_messages={"invalid": "Say true or false for agree_to_earlier_start."},
    )
    version = serializers.CharField(
        required=False,
        help_text="The contract's version as read; if it changed since, the acceptance is refused.",
        error_messages={"invalid": "Send the version as text."},
    )


@extend_schema_field(OpenApiTypes.STR)
class SentAsIs(serializers.Field):
    """A value passed on exactly as sent (text, or a list or number sent by mistake), for the service to judge.

    The service refuses what is wrong (not text, too long, control characters) in the same words as the form.
    """

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, default="", **kwargs)

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class RefuseContractSerializer(serializers.Serializer):
    """Refusing a proposed contract, with the reason the commissioners will read."""

    # Passed as sent (a form's text or any JSON value) to the service, which judges it by the one rule for typed
    # text (length, control characters, text rather than a list or a number): the API and the page say the same.
    reason = SentAsIs(help_text="Why the contract is refused: text, up to 2,000 characters.")


def _messages(field: str) -> dict:
    """The form's messages under the names DRF gives the same failures."""
    form = CONTRACT_MESSAGES[field]
    messages = {}
    if "required" in form:
        messages.update(required=form["required"], blank=form["required"], null=form["required"])
    if "invalid_choice" in form:
        messages.update(does_not_exist=form["invalid_choice"], incorrect_type=form["invalid_choice"])
    if "invalid" in form:
        messages.update(invalid=form["invalid"], datetime=form["invalid"])
    return messages


class ContractWriteSerializer(serializers.Serializer):
    """A contract's values for :func:`providers.services.save_contract`; ``contract`` in the context to change one."""

    reference = serializers.CharField(max_length=60, error_messages=_messages("reference"))
    title = serializers.CharField(max_length=200, error_messages=_messages("title"))
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.providers(), error_messages=_messages("provider")
    )
    coordinating_commissioner = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.commissioners(), error_messages=_messages("coordinating_commissioner")
    )
    associate_commissioners = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Organisation.objects.commissioners(),
        required=False,
        error_messages=_messages("associate_commissioners"),
    )
    frameworks = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Framework.objects.all(), required=False, error_messages=_messages("frameworks")
    )
    starts_on = serializers.DateField(input_formats=DATE_INPUT_FORMATS, error_messages=_messages("starts_on"))
    ends_on = serializers.DateField(input_formats=DATE_INPUT_FORMATS, error_messages=_messages("ends_on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        for name, queryset in contract_choices(user, self.context.get("contract")).items():
            field = self.fields[name]
            (field.child_relation if hasattr(field, "child_relation") else field).queryset = queryset

    def validate_reference(self, value):
        return value.strip()

    def validate_title(self, value):
        return value.strip()


class MemberSerializer(serializers.Serializer):
    """The person a membership is for."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()


class MembershipSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="membership-detail")
    person = MemberSerializer(source="user", read_only=True)
    organisation = OrganisationBriefSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "url", "person", "organisation", "role", "role_display", "created_at"]
