"""The Section 11 children and adult standards, and providers' self-assessment grades of them, for moderation."""

from types import SimpleNamespace

import pytest

from returns.models import Answer, Return, ReturnStatus, Submission
from standards.kinds import RequirementKind
from standards.models import Frequency, Metric
from tests.factories import FrameworkFactory, MetricFactory, StandardFactory


@pytest.fixture
def moderated(world):
    """Two Section 11 standards and one adult standard, each with its self-assessment asked every quarter; Riverside's
    and Eastway's contracts name both frameworks."""
    children = FrameworkFactory(
        code="nel-section-11-children", short_name="Section 11 children", name="Section 11 standards", position=1
    )
    adults = FrameworkFactory(
        code="nel-safeguarding-adults", short_name="Safeguarding adults", name="Adult standards", position=2
    )
    c = SimpleNamespace(children=children, adults=adults)

    def standard(framework, number, title, code):
        return MetricFactory(
            framework=framework, standard=StandardFactory(framework=framework, number=number, title=title),
            code=code, kind=RequirementKind.SELF_ASSESSMENT, numerator_label="", denominator_label="",
            frequency=Frequency.QUARTERLY, threshold_as_written="",
        )  # fmt: skip

    c.s11_1 = standard(children, "1", "Line of accountability", "S11-01")
    c.s11_2 = standard(children, "2", "Safe recruitment", "S11-02")
    c.adults_1 = standard(adults, "1", "Allegations against staff", "ADULTS-01")
    for contract in (world.riverside_contract, world.eastway_contract):
        contract.frameworks.add(children, adults)
    return c


def graded(provider, period, grades: dict, *, by, status=ReturnStatus.SUBMITTED) -> Return:
    """A return of ``provider`` submitted with these grades (metric code → grade), made straight in the database."""
    provider_return, _ = Return.objects.get_or_create(provider=provider, period=period)
    answers = {code: {"grade": grade, "evidence": "Board minutes."} for code, grade in grades.items()}
    Submission.objects.create(
        provider_return=provider_return, number=provider_return.submissions.count() + 1, submitted_by=by,
        declaration="Confirmed.", snapshot={"answers": [
            {"metric": code, "kind": RequirementKind.SELF_ASSESSMENT, "values": values}
            for code, values in answers.items()
        ]},
    )  # fmt: skip
    metrics = {m.code: m for m in Metric.objects.filter(code__in=list(answers))}
    for code, values in answers.items():
        Answer.objects.update_or_create(
            provider_return=provider_return, metric=metrics[code], defaults={"values": values}
        )
    Return.objects.filter(pk=provider_return.pk).update(status=status)
    provider_return.refresh_from_db()
    return provider_return
