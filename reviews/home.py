"""What a commissioner's people see first on their home page: each of their roles' task, most urgent first.

A designated professional sees the returns waiting for review and the quarter's exceptions; a committee member the
latest committee report and the quarter's summary; a commissioner admin the invitations and contracts still to be
answered. Each block asks a fixed number of queries, however many providers the commissioner holds contracts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone

from providers.models import Contract, ContractStatus, Invitation, Organisation, Role
from returns.models import ReportingPeriod, Return, ReturnStatus, Submission

from .models import AnswerStatus, AssuranceReport, RagRun, ReportKind, ReturnAcceptance
from .rag import Colour
from .selectors import expected_providers

#: How many items a block lists before it says "and N more".
FIRST_ITEMS = 5


@dataclass
class RoleBlock:
    """One role's task on the home page: its template shows ``data``; ``waiting`` is how many things wait on it."""

    role: str
    title: str
    template: str
    waiting: int = 0
    data: dict = field(default_factory=dict)


def blocks_for(user, organisation: Organisation, roles: list[str], period: ReportingPeriod | None, today=None):
    """The blocks of the person's roles in a commissioner, those with the most waiting first (ties in role order)."""
    today = today or timezone.localdate()
    makers = {
        Role.DESIGNATED_PROFESSIONAL: _review_block,
        Role.COMMITTEE_MEMBER: _committee_block,
        Role.COMMISSIONER_ADMIN: _admin_block,
    }
    blocks = [makers[role](user, organisation, period, today) for role in makers if role in roles]
    return sorted(blocks, key=lambda block: -block.waiting)


def _commissioned(organisation: Organisation):
    """The providers on the commissioner's accepted contracts, as a subquery."""
    return Contract.objects.accepted().filter(commissioners=organisation).values("provider_id")


def _review_block(user, organisation, period, today) -> RoleBlock:
    """Submitted returns whose latest submission nobody has accepted (oldest first), and the quarter's exceptions."""
    latest = Submission.objects.filter(provider_return=OuterRef("pk")).order_by("-number")
    waiting = (
        Return.objects.restrict(user)
        .filter(status=ReturnStatus.SUBMITTED, provider__in=_commissioned(organisation))
        .annotate(latest_id=Subquery(latest.values("pk")[:1]), submitted_at=Subquery(latest.values("submitted_at")[:1]))
        .filter(~Exists(ReturnAcceptance.objects.filter(submission_id=OuterRef("latest_id"))))
        .select_related("provider", "period")
        .order_by("submitted_at", "pk")
    )
    count = waiting.count()
    more = count - min(count, FIRST_ITEMS)
    data = {"waiting": list(waiting[:FIRST_ITEMS]), "count": count, "more": more, "period": period}
    exceptions = 0
    if period is not None:
        red = (
            AnswerStatus.objects.filter(
                run__is_current=True,
                colour=Colour.RED,
                run__provider_return__period=period,
                run__provider_return__provider__in=_commissioned(organisation),
            )
            .values("run__provider_return__provider_id")
            .distinct()
            .count()
        )
        overdue = 0
        if today > period.submission_deadline:
            submitted = Submission.objects.filter(provider_return__period=period).values("provider_return__provider_id")
            overdue = expected_providers(period, commissioner=organisation).exclude(pk__in=submitted).count()
        data.update(red=red, overdue=overdue)
        exceptions = red + overdue
    return RoleBlock(
        Role.DESIGNATED_PROFESSIONAL,
        "Returns waiting for your review",
        "reviews/partials/home_review.html",
        count + exceptions,
        data,
    )


def _committee_block(user, organisation, period, today) -> RoleBlock:
    """The commissioner's latest committee report and the quarter's providers by overall colour."""
    report = (
        AssuranceReport.objects.restrict(user)
        .filter(kind=ReportKind.COMMITTEE, commissioner=organisation)
        .select_related("period")
        .order_by("-period__ends_on", "-requested_at")
        .first()
    )
    data = {"report": report, "period": period, "report_is_current": report is not None and report.period == period}
    if period is not None:
        runs = RagRun.objects.filter(
            is_current=True, provider_return__period=period, provider_return__provider__in=_commissioned(organisation)
        )
        colours = dict(runs.values_list("colour").annotate(n=Count("pk")))
        expected = expected_providers(period, commissioner=organisation)
        submitted = Submission.objects.filter(provider_return__period=period).values("provider_return__provider_id")
        counts = expected.aggregate(expected=Count("pk"))
        counts["submitted"] = expected.filter(pk__in=submitted).count()
        data["summary"] = [
            (Colour.RED, "Red", colours.get(Colour.RED, 0)),
            (Colour.AMBER, "Amber", colours.get(Colour.AMBER, 0)),
            (Colour.GREEN, "Green", colours.get(Colour.GREEN, 0)),
        ]
        data.update(counts)
    return RoleBlock(Role.COMMITTEE_MEMBER, "Committee report", "reviews/partials/home_committee.html", 0, data)


def _admin_block(user, organisation, period, today) -> RoleBlock:
    """Invitations not yet accepted (and not expired) and contracts waiting for their provider to accept."""
    invitations = Invitation.objects.filter(
        organisation=organisation, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("expires_at", "pk")
    contracts = (
        Contract.objects.filter(status=ContractStatus.PROPOSED, commissioners=organisation)
        .select_related("provider")
        .order_by("starts_on", "pk")
        .distinct()
    )
    invitation_count, contract_count = invitations.count(), contracts.count()
    data = {
        "invitations": list(invitations[:FIRST_ITEMS]),
        "invitation_count": invitation_count,
        "contracts": list(contracts[:FIRST_ITEMS]),
        "contract_count": contract_count,
    }
    return RoleBlock(
        Role.COMMISSIONER_ADMIN,
        "People and contracts to act on",
        "reviews/partials/home_admin.html",
        invitation_count + contract_count,
        data,
    )
