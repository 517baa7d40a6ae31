"""``manage.py seed_demo``: the demo commissioners, providers, contracts and people, and what each person sees."""

import datetime
import io
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from providers.management.commands.seed_demo import PASSWORD, SEED_ADMIN, sign_in_url
from providers.models import (
    CommissionerRole,
    Contract,
    ContractCommissioner,
    ContractStatus,
    Membership,
    Organisation,
    Role,
    validate_ods_code,
)
from returns import demo as returns_demo
from returns.models import (
    ActionPlanItem,
    Answer,
    Evidence,
    ReportingPeriod,
    Return,
    ReturnStatus,
    RevisionRequest,
    Submission,
    quarter_dates,
)
from returns.selectors import metrics_for
from returns.services import AnswerInput, completeness_problems, open_return, save_answers
from returns.views.lists import open_periods
from reviews.models import ActionFollowUp, AnswerComment, AnswerReview, AnswerStatus, RagRun, ReturnAcceptance
from reviews.selectors import NOT_YET, ON_TIME, OVERDUE, RETURNED, dashboard, overdue_returns
from standards.kinds import RequirementKind
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
#: The day the demo was designed for: Q2 2026/27's returns are due by 30 November, seven providers have sent theirs.
DESIGN_DAY = datetime.date(2026, 11, 23)
#: A day after the deadline of the latest quarter to have ended (Q3 2026/27, due by 28 February 2027).
AFTER_THE_DEADLINE = datetime.date(2027, 3, 10)
EARLY = {"ZR2", "ZR3", "ZC1", "ZC2", "ZC3", "ZM1", "ZG1"}
#: The shipped catalogue's same measures: Luton's policies that the Section 11 standards also ask.
SHARED_POLICIES = (
    ("LUT-LADO-POLICY", "S11-10-ALLEGATIONS-PROCEDURE"),
    ("LUT-SUPERVISION-POLICY", "S11-12-SUPERVISION-DOCUMENT"),
    ("LUT-CHAPERONE-POLICY", "S11-06-CHAPERONING-POLICY"),
)

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
    """The command's output; without the year and a half of returns unless ``history=True`` (it takes seconds).

    The demo's dates follow its today: the design's day unless ``today`` says another.
    """
    options.setdefault("history", False)
    options.setdefault("today", DESIGN_DAY)
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


def test_creates_two_icbs_whose_places_are_the_seven_nel_ccgs_and_luton_keeping_their_ccg_names_until_july_2022(
    demo,
):
    icbs = dict(Organisation.objects.commissioners().filter(parent=None).values_list("ods_code", "name"))
    assert icbs == {"QMF": "NHS North East London ICB", "QHG": "NHS Bedfordshire, Luton and Milton Keynes ICB"}
    places = Organisation.objects.filter(parent__isnull=False).select_related("parent")
    assert {place.ods_code: place.parent.ods_code for place in places} == {
        **dict.fromkeys(NEL_CCGS, "QMF"), LUTON_CCG: "QHG",
    }  # fmt: skip
    ccgs = {**NEL_CCGS, LUTON_CCG: "NHS Luton CCG"}
    for place in places:
        area = ccgs[place.ods_code].removeprefix("NHS ").removesuffix(" CCG")
        assert place.name == f"{place.parent.name}: {area}"
        assert place.name_on(datetime.date(2022, 6, 30)) == ccgs[place.ods_code]
        assert place.name_on(datetime.date(2022, 7, 1)) == place.name
        assert place.history.latest().history_change_reason == f"Made a place of {place.parent.name} on 1 July 2022"


