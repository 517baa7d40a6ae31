"""Moving a contract between an ICB and one of its places never changes a submitted return or a report already made,
and what each person sees afterwards follows the hierarchy.

Newham and Hackney are places of NHS North East London ICB. Riverside's contract is held by Newham (co-ordinating);
Eastway's by Hackney with Newham an associate. Riverside and Eastway have submitted their returns for the quarter.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail

from providers.models import ContractCommissioner, ContractStatus
from providers.services import accept_contract, contract_changed_directly, contract_state, save_contract
from returns.models import Answer, Return, Submission
from reviews import reports
from reviews.models import AssuranceReport, ReportKind, ReportState
from reviews.selectors import assurance_provider
from tests.reviews.fixtures import submitted  # noqa: F401
from tests.reviews.test_reports import ask, pdf_of, private_storage, quarter  # noqa: F401


def move(icbs, contract, to, by):
    """Make ``to`` the co-ordinating commissioner of ``contract`` (no associates), as the contract's form does."""
    return save_contract(
        by=by, contract=contract, reference=contract.reference, title=contract.title, provider=contract.provider,
        coordinating_commissioner=to, associate_commissioners=[], frameworks=list(contract.frameworks.all()),
        starts_on=contract.starts_on, ends_on=contract.ends_on,
    )  # fmt: skip


def submitted_state() -> dict:
    """Every return's status, every submission's snapshot and every answer's values, as stored."""
    return {
        "returns": sorted(Return.objects.values_list("pk", "status", "provider_id", "period_id")),
        "submissions": sorted(
            (pk, repr(snapshot)) for pk, snapshot in Submission.objects.values_list("pk", "snapshot")
        ),
        "answers": sorted((pk, repr(values), rev) for pk, values, rev in Answer.objects.values_list(
            "pk", "values", "revision")),
    }  # fmt: skip


def made(report: AssuranceReport) -> tuple:
    """A report as made: its state, its stored digest, the digest of its file's bytes, and its parts' digests."""
    report.refresh_from_db()
    return (
        report.state, report.sha256, hashlib.sha256(pdf_of(report)).hexdigest(), report.size,
        sorted(report.parts.values_list("kind", "sha256")),
    )  # fmt: skip


@pytest.fixture
def reports_made(icbs, quarter, django_capture_on_commit_callbacks):
    """Newham's and the ICB's committee reports for the quarter, made before any contract moves."""
    capture = django_capture_on_commit_callbacks
    newham = ask(icbs, "newham_committee", ReportKind.COMMITTEE, icbs.newham, quarter, capture)
    whole = ask(icbs, "nel_committee", ReportKind.COMMITTEE, icbs.nel, quarter, capture)
    assert newham.state == whole.state == ReportState.READY
    return newham, whole


def sees(person, provider) -> bool:
    return assurance_provider(person, provider.pk) is not None


def riverside_return_seen_by(person, period) -> bool:
    return Return.objects.restrict(person).filter(provider__name__startswith="Riverside", period=period).exists()


def test_moving_a_contract_from_a_place_to_its_icb_and_back_changes_no_return_and_no_report(
    icbs, quarter, reports_made, django_capture_on_commit_callbacks
):
    before = submitted_state()
    newham_report, icb_report = reports_made
    reports_before = [made(newham_report), made(icb_report)]
    contract = icbs.riverside_contract
    mail.outbox.clear()

    # From the place Newham to the ICB: the ICB's people saw Riverside through Newham, so nobody sees more and the
    # contract stays accepted; Newham's people no longer see Riverside, the ICB's still do.
    with django_capture_on_commit_callbacks(execute=True):
        contract = move(icbs, contract, icbs.nel, icbs.administrator)
    assert contract.status == ContractStatus.ACCEPTED and not mail.outbox
    assert list(contract.commissioner_links.values_list("commissioner_id", flat=True)) == [icbs.nel.pk]
    assert sees(icbs.nel_nurse, icbs.riverside) and riverside_return_seen_by(icbs.nel_nurse, quarter)
    assert not sees(icbs.newham_nurse, icbs.riverside) and not riverside_return_seen_by(icbs.newham_nurse, quarter)
    assert sees(icbs.newham_nurse, icbs.eastway)  # still an associate on Eastway's
    assert not sees(icbs.hackney_all_roles, icbs.riverside) and not sees(icbs.blmk_nurse, icbs.riverside)
    # A report made now follows the move; the reports made before do not change.
    now = reports.gather_committee(icbs.nel, quarter, by=icbs.nel_committee)
    assert now["by_place"]["places"][0]["name"] == "NHS North East London ICB (its own contracts)"
    assert {p["name"] for p in reports.gather_committee(icbs.newham, quarter, by=icbs.newham_committee)[
        "providers"]} == {icbs.eastway.name}  # fmt: skip
    assert submitted_state() == before
    assert [made(newham_report), made(icb_report)] == reports_before
    assert set(AssuranceReport.objects.restrict(icbs.newham_committee)) >= {newham_report}  # still theirs to read

    # Back from the ICB to Newham: Newham's people would see more, so the provider is asked again, and until it
    # accepts Newham's people see nothing of Riverside; then they do.
    with django_capture_on_commit_callbacks(execute=True):
        contract = move(icbs, contract, icbs.newham, icbs.administrator)
    assert contract.status == ContractStatus.PROPOSED
    assert "Contract changed" in mail.outbox[0].subject
    assert not sees(icbs.newham_nurse, icbs.riverside) and not sees(icbs.nel_nurse, icbs.riverside)
    accept_contract(contract, by=icbs.riverside_lead, agree_to_earlier_start=True)
    assert sees(icbs.newham_nurse, icbs.riverside) and sees(icbs.nel_nurse, icbs.riverside)
    assert riverside_return_seen_by(icbs.newham_nurse, quarter)
    assert not sees(icbs.hackney_all_roles, icbs.riverside)
    assert submitted_state() == before
    assert [made(newham_report), made(icb_report)] == reports_before


def test_moving_a_contract_in_django_admin_follows_the_same_rule(icbs, quarter, django_capture_on_commit_callbacks):
    """The contract admin changes the commissioner's row, then asks whether the change needs acceptance again."""
    contract = icbs.riverside_contract
    before = contract_state(contract.pk)
    ContractCommissioner.objects.filter(contract=contract).update(commissioner=icbs.nel)
    with django_capture_on_commit_callbacks(execute=True):
        assert not contract_changed_directly(contract, before=before, by=icbs.administrator)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACCEPTED and sees(icbs.nel_nurse, icbs.riverside)

    before = contract_state(contract.pk)
    ContractCommissioner.objects.filter(contract=contract).update(commissioner=icbs.hackney)
    with django_capture_on_commit_callbacks(execute=True):
        assert contract_changed_directly(contract, before=before, by=icbs.administrator)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.PROPOSED and not sees(icbs.hackney_all_roles, icbs.riverside)
