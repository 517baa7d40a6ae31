"""A return to work on: Riverside's contract carries a small framework with a metric of every kind."""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from returns.models import ReportingPeriod
from returns.services import open_return
from standards.models import Frequency, Service
from tests.factories import FrameworkFactory, MetricFactory, StandardFactory, ThresholdFactory
from tests.world import as_person, fast_password_hashing, world  # noqa: F401

Q2_TODAY = datetime.date(2025, 10, 15)  # after Q2 2025/26 ends, before its deadline


@pytest.fixture
def catalogue(world):
    framework = FrameworkFactory(code="test-returns", effective_from=datetime.date(2019, 4, 1))
    standard = StandardFactory(framework=framework, number="1", title="Safe recruitment")
    make = lambda **kw: MetricFactory(framework=framework, standard=standard, **kw)  # noqa: E731
    c = SimpleNamespace(framework=framework, standard=standard)
    c.dbs = make(code="DBS", kind="percentage", numerator_label="Checked", denominator_label="Staff")
    ThresholdFactory(metric=c.dbs, provider_type=None, green_from=100, amber_from=95)
    c.allegations = make(code="ALLEGATIONS", kind="count", numerator_label="", denominator_label="")
    c.policy = make(code="POLICY", kind="policy", numerator_label="", denominator_label="", review_interval_months=36)
    c.audit = make(code="AUDIT", kind="audit", numerator_label="", denominator_label="", sample_size=20)
    c.self_assessment = make(code="S11-01", kind="self_assessment", numerator_label="", denominator_label="")
    c.narrative = make(code="LEADS", kind="narrative", numerator_label="", denominator_label="")
    c.annual = make(
        code="ANNUAL", kind="narrative", numerator_label="", denominator_label="", frequency=Frequency.ANNUALLY
    )
    c.maternity_only = make(code="MATERNITY", kind="count", numerator_label="", denominator_label="")
    c.maternity_only.services.set([Service.objects.get(code="maternity")])
    world.riverside_contract.frameworks.set([framework])
    return c


@pytest.fixture
def q2(db):
    return ReportingPeriod.objects.create(
        financial_year=2025,
        quarter=2,
        submission_deadline=datetime.date(2025, 10, 31),
        lock_date=datetime.date(2025, 11, 30),
    )


@pytest.fixture
def q1(db):
    return ReportingPeriod.objects.create(
        financial_year=2025,
        quarter=1,
        submission_deadline=datetime.date(2025, 7, 31),
        lock_date=datetime.date(2025, 8, 31),
    )


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Evidence files go to a temporary folder, not the project's private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


@pytest.fixture
def open_q2(q2):
    """Q2 2025/26, open today: its deadline and lock date are in the future."""
    today = timezone.localdate()
    q2.submission_deadline = today + datetime.timedelta(days=30)
    q2.lock_date = today + datetime.timedelta(days=60)
    q2.save()
    return q2


@pytest.fixture
def draft(world, catalogue, open_q2):
    return open_return(world.riverside, open_q2, by=world.riverside_contributor)