def test_icb_people_see_every_places_providers_and_place_people_their_places(demo):
    def providers_seen(username):
        return set(Organisation.objects.restrict(person(username)).providers().values_list("ods_code", flat=True))

    nel_providers = set(
        ContractCommissioner.objects.filter(
            commissioner__ods_code__in=NEL_CCGS, contract__status="accepted"
        ).values_list("contract__provider__ods_code", flat=True)
    )
    assert providers_seen("joanne.pryce") == providers_seen("marcus.webb") == nel_providers
    assert providers_seen("amara.okafor") < nel_providers  # Newham's own only
    assert providers_seen("rebecca.osei") == providers_seen("helen.carter")  # Luton is BLMK's one place here


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
    assert sign_in_url() in demo
    assert urlsplit(sign_in_url()).path == reverse("login")

    response = client.post(reverse("login"), {"username": "amara.okafor@newham-ccg.example", "password": PASSWORD})

    assert response.status_code == 302
    assert response.wsgi_request.user.username == "amara.okafor@newham-ccg.example"
    assert all(m.user.check_password(PASSWORD) for m in memberships)


@pytest.mark.parametrize(
    ("port", "url"),
    [(None, "http://127.0.0.1:8000/accounts/login/"), ("8131", "http://127.0.0.1:8131/accounts/login/")],
)
def test_the_sign_in_address_is_on_the_port_bin_dev_serves_on(catalogue, monkeypatch, port, url):
    if port is None:
        monkeypatch.delenv("PORT", raising=False)
    else:
        monkeypatch.setenv("PORT", port)

    output = seed_demo()

    assert f"Sign in at {url} as:" in output
    assert f"Sign-in page: {url}" in output


def test_contracts_run_from_april_2025_to_march_2028_on_the_latest_frameworks(demo):
    latest = {
        code: Framework.objects.filter(code=code).latest("effective_from")
        for code in Framework.objects.values_list("code", flat=True)
    }

    assert Contract.objects.count() >= 12
    for contract in Contract.objects.all():
        term = ("2022-04-01", "2025-03-31") if "-2022-" in contract.reference else ("2025-04-01", "2028-03-31")
        assert (contract.starts_on.isoformat(), contract.ends_on.isoformat()) == term
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


def test_the_newham_designated_nurse_sees_newham_and_the_providers_on_its_accepted_contracts_only(demo):
    newham = Organisation.objects.get(ods_code="08M")
    on_newham_contracts = set(
        ContractCommissioner.objects.filter(commissioner=newham, contract__status=ContractStatus.ACCEPTED).values_list(
            "contract__provider__name", flat=True
        )
    )

    seen = set(Organisation.objects.restrict(person("amara.okafor")).values_list("name", flat=True))

    assert seen == {"NHS North East London ICB: Newham", *on_newham_contracts}
    assert "Riverside University Hospitals NHS Trust" in seen  # Newham co-ordinates its contract
    assert "Eastway Community Health NHS Trust" in seen  # Newham is an associate on its contract
    assert "Marsh Lane Care Home" not in seen  # Newham's contract with it is only proposed
    assert "Chalk Hills Community Services (Luton)" not in seen


def test_newhams_contract_with_marsh_lane_waits_for_its_lead_who_sees_it_on_his_home_page(demo, client):
    proposed = Contract.objects.get(reference="NEL-2025-010")
    assert proposed.status == ContractStatus.PROPOSED
    assert proposed.provider.ods_code == "ZH1"
    assert set(Contract.objects.exclude(pk=proposed.pk).values_list("status", flat=True)) == {ContractStatus.ACCEPTED}
    client.force_login(person("mark.ellison"))

    home = client.get(reverse("home")).content.decode()
    assert "1 contract waits for" in home
    page = client.get(proposed.get_absolute_url()).content.decode()
    assert "Accept the contract" in page
    agreed = "I agree that NHS North East London ICB: Newham may read our returns from Q1 2025/26 (April to June 2025)"
    assert f"{agreed} onwards" in page

    assert "Contracts: 16 unchanged" in seed_demo()  # running it again leaves the proposal as it is
    assert Contract.objects.get(pk=proposed.pk).status == ContractStatus.PROPOSED


def test_the_riverside_contributor_sees_riverside_only(demo):
    seen = Organisation.objects.restrict(person("tom.adeyemi"))

    assert list(seen.values_list("name", flat=True)) == ["Riverside University Hospitals NHS Trust"]


