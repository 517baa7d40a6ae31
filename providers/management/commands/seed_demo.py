"""Create demo commissioners, providers, contracts and people to try Safeguard Assure with, idempotently.

The commissioners are the seven North East London CCGs of the *Safeguarding through Commissioning Policy* and
Luton CCG, with their real ODS codes. The providers are fictional, with ODS codes starting with "Z" that no real
organisation has. Contracts are saved through :func:`providers.services.save_contract` and people's permissions
follow from their memberships (see :mod:`providers.signals`), exactly as when an administrator does it by hand.

Reporting periods run from Q1 2025/26 to Q2 2026/27 (open on 23 November 2026, the others locked). Every
provider's returns from Q1 2025/26 to Q1 2026/27, and seven providers' Q2 2026/27 returns, are answered, submitted
and reviewed through the services, as their people would have done on the days they pretend (see
:mod:`returns.demo` and :mod:`reviews.demo`): a few late, one overdue, some graded short of a standard with action
plans, some reviewed, accepted or returned for revision. Riverside's Q2 2026/27 return is left for the person
trying the demo to start. ``--no-history`` makes only Riverside's Q1 2026/27 return.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from providers.models import Contract, Membership, Organisation, OrganisationKind, Role
from providers.services import save_contract
from returns import demo
from returns.models import ReportingPeriod
from reviews import demo as reviews_demo
from standards.models import Framework, ProviderType, Service

#: The one password of every demo person, printed at the end: demo data is for trying the product, not for use.
PASSWORD = "Safeguard-demo-2026"
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
#: Recorded as the actor of the changes when there is no active superuser to record.
SEED_ADMIN = "seed-admin"

STARTS_ON = datetime.date(2025, 4, 1)
ENDS_ON = datetime.date(2028, 3, 31)

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
)

PEOPLE = (
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
    financial_year: int
    quarter: int
    submission_deadline: datetime.date
    lock_date: datetime.date


#: The four quarters of 2025/26 (locked by now) and the first two of 2026/27: Q1 locked, Q2 open until December.
PERIODS = (
    PeriodSpec(2025, 1, datetime.date(2025, 7, 31), datetime.date(2025, 8, 31)),
    PeriodSpec(2025, 2, datetime.date(2025, 10, 31), datetime.date(2025, 11, 30)),
    PeriodSpec(2025, 3, datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)),
    PeriodSpec(2025, 4, datetime.date(2026, 4, 30), datetime.date(2026, 5, 31)),
    PeriodSpec(2026, 1, datetime.date(2026, 8, 31), datetime.date(2026, 9, 30)),
    PeriodSpec(2026, 2, datetime.date(2026, 11, 30), datetime.date(2026, 12, 31)),
)
#: Riverside's people answer and submit its returns; every other provider's safeguarding lead does both.
RETURN_CONTRIBUTOR = "tom.adeyemi@riverside-hospitals.example"
RETURN_LEAD = "priya.shah@riverside-hospitals.example"
#: Riverside's Q1 2026/27 return was answered and submitted on these days (on time: the deadline was 31 August).
ANSWERED_ON = datetime.datetime(2026, 8, 14, 11, 20, tzinfo=datetime.UTC)
SUBMITTED_ON = datetime.datetime(2026, 8, 21, 9, 45, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = (
        "Create demo commissioners (the seven North East London CCGs and Luton CCG), fictional providers, "
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
                "Make only Riverside's Q1 2026/27 return, not every provider's returns since April 2025 with their "
                "reviews (quicker, for tests)."
            ),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo people have a published password: never use it on a live system.",
        )

    def handle(self, *args, force=False, history=True, **options):
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

        self.tally: dict[str, dict[str, int]] = {}
        self.history = history
        with transaction.atomic():
            actor, actor_created = self.actor()
            organisations = {}
            for spec in COMMISSIONERS:
                organisations[spec.ods_code] = self.organisation(spec, actor, None, [])
            for spec in PROVIDERS:
                organisations[spec.ods_code] = self.organisation(
                    spec, actor, provider_types[spec.provider_type], [services[code] for code in spec.services]
                )
            for spec in CONTRACTS:
                self.contract(spec, actor, organisations, frameworks)
            for spec in PEOPLE:
                self.person(spec, actor, organisations[spec.organisation])
            periods = {(spec.financial_year, spec.quarter): self.period(spec, actor) for spec in PERIODS}
            self.returns(organisations, periods)
            if history:
                people = {
                    p.username: p for p in get_user_model().objects.filter(username__in=[s.username for s in PEOPLE])
                }
                reviewed = reviews_demo.make_reviews(people, organisations, periods)
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
        self.stdout.write(self.style.SUCCESS("Demo data is in place.") + f" Sign in at {LOGIN_URL} as:\n")
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

    def contract(self, spec: ContractSpec, actor, organisations, frameworks) -> Contract:
        provider = organisations[spec.provider]
        wanted = {
            "reference": spec.reference,
            "title": f"{provider.name}: {spec.scope}",
            "provider": provider,
            "coordinating_commissioner": organisations[spec.coordinating],
            "associate_commissioners": [organisations[code] for code in spec.associates],
            "frameworks": [frameworks[code] for code in spec.frameworks],
            "starts_on": STARTS_ON,
            "ends_on": ENDS_ON,
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
        return save_contract(by=actor, contract=contract, **wanted)

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

    def returns(self, organisations, periods) -> None:
        """Every demo provider's returns from Q1 2025/26 to Q1 2026/27 and some of Q2 2026/27, oldest first.

        Without ``--history``'s opposite (``--no-history``) this is only Riverside's Q1 2026/27 return.
        """
        User = get_user_model()
        people = {p.username: p for p in User.objects.filter(username__in=[s.username for s in PEOPLE])}
        leads = {spec.organisation: people[spec.username] for spec in PEOPLE if spec.role == Role.PROVIDER_LEAD}
        for plan in return_plans(organisations, periods, people, leads, history=self.history):
            made = demo.make_return(plan)
            what = "Submitted returns" if plan.submit else "Returns started, not submitted"
            self.count(what, "created" if made is not None else "unchanged")


def return_plans(organisations, periods, people, leads, *, history: bool) -> list[demo.ReturnPlan]:
    """The returns the demo holds, in the order they were submitted."""
    riverside = organisations[RIVERSIDE]
    plans = []
    for key in demo.HISTORY_QUARTERS if history else ((2026, 1),):
        for spec in PROVIDERS if history else [s for s in PROVIDERS if s.ods_code == RIVERSIDE]:
            provider = organisations[spec.ods_code]
            timing = demo.TIMINGS.get((spec.ods_code, key), demo.Timing())
            answered, submitted = demo.days_of(periods[key], timing)
            contributor, lead = leads[spec.ods_code], leads[spec.ods_code]
            if provider == riverside:
                contributor, lead = people[RETURN_CONTRIBUTOR], people[RETURN_LEAD]
                if key == (2026, 1):
                    answered, submitted = ANSWERED_ON, SUBMITTED_ON
            plans.append(
                demo.ReturnPlan(provider, periods[key], contributor, lead, answered, submitted, timing.submitted)
            )
    if history:
        for code in demo.EARLY_IN_Q2_2026:
            answered, submitted = demo.days_of(periods[(2026, 2)], demo.Timing())
            submitted = min(submitted, datetime.datetime(2026, 11, 20, 15, 0, tzinfo=datetime.UTC))
            answered = min(answered, submitted - datetime.timedelta(days=3))
            plans.append(
                demo.ReturnPlan(organisations[code], periods[(2026, 2)], leads[code], leads[code], answered, submitted)
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
    return "\n".join([line(header), rule, *map(line, rows)]) + f"\n\nSign-in page: {LOGIN_URL}\n"
