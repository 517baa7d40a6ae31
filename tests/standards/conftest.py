"""Fixtures for the catalogue's pages and API: a signed-in reader, and a framework with something in it."""

from decimal import Decimal

import pytest

from standards.models import ProviderType
from tests.factories import (
    AssuranceCriterionFactory,
    FrameworkFactory,
    MetricFactory,
    SourceNoteFactory,
    StandardFactory,
    ThresholdFactory,
    UserFactory,
)


@pytest.fixture
def reader(db):
    """A designated nurse who reads the catalogue: signed-in, not staff."""
    return UserFactory(username="nurse", first_name="Ada", last_name="Okafor")


@pytest.fixture
def signed_in_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def framework(db):
    """A framework with a standard, a sub-clause, criteria with a time rule, metrics and notes of each kind.

    Supervision has thresholds by provider type (community 100%, acute 50%); allegations are counted, not
    coloured; one metric belongs to no standard.
    """
    framework = FrameworkFactory(
        code="nel-section-11-children", name="Section 11 children's standards", short_name="Section 11"
    )
    SourceNoteFactory(framework=framework, kind="lost_text", text="Rows of the table were lost at a page break.")
    standard = StandardFactory(
        framework=framework, number="11", title="Effective training of all staff", guidance="Train staff well."
    )
    sub_clause = StandardFactory(framework=framework, parent=standard, number="11.1", title="Supervision of staff")
    AssuranceCriterionFactory(standard=standard, number="6", text="Providers should have systems that:")
    point = AssuranceCriterionFactory(standard=standard, number="6.5", text="Ensure that 85% of staff are trained;")
    AssuranceCriterionFactory(
        standard=standard, number="7", text="Report allegations to the LADO.", within_one_working_day=True
    )
    SourceNoteFactory(criterion=point, kind="interpretation", text="The catalogue reads 85% as a threshold.")
    SourceNoteFactory(standard=standard, kind="inconsistency", text="The table numbers this standard 12.")

    training = MetricFactory(standard=standard, code="S11-TRAINING", title="Staff trained to their level")
    ThresholdFactory(metric=training, green_from=Decimal("85"), amber_from=Decimal("80"), as_written="85%")
    supervision = MetricFactory(standard=sub_clause, code="S11-SUPERVISION", title="Staff receiving supervision")
    ThresholdFactory(
        metric=supervision,
        provider_type=ProviderType.objects.get(code="community"),
        green_from=Decimal("100"),
        amber_from=Decimal("95"),
    )
    ThresholdFactory(
        metric=supervision,
        provider_type=ProviderType.objects.get(code="acute"),
        green_from=Decimal("50"),
        amber_from=Decimal("45"),
        note="first 6mths of the year",
    )
    allegations = MetricFactory(
        framework=framework, count=True, code="S11-ALLEGATIONS", title="Allegations against staff", group="LADO"
    )
    SourceNoteFactory(metric=allegations, kind="missing_reference", text="Refers to a clause 4.9 not shown.")
    return framework


@pytest.fixture
def catalogue_of_size(db):
    """Make a framework with ``size`` standards, each with a sub-clause, criteria, notes and metrics.

    For comparing the queries a page asks of a small and of a large framework.
    """
    acute = ProviderType.objects.get(code="acute")

    def make(size: int):
        framework = FrameworkFactory()
        SourceNoteFactory(framework=framework)
        for _ in range(size):
            standard = StandardFactory(framework=framework)
            StandardFactory(framework=framework, parent=standard, number=f"{standard.number}.1")
            SourceNoteFactory(standard=standard)
            criterion = AssuranceCriterionFactory(standard=standard, number="1", within_one_working_day=True)
            AssuranceCriterionFactory(standard=standard, number="1.1")
            SourceNoteFactory(criterion=criterion)
            metric = MetricFactory(standard=standard, provider_types=[acute], services=["children"])
            ThresholdFactory(metric=metric)
            ThresholdFactory(metric=metric, provider_type=acute, green_from=Decimal("50"))
            SourceNoteFactory(metric=metric)
            MetricFactory(framework=framework, count=True)
        return framework

    return make