def test_the_luton_designated_nurse_sees_none_of_the_north_east_london_only_providers(demo):
    luton_providers = ContractCommissioner.objects.filter(commissioner__ods_code=LUTON_CCG).values("contract__provider")
    nel_only = set(Organisation.objects.providers().exclude(pk__in=luton_providers).values_list("name", flat=True))

    seen = set(Organisation.objects.restrict(person("helen.carter")).values_list("name", flat=True))

    assert nel_only and not seen & nel_only
    assert "NHS Bedfordshire, Luton and Milton Keynes ICB: Luton" in seen
    assert "Harbour Light Independent Hospital" in seen
    assert not seen & set(NEL_CCGS.values())


def test_periods_around_november_2026_and_riverside_s_submitted_first_quarter(demo):
    periods = {(p.financial_year, p.quarter): p for p in ReportingPeriod.objects.all()}
    assert set(periods) == {(2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2), (2026, 3)}
    assert {key for key, period in periods.items() if not period.is_locked(DESIGN_DAY)} == {(2026, 2), (2026, 3)}
    assert str(periods[(2026, 2)].submission_deadline) == "2026-11-30"
    assert str(periods[(2026, 2)].lock_date) == "2026-12-31"
    assert open_periods(DESIGN_DAY) == [periods[(2026, 2)]]  # Q3 2026/27 is under way
    (submitted,) = Return.objects.all()
    assert submitted.provider.ods_code == "ZR1" and submitted.period == periods[(2026, 1)]
    assert submitted.status == ReturnStatus.SUBMITTED
    assert completeness_problems(submitted) == {}
    (submission,) = submitted.submissions.all()
    assert not submission.late and submission.submitted_by.username.startswith("priya.shah")
    assert timezone.localdate(submission.submitted_at) == datetime.date(2026, 8, 21)  # the deadline was 31 August
    assert "Submitted returns: 1 created" in demo
    assert "Submitted returns: 1 unchanged" in seed_demo()
    assert Return.objects.count() == 1 and submitted.submissions.count() == 1


@pytest.mark.parametrize(
    ("ends_on", "deadline", "lock_date"),
    [
        ("2026-06-30", "2026-08-31", "2026-09-30"),
        ("2026-09-30", "2026-11-30", "2026-12-31"),
        ("2026-12-31", "2027-02-28", "2027-03-31"),
        ("2027-03-31", "2027-05-31", "2027-06-30"),
        ("2027-12-31", "2028-02-29", "2028-03-31"),
    ],
)
def test_returns_are_due_at_the_end_of_the_second_month_after_the_quarter_and_lock_at_the_end_of_the_third(
    ends_on, deadline, lock_date
):
    ends_on = datetime.date.fromisoformat(ends_on)

    assert returns_demo.submission_deadline(ends_on).isoformat() == deadline
    assert returns_demo.lock_date(ends_on).isoformat() == lock_date


@pytest.mark.parametrize(
    ("today", "anchor"),
    [
        ("2026-09-30", (2026, 1)),  # July to September has not ended yet
        ("2026-10-01", (2026, 2)),
        ("2026-12-31", (2026, 2)),
        ("2027-01-01", (2026, 3)),
        ("2027-03-31", (2026, 3)),
        ("2027-04-01", (2026, 4)),
        ("2027-07-01", (2027, 1)),
    ],
)
def test_the_demo_is_anchored_on_the_latest_quarter_that_ended_before_today(today, anchor):
    quarters = returns_demo.demo_quarters(datetime.date.fromisoformat(today))

    assert quarters[returns_demo.ANCHOR] == anchor
    assert sorted(quarters) == list(range(7))
    ends = [quarter_dates(*quarters[index])[1] for index in sorted(quarters)]
    starts = [quarter_dates(*quarters[index])[0] for index in sorted(quarters)]
    assert all(start == end + datetime.timedelta(days=1) for start, end in zip(starts[1:], ends, strict=False))


def months_after(later: datetime.date, earlier: datetime.date) -> int:
    return later.year * 12 + later.month - earlier.year * 12 - earlier.month


def is_last_day_of_month(day: datetime.date) -> bool:
    return (day + datetime.timedelta(days=1)).day == 1


