"""Create demo commissioners, providers, contracts and people to try Safeguard Assure with, idempotently.

The commissioners are as they are organised today: NHS North East London ICB, whose places are the seven North East
London CCGs of the *Safeguarding through Commissioning Policy*, and Bedfordshire, Luton and Milton Keynes ICB, whose
place Luton is Luton CCG, with their real ODS codes. Each CCG was made a place on 1 July 2022 through
:func:`providers.services.merge_into_icb`, so pages and reports of the quarter before show its CCG name. Riverside
and Skylark Vale held contracts from April 2022, and their returns for the quarters either side of the change are
in the demo too. The providers are fictional, with ODS codes starting with "Z" that no real
organisation has. Contracts are saved through :func:`providers.services.save_contract` and people's permissions
follow from their memberships (see :mod:`providers.signals`), exactly as when an administrator does it by hand.

The demo's dates follow the day it is seeded (``--today``, for tests, says which), so that it looks the same
whenever it is run (see :mod:`returns.demo`). Its anchor is the latest quarter that has ended: reporting periods run
from five quarters before it to the quarter in progress, with regular deadlines and lock dates. Every provider's
returns for the five quarters before the anchor are answered, submitted and reviewed through the services, as
their people would have done on the days they pretend (see :mod:`returns.demo` and :mod:`reviews.demo`): a few
late, one overdue, some graded short of a standard with action plans, some reviewed, accepted or returned for
revision. For the anchor quarter, seven providers have sent their returns early while its deadline is still to
come; once it has passed, all have sent theirs on time but Lanternwick, whose return is overdue. Riverside's return
for it is left for the person trying the demo to start (overdue too once the deadline has passed, but open until
the period locks). ``--no-history`` makes only Riverside's return for the quarter before the anchor.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils import timezone

from providers.models import Contract, Membership, Organisation, OrganisationKind, Role
from providers.services import accept_contract, merge_into_icb, save_contract
from returns import demo
from returns.models import ReportingPeriod, quarter_dates
from reviews import demo as reviews_demo
from standards.models import Framework, ProviderType, Service

#: The one password of every demo person, printed at the end: demo data is for trying the product, not for use.
PASSWORD = "Safeguard-demo-2026"
#: The port ``bin/dev`` serves on unless the PORT environment variable says another.
DEFAULT_PORT = "8000"
#: Recorded as the actor of the changes when there is no active superuser to record.
SEED_ADMIN = "seed-admin"

#: Demo contracts run for this many years from the start of the demo's first quarter, well past the quarter in
#: progress, so that none ends while the demo is in use.
CONTRACT_YEARS = 3

SC32 = "nhs-contract-sc32"
SECTION_11 = "nel-section-11-children"
NEL_ADULTS = "nel-safeguarding-adults"
NEL_DUTIES = "nel-provider-duties"
LUTON = "luton-children-quality-specification"
FRAMEWORK_CODES = (SC32, SECTION_11, NEL_ADULTS, NEL_DUTIES, LUTON)

NEL_FRAMEWORKS = (SC32, SECTION_11, NEL_ADULTS, NEL_DUTIES)
#: A care home for adults: Section 11 of the Children Act is about children's services, so it is left out.
NEL_ADULT_FRAMEWORKS = (SC32, NEL_ADULTS, NEL_DUTIES)
LUTON_FRAMEWORKS = (LUTON, SC32)


@dataclasses.dataclass(frozen=True)
class OrganisationSpec:
    ods_code: str
    name: str
    provider_type: str | None = None
    services: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ContractSpec:
    reference: str
    provider: str
    scope: str
    coordinating: str
    associates: tuple[str, ...]
    frameworks: tuple[str, ...]
    #: Accepted by the provider (on its behalf, by the demo's administrator); False leaves it proposed.
    accepted: bool = True


@dataclasses.dataclass(frozen=True)
class PersonSpec:
    username: str
    first_name: str
    last_name: str
    organisation: str
    role: str


BARKING_AND_DAGENHAM, HAVERING, REDBRIDGE = "07L", "08F", "08N"
CITY_AND_HACKNEY, WALTHAM_FOREST, NEWHAM, TOWER_HAMLETS = "07T", "08W", "08M", "08V"
LUTON_CCG = "06P"
NEL_ICB, BLMK_ICB = "QMF", "QHG"

#: The ICBs, made before their places.
ICBS = (
    OrganisationSpec(NEL_ICB, "NHS North East London ICB"),
    OrganisationSpec(BLMK_ICB, "NHS Bedfordshire, Luton and Milton Keynes ICB"),
)
#: The day the CCGs became places of the ICBs (the Health and Care Act 2022), and each CCG's ICB.
ICB_DAY = datetime.date(2022, 7, 1)
ICB_OF = {LUTON_CCG: BLMK_ICB}  # every other CCG is a place of North East London ICB

#: The CCGs as they were in 2019; each is a place of its ICB from ICB_DAY, named "<ICB>: <area>".
COMMISSIONERS = (
    OrganisationSpec(BARKING_AND_DAGENHAM, "NHS Barking and Dagenham CCG"),
    OrganisationSpec(HAVERING, "NHS Havering CCG"),
    OrganisationSpec(REDBRIDGE, "NHS Redbridge CCG"),
    OrganisationSpec(CITY_AND_HACKNEY, "NHS City and Hackney CCG"),
    OrganisationSpec(WALTHAM_FOREST, "NHS Waltham Forest CCG"),
    OrganisationSpec(NEWHAM, "NHS Newham CCG"),
    OrganisationSpec(TOWER_HAMLETS, "NHS Tower Hamlets CCG"),
    OrganisationSpec(LUTON_CCG, "NHS Luton CCG"),
)

RIVERSIDE, KESTREL_BRIDGE, SKYLARK_VALE = "ZR1", "ZR2", "ZR3"
EASTWAY, FERNBROOK, CHALK_HILLS = "ZC1", "ZC2", "ZC3"
NORTHBANK, LEA_VALLEY, BRAMBLEGATE = "ZM1", "ZG1", "ZG2"
MARSH_LANE, HARBOUR_LIGHT, LANTERNWICK = "ZH1", "ZI1", "ZI2"

ACUTE_SERVICES = ("children", "adults", "maternity", "emergency_department", "inpatient")
COMMUNITY_SERVICES = ("children", "adults", "looked_after_children")

PROVIDERS = (
    OrganisationSpec(RIVERSIDE, "Riverside University Hospitals NHS Trust", "acute", ACUTE_SERVICES),
    OrganisationSpec(KESTREL_BRIDGE, "Kestrel Bridge Hospitals NHS Trust", "acute", ACUTE_SERVICES),
    OrganisationSpec(SKYLARK_VALE, "Skylark Vale Hospitals NHS Foundation Trust (Luton)", "acute", ACUTE_SERVICES),
    OrganisationSpec(EASTWAY, "Eastway Community Health NHS Trust", "community", COMMUNITY_SERVICES),
    OrganisationSpec(
        FERNBROOK,
        "Fernbrook Community Health NHS Trust",
        "community",
        (*COMMUNITY_SERVICES, "learning_disability"),
    ),
    OrganisationSpec(
        CHALK_HILLS, "Chalk Hills Community Services (Luton)", "community", (*COMMUNITY_SERVICES, "sexual_health")
    ),
    OrganisationSpec(
        NORTHBANK,
        "Northbank Mental Health NHS Foundation Trust",
        "mental_health",
        ("adults", "mental_health", "inpatient"),
    ),
    OrganisationSpec(LEA_VALLEY, "Lea Valley Medical Practice", "primary_care", ("children", "adults")),
    OrganisationSpec(BRAMBLEGATE, "Bramblegate Surgery (Luton)", "primary_care", ("children", "adults")),
    OrganisationSpec(MARSH_LANE, "Marsh Lane Care Home", "care_home", ("adults",)),
    OrganisationSpec(
        HARBOUR_LIGHT, "Harbour Light Independent Hospital", "independent", ("adults", "inpatient", "mental_health")
    ),
    OrganisationSpec(
        LANTERNWICK,
        "Lanternwick Sexual Health Community Interest Company",
        "independent",
        ("children", "adults", "sexual_health"),
    ),
)

PROPOSED_CONTRACT = "NEL-2025-010"

#: The quarters either side of ICB_DAY: returns of the first show the CCG's name, of the second the place's.
CHANGE_QUARTERS = ((2022, 1), (2022, 2))
#: Contracts from April 2022 to the day before the demo's own contracts, with a return for each CHANGE_QUARTER.
EARLIER_TERM_STARTS = datetime.date(2022, 4, 1)

CONTRACTS = (
    ContractSpec(
        "NEL-2025-001",
        RIVERSIDE,
        "acute, maternity and emergency services",
        NEWHAM,
        (TOWER_HAMLETS, WALTHAM_FOREST, CITY_AND_HACKNEY),
        NEL_FRAMEWORKS,
    ),
    ContractSpec(
        "NEL-2025-002",
        KESTREL_BRIDGE,
        "acute, maternity and emergency services",
        BARKING_AND_DAGENHAM,
        (HAVERING, REDBRIDGE),
        NEL_FRAMEWORKS,
    ),
    ContractSpec(
        "NEL-2025-003",
        EASTWAY,
        "community health services",
        CITY_AND_HACKNEY,
        (TOWER_HAMLETS, NEWHAM),
        NEL_FRAMEWORKS,
    ),
    ContractSpec("NEL-2025-004", FERNBROOK, "community health services", WALTHAM_FOREST, (REDBRIDGE,), NEL_FRAMEWORKS),
    ContractSpec(
        "NEL-2025-005",
        NORTHBANK,
        "mental health services",
        REDBRIDGE,
        (BARKING_AND_DAGENHAM, HAVERING, WALTHAM_FOREST),
        NEL_FRAMEWORKS,
    ),
    ContractSpec("NEL-2025-006", LEA_VALLEY, "general practice", CITY_AND_HACKNEY, (), NEL_FRAMEWORKS),
    ContractSpec("NEL-2025-007", MARSH_LANE, "residential care for adults", HAVERING, (), NEL_ADULT_FRAMEWORKS),
    ContractSpec("NEL-2025-008", HARBOUR_LIGHT, "independent inpatient care", TOWER_HAMLETS, (NEWHAM,), NEL_FRAMEWORKS),
    ContractSpec(
        "NEL-2025-009", LANTERNWICK, "sexual health services", NEWHAM, (BARKING_AND_DAGENHAM,), NEL_FRAMEWORKS
    ),
    ContractSpec(
        "LUT-2025-001", SKYLARK_VALE, "acute, maternity and emergency services", LUTON_CCG, (), LUTON_FRAMEWORKS
    ),
    ContractSpec("LUT-2025-002", CHALK_HILLS, "community health services", LUTON_CCG, (), LUTON_FRAMEWORKS),
    ContractSpec("LUT-2025-003", BRAMBLEGATE, "general practice", LUTON_CCG, (), LUTON_FRAMEWORKS),
    ContractSpec("LUT-2025-004", HARBOUR_LIGHT, "independent inpatient care", LUTON_CCG, (), LUTON_FRAMEWORKS),
    #: Newham proposes a contract to Marsh Lane, which has not answered yet: its lead sees Accept and Refuse on his
    #: home page, and Newham's people see nothing of Marsh Lane until he accepts.
    ContractSpec(
        PROPOSED_CONTRACT, MARSH_LANE, "nursing care for adults", NEWHAM, (), NEL_ADULT_FRAMEWORKS, accepted=False
    ),
)

#: Held before the demo's contracts: the returns of the quarters either side of the change are seen through them.
EARLIER_CONTRACTS = (
    ContractSpec(
        "NEL-2022-001",
        RIVERSIDE,
        "acute, maternity and emergency services",
        NEWHAM,
        (TOWER_HAMLETS, CITY_AND_HACKNEY),
        NEL_FRAMEWORKS,
    ),
    ContractSpec(
        "LUT-2022-001", SKYLARK_VALE, "acute, maternity and emergency services", LUTON_CCG, (), LUTON_FRAMEWORKS
    ),
)

PEOPLE = (
    PersonSpec("joanne.pryce@nel-icb.example", "Joanne", "Pryce", NEL_ICB, Role.DESIGNATED_PROFESSIONAL),
    PersonSpec("marcus.webb@nel-icb.example", "Marcus", "Webb", NEL_ICB, Role.COMMITTEE_MEMBER),
    PersonSpec("rebecca.osei@blmk-icb.example", "Rebecca", "Osei", BLMK_ICB, Role.DESIGNATED_PROFESSIONAL),
    PersonSpec("amara.okafor@newham-ccg.example", "Amara", "Okafor", NEWHAM, Role.DESIGNATED_PROFESSIONAL),
    PersonSpec("david.hughes@newham-ccg.example", "David", "Hughes", NEWHAM, Role.COMMITTEE_MEMBER),
    PersonSpec("sarah.whitfield@newham-ccg.example", "Sarah", "Whitfield", NEWHAM, Role.COMMISSIONER_ADMIN),
    PersonSpec("helen.carter@luton-ccg.example", "Helen", "Carter", LUTON_CCG, Role.DESIGNATED_PROFESSIONAL),
    PersonSpec("tom.adeyemi@riverside-hospitals.example", "Tom", "Adeyemi", RIVERSIDE, Role.PROVIDER_CONTRIBUTOR),
    PersonSpec("priya.shah@riverside-hospitals.example", "Priya", "Shah", RIVERSIDE, Role.PROVIDER_LEAD),
    PersonSpec("grace.mensah@eastway-community.example", "Grace", "Mensah", EASTWAY, Role.PROVIDER_LEAD),
    PersonSpec("liam.oconnor@chalk-hills.example", "Liam", "O'Connor", CHALK_HILLS, Role.PROVIDER_CONTRIBUTOR),
    PersonSpec("fatima.hussain@chalk-hills.example", "Fatima", "Hussain", CHALK_HILLS, Role.PROVIDER_LEAD),
    PersonSpec("ruth.bennett@kestrel-bridge.example", "Ruth", "Bennett", KESTREL_BRIDGE, Role.PROVIDER_LEAD),
    PersonSpec("omar.siddiqui@skylark-vale.example", "Omar", "Siddiqui", SKYLARK_VALE, Role.PROVIDER_LEAD),
    PersonSpec("claire.dunmore@fernbrook.example", "Claire", "Dunmore", FERNBROOK, Role.PROVIDER_LEAD),
    PersonSpec("kwame.asante@northbank.example", "Kwame", "Asante", NORTHBANK, Role.PROVIDER_LEAD),
    PersonSpec("jo.fletcher@lea-valley-practice.example", "Jo", "Fletcher", LEA_VALLEY, Role.PROVIDER_LEAD),
    PersonSpec("anita.rao@bramblegate-surgery.example", "Anita", "Rao", BRAMBLEGATE, Role.PROVIDER_LEAD),
    PersonSpec("mark.ellison@marsh-lane.example", "Mark", "Ellison", MARSH_LANE, Role.PROVIDER_LEAD),
    PersonSpec("nadia.haddad@harbour-light.example", "Nadia", "Haddad", HARBOUR_LIGHT, Role.PROVIDER_LEAD),
    PersonSpec("sean.mcbride@lanternwick.example", "Sean", "McBride", LANTERNWICK, Role.PROVIDER_LEAD),
)


@dataclasses.dataclass(frozen=True)
class PeriodSpec:
    index: int  # the period's place in the demo (see returns.demo.ANCHOR)
    financial_year: int
    quarter: int
    submission_deadline: datetime.date
    lock_date: datetime.date


def period_specs(today: datetime.date) -> list[PeriodSpec]:
    """The demo's periods for ``today``: five quarters before the anchor, the anchor, and the quarter in progress."""
    specs = []
    for index, (financial_year, quarter) in demo.demo_quarters(today).items():
        _, ends_on = quarter_dates(financial_year, quarter)
        deadline, lock = demo.submission_deadline(ends_on), demo.lock_date(ends_on)
        specs.append(PeriodSpec(index, financial_year, quarter, deadline, lock))
    return specs


