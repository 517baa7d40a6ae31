"""The REST API of organisations, contracts and memberships, each narrowed to what the person may see.

Every viewset starts from ``restrict(user, action)`` through :class:`providers.scoping.ScopedQuerysetMixin`, so
another organisation's object is not found (404). Contracts are created and changed through
:func:`providers.services.save_contract`, and answer with the same messages as the contract form; a provider's
safeguarding lead accepts or refuses a proposed contract (``POST …/accept/``, ``…/refuse/``) through
:func:`providers.services.accept_contract` and :func:`providers.services.refuse_contract`; a contract already
accepted or refused answers 409 ``{"detail": ...}`` saying when and by whom.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors, services
from .filters import OrganisationFilter
from .forms import initial_for
from .models import Contract, Membership, Organisation
from .scoping import ScopedQuerysetMixin, may_manage_contracts
from .serializers import (
    AcceptContractSerializer,
    ContractSerializer,
    ContractWriteSerializer,
    MembershipSerializer,
    OrganisationSerializer,
    RefuseContractSerializer,
)


class OrganisationViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The organisations the person may see: their own and, for commissioners, the providers they contract."""

    queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter

    def get_queryset(self):
        return selectors.organisations(super().get_queryset())


class AlreadyAnswered(exceptions.APIException):
    """409: the contract was already accepted or refused; nothing changed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "already_done"


def drf_errors(error: DjangoValidationError) -> dict:
    """A service's errors keyed by field, as DRF keys them (errors of no field under ``non_field_errors``)."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): messages
            for name, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


MANY_VALUED = ("associate_commissioners", "frameworks")


def with_current_values(contract: Contract, data) -> dict:
    """For a partial update: the contract's current values, with those sent in their place."""
    values = initial_for(contract)
    for name in data:
        values[name] = data.getlist(name) if name in MANY_VALUED and hasattr(data, "getlist") else data[name]
    return values


class ContractViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contracts the person may see; the co-ordinating commissioner's admins create and change them."""

    queryset = Contract.objects.all()
    serializer_class = ContractSerializer
    filterset_fields = ["provider"]
    search_fields = ["reference", "title", "provider__name"]
    ordering_fields = ["reference", "starts_on", "ends_on"]

    def get_queryset(self):
        return selectors.contracts(super().get_queryset()).order_by("provider__name", "-starts_on", "reference")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ContractWriteSerializer
        return ContractSerializer

    def create(self, request, *args, **kwargs):
        if not may_manage_contracts(request.user):
            raise PermissionDenied("Only commissioner admins can add contracts.")
        contract = self.save(request.data, contract=None)
        return Response(self.as_read(contract), status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        contract = self.get_object()
        if not Contract.objects.restrict(request.user, "manage_contracts").filter(pk=contract.pk).exists():
            raise PermissionDenied("Only the co-ordinating commissioner's admins can manage this contract.")
        # A body that is not an object (a JSON list or number) goes to the serializer whole, which refuses it.
        partial = partial and hasattr(request.data, "keys")
        data = with_current_values(contract, request.data) if partial else request.data
        return Response(self.as_read(self.save(data, contract=contract)))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def save(self, data, contract: Contract | None) -> Contract:
        serializer = ContractWriteSerializer(data=data, context={**self.get_serializer_context(), "contract": contract})
        serializer.is_valid(raise_exception=True)
        try:
            return services.save_contract(
                by=self.request.user,
                contract=contract,
                base_url=self.request.build_absolute_uri("/"),
                **serializer.validated_data,
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(drf_errors(error)) from error

    @extend_schema(request=AcceptContractSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None, format=None):
        """The provider's safeguarding lead (or an administrator) accepts a proposed contract."""
        contract = self.answerable()
        data = AcceptContractSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agree = data.validated_data["agree_to_earlier_start"]
        version = data.validated_data.get("version")
        self.answer(services.accept_contract, contract, agree_to_earlier_start=agree, version=version)
        return Response(self.as_read(contract))

    @extend_schema(request=RefuseContractSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None, format=None):
        """The provider's safeguarding lead (or an administrator) refuses a proposed contract, saying why."""
        contract = self.answerable()
        data = RefuseContractSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.answer(services.refuse_contract, contract, reason=data.validated_data.get("reason", ""))
        return Response(self.as_read(contract))

    def answerable(self) -> Contract:
        """The contract, among those the person may accept or refuse (404 for anyone else)."""
        return get_object_or_404(Contract.objects.restrict(self.request.user, "answer"), pk=self.kwargs["pk"])

    def answer(self, service, contract: Contract, **values) -> None:
        """Call the service; a contract already accepted or refused (a second answer, a retry) answers 409."""
        try:
            service(contract, by=self.request.user, base_url=self.request.build_absolute_uri("/"), **values)
        except DjangoValidationError as error:
            if getattr(error, "code", None) == services.ALREADY_DONE:
                raise AlreadyAnswered(error.messages[0]) from error
            raise serializers.ValidationError(drf_errors(error)) from error

    def as_read(self, contract: Contract) -> dict:
        contract = selectors.contracts(Contract.objects.filter(pk=contract.pk)).get()
        return ContractSerializer(contract, context=self.get_serializer_context()).data


class MembershipViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """People's roles: each person's own, and every member of the organisations whose members they manage."""

    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_fields = ["organisation", "role"]

    def get_queryset(self):
        return selectors.memberships(super().get_queryset()).order_by("organisation__name", "user__last_name", "pk")


def register(router) -> None:
    """Add the routes of organisations, contracts and memberships to the project's API router."""
    router.register("organisations", OrganisationViewSet, basename="organisation")
    router.register("contracts", ContractViewSet, basename="contract")
    router.register("memberships", MembershipViewSet, basename="membership")