def riverside_starts_its_return(period: ReportingPeriod, today: datetime.date) -> Return:
    """Riverside's contributor starts its return for the period and saves an answer, as on ``today``."""
    assert period in open_periods(today)
    riverside = Organisation.objects.get(ods_code="ZR1")
    tom = person("tom.adeyemi")
    provider_return = open_return(riverside, period, by=tom)
    metric = next(m for m in metrics_for(riverside, period) if m.kind == RequirementKind.PERCENTAGE)
    answer = AnswerInput({"numerator": "45", "denominator": "50"})
    save_answers(provider_return, by=tom, answers={metric.pk: answer}, today=today)
    assert provider_return.answers.get(metric=metric).values["numerator"] in (45, "45")
    return provider_return


@pytest.mark.parametrize(
    ("today", "anchor", "deadline", "lock_date"),
    [
        ("2026-11-23", (2026, 2), "2026-11-30", "2026-12-31"),
        ("2026-12-02", (2026, 2), "2026-11-30", "2026-12-31"),  # after the deadline: overdue, not locked
        ("2027-02-10", (2026, 3), "2027-02-28", "2027-03-31"),
        ("2027-04-01", (2026, 4), "2027-05-31", "2027-06-30"),  # the day after the quarter ended
        ("2028-02-29", (2027, 3), "2028-02-29", "2028-03-31"),
    ],
)
def test_periods_contracts_and_riverside_s_return_follow_the_day_it_is_seeded(
    catalogue, today, anchor, deadline, lock_date
):
    today = datetime.date.fromisoformat(today)

    seed_demo(today=today)

    periods = list(ReportingPeriod.objects.order_by("starts_on"))
    assert len(periods) == 7
    latest, in_progress = periods[returns_demo.ANCHOR], periods[returns_demo.IN_PROGRESS]
    assert (latest.financial_year, latest.quarter) == anchor
    assert (latest.submission_deadline.isoformat(), latest.lock_date.isoformat()) == (deadline, lock_date)
    assert latest.ends_on < today <= in_progress.ends_on
    for before, after in zip(periods, periods[1:], strict=False):
        assert after.starts_on == before.ends_on + datetime.timedelta(days=1)
    for period in periods:
        assert months_after(period.submission_deadline, period.ends_on) == 2
        assert months_after(period.lock_date, period.ends_on) == 3
        assert is_last_day_of_month(period.submission_deadline) and is_last_day_of_month(period.lock_date)
    # Contracts run three years from the first demo quarter, past the quarter in progress; the ones held before them
    # (through the change to ICBs in July 2022) from April 2022 to the day before.
    first = periods[0].starts_on
    earlier = Contract.objects.filter(reference__contains="-2022-")
    assert set(earlier.values_list("starts_on", "ends_on")) == {
        (datetime.date(2022, 4, 1), first - datetime.timedelta(days=1))
    }
    for contract in Contract.objects.exclude(pk__in=earlier):
        assert contract.starts_on == first
        assert contract.ends_on == first.replace(year=first.year + 3) - datetime.timedelta(days=1)
        assert contract.ends_on > in_progress.ends_on
    # Riverside's return for the quarter before the latest went in on time; it can start the latest.
    (submitted,) = Return.objects.all()
    assert submitted.period == periods[returns_demo.ANCHOR - 1] and submitted.status == ReturnStatus.SUBMITTED
    (submission,) = submitted.submissions.all()
    assert not submission.late and timezone.localdate(submission.submitted_at) < today
    assert open_periods(today) == [latest]
    riverside_starts_its_return(latest, today)


def test_the_today_option_reads_a_day_and_refuses_anything_else(catalogue):
    call_command("seed_demo", "--no-history", "--today", "2027-02-10", stdout=io.StringIO())

    assert ReportingPeriod.objects.filter(financial_year=2026, quarter=4).exists()  # the quarter in progress
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", "--no-history", "--today", "10/02/2027", stdout=io.StringIO())


