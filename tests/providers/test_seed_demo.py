"""``manage.py seed_demo``: the demo commissioners, providers, contracts and people, and what each person sees."""

import datetime
import io
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from providers.management.commands.seed_demo import LOGIN_URL, PASSWORD, SEED_ADMIN
from providers.models import (
    CommissionerRole,
    Contract,
    ContractCommissioner,
    Membership,
    Organisation,
    Role,
    validate_ods_code,
)
from returns.models import ReportingPeriod, Return, ReturnStatus, Submission
from returns.services import completeness_problems
from reviews.models import ActionFollowUp, AnswerComment, AnswerReview, AnswerStatus, RagRun, ReturnAcceptance
from standards.models import Framework, ProviderType
from tests.factories import UserFactory

NEL_CCGS = {
    "07L": "NHS Barking and Dagenham CCG",
    "08F": "NHS Havering CCG",
    "08N": "NHS Redbridge CCG",
    "07T": "NHS City and Hackney CCG",
    "08W": "NHS Waltham Forest CCG",
    "08M": "NHS Newham CCG",
    "08V": "NHS Tower Hamlets CCG",
}
LUTON_CCG = "06P"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development_settings(settings):
    """seed_demo runs on a developer's machine (DEBUG on); a fast hasher keeps the suite quick."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue():
    call_command("load_catalogue", stdout=io.StringIO())


def seed_demo(**options) -> str:
    """The command's output; without the year and a half of returns unless ``history=True`` (it takes seconds)."""
    options.setdefault("history", False)
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo(catalogue) -> str:
    return seed_demo()


def person(username_start: str):
    return get_user_model().objects.get(username__startswith=username_start)


def commissioner_codes(contract: Contract) -> set[str]:
    return {link.commissioner.ods_code for link in contract.commissioner_links.all()}


def test_creates_the_seven_north_east_london_ccgs_and_luton_with_their_real_ods_codes(demo):
    commissioners = dict(Organisation.objects.commissioners().values_list("ods_code", "name"))

    assert commissioners == {**NEL_CCGS, LUTON_CCG: "NHS Luton CCG"}


def test_creates_a_dozen_fictional_providers_of_every_type(demo):
    providers = Organisation.objects.providers()

    assert providers.count() >= 12
    types = list(providers.values_list("provider_type", flat=True))
    assert set(types) == set(ProviderType.objects.values_list("code", flat=True))
    assert types.count("acute") >= 2
    assert types.count("community") >= 2
    for provider in providers:
        validate_ods_code(provider.ods_code)
        assert provider.ods_code[0] in "Z9", f"{provider} has an ODS code a real organisation could have"
        assert provider.services.exists(), f"{provider} runs no services"
    riverside = providers.get(name="Riverside University Hospitals NHS Trust")
    assert set(riverside.services.values_list("code", flat=True)) == {
        "children", "adults", "maternity", "emergency_department", "inpatient",
    }  # fmt: skip


def test_every_role_has_a_person_who_signs_in_with_the_printed_password(demo, client):
    memberships = Membership.objects.select_related("user")

    assert set(memberships.values_list("role", flat=True)) == set(Role.values)
    for membership in memberships:
        assert "@" in membership.user.username
        assert membership.user.get_full_name()
        assert membership.user.username in demo
    assert PASSWORD in demo
    assert LOGIN_URL in demo
    assert urlsplit(LOGIN_URL).path == reverse("login")

    response = client.post(reverse("login"), {"username": "amara.okafor@newham-ccg.example", "password": PASSWORD})

    assert response.status_code == 302
    assert response.wsgi_request.user.username == "amara.okafor@newham-ccg.example"
    assert all(m.user.check_password(PASSWORD) for m in memberships)


def test_contracts_run_from_april_2025_to_march_2028_on_the_latest_frameworks(demo):
    latest = {
        code: Framework.objects.filter(code=code).latest("effective_from")
        for code in Framework.objects.values_list("code", flat=True)
    }

    assert Contract.objects.count() >= 12
    for contract in Contract.objects.all():
        assert (contract.starts_on.isoformat(), contract.ends_on.isoformat()) == ("2025-04-01", "2028-03-31")
        for framework in contract.frameworks.all():
            assert framework == latest[framework.code]


def test_nel_contracts_hold_the_nel_frameworks_and_luton_contracts_the_luton_specification(demo):
    for contract in Contract.objects.prefetch_related("frameworks", "commissioner_links__commissioner"):
        codes = commissioner_codes(contract)
        if contract.coordinating_commissioner.ods_code == LUTON_CCG:
            assert codes == {LUTON_CCG}, contract.reference
            assert contract.framework_codes == {"luton-children-quality-specification", "nhs-contract-sc32"}
        else:
            assert codes <= NEL_CCGS.keys(), contract.reference
            assert {"nhs-contract-sc32", "nel-safeguarding-adults"} <= contract.framework_codes
            assert "luton-children-quality-specification" not in contract.framework_codes


