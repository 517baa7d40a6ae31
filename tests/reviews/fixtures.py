"""Returns to review: Riverside's Q2 return submitted through the services, and quick ways to make many more."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from providers.models import Role
from returns.models import Evidence, ReportingPeriod, Return, ReturnStatus, Submission, quarter_dates
from returns.services import AnswerInput, open_return, save_answers, submit_return
from tests.providers.factories import ContractFactory, ProviderFactory, member
from tests.returns.conftest import Q2_TODAY

AFTER_Q2_DEADLINE = datetime.date(2025, 11, 5)  # Q2 2025/26's deadline was 31 October 2025

#: Riverside's answers: DBS amber (97 of 100 against 100%, amber from 95%), the rest green or without colour.
ANSWERS = {
    "DBS": {"numerator": "97", "denominator": "100"},
    "ALLEGATIONS": {"count": "2"},
    "POLICY": {"in_place": "yes", "review_date": "2027-03-31"},
    "AUDIT": {"sampled": "20", "compliant": "19"},
    "S11-01": {"grade": "compliant", "evidence": "Board minutes."},
    "LEADS": {"text": "Dr A Patel."},
}


def submit_through_services(world, catalogue, provider_return, answers=None, today=Q2_TODAY):
    provider_return.refresh_from_db()
    by_code = {m.code: m for m in vars(catalogue).values() if hasattr(m, "code") and hasattr(m, "kind")}
    given = {by_code[code].pk: AnswerInput(values) for code, values in (answers or ANSWERS).items()}
    save_answers(provider_return, by=world.riverside_contributor, answers=given, today=today)
    if not provider_return.answers.get(metric=catalogue.policy).evidence.exists():
        Evidence.objects.create(
            answer=provider_return.answers.get(metric=catalogue.policy), file=SimpleUploadedFile("p.pdf", b"%PDF-1.7"),
            original_name="p.pdf", content_type="application/pdf", size=8, uploaded_by=world.riverside_contributor,
        )  # fmt: skip
    return submit_return(provider_return, by=world.riverside_lead, declaration_confirmed=True, today=today)


@pytest.fixture
def submitted(world, catalogue, q2):
    """Riverside's Q2 return, answered and submitted on time by its safeguarding lead."""
    draft = open_return(world.riverside, q2, by=world.riverside_contributor)
    submit_through_services(world, catalogue, draft)
    return Return.objects.select_related("provider__provider_type", "period").get(pk=draft.pk)


def submit_directly(provider, period, answers=None, *, by, late=False) -> Return:
    """A submitted return made straight in the database (no checks), for tests that need many of them."""
    provider_return, _ = Return.objects.get_or_create(provider=provider, period=period)
    Submission.objects.create(
        provider_return=provider_return,
        number=provider_return.submissions.count() + 1,
        submitted_by=by,
        declaration="Confirmed.",
        snapshot={"answers": [{"metric": code, "values": values} for code, values in (answers or ANSWERS).items()]},
        late=late,
    )
    Return.objects.filter(pk=provider_return.pk).update(status=ReturnStatus.SUBMITTED)
    provider_return.refresh_from_db()
    return provider_return


def providers_of(commissioner, framework, count: int, prefix: str = "P"):
    """``count`` providers on contracts co-ordinated by ``commissioner`` naming ``framework``, each with a lead."""
    providers = []
    for n in range(count):
        provider = ProviderFactory(name=f"{prefix} provider {n:03d}", ods_code=f"{prefix}{n:03d}"[:6])
        ContractFactory(provider=provider, coordinating=commissioner, frameworks=[framework])
        member(provider, Role.PROVIDER_LEAD, username=f"{prefix.lower()}-lead-{n}")
        providers.append(provider)
    return providers


def make_period(financial_year: int, quarter: int) -> ReportingPeriod:
    """A quarter with its deadline a month after it ends and its lock date two months after."""
    _, ends_on = quarter_dates(financial_year, quarter)
    return ReportingPeriod.objects.create(
        financial_year=financial_year,
        quarter=quarter,
        submission_deadline=ends_on + datetime.timedelta(days=31),
        lock_date=ends_on + datetime.timedelta(days=61),
    )
