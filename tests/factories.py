"""factory_boy factories for the project's models, shared by every app's tests.

Provider types and services are seeded by a migration, so their factories fetch the seeded row by code when
it exists. A metric, criterion or note made for a standard belongs to that standard's framework.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from standards.kinds import RequirementKind
from standards.models import (
    AssuranceCriterion,
    Framework,
    Frequency,
    Metric,
    ProviderType,
    Service,
    SourceNote,
    SourceNoteKind,
    Standard,
    Threshold,
)

#: The password every UserFactory user has, for tests that sign in through the sign-in page.
PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.nhs.uk")
    password = factory.django.Password(PASSWORD)
    is_staff = False
    is_superuser = False


class ProviderTypeFactory(DjangoModelFactory):
    class Meta:
        model = ProviderType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"provider-type-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").replace("_", " ").capitalize())
    position = factory.Sequence(lambda n: 100 + n)


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").replace("_", " ").capitalize())
    position = factory.Sequence(lambda n: 100 + n)


class FrameworkFactory(DjangoModelFactory):
    class Meta:
        model = Framework

    code = factory.Sequence(lambda n: f"framework-{n}")
    version = "2019/20"
    name = factory.Sequence(lambda n: f"Safeguarding standards {n}")
    short_name = factory.Sequence(lambda n: f"Standards {n}")
    description = "Standards providers meet to safeguard children and adults at risk."
    source_document = "Safeguarding through Commissioning Policy"
    source_publisher = "North East London Commissioning Alliance"
    source_date = "March 2019"
    source_section = "4.0–4.1"
    effective_from = datetime.date(2019, 4, 1)
    effective_to = None
    position = factory.Sequence(int)


class StandardFactory(DjangoModelFactory):
    class Meta:
        model = Standard

    framework = factory.SubFactory(FrameworkFactory)
    parent = None
    number = factory.Sequence(lambda n: str(n + 1))
    title = factory.Sequence(lambda n: f"Clear line of accountability for safeguarding, standard {n + 1}")
    guidance = ""
    position = factory.Sequence(int)
    source_reference = factory.LazyAttribute(lambda o: f"4.1 Standard {o.number}")


class AssuranceCriterionFactory(DjangoModelFactory):
    class Meta:
        model = AssuranceCriterion

    standard = factory.SubFactory(StandardFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    text = factory.Sequence(lambda n: f"Providers demonstrate point of assurance {n + 1}.")
    position = factory.Sequence(int)
    source_reference = ""

    class Params:
        within_one_working_day = factory.Trait(
            time_rule="within one working day of the allegation being made",
            time_rule_kind="within",
            time_limit=1,
            time_unit="working_days",
        )


class MetricFactory(DjangoModelFactory):
    """A percentage metric by default; ``kind=…`` with the traits ``count``, ``policy`` and ``audit`` for others."""

    class Meta:
        model = Metric
        skip_postgeneration_save = True

    standard = None
    framework = factory.LazyAttribute(lambda o: o.standard.framework if o.standard else FrameworkFactory())
    code = factory.Sequence(lambda n: f"M-{n + 1}")
    title = factory.Sequence(lambda n: f"Staff trained to the level their role needs ({n + 1})")
    description = "Percentage of staff trained to the level their role needs."
    group = "Training"
    kind = RequirementKind.PERCENTAGE
    position = factory.Sequence(int)
    threshold_as_written = "85%"
    method_of_measurement = "Training records"
    frequency = Frequency.QUARTERLY
    frequency_as_written = "Quarterly"
    numerator_label = "Staff trained"
    denominator_label = "Eligible staff"
    sample_size = None
    review_interval_months = None
    higher_is_better = True
    source_reference = "Appendix A"

    class Params:
        count = factory.Trait(
            kind=RequirementKind.COUNT, numerator_label="", denominator_label="", threshold_as_written=""
        )
        policy = factory.Trait(
            kind=RequirementKind.POLICY, numerator_label="", denominator_label="", review_interval_months=36
        )
        audit = factory.Trait(kind=RequirementKind.AUDIT, numerator_label="", denominator_label="", sample_size=20)

    @factory.post_generation
    def provider_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.provider_types.set(extracted)

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class ThresholdFactory(DjangoModelFactory):
    class Meta:
        model = Threshold

    metric = factory.SubFactory(MetricFactory)
    provider_type = None
    green_from = Decimal("85")
    amber_from = factory.LazyAttribute(lambda o: max(Decimal(o.green_from) - 5, Decimal(0)))
    as_written = factory.LazyAttribute(lambda o: f"{Decimal(o.green_from).normalize():f}%")
    note = ""


class SourceNoteFactory(DjangoModelFactory):
    """A note on the framework itself unless given a ``standard``, ``criterion`` or ``metric``."""

    class Meta:
        model = SourceNote

    standard = None
    criterion = None
    metric = None
    framework = factory.LazyAttribute(
        lambda o: (
            o.standard.framework
            if o.standard
            else o.criterion.standard.framework
            if o.criterion
            else o.metric.framework
            if o.metric
            else FrameworkFactory()
        )
    )
    kind = SourceNoteKind.INCONSISTENCY
    text = "The table numbers this standard 12; the text that expands it numbers it 11."
    position = factory.Sequence(int)