def dated_after(today: datetime.date) -> dict[str, int]:
    """How many of the demo's returns, answers, review acts and their history rows are dated after ``today``."""
    found = {
        "submissions": Submission.objects.filter(submitted_at__date__gt=today),
        "returns": Return.objects.filter(Q(created_at__date__gt=today) | Q(updated_at__date__gt=today)),
        "answers": Answer.objects.filter(updated_at__date__gt=today),
        "evidence": Evidence.objects.filter(uploaded_at__date__gt=today),
        "reviews": AnswerReview.objects.filter(reviewed_at__date__gt=today),
        "comments": AnswerComment.objects.filter(created_at__date__gt=today),
        "acceptances": ReturnAcceptance.objects.filter(accepted_at__date__gt=today),
        "revision requests": RevisionRequest.objects.filter(requested_at__date__gt=today),
        "follow-ups": ActionFollowUp.objects.filter(Q(updated_at__date__gt=today) | Q(done_on__gt=today)),
    }
    for model in (Return, Answer, ActionPlanItem, Evidence, AnswerReview, AnswerComment, ReturnAcceptance):
        found[f"{model.__name__} history"] = model.history.filter(history_date__date__gt=today)
    found["ActionFollowUp history"] = ActionFollowUp.history.filter(history_date__date__gt=today)
    return {what: n for what, rows in found.items() if (n := rows.count())}


def states_seen_by_the_newham_nurse(period: ReportingPeriod, today: datetime.date) -> dict[str, str]:
    """The submission state of each provider on the Newham designated nurse's dashboard, by ODS code."""
    board = dashboard(person("amara.okafor"), period, today=today)
    return {row.ods_code: row.state.code for row in board.rows}


def reviewed(model, **filters) -> set[tuple[str, str]]:
    """(provider, period) of the returns with rows of a review model, as ODS code and period label."""
    rows = model.objects.filter(**filters).select_related("provider_return__provider", "provider_return__period")
    return {(row.provider_return.provider.ods_code, row.provider_return.period.label[:10]) for row in rows}


def carried_forward_from_the_quarter_before(latest: ReportingPeriod, before: ReportingPeriod) -> None:
    """Bramblegate's latest return was started from its return for the quarter before: some answers confirmed."""
    answers = Answer.objects.filter(provider_return__provider__ods_code="ZG2", provider_return__period=latest)
    carried = [answer for answer in answers.select_related("carried_from__provider_return") if answer.carried_from]
    assert carried and len(carried) == answers.count()
    assert {answer.carried_from.provider_return.period_id for answer in carried} == {before.pk}
    assert {answer.metric.kind for answer in carried} <= {"narrative", "policy", "self_assessment"}
    confirmed = [answer for answer in carried if answer.confirmed_at]
    assert 0 < len(confirmed) < len(carried)
    assert {answer.confirmed_by for answer in confirmed} == {carried[0].updated_by}  # the lead who started it


