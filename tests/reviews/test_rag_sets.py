"""RAG computed in sets: a batch of returns judged in one pass stores exactly what judging them one by one stored,
in the same number of queries however many returns the batch holds, and whole or not at all."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from returns.models import Return, Submission
from reviews import services
from reviews.models import AnswerReview, AnswerStatus, FrameworkStatus, RagRun, ReviewDecision
from reviews.services import _snapshot_values, compute_rag_for_returns
from standards.models import Metric
from tests.reviews.fixtures import ANSWERS, make_period, providers_of, submit_directly
from tests.reviews.one_by_one_rag import compute_one_return

pytestmark = pytest.mark.django_db

DESIGN_DAY = datetime.date(2026, 11, 5)
RED_DBS = {**ANSWERS, "DBS": {"numerator": "50", "denominator": "100"}}


def stored() -> dict:
    """Everything the current runs hold, by return: what a person sees of each answer, standard and framework."""
    found = {}
    for run in RagRun.objects.current().prefetch_related("answers", "standards", "frameworks"):
        found[run.provider_return_id] = {
            "run": (run.submission_id, run.fingerprint, run.colour, run.explanation),
            "answers": sorted(
                (
                    a.metric_id,
                    a.colour,
                    a.value,
                    a.threshold,
                    a.rule,
                    a.direction,
                    a.direction_is_better,
                    a.computed_colour,
                    a.computed_rule,
                    a.review_decision,
                )
                for a in run.answers.all()
            ),  # fmt: skip
            "standards": sorted((s.standard_id, s.colour, s.explanation) for s in run.standards.all()),
            "frameworks": sorted((f.framework_id, f.colour, f.explanation) for f in run.frameworks.all()),
        }
    return found


def judged_one_by_one_and_in_sets(batch_size: int) -> tuple[dict, dict]:
    submitted = Return.objects.filter(submissions__isnull=False).distinct().order_by("pk")
    return_ids = list(submitted.values_list("pk", flat=True))
    RagRun.objects.all().delete()
    for provider_return in Return.objects.filter(pk__in=return_ids).select_related("provider__provider_type", "period"):
        compute_one_return(provider_return)
    one_by_one = stored()
    RagRun.objects.all().delete()
    for start in range(0, len(return_ids), batch_size):
        compute_rag_for_returns(return_ids[start : start + batch_size])
    return one_by_one, stored()


def review_some_answers(user) -> None:
    """Standing judgements on a few answers: an override, an agreement, and one made on values since changed."""
    submissions = list(Submission.objects.order_by("pk")[:3])
    decisions = [(ReviewDecision.OVERRIDDEN, "green", "Checked the records."), (ReviewDecision.AGREED, "", ""),
                 (ReviewDecision.OVERRIDDEN, "red", "Seen before the answer changed.")]  # fmt: skip
    for n, (submission, (decision, colour, reason)) in enumerate(zip(submissions, decisions, strict=False)):
        code, values = next(iter(_snapshot_values(submission).items()))
        metric = Metric.objects.filter(code=code).order_by("-pk").first()
        AnswerReview.objects.create(
            provider_return=submission.provider_return, metric=metric, submission=submission,
            values_reviewed=values if n < 2 else {"changed": "yes"}, decision=decision, colour=colour,
            reason=reason, reviewed_by=user,
        )  # fmt: skip


@pytest.fixture
def demo_history(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_catalogue", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO(), history=True, today=DESIGN_DAY)


def test_on_the_demo_data_judging_in_sets_stores_exactly_what_judging_one_by_one_stored(demo_history):
    from django.contrib.auth import get_user_model

    review_some_answers(get_user_model().objects.order_by("pk").first())
    one_by_one, in_sets = judged_one_by_one_and_in_sets(batch_size=7)  # batches mixing providers and periods
    assert len(one_by_one) >= 20
    assert AnswerReview.objects.count() > 3  # the demo's own reviews as well as these
    assert in_sets == one_by_one


def test_on_the_test_world_judging_in_sets_stores_exactly_what_judging_one_by_one_stored(world, catalogue, q1, q2):
    # Counts against the period before and, past a gap, against a named earlier period; as-required blanks;
    # policies, self-assessments and percentages with and without thresholds; two providers of different types.
    year_before = make_period(2024, 3)
    submit_directly(world.riverside, year_before, {"ALLEGATIONS": {"count": "5"}}, by=world.riverside_lead)
    submit_directly(world.riverside, q1, {**ANSWERS, "ALLEGATIONS": {"count": "3"}}, by=world.riverside_lead)
    submit_directly(world.riverside, q2, by=world.riverside_lead)
    submit_directly(world.riverside, q2, RED_DBS, by=world.riverside_lead, late=True)  # a second submission
    submit_directly(world.eastway, q2, {"DBS": {"numerator": "0", "denominator": "0"}}, by=world.eastway_lead)
    submit_directly(world.chalk_hills, q2, by=world.administrator)
    review_some_answers(world.newham_nurse)

    one_by_one, in_sets = judged_one_by_one_and_in_sets(batch_size=100)

    assert len(one_by_one) >= 4
    riverside_q2 = one_by_one[Return.objects.get(provider=world.riverside, period=q2).pk]
    assert (
        riverside_q2["run"][0]
        == Submission.objects.filter(provider_return__period=q2, provider_return__provider=world.riverside)
        .latest("number")
        .pk
    )
    assert in_sets == one_by_one


def test_a_batch_judged_again_with_nothing_changed_writes_nothing(world, catalogue, q1, q2):
    return_ids = [submit_directly(world.riverside, period, by=world.riverside_lead).pk for period in (q1, q2)]
    first = compute_rag_for_returns(return_ids)
    again = compute_rag_for_returns(return_ids)
    assert {pk: run.pk for pk, run in again.items()} == {pk: run.pk for pk, run in first.items()}
    assert RagRun.objects.count() == 2


def test_a_return_never_submitted_or_not_found_has_no_run(world, catalogue, q2):
    draft = Return.objects.create(provider=world.riverside, period=q2)
    assert compute_rag_for_returns([draft.pk, 987654]) == {draft.pk: None, 987654: None}
    assert not RagRun.objects.exists()


def test_a_batch_that_fails_while_writing_stores_no_run_at_all(world, catalogue, q1, q2, monkeypatch):
    return_ids = [submit_directly(world.riverside, period, by=world.riverside_lead).pk for period in (q1, q2)]

    insert = services._insert

    def fail(model, fields, rows):
        if model is FrameworkStatus:  # after the answers' and standards' statuses are written
            raise RuntimeError("the database went away")
        insert(model, fields, rows)

    monkeypatch.setattr(services, "_insert", fail)
    with pytest.raises(RuntimeError):
        compute_rag_for_returns(return_ids)
    assert not RagRun.objects.exists() and not AnswerStatus.objects.exists()


def queries(return_ids) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute_rag_for_returns(return_ids)
    return len(captured)


def test_a_batch_takes_the_same_number_of_queries_for_3_returns_as_for_12(world, catalogue, q1, q2):
    providers = providers_of(world.newham, catalogue.framework, 15, prefix="B")
    returns = []
    for n, provider in enumerate(providers):
        submit_directly(provider, q1, by=world.administrator)  # an earlier figure to compare with
        returns.append(submit_directly(provider, q2, RED_DBS if n % 2 else None, by=world.administrator).pk)

    assert queries(returns[:3]) == queries(returns[3:])
