"""factory_boy factories for organisations, contracts and memberships."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from providers.models import (
    CommissionerRole,
    Contract,
    ContractCommissioner,
    ContractStatus,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
)
from standards.models import ProviderType


class CommissionerFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)

    name = factory.Sequence(lambda n: f"NHS Test Commissioner {n} CCG")
    ods_code = factory.Sequence(lambda n: f"Z{n:02d}C")
    kind = OrganisationKind.COMMISSIONER


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("ods_code",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Test Provider {n} NHS Trust")
    ods_code = factory.Sequence(lambda n: f"Z{n:02d}P")
    kind = OrganisationKind.PROVIDER
    provider_type = factory.LazyFunction(lambda: ProviderType.objects.get(code="acute"))

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class ContractFactory(DjangoModelFactory):
    """An accepted contract; pass ``coordinating=<commissioner>`` and optionally ``associates=[...]``.

    ``status=ContractStatus.PROPOSED`` makes one still waiting for the provider (``refused`` needs a reason too).
    """

    class Meta:
        model = Contract
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"TEST-{n:04d}")
    title = factory.LazyAttribute(lambda o: f"Services of {o.provider.name}")
    provider = factory.SubFactory(ProviderFactory)
    starts_on = datetime.date(2025, 4, 1)
    ends_on = datetime.date(2028, 3, 31)
    status = ContractStatus.ACCEPTED
    decided_at = factory.LazyAttribute(lambda o: None if o.status == ContractStatus.PROPOSED else timezone.now())

    @factory.post_generation
    def coordinating(self, create, extracted, **kwargs):
        if create:
            commissioner = extracted or CommissionerFactory()
            ContractCommissioner.objects.create(
                contract=self, commissioner=commissioner, role=CommissionerRole.COORDINATING
            )

    @factory.post_generation
    def associates(self, create, extracted, **kwargs):
        for commissioner in extracted or []:
            ContractCommissioner.objects.create(
                contract=self, commissioner=commissioner, role=CommissionerRole.ASSOCIATE
            )

    @factory.post_generation
    def frameworks(self, create, extracted, **kwargs):
        if create and extracted:
            self.frameworks.set(extracted)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory("tests.factories.UserFactory")
    organisation = factory.SubFactory(ProviderFactory)
    role = Role.PROVIDER_CONTRIBUTOR


def member(organisation, role, **user_fields):
    """A new person with one role in one organisation."""
    from tests.factories import UserFactory

    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user
