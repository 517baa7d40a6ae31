"""Demo quarterly returns: a year and a half of every demo provider's returns, with reviews, for ``seed_demo``.

The demo's timeline follows the day it is seeded, so that it looks the same whenever it is run. Its quarters are
counted from the first (see :func:`demo_quarters`): quarter :data:`ANCHOR` is the latest quarter that has ended,
the five before it are history, and :data:`IN_PROGRESS` is the quarter under way. Deadlines and lock dates follow
one regular rule from the quarter's end (:func:`submission_deadline`, :func:`lock_date`).

Each return is answered, submitted and reviewed through the services, as its people would have done on the days
it pretends (answers, submissions and review acts are then moved back to those days, see :func:`backdate`). The
figures are made up but steady: the same provider, metric and demo quarter always give the same answer, and each
provider has its own character (one trust is weak on training and improving, a surgery submits late, a sexual
health service has not sent its return for the quarter before the latest), so that dashboards, trends and
reports have something to show.
"""

from __future__ import annotations

import dataclasses
import datetime
import zlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from standards.kinds import RequirementKind, SelfAssessmentGrade

from .models import ActionPlanItem, Answer, Evidence, ReportingPeriod, Return, Submission
from .selectors import asked_once, metrics_for
from .services import AnswerInput, confirm_carried_answers, open_return, save_answers, submit_return

# The timeline.

#: Returns are due by the end of the second month after their quarter ends (30 November for July–September)...
DEADLINE_MONTHS_AFTER_QUARTER = 2
#: ...and the period locks at the end of the third (31 December for July–September).
LOCK_MONTHS_AFTER_QUARTER = 3
#: The demo's quarters, counted from its first: 0 to 4 are history, every provider's returns; ``ANCHOR`` is the
#: latest quarter that ended before the day the demo is seeded; ``IN_PROGRESS`` is the quarter under way.
ANCHOR = 5
IN_PROGRESS = ANCHOR + 1
DEMO_QUARTERS = range(IN_PROGRESS + 1)
HISTORY_QUARTERS = range(ANCHOR)
#: Stands for the latest history quarter whose return asks the annual standards (a Q4, January to March): the
#: self-assessments, and so the shortfalls and action plans, are asked only then.
YEAR_END = "year end"
#: Returns sent early for the anchor quarter went in this many days before the demo's today at the latest.
EARLY_DAYS_BEFORE_TODAY = 3

Quarter = tuple[int, int]  # (financial year, quarter): (2026, 2) is July to September 2026