def test_trusts_serve_several_ccgs_while_the_gp_practice_and_care_home_have_one(demo):
    for contract in Contract.objects.filter(commissioner_links__commissioner__ods_code__in=NEL_CCGS):
        provider_type = contract.provider.provider_type_id
        associates = contract.associate_commissioners
        if provider_type in ("acute", "community", "mental_health"):
            assert 1 <= len(associates) <= 3, contract.reference
        if provider_type in ("primary_care", "care_home"):
            assert associates == [], contract.reference


def test_a_provider_holds_contracts_with_both_a_nel_ccg_and_luton_ccg(demo):
    with_nel = ContractCommissioner.objects.filter(commissioner__ods_code__in=NEL_CCGS).values("contract__provider")
    with_luton = ContractCommissioner.objects.filter(commissioner__ods_code=LUTON_CCG).values("contract__provider")

    both = Organisation.objects.filter(pk__in=with_nel).filter(pk__in=with_luton)

    assert list(both.values_list("name", flat=True)) == ["Harbour Light Independent Hospital"]
    assert Organisation.objects.filter(pk__in=with_luton).count() >= 3


def test_every_contract_has_one_coordinating_commissioner_who_is_not_also_an_associate(demo):
    for contract in Contract.objects.prefetch_related("commissioner_links__commissioner"):
        roles = [link.role for link in contract.commissioner_links.all()]
        assert roles.count(CommissionerRole.COORDINATING) == 1, contract.reference
        assert contract.coordinating_commissioner not in contract.associate_commissioners, contract.reference


def row_counts() -> dict[str, int]:
    """Rows in every table of the providers app (history and permissions included), and of people."""
    counts = {
        model._meta.label: model._default_manager.count() for model in apps.get_app_config("providers").get_models()
    }
    counts["users"] = get_user_model().objects.count()
    return counts


def test_running_it_again_changes_nothing(demo):
    before = row_counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))

    again = seed_demo()

    assert row_counts() == before
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert "created" not in again and "updated" not in again
    assert before["providers.HistoricalContract"] > 0


def test_running_it_again_puts_back_what_was_changed(demo):
    riverside = Organisation.objects.get(ods_code="ZR1")
    riverside.services.clear()
    nurse = person("amara.okafor")
    nurse.set_password("something-else-entirely")
    nurse.save()
    contract = Contract.objects.get(reference="NEL-2025-001")
    contract.frameworks.clear()

    seed_demo()

    assert riverside.services.count() == 5
    assert person("amara.okafor").check_password(PASSWORD)
    assert contract.frameworks.count() == 4


def test_refuses_to_run_until_the_catalogue_is_loaded():
    with pytest.raises(CommandError, match="load_catalogue"):
        seed_demo()

    assert not Organisation.objects.exists()
    assert not get_user_model().objects.exists()


def test_refuses_to_run_with_debug_off_unless_forced(catalogue, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        seed_demo()
    assert not Organisation.objects.exists()

    seed_demo(force=True)
    assert Organisation.objects.count() >= 20


def test_without_a_superuser_records_a_seed_admin_who_cannot_sign_in(demo):
    seed_admin = get_user_model().objects.get(username=SEED_ADMIN)

    assert seed_admin.is_superuser and seed_admin.is_active and not seed_admin.is_staff
    assert not seed_admin.has_usable_password()
    assert Contract.history.filter(history_user=seed_admin).exists()
    assert SEED_ADMIN in demo


def test_an_existing_superuser_is_recorded_instead_of_creating_a_seed_admin(catalogue):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)

    seed_demo()

    assert not get_user_model().objects.filter(username=SEED_ADMIN).exists()
    assert set(Contract.history.values_list("history_user__username", flat=True)) == {"admin"}
    assert admin.memberships.count() == 0


def test_the_newham_designated_nurse_sees_newham_and_the_providers_on_its_contracts_only(demo):
    newham = Organisation.objects.get(ods_code="08M")
    on_newham_contracts = set(
        ContractCommissioner.objects.filter(commissioner=newham).values_list("contract__provider__name", flat=True)
    )

    seen = set(Organisation.objects.restrict(person("amara.okafor")).values_list("name", flat=True))

    assert seen == {"NHS Newham CCG", *on_newham_contracts}
    assert "Riverside University Hospitals NHS Trust" in seen  # Newham co-ordinates its contract
    assert "Eastway Community Health NHS Trust" in seen  # Newham is an associate on its contract
    assert "Marsh Lane Care Home" not in seen
    assert "Chalk Hills Community Services (Luton)" not in seen