def change_period_specs() -> list[PeriodSpec]:
    """The quarters either side of the change to ICBs (July 2022), with regular deadlines and lock dates."""
    specs = []
    for financial_year, quarter in CHANGE_QUARTERS:
        _, ends_on = quarter_dates(financial_year, quarter)
        deadline, lock = demo.submission_deadline(ends_on), demo.lock_date(ends_on)
        specs.append(PeriodSpec(-1, financial_year, quarter, deadline, lock))
    return specs


def contract_term(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of every demo contract: from the demo's first quarter, for ``CONTRACT_YEARS``."""
    starts_on, _ = quarter_dates(*demo.demo_quarters(today)[0])
    return starts_on, starts_on.replace(year=starts_on.year + CONTRACT_YEARS) - datetime.timedelta(days=1)


#: Riverside's people answer and submit its returns; every other provider's safeguarding lead does both.
RETURN_CONTRIBUTOR = "tom.adeyemi@riverside-hospitals.example"
RETURN_LEAD = "priya.shah@riverside-hospitals.example"
#: The quarter of Riverside's return that ``--no-history`` makes too: the one before the anchor.
RIVERSIDE_SUBMITTED_QUARTER = demo.ANCHOR - 1
#: That return was answered and submitted so many days before its deadline (on time).
RIVERSIDE_ANSWERED_DAYS_BEFORE_DEADLINE = 17
RIVERSIDE_SUBMITTED_DAYS_BEFORE_DEADLINE = 10


def riverside_days(period: ReportingPeriod) -> tuple[datetime.datetime, datetime.datetime]:
    """When Riverside's return for the quarter before the anchor was answered and submitted."""
    deadline = period.submission_deadline
    answered = deadline - datetime.timedelta(days=RIVERSIDE_ANSWERED_DAYS_BEFORE_DEADLINE)
    submitted = deadline - datetime.timedelta(days=RIVERSIDE_SUBMITTED_DAYS_BEFORE_DEADLINE)
    return (
        datetime.datetime.combine(answered, datetime.time(11, 20), tzinfo=datetime.UTC),
        datetime.datetime.combine(submitted, datetime.time(9, 45), tzinfo=datetime.UTC),
    )


def day(value: str) -> datetime.date:
    """A day given on the command line as YYYY-MM-DD."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a day written as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Create demo commissioners (North East London ICB with the seven former CCGs as places, and Bedfordshire, "
        "Luton and Milton Keynes ICB with Luton), fictional providers, "
        "their contracts and one person per role, all with the password "
        f"“{PASSWORD}”. Run load_catalogue first. Running it again changes nothing. Refuses to run with "
        "DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-history",
            action="store_false",
            dest="history",
            help=(
                "Make only Riverside's return for the quarter before the latest, not every provider's returns for "
                "a year and a half with their reviews (quicker, for tests)."
            ),
        )
        parser.add_argument(
            "--today",
            type=day,
            help="Seed the demo as if today were this day, YYYY-MM-DD (default: today). For tests.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo people have a published password: never use it on a live system.",
        )

    def handle(self, *args, force=False, history=True, today=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a production system. seed_demo creates people with a published "
                "password for trying the product; pass --force if you really mean it."
            )
        frameworks = latest_frameworks()
        provider_types = {t.code: t for t in ProviderType.objects.all()}
        services = {s.code: s for s in Service.objects.all()}
        missing = {spec.provider_type for spec in PROVIDERS} - provider_types.keys()
        missing |= {code for spec in PROVIDERS for code in spec.services} - services.keys()
        if missing:
            raise CommandError(
                f"Provider types or services are missing ({', '.join(sorted(missing))}). "
                "Run 'python manage.py migrate' first."
            )

        today = day(today) if isinstance(today, str) else today or timezone.localdate()
        self.tally: dict[str, dict[str, int]] = {}
        self.history = history
        with transaction.atomic():
            actor, actor_created = self.actor()
            organisations = {}
            for spec in ICBS:
                organisations[spec.ods_code] = self.organisation(spec, actor, None, [])
            for spec in COMMISSIONERS:
                icb = organisations[ICB_OF.get(spec.ods_code, NEL_ICB)]
                organisations[spec.ods_code] = self.place(spec, actor, icb)
            for spec in PROVIDERS:
                organisations[spec.ods_code] = self.organisation(
                    spec, actor, provider_types[spec.provider_type], [services[code] for code in spec.services]
                )
            term = contract_term(today)
            for spec in CONTRACTS:
                self.contract(spec, actor, organisations, frameworks, term)
            earlier_term = (EARLIER_TERM_STARTS, term[0] - datetime.timedelta(days=1))
            for spec in EARLIER_CONTRACTS:
                self.contract(spec, actor, organisations, frameworks, earlier_term)
            for spec in PEOPLE:
                self.person(spec, actor, organisations[spec.organisation])
            periods = {spec.index: self.period(spec, actor) for spec in period_specs(today)}
            self.returns(organisations, periods, today)
            if history:
                change_periods = [self.period(spec, actor) for spec in change_period_specs()]
                self.change_returns(organisations, change_periods)
            if history:
                people = {
                    p.username: p for p in get_user_model().objects.filter(username__in=[s.username for s in PEOPLE])
                }
                reviewed = reviews_demo.make_reviews(people, organisations, periods, today)
                for state, n in (("created", reviewed), ("unchanged", len(reviews_demo.STORIES) - reviewed)):
                    for _ in range(n):
                        self.count("Review stories", state)

        for what, counts in self.tally.items():
            self.stdout.write(f"{what}: " + ", ".join(f"{n} {state}" for state, n in counts.items() if n))
        if actor_created:
            self.stdout.write(
                f"There was no active superuser, so '{SEED_ADMIN}' was created to be recorded as the author of "
                "the demo data. It has no usable password and cannot sign in."
            )
        anchor = periods[demo.ANCHOR]
        self.stdout.write(
            f"The demo's latest quarter is {anchor.label}: returns due by {anchor.submission_deadline:%-d %B %Y}, "
            f"the period locks on {anchor.lock_date:%-d %B %Y}."
        )
        self.stdout.write(self.style.SUCCESS("Demo data is in place.") + f" Sign in at {sign_in_url()} as:\n")
        self.stdout.write(sign_in_table(organisations))

    # -------------------------------------------------------------------------------------------------- steps

    def count(self, what: str, state: str) -> None:
        counts = self.tally.setdefault(what, {"created": 0, "updated": 0, "unchanged": 0})
        counts[state] += 1

    def actor(self):
        """The superuser recorded as having made the changes: any active one, else ``seed-admin``."""
        User = get_user_model()
        actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is not None:
            return actor, False
        actor, created = User.objects.get_or_create(username=SEED_ADMIN)
        actor.is_superuser = actor.is_active = True
        actor.is_staff = False
        actor.set_unusable_password()
        actor.save()
        return actor, created

    def organisation(self, spec: OrganisationSpec, actor, provider_type, services) -> Organisation:
        wanted = {
            "name": spec.name,
            "kind": OrganisationKind.PROVIDER if provider_type else OrganisationKind.COMMISSIONER,
            "provider_type_id": provider_type.pk if provider_type else None,
            "is_active": True,
        }
        organisation = Organisation.objects.filter(ods_code=spec.ods_code).first()
        state = "unchanged"
        if organisation is None:
            organisation, state = Organisation(ods_code=spec.ods_code, **wanted), "created"
        elif any(getattr(organisation, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(organisation, field, value)
            state = "updated"
        if state != "unchanged":
            organisation.full_clean()
            organisation._history_user = actor
            organisation.save()
        if set(organisation.services.values_list("pk", flat=True)) != {s.pk for s in services}:
            organisation._history_user = actor
            organisation.services.set(services)
            state = "updated" if state == "unchanged" else state
        self.count("Commissioners" if provider_type is None else "Providers", state)
        return organisation

    def place(self, spec: OrganisationSpec, actor, icb: Organisation) -> Organisation:
        """A CCG as it was (made with its 2019 name when missing), then a place of ``icb`` from ICB_DAY."""
        ccg = Organisation.objects.filter(ods_code=spec.ods_code).first()
        if ccg is not None and ccg.parent_id == icb.pk:
            self.count("Commissioners", "unchanged")
            return ccg
        state = "updated"
        if ccg is None:
            state = "created"
            ccg = Organisation(ods_code=spec.ods_code, name=spec.name, kind=OrganisationKind.COMMISSIONER)
            ccg.full_clean()
            ccg._history_user = actor
            ccg.save()
        place = merge_into_icb(ccg, icb, on=ICB_DAY, by=actor)
        self.count("Commissioners", state)
        return place

    def change_returns(self, organisations, change_periods) -> None:
        """The returns of the contracts held before the demo's, for the quarters either side of the change."""
        User = get_user_model()
        leads = {s.organisation: s.username for s in PEOPLE if s.role == Role.PROVIDER_LEAD}
        for spec in EARLIER_CONTRACTS:
            lead = User.objects.get(username=leads[spec.provider])
            for n, period in enumerate(change_periods):
                answered, submitted = demo.days_of(period, demo.Timing())
                plan = demo.ReturnPlan(
                    organisations[spec.provider], period, n - len(change_periods), lead, lead, answered, submitted
                )
                made = demo.make_return(plan)
                self.count("Submitted returns", "created" if made is not None else "unchanged")

    def contract(self, spec: ContractSpec, actor, organisations, frameworks, term) -> Contract:
        provider = organisations[spec.provider]
        wanted = {
            "reference": spec.reference,
            "title": f"{provider.name}: {spec.scope}",
            "provider": provider,
            "coordinating_commissioner": organisations[spec.coordinating],
            "associate_commissioners": [organisations[code] for code in spec.associates],
            "frameworks": [frameworks[code] for code in spec.frameworks],
            "starts_on": term[0],
            "ends_on": term[1],
        }
        contract = (
            Contract.objects.filter(reference=spec.reference)
            .prefetch_related("frameworks", "commissioner_links__commissioner")
            .first()
        )
        if contract is not None and contract_matches(contract, wanted):
            self.count("Contracts", "unchanged")
            return contract
        self.count("Contracts", "created" if contract is None else "updated")
        contract = save_contract(by=actor, contract=contract, **wanted)
        if spec.accepted and contract.is_proposed:
            contract = accept_contract(contract, by=actor, agree_to_earlier_start=True)
        return contract

    def person(self, spec: PersonSpec, actor, organisation: Organisation) -> None:
        User = get_user_model()
        wanted = {"email": spec.username, "first_name": spec.first_name, "last_name": spec.last_name, "is_active": True}
        user = User.objects.filter(username=spec.username).first()
        state = "unchanged"
        if user is None:
            user, state = User(username=spec.username, **wanted), "created"
        elif any(getattr(user, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(user, field, value)
            state = "updated"
        if state == "created" or not user.check_password(PASSWORD):
            try:
                validate_password(PASSWORD, user)
            except ValidationError as weak:
                raise CommandError(f"The demo password is not accepted: {' '.join(weak.messages)}") from weak
            user.set_password(PASSWORD)
            state = "updated" if state == "unchanged" else state
        if state != "unchanged":
            user.save()
        self.count("People", state)

        if not Membership.objects.filter(user=user, organisation=organisation, role=spec.role).exists():
            membership = Membership(user=user, organisation=organisation, role=spec.role)
            membership.full_clean()
            membership._history_user = actor
            membership.save()  # the signal grants the role's permissions
            self.count("Memberships", "created")
        else:
            self.count("Memberships", "unchanged")

    def period(self, spec: PeriodSpec, actor) -> ReportingPeriod:
        wanted = {"submission_deadline": spec.submission_deadline, "lock_date": spec.lock_date}
        period = ReportingPeriod.objects.filter(financial_year=spec.financial_year, quarter=spec.quarter).first()
        state = "unchanged"
        if period is None:
            period, state = (
                ReportingPeriod(financial_year=spec.financial_year, quarter=spec.quarter, **wanted),
                "created",
            )
        elif any(getattr(period, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(period, field, value)
            state = "updated"
        if state != "unchanged":
            period.full_clean()
            period._history_user = actor
            period.save()
        self.count("Reporting periods", state)
        return period

    def returns(self, organisations, periods, today: datetime.date) -> None:
        """Every demo provider's returns for the five quarters before the anchor and for the anchor, oldest first.

        With ``--no-history`` this is only Riverside's return for the quarter before the anchor.
        """
        User = get_user_model()
        people = {p.username: p for p in User.objects.filter(username__in=[s.username for s in PEOPLE])}
        leads = {spec.organisation: people[spec.username] for spec in PEOPLE if spec.role == Role.PROVIDER_LEAD}
        for plan in return_plans(organisations, periods, people, leads, history=self.history, today=today):
            made = demo.make_return(plan)
            what = "Submitted returns" if plan.submit else "Returns started, not submitted"
            self.count(what, "created" if made is not None else "unchanged")
        if self.history:
            code = demo.CARRIED_FORWARD
            made = demo.make_carried_forward_return(organisations[code], periods[demo.ANCHOR], leads[code], today)
            self.count("Returns carried forward", "created" if made is not None else "unchanged")


def return_plans(organisations, periods, people, leads, *, history: bool, today: datetime.date):
    """The returns the demo holds (a list of :class:`returns.demo.ReturnPlan`), in the order they were submitted.

    ``periods`` are the demo's reporting periods by their place in it.
    """
    plans = []
    for index in demo.HISTORY_QUARTERS if history else (RIVERSIDE_SUBMITTED_QUARTER,):
        period = periods[index]
        for spec in PROVIDERS if history else [s for s in PROVIDERS if s.ods_code == RIVERSIDE]:
            provider = organisations[spec.ods_code]
            timing = demo.TIMINGS.get((spec.ods_code, index), demo.Timing())
            answered, submitted = demo.days_of(period, timing)
            contributor = lead = leads[spec.ods_code]
            if spec.ods_code == RIVERSIDE:
                contributor, lead = people[RETURN_CONTRIBUTOR], people[RETURN_LEAD]
                if index == RIVERSIDE_SUBMITTED_QUARTER:
                    answered, submitted = riverside_days(period)
            plans.append(
                demo.ReturnPlan(provider, period, index, contributor, lead, answered, submitted, timing.submitted)
            )
    if history:
        plans += anchor_plans(organisations, periods[demo.ANCHOR], leads, today)
    return plans


def anchor_plans(organisations, period: ReportingPeriod, leads, today: datetime.date) -> list[demo.ReturnPlan]:
    """The returns for the anchor quarter, Riverside's and the one carried forward left out.

    Until the deadline, the early providers' only, sent a few days before ``today`` at the latest; once it has
    passed, every provider's, on time but for :data:`returns.demo.ANCHOR_TIMINGS_AFTER_DEADLINE`.
    """
    plans = []
    if today <= period.submission_deadline:
        for code in demo.EARLY_IN_ANCHOR:
            answered, submitted = demo.early_days(period, today)
            plans.append(
                demo.ReturnPlan(organisations[code], period, demo.ANCHOR, leads[code], leads[code], answered, submitted)
            )
        return plans
    for spec in PROVIDERS:
        if spec.ods_code in (RIVERSIDE, demo.CARRIED_FORWARD):  # the latter's is made by carrying forward
            continue
        timing = demo.ANCHOR_TIMINGS_AFTER_DEADLINE.get(spec.ods_code, demo.Timing())
        answered, submitted = demo.days_of(period, timing)
        lead = leads[spec.ods_code]
        plans.append(
            demo.ReturnPlan(
                organisations[spec.ods_code], period, demo.ANCHOR, lead, lead, answered, submitted, timing.submitted
            )
        )
    return plans


def latest_frameworks() -> dict[str, Framework]:
    """The latest version of each framework the demo contracts hold; refuses if the catalogue is not loaded."""
    frameworks = {}
    for code in FRAMEWORK_CODES:
        framework = Framework.objects.filter(code=code).order_by("-effective_from", "-pk").first()
        if framework is not None:
            frameworks[code] = framework
    missing = [code for code in FRAMEWORK_CODES if code not in frameworks]
    if missing:
        raise CommandError(
            f"The standards catalogue is not loaded: there is no framework {', '.join(missing)}. "
            "Run 'python manage.py load_catalogue' first, then seed_demo again."
        )
    return frameworks


def contract_matches(contract: Contract, wanted: dict) -> bool:
    """Whether the saved contract already is what the demo wants, so that saving it again would change nothing."""
    return (
        contract.title == wanted["title"]
        and contract.provider_id == wanted["provider"].pk
        and contract.starts_on == wanted["starts_on"]
        and contract.ends_on == wanted["ends_on"]
        and {f.pk for f in contract.frameworks.all()} == {f.pk for f in wanted["frameworks"]}
        and contract.coordinating_commissioner == wanted["coordinating_commissioner"]
        and {c.pk for c in contract.associate_commissioners} == {c.pk for c in wanted["associate_commissioners"]}
    )


def sign_in_table(organisations) -> str:
    """How to sign in as each demo person, as a plain-text table."""
    header = ("Role", "Organisation", "Username", "Password")
    rows = [(Role(spec.role).label, organisations[spec.organisation].name, spec.username, PASSWORD) for spec in PEOPLE]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *map(line, rows)]) + f"\n\nSign-in page: {sign_in_url()}\n"


def sign_in_url() -> str:
    """The sign-in page on this machine, on the port ``bin/dev`` serves on (its PORT, else 8000)."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or DEFAULT_PORT}{resolve_url(settings.LOGIN_URL)}"