def last_day_of_month_after(day: datetime.date, months: int) -> datetime.date:
    """The last day of the month ``months`` after the month of ``day``."""
    month = day.month + months  # the month after the one wanted, counting January of day's year as 0
    following = datetime.date(day.year + month // 12, month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


def submission_deadline(ends_on: datetime.date) -> datetime.date:
    """The demo's deadline for a quarter ending on ``ends_on``: the last day of the second month after."""
    return last_day_of_month_after(ends_on, DEADLINE_MONTHS_AFTER_QUARTER)


def lock_date(ends_on: datetime.date) -> datetime.date:
    """The demo's lock date for a quarter ending on ``ends_on``: the last day of the third month after."""
    return last_day_of_month_after(ends_on, LOCK_MONTHS_AFTER_QUARTER)


def quarter_of(day: datetime.date) -> Quarter:
    """The quarter of the NHS financial year (April to March) that ``day`` falls in."""
    financial_year = day.year if day.month >= 4 else day.year - 1
    return financial_year, (day.month - 4) % 12 // 3 + 1


def quarters_after(quarter: Quarter, count: int) -> Quarter:
    """The quarter ``count`` quarters after ``quarter`` (before it when ``count`` is negative)."""
    financial_year, number = quarter
    year, place = divmod(financial_year * 4 + number - 1 + count, 4)
    return year, place + 1


def demo_quarters(today: datetime.date) -> dict[int, Quarter]:
    """The demo's quarters by their place in it: the anchor is the latest quarter that ended before ``today``."""
    anchor = quarters_after(quarter_of(today), -1)
    return {index: quarters_after(anchor, index - ANCHOR) for index in DEMO_QUARTERS}


def year_end_index(quarters: dict[int, Quarter]) -> int:
    """The latest history quarter that is a Q4: the one whose returns ask the annual standards."""
    return max(index for index in HISTORY_QUARTERS if quarters[index][1] == 4)


def quarter_index(which: int | str, quarters: dict[int, Quarter]) -> int:
    """A demo quarter's place, given as a place or as :data:`YEAR_END`."""
    return year_end_index(quarters) if which == YEAR_END else which


def month_after(period: ReportingPeriod, months: int) -> str:
    """The month ``months`` after the period's quarter ends, as words: "October 2026"."""
    return f"{last_day_of_month_after(period.ends_on, months):%B %Y}"


def next_quarter_label(period: ReportingPeriod) -> str:
    """The quarter after the period's, as people say it: "Q1 2026/27"."""
    financial_year, number = quarters_after((period.financial_year, period.quarter), 1)
    return f"Q{number} {ReportingPeriod(financial_year=financial_year, quarter=number).financial_year_label}"


#: Where the one demo policy document is kept, written once and shared by every demo policy answer.
DEMO_POLICY_PATH = "evidence/demo/safeguarding-policy-demo.pdf"


def _demo_policy() -> bytes:
    """A one-page PDF saying what it is, written out by hand (byte offsets and all) so it passes the evidence check."""
    text = b"BT /F1 14 Tf 72 770 Td (Demo policy document: Safeguard Assure demo data, not a real policy.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%b\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    document, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(document)


DEMO_POLICY = _demo_policy()

#: Narrative answers, whose months follow the period: ``{first_month}`` is its quarter's first month,
#: ``{month_after}`` and ``{third_month_after}`` the first and third months after its quarter ends; ``{lead}`` and
#: ``{provider}`` are the provider's own safeguarding lead and name (no provider's answers name another's people).
NARRATIVES = {
    "SC32-2-LEADS": (
        "Executive lead: Chief Nurse. Named doctor and named nurse for safeguarding children in post; named midwife "
        "in post. Safeguarding adults and MCA/DoLS lead: {lead}. Prevent lead: Head of Safeguarding. CSAE lead: "
        "named nurse for children. No vacancies this quarter."
    ),
    "DUTIES-08-REVIEW-ACTION-PLANS": (
        "Two action plans open: one Child Safeguarding Practice Review (both actions on track, due {month_after}) "
        "and one Safeguarding Adult Review (discharge-planning audit completed in {first_month}; re-audit due "
        "{third_month_after}). No Domestic Homicide Review involved {provider} this quarter."
    ),
}
STAFF = {
    "acute": 1650,
    "community": 640,
    "mental_health": 920,
    "primary_care": 24,
    "care_home": 38,
    "independent": 130,
}


@dataclasses.dataclass(frozen=True)
class Character:
    """How a demo provider fares: its training rate, how fast it changes, and how often it falls short."""

    rate: int  # the usual percentage of staff trained, supervised, checked
    drift: float = 0  # percentage points a quarter (improving > 0)
    shortfall: int = 0  # one self-assessment in this many is graded partially compliant (0: never)
    not_compliant: int = 0  # one self-assessment in this many is graded not compliant (0: never)
    policy_lapses_in: int | None = None  # the demo quarter (its place, 0 the first) when a policy is not in place


CHARACTERS = {
    "ZR1": Character(90, 0.3),  # Riverside: steady and good
    "ZR2": Character(80, 1.5, shortfall=4, not_compliant=11),  # Kestrel Bridge: weak on training, improving
    "ZR3": Character(88, 0),  # Skylark Vale (Luton)
    "ZC1": Character(93, 0),  # Eastway
    "ZC2": Character(89, -1.2, shortfall=7),  # Fernbrook: slipping
    "ZC3": Character(91, 0.2),  # Chalk Hills (Luton)
    "ZM1": Character(86, 0.5, shortfall=6),  # Northbank
    "ZG1": Character(95, 0),  # Lea Valley practice
    "ZG2": Character(81, 1.0, shortfall=3),  # Bramblegate (Luton): late with its returns, short of a standard
    "ZH1": Character(89, 0, policy_lapses_in=4),  # Marsh Lane care home
    "ZI1": Character(84, 0.5, shortfall=5, not_compliant=13),  # Harbour Light
    "ZI2": Character(92, 0),  # Lanternwick
}


@dataclasses.dataclass(frozen=True)
class Timing:
    """When a return was answered and submitted; late ones go in after the deadline (before the lock)."""

    late: bool = False
    submitted: bool = True  # False: a draft started and never submitted (overdue)


#: Exceptions to "submitted on time" in the history quarters: (provider, demo quarter: 0 the first) → timing.
TIMINGS = {
    ("ZI1", 2): Timing(late=True),
    ("ZG2", 3): Timing(late=True),
    ("ZG2", 4): Timing(late=True),
    ("ZI2", 4): Timing(submitted=False),
}
#: Providers that have sent their return for the anchor quarter before its deadline; until the deadline the rest
#: have not yet. Once it has passed every provider has sent it on time, but for these exceptions. Riverside's
#: is left for the person trying the demo to start, either way.
EARLY_IN_ANCHOR = ("ZR2", "ZR3", "ZC1", "ZC2", "ZC3", "ZM1", "ZG1")
ANCHOR_TIMINGS_AFTER_DEADLINE = {"ZI2": Timing(submitted=False)}


def _spread(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode())


def demo_answer(
    metric, provider, period: ReportingPeriod, character: Character, quarter_index: int, lead_name: str = ""
) -> tuple[dict, list[dict] | None]:
    """Plausible values for the provider's answer to the metric in the period, and its action plan if it needs one.

    ``quarter_index`` is the period's place in the demo (0 its first quarter): the figures depend on it, not on
    the calendar, so that each provider's story is the same whenever the demo is seeded. ``lead_name`` is the
    provider's own safeguarding lead, named where a narrative names its leads (their role when it is blank).
    """
    spread = _spread(provider.ods_code, metric.code, f"quarter {quarter_index}")
    kind = metric.kind
    if kind == RequirementKind.PERCENTAGE:
        if "LONG-STAY" in metric.code:
            return {"numerator": "3", "denominator": "3"}, None
        staff = STAFF.get(provider.provider_type_id, 200)
        staff += spread % max(staff // 4, 3)
        if "DBS" in metric.code:
            rate = 100 if character.rate >= 85 or spread % 3 else 97
        else:
            rate = character.rate + character.drift * quarter_index + (spread % 7) - 3
        rate = max(40, min(100, rate))
        return {"numerator": str(int(staff * rate // 100)), "denominator": str(staff)}, None
    if kind == RequirementKind.COUNT:
        return {"count": str(spread % 9)}, None
    if kind == RequirementKind.POLICY:
        if character.policy_lapses_in == quarter_index and spread % 2:
            return {"in_place": "no", "review_date": ""}, None
        review = datetime.date(period.financial_year + 1, 6, 30)  # policies are reviewed every June
        if spread % 11 == 0:
            review = period.ends_on + datetime.timedelta(days=45)  # close to review: amber
        return {"in_place": "yes", "review_date": review.isoformat()}, None
    if kind == RequirementKind.AUDIT:
        sampled = metric.sample_size or 20
        short = spread % 3 + (2 if character.shortfall and spread % character.shortfall == 0 else 0)
        return {"sampled": str(sampled), "compliant": str(max(sampled - short, 0))}, None
    if kind == RequirementKind.SELF_ASSESSMENT:
        grade = SelfAssessmentGrade.COMPLIANT
        if character.not_compliant and spread % character.not_compliant == 0:
            grade = SelfAssessmentGrade.NOT_COMPLIANT
        elif character.shortfall and spread % character.shortfall == 0:
            grade = SelfAssessmentGrade.PARTIALLY_COMPLIANT
        if grade == SelfAssessmentGrade.COMPLIANT:
            evidence = "Board safeguarding report, training dashboard and audit programme for the quarter."
            return {"grade": grade, "evidence": evidence}, None
        evidence = "Gaps found in the quarter's audit; see the action plan. Reported to the safeguarding committee."
        due = period.ends_on + datetime.timedelta(days=60 + spread % 90)
        actions = [
            {
                "action": "Re-audit a sample of records against the standard and report to the safeguarding committee.",
                "owner": "Head of Safeguarding",
                "due_on": due.isoformat(),
            },
            {
                "action": "Brief ward and team managers on the standard at the monthly safeguarding forum.",
                "owner": "Named Nurse",
                "due_on": (due + datetime.timedelta(days=30)).isoformat(),
            },
        ]
        return {"grade": grade, "evidence": evidence}, actions
    text = NARRATIVES.get(
        metric.code,
        "Reported to the safeguarding committee; no concerns to escalate this quarter.",
    )
    months = {
        "first_month": f"{period.starts_on:%B}",
        "month_after": month_after(period, 1),
        "third_month_after": month_after(period, 3),
        "lead": lead_name or "Head of Safeguarding",
        "provider": provider.name,
    }
    return {"text": text.format(**months)}, None


def days_of(period: ReportingPeriod, timing: Timing) -> tuple[datetime.datetime, datetime.datetime]:
    """The days a return was answered and submitted: a week before the deadline, or a week after it if late."""
    deadline = period.submission_deadline
    submitted_day = deadline + datetime.timedelta(days=7) if timing.late else deadline - datetime.timedelta(days=9)
    submitted = datetime.datetime.combine(submitted_day, datetime.time(9, 45), tzinfo=datetime.UTC)
    answered = submitted - datetime.timedelta(days=6, hours=2)
    return answered, submitted


def early_days(period: ReportingPeriod, today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The days a return sent before the deadline, which is still to come, was answered and submitted.

    As :func:`days_of` says, but submitted :data:`EARLY_DAYS_BEFORE_TODAY` days before ``today`` at the latest,
    answered three days before that, and neither before the quarter ended.
    """
    answered, submitted = days_of(period, Timing())
    first_day = period.ends_on + datetime.timedelta(days=1)
    latest = max(today - datetime.timedelta(days=EARLY_DAYS_BEFORE_TODAY), first_day)
    submitted = min(submitted, datetime.datetime.combine(latest, datetime.time(15, 0), tzinfo=datetime.UTC))
    answered = min(answered, submitted - datetime.timedelta(days=3))
    answered = max(answered, datetime.datetime.combine(first_day, datetime.time(9, 0), tzinfo=datetime.UTC))
    return answered, submitted


@dataclasses.dataclass
class ReturnPlan:
    provider: object
    period: ReportingPeriod
    quarter_index: int  # the period's place in the demo
    contributor: object
    lead: object
    answered: datetime.datetime
    submitted: datetime.datetime
    submit: bool = True


def make_return(plan: ReturnPlan) -> Return | None:
    """Answer and (unless the plan says not) submit the provider's return, then move it back to the plan's days.

    Returns the return made, or None when it was already there (so running the demo again changes nothing).
    """
    existing = Return.objects.filter(provider=plan.provider, period=plan.period).first()
    if existing is not None and (existing.submissions.exists() or not plan.submit):
        return None
    character = CHARACTERS.get(plan.provider.ods_code, Character(90))
    with transaction.atomic():
        provider_return = existing or open_return(plan.provider, plan.period, by=plan.contributor, carry=False)
        answers = {}
        metrics = metrics_for(plan.provider, plan.period)
        for metric in asked_once(metrics, plan.period).questions(metrics):
            values, actions = demo_answer(
                metric, plan.provider, plan.period, character, plan.quarter_index, plan.lead.get_full_name()
            )
            answers[metric.pk] = AnswerInput(values, actions=actions)
        result = save_answers(provider_return, by=plan.contributor, answers=answers, today=plan.answered.date())
        if result.warnings:
            codes = set(result.warnings)
            confirmed = {
                a.metric_id: AnswerInput(
                    a.values, base_revision=a.revision, confirm_unusual=True, unusual_note="Checked with the team."
                )
                for a in provider_return.answers.filter(metric__code__in=codes)
            }
            save_answers(provider_return, by=plan.contributor, answers=confirmed, today=plan.answered.date())
        for answer in Answer.objects.filter(provider_return=provider_return, metric__kind=RequirementKind.POLICY):
            if answer.values.get("in_place") is True and not answer.evidence.exists():
                policy_document(answer, plan.contributor)
        if plan.submit:
            submit_return(provider_return, by=plan.lead, declaration_confirmed=True, today=plan.submitted.date())
        backdate(provider_return, plan.answered, plan.submitted)
    return provider_return


def policy_document(answer: Answer, person) -> None:
    """Record the demo policy document (one file, written once) as the answer's evidence.

    ``attach_evidence`` checks the period is open today; the demo's periods were open on the days they pretend, so
    the document is recorded directly, as ``attach_evidence`` would have recorded it.
    """
    if not default_storage.exists(DEMO_POLICY_PATH):
        default_storage.save(DEMO_POLICY_PATH, ContentFile(DEMO_POLICY))
    evidence = Evidence(
        answer=answer,
        original_name="Safeguarding policy (demo).pdf",
        content_type="application/pdf",
        size=len(DEMO_POLICY),
        uploaded_by=person,
    )
    evidence.file.name = DEMO_POLICY_PATH
    evidence._history_user = person
    evidence.save()


def backdate(provider_return: Return, answered: datetime.datetime, submitted: datetime.datetime) -> None:
    """Move a demo return's timestamps to the days it pretends to have been answered and submitted.

    The services stamp the real time; demo data that says "submitted on time in August" should read so.
    """
    answers = Answer.objects.filter(provider_return=provider_return)
    answers.update(updated_at=answered)
    Answer.history.filter(provider_return_id=provider_return.pk).update(history_date=answered)
    Evidence.objects.filter(answer__in=answers).update(uploaded_at=answered)
    Evidence.history.filter(answer_id__in=answers.values("pk")).update(history_date=answered)
    ActionPlanItem.history.filter(answer_id__in=answers.values("pk")).update(history_date=answered)
    Submission.objects.filter(provider_return=provider_return).update(submitted_at=submitted)
    last = submitted if provider_return.submissions.exists() else answered
    Return.objects.filter(pk=provider_return.pk).update(created_at=answered, updated_at=last)
    history = Return.history.filter(id=provider_return.pk)
    history.filter(status="draft").update(history_date=answered)
    history.exclude(status="draft").update(history_date=submitted)


#: The provider whose return for the anchor quarter is started from its last one: carried forward from its return
#: for the quarter before, every other carried answer confirmed unchanged and the rest still to confirm or change.
#: Bramblegate is late with its returns, so its latest is still a draft.
CARRIED_FORWARD = "ZG2"


def make_carried_forward_return(provider, period: ReportingPeriod, person, today: datetime.date) -> Return | None:
    """Start the provider's return for the period from its last submitted one and confirm every other carried answer.

    Returns the return made, or None when it was already there (so running the demo again changes nothing).
    """
    if Return.objects.filter(provider=provider, period=period).exists():
        return None
    answered, _ = early_days(period, today)
    with transaction.atomic():
        provider_return = open_return(provider, period, by=person)
        carried = provider_return.answers.filter(carried_from__isnull=False).order_by(
            "metric__framework__position", "metric__position", "metric_id"
        )
        every_other = list(carried.values_list("metric_id", flat=True))[::2]
        confirm_carried_answers(provider_return, by=person, metric_ids=every_other, today=answered.date())
        backdate(provider_return, answered, answered)
        confirmed = {"confirmed_at__isnull": False}
        Answer.objects.filter(provider_return=provider_return, **confirmed).update(confirmed_at=answered)
        Answer.history.filter(provider_return_id=provider_return.pk, **confirmed).update(confirmed_at=answered)
    return provider_return