def test_the_full_demo_before_the_deadline_holds_a_year_and_a_half_of_returns_with_late_overdue_and_reviewed_ones(
    catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the RAG jobs the submissions schedule
        output = seed_demo(history=True, today=DESIGN_DAY)

    periods = {(p.financial_year, p.quarter): p for p in ReportingPeriod.objects.all()}
    latest = periods[(2026, 2)]
    submitted = Return.objects.filter(submissions__isnull=False).distinct()
    # Twelve providers for five quarters, and seven of them already for Q2 2026/27.
    assert submitted.count() == 12 * 5 + 7 - 1 + 4  # Lanternwick's Q1 2026/27 return was started, never submitted
    # Riverside's and Skylark Vale's returns either side of the change to ICBs: the CCG's name, then the place's.
    assert set(submitted.filter(period__financial_year=2022).values_list("provider__ods_code", "period__quarter")) == {
        ("ZR1", 1), ("ZR1", 2), ("ZR3", 1), ("ZR3", 2),
    }  # fmt: skip
    lanternwick_q1 = Return.objects.get(provider__ods_code="ZI2", period=periods[(2026, 1)])
    assert lanternwick_q1.status == ReturnStatus.DRAFT
    assert set(Return.objects.filter(period=latest).values_list("provider__ods_code", flat=True)) == EARLY | {"ZG2"}
    carried_forward_from_the_quarter_before(latest, periods[(2026, 1)])
    early = Submission.objects.filter(provider_return__period=latest)
    assert not early.filter(late=True).exists()
    assert all(latest.ends_on < timezone.localdate(s.submitted_at) <= datetime.date(2026, 11, 20) for s in early)
    late = Submission.objects.filter(late=True).values_list("provider_return__provider__ods_code", flat=True)
    assert sorted(late) == ["ZG2", "ZG2", "ZI1"]
    assert all(completeness_problems(r) == {} for r in submitted.exclude(status=ReturnStatus.RETURNED)[:5])
    assert dated_after(DESIGN_DAY) == {}
    # Harbour Light, on a NEL and a Luton contract, answered the policies both ask once, in its year-end return.
    year_end = Submission.objects.filter(
        provider_return__provider__ods_code="ZI1", provider_return__period=periods[(2025, 4)]
    ).latest("number")
    values = {entry["metric"]: entry["values"] for entry in year_end.snapshot["answers"]}
    for luton, nel in SHARED_POLICIES:
        assert values[luton] == values[nel] and values[nel]["in_place"] in (True, False)
    # The Newham designated nurse sees Eastway's return sent back and the others not yet due.
    assert states_seen_by_the_newham_nurse(latest, DESIGN_DAY) == {
        "ZR1": NOT_YET, "ZC1": RETURNED, "ZI1": NOT_YET, "ZI2": NOT_YET,
    }  # fmt: skip
    assert [r for r in overdue_returns(DESIGN_DAY) if r.period_id == latest.pk] == []
    # The RAG job ran for every submitted return, and the ratings vary.
    assert RagRun.objects.filter(is_current=True).count() == submitted.count()
    colours = set(AnswerStatus.objects.filter(run__is_current=True).values_list("colour", flat=True))
    assert {"red", "amber", "green"} <= colours
    # What the designated nurses did.
    override = AnswerReview.objects.get(decision="overridden")
    assert override.reviewed_by.username == "amara.okafor@newham-ccg.example"
    assert override.provider_return.provider.ods_code == "ZI1" and override.provider_return.period == periods[(2025, 4)]
    assert reviewed(AnswerComment) == {
        ("ZR1", "Q4 2025/26"), ("ZR1", "Q1 2026/27"), ("ZI1", "Q4 2025/26"), ("ZG2", "Q4 2025/26"),
    }  # fmt: skip
    late_comment = AnswerComment.objects.get(provider_return__provider__ods_code="ZG2")
    assert late_comment.text.startswith("The return came in after the deadline.")
    assert "Q1 2026/27 return" in late_comment.text
    assert reviewed(ReturnAcceptance) == {("ZR1", "Q4 2025/26"), ("ZC3", "Q1 2026/27")}
    (follow_up,) = ActionFollowUp.objects.filter(is_done=True)
    assert follow_up.note == f"Re-audit report received by e-mail on {follow_up.done_on:%-d %B %Y}."
    (revision,) = RevisionRequest.objects.all()
    assert revision.provider_return.provider.ods_code == "ZC1" and revision.provider_return.period == latest
    assert revision.requested_at > revision.submission.submitted_at
    assert "Review stories: 6 created" in output
    # Riverside's return for Q2 2026/27 is left to start.
    riverside_starts_its_return(latest, DESIGN_DAY)

    before = (Submission.objects.count(), AnswerReview.objects.count(), AnswerComment.objects.count())
    again = seed_demo(history=True, today=DESIGN_DAY)

    assert (Submission.objects.count(), AnswerReview.objects.count(), AnswerComment.objects.count()) == before
    assert "created" not in again and "updated" not in again


def test_the_full_demo_after_the_deadline_has_every_return_in_but_riverside_s_to_start_and_lanternwick_s(
    catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = seed_demo(history=True, today=AFTER_THE_DEADLINE)

    periods = {(p.financial_year, p.quarter): p for p in ReportingPeriod.objects.all()}
    assert set(periods) == {
        (2022, 1), (2022, 2), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2), (2026, 3), (2026, 4),
    }  # fmt: skip
    latest = periods[(2026, 3)]
    assert latest.submission_deadline < AFTER_THE_DEADLINE < latest.lock_date
    submitted = Return.objects.filter(submissions__isnull=False).distinct()
    assert submitted.count() == 12 * 5 - 1 + 9 + 4  # Riverside's, Lanternwick's and Bramblegate's latest are not in
    in_latest = dict(Return.objects.filter(period=latest).values_list("provider__ods_code", "status"))
    assert "ZR1" not in in_latest and in_latest.pop("ZI2") == ReturnStatus.DRAFT
    assert in_latest.pop("ZG2") == ReturnStatus.DRAFT  # carried forward, some answers still to confirm
    assert in_latest.pop("ZC1") == ReturnStatus.RETURNED
    assert set(in_latest.values()) == {ReturnStatus.SUBMITTED} and len(in_latest) == 8
    carried_forward_from_the_quarter_before(latest, periods[(2026, 2)])
    assert not Submission.objects.filter(provider_return__period=latest, late=True).exists()
    # The late and overdue stories of the quarters before still hold.
    assert Return.objects.get(provider__ods_code="ZI2", period=periods[(2026, 2)]).status == ReturnStatus.DRAFT
    late = Submission.objects.filter(late=True).values_list("provider_return__provider__ods_code", flat=True)
    assert sorted(late) == ["ZG2", "ZG2", "ZI1"]
    assert dated_after(AFTER_THE_DEADLINE) == {}
    # Riverside's and Lanternwick's returns for the latest quarter are overdue.
    overdue = {
        (Organisation.objects.get(pk=r.provider_id).ods_code, r.found_as)
        for r in overdue_returns(AFTER_THE_DEADLINE)
        if r.period_id == latest.pk
    }
    assert overdue == {("ZR1", "not_started"), ("ZI2", "draft"), ("ZG2", "draft")}
    assert states_seen_by_the_newham_nurse(latest, AFTER_THE_DEADLINE) == {
        "ZR1": OVERDUE, "ZC1": RETURNED, "ZI1": ON_TIME, "ZI2": OVERDUE,
    }  # fmt: skip
    # The designated nurses' stories, the year-end ones on the latest return to ask the annual standards.
    year_end = periods[(2025, 4)]
    override = AnswerReview.objects.get(decision="overridden")
    assert override.provider_return.provider.ods_code == "ZI1" and override.provider_return.period == year_end
    assert {"ZI1", "ZG2"} <= {code for code, label in reviewed(AnswerComment) if label == "Q4 2025/26"}
    assert ActionFollowUp.objects.filter(is_done=True).count() == 1
    assert reviewed(ReturnAcceptance) == {("ZR1", "Q1 2026/27"), ("ZC3", "Q2 2026/27")}
    (revision,) = RevisionRequest.objects.all()
    assert revision.provider_return.provider.ods_code == "ZC1" and revision.provider_return.period == latest
    assert "Review stories: 6 created" in output
    assert RagRun.objects.filter(is_current=True).count() == submitted.count()
    # Overdue, but Riverside's people can still start it until the period locks; it would go in late.
    riverside_starts_its_return(latest, AFTER_THE_DEADLINE)


def test_no_provider_s_answers_name_another_provider_s_people(catalogue):
    seed_demo(history=True, today=DESIGN_DAY)

    people = {}  # each provider's people's full names, by the provider's id
    for membership in Membership.objects.filter(organisation__kind="provider").select_related("user"):
        people.setdefault(membership.organisation_id, set()).add(membership.user.get_full_name())
    assert len(people) >= 10
    answers = Answer.objects.select_related("provider_return")
    named_own_lead = set()
    for answer in answers:
        text = str(answer.values)
        others = {name for pk, names in people.items() if pk != answer.provider_return.provider_id for name in names}
        assert not [name for name in others if name in text], (answer.provider_return, answer.metric_id, text)
        if any(name in text for name in people[answer.provider_return.provider_id]):
            named_own_lead.add(answer.provider_return.provider_id)
    assert len(named_own_lead) == len(people)  # and each names its own lead