def test_the_riverside_contributor_sees_riverside_only(demo):
    seen = Organisation.objects.restrict(person("tom.adeyemi"))

    assert list(seen.values_list("name", flat=True)) == ["Riverside University Hospitals NHS Trust"]


def test_the_luton_designated_nurse_sees_none_of_the_north_east_london_only_providers(demo):
    luton_providers = ContractCommissioner.objects.filter(commissioner__ods_code=LUTON_CCG).values("contract__provider")
    nel_only = set(Organisation.objects.providers().exclude(pk__in=luton_providers).values_list("name", flat=True))

    seen = set(Organisation.objects.restrict(person("helen.carter")).values_list("name", flat=True))

    assert nel_only and not seen & nel_only
    assert "NHS Luton CCG" in seen
    assert "Harbour Light Independent Hospital" in seen
    assert not seen & set(NEL_CCGS.values())


def test_periods_around_november_2026_and_riverside_s_submitted_first_quarter(demo):
    periods = {(p.financial_year, p.quarter): p for p in ReportingPeriod.objects.all()}
    assert set(periods) == {(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2)}
    november = datetime.date(2026, 11, 23)
    assert [key for key, period in periods.items() if not period.is_locked(november)] == [(2026, 2)]
    assert str(periods[(2026, 2)].submission_deadline) == "2026-11-30"
    (submitted,) = Return.objects.all()
    assert submitted.provider.ods_code == "ZR1" and submitted.period == periods[(2026, 1)]
    assert submitted.status == ReturnStatus.SUBMITTED
    assert completeness_problems(submitted) == {}
    (submission,) = submitted.submissions.all()
    assert not submission.late and submission.submitted_by.username.startswith("priya.shah")
    assert "Submitted returns: 1 created" in demo
    assert "Submitted returns: 1 unchanged" in seed_demo()
    assert Return.objects.count() == 1 and submitted.submissions.count() == 1


def test_the_full_demo_holds_a_year_and_a_half_of_returns_with_late_overdue_and_reviewed_ones(
    catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the RAG jobs the submissions schedule
        output = seed_demo(history=True)

    periods = {(p.financial_year, p.quarter): p for p in ReportingPeriod.objects.all()}
    submitted = Return.objects.filter(submissions__isnull=False).distinct()
    # Twelve providers for five quarters, and seven of them already for Q2 2026/27.
    assert submitted.count() == 12 * 5 + 7 - 1  # Lanternwick's Q1 2026/27 return was started, never submitted
    lanternwick_q1 = Return.objects.get(provider__ods_code="ZI2", period=periods[(2026, 1)])
    assert lanternwick_q1.status == ReturnStatus.DRAFT
    assert not Return.objects.filter(provider__ods_code="ZR1", period=periods[(2026, 2)]).exists()
    late = Submission.objects.filter(late=True).values_list("provider_return__provider__ods_code", flat=True)
    assert sorted(late) == ["ZG2", "ZG2", "ZI1"]
    assert all(completeness_problems(r) == {} for r in submitted.exclude(status=ReturnStatus.RETURNED)[:5])
    # Submitted on the days they pretend, before today's demo date of 23 November 2026.
    assert not Submission.objects.filter(submitted_at__date__gt=datetime.date(2026, 11, 23)).exists()
    eastway_q2 = Return.objects.get(provider__ods_code="ZC1", period=periods[(2026, 2)])
    assert eastway_q2.status == ReturnStatus.RETURNED
    # The RAG job ran for every submitted return, and the ratings vary.
    assert RagRun.objects.filter(is_current=True).count() == submitted.count()
    colours = set(AnswerStatus.objects.filter(run__is_current=True).values_list("colour", flat=True))
    assert {"red", "amber", "green"} <= colours
    # What the designated nurses did.
    override = AnswerReview.objects.get(decision="overridden")
    assert override.reviewed_by.username == "amara.okafor@newham-ccg.example"
    assert override.provider_return.provider.ods_code == "ZI1" and override.reviewed_at.year == 2026
    assert AnswerComment.objects.count() >= 3 and ReturnAcceptance.objects.count() == 2
    assert ActionFollowUp.objects.filter(is_done=True).count() == 1
    assert "Review stories: 6 created" in output

    before = (Submission.objects.count(), AnswerReview.objects.count(), AnswerComment.objects.count())
    again = seed_demo(history=True)

    assert (Submission.objects.count(), AnswerReview.objects.count(), AnswerComment.objects.count()) == before
    assert "created" not in again and "updated" not in again
