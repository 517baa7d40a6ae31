"""The REST API of returns: the same people, the same rules and the same messages as the services behind it.

The API cannot be told what day it is, so the return's period here is open today: its deadline and lock date
are moved into the future. Expected messages are taken from the services themselves, called with the same input.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from returns.checks import unusual_value_warning
from returns.evidence import check_evidence_file
from returns.models import Answer, Evidence, ReportingPeriod, Return, ReturnStatus, Submission
from returns.selectors import recent_values
from returns.services import (
    AnswerInput,
    ReturnProblems,
    open_return,
    return_for_revision,
    save_answers,
    submit_return,
)
from tests import hostile_files

pytestmark = pytest.mark.django_db

PDF = hostile_files.pdf()
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def api(path: str) -> str:
    return f"/api/v1/{path}"


def complete_answers(c) -> list[dict]:
    """Every answer of a return not yet answered: each starts from no saved answer (``base_revision`` 0)."""
    return [
        {"metric": "DBS", "values": {"numerator": "98", "denominator": "100"}, "base_revision": 0},
        {"metric": c.allegations.pk, "values": {"count": 2}, "base_revision": 0},
        {"metric": "POLICY", "values": {"in_place": True, "review_date": "2027-03-31"}, "base_revision": 0},
        {"metric": "AUDIT", "values": {"sampled": 20, "compliant": 19}, "base_revision": 0},
        {"metric": "S11-01", "values": {"grade": "compliant", "evidence": "Board minutes, March 2025."},
         "base_revision": 0},
        {"metric": "LEADS", "values": {"text": "Dr A Patel, Safeguarding Lead."}, "base_revision": 0},
    ]  # fmt: skip


def post_answers(client, provider_return, answers):
    return client.post(
        api(f"returns/{provider_return.pk}/answers/"), {"answers": answers}, content_type="application/json"
    )


def upload(client, provider_return, metric, name="policy.pdf", content=PDF):
    return client.post(
        api(f"returns/{provider_return.pk}/answers/{metric.pk}/evidence/"),
        {"file": SimpleUploadedFile(name, content)},
    )


def refusal(service, *args, **kwargs) -> dict:
    """What the service itself says, in the API's error shape."""
    with pytest.raises(ReturnProblems) as refused:
        service(*args, **kwargs)
    return {"errors": refused.value.by_metric, "general": refused.value.general}


def denial(service, *args, **kwargs) -> str:
    with pytest.raises(PermissionDenied) as denied:
        service(*args, **kwargs)
    return str(denied.value)


def routes(provider_return, metric) -> list[tuple[str, str]]:
    pk = provider_return.pk
    return [
        ("get", f"returns/{pk}/"),
        ("post", f"returns/{pk}/answers/"),
        ("post", f"returns/{pk}/submit/"),
        ("post", f"returns/{pk}/return-for-revision/"),
        ("post", f"returns/{pk}/answers/{metric.pk}/evidence/"),
    ]


# ------------------------------------------------------------------------------------------- who sees what


def test_anonymous_people_are_refused_every_route(client, world, catalogue, draft):
    for method, path in [("get", "periods/"), ("get", f"periods/{draft.period_id}/"), ("get", "returns/"),
                         ("post", "returns/"), *routes(draft, catalogue.policy)]:  # fmt: skip
        response = getattr(client, method)(api(path))
        assert response.status_code in (401, 403), path
        assert "Riverside" not in response.content.decode(), path


@pytest.mark.parametrize("person", ["eastway_lead", "luton_nurse", "stranger"])
def test_another_organisations_return_is_not_found(as_person, catalogue, draft, person):
    client = as_person(person)
    for method, path in routes(draft, catalogue.policy):
        response = getattr(client, method)(api(path), {})
        assert response.status_code == 404, f"{method} {path}"
        assert "Riverside" not in response.content.decode()
    assert client.get(api("returns/")).json()["results"] == []


@pytest.mark.parametrize(
    "person,sees",
    [("riverside_contributor", True), ("riverside_lead", True), ("newham_nurse", True), ("newham_committee", True),
     ("administrator", True), ("hackney_admin", False), ("eastway_lead", False), ("luton_nurse", False)],
)  # fmt: skip
def test_returns_are_listed_for_the_provider_and_its_commissioners_only(as_person, draft, person, sees):
    listed = as_person(person).get(api("returns/")).json()["results"]
    assert [r["id"] for r in listed] == ([draft.pk] if sees else [])


def test_periods_are_listed_with_their_dates_and_whether_they_are_locked(as_person, open_q2, q1):
    client = as_person("riverside_contributor")
    periods = {p["id"]: p for p in client.get(api("periods/")).json()["results"]}
    assert periods[open_q2.pk]["label"] == "Q2 2025/26 (July to September 2025)"
    assert periods[open_q2.pk]["financial_year"] == 2025 and periods[open_q2.pk]["quarter"] == 2
    assert periods[open_q2.pk]["financial_year_label"] == "2025/26"
    assert periods[open_q2.pk]["submission_deadline"] == open_q2.submission_deadline.isoformat()
    assert (periods[open_q2.pk]["starts_on"], periods[open_q2.pk]["ends_on"]) == ("2025-07-01", "2025-09-30")
    assert periods[open_q2.pk]["locked_now"] is False
    assert periods[q1.pk]["locked_now"] is True  # locked on 31 August 2025
    detail = client.get(api(f"periods/{q1.pk}/")).json()
    assert detail["lock_date"] == "2025-08-31" and detail["locked_now"] is True
    assert [p["id"] for p in client.get(api("periods/"), {"quarter": 1}).json()["results"]] == [q1.pk]


def test_returns_are_filtered_by_period_provider_and_status(world, as_person, draft, q1):
    earlier = open_return(world.riverside, q1, by=world.riverside_contributor)
    Return.objects.filter(pk=earlier.pk).update(status=ReturnStatus.SUBMITTED)
    client = as_person("newham_nurse")

    def ids(**params):
        return [r["id"] for r in client.get(api("returns/"), params).json()["results"]]

    assert ids() == [draft.pk, earlier.pk]
    assert ids(period=q1.pk) == [earlier.pk]
    assert ids(status="draft") == [draft.pk]
    assert ids(provider=world.riverside.pk, status="submitted") == [earlier.pk]
    assert ids(provider=world.chalk_hills.pk) == []


def test_the_returns_list_asks_the_same_number_of_queries_for_2_and_10_returns(world, as_person):
    def add_returns(count):
        for _ in range(count):
            year, quarter = 2015 + Return.objects.count() // 4, Return.objects.count() % 4 + 1
            period = ReportingPeriod(financial_year=year, quarter=quarter)
            period.submission_deadline = period.lock_date = datetime.date(year + 2, 1, 1)
            period.save()
            provider_return = Return.objects.create(provider=world.riverside, period=period)
            Submission.objects.create(
                provider_return=provider_return, number=1, submitted_by=world.riverside_lead, declaration="…",
                snapshot={},
            )  # fmt: skip

    client = as_person("riverside_lead")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(api("returns/"))
        assert response.status_code == 200
        return len(response.json()["results"]), len(captured)

    add_returns(2)
    listed_2, with_2 = queries()
    add_returns(8)
    listed_10, with_10 = queries()
    assert (listed_2, listed_10) == (2, 10)
    assert with_10 == with_2


# ------------------------------------------------------------------------------------------- opening and reading


def test_a_providers_person_opens_the_return_once(world, as_person, catalogue, open_q2):
    client = as_person("riverside_contributor")
    opened = client.post(api("returns/"), {"provider": world.riverside.pk, "period": open_q2.pk})
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert body["status"] == "draft" and body["provider"]["name"] == world.riverside.name
    assert [m["code"] for m in body["metrics"]] == ["DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"]
    assert all(m["answer"] is None for m in body["metrics"])
    again = client.post(api("returns/"), {"provider": world.riverside.pk, "period": open_q2.pk})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Return.objects.get().history.get().history_user == world.riverside_contributor


def test_opening_a_return_is_for_the_providers_own_people(world, as_person, catalogue, open_q2):
    expected = denial(open_return, world.riverside, open_q2, by=world.newham_nurse)
    refused = as_person("newham_nurse").post(api("returns/"), {"provider": world.riverside.pk, "period": open_q2.pk})
    assert refused.status_code == 403 and refused.json() == {"detail": expected}
    unknown = as_person("eastway_lead").post(api("returns/"), {"provider": world.riverside.pk, "period": open_q2.pk})
    assert unknown.status_code == 400
    assert unknown.json() == {"provider": [f"There is no provider with id {world.riverside.pk} that you can see."]}
    assert not Return.objects.exists()


def test_a_return_in_full_shows_every_metric_with_its_answer_evidence_and_history(world, as_person, catalogue, draft):
    c = catalogue
    rows = [{"action": "Re-audit files", "owner": "Head of HR", "due_on": "2026-01-31"}]
    save_answers(
        draft,
        by=world.riverside_contributor,
        answers={
            c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
            c.self_assessment.pk: AnswerInput({"grade": "partially_compliant", "evidence": "Audit."}, actions=rows),
        },
    )
    client = as_person("riverside_contributor")
    assert upload(client, draft, c.policy).status_code == 201

    body = as_person("newham_nurse").get(api(f"returns/{draft.pk}/")).json()
    assert body["provider"] == {"id": world.riverside.pk, "name": world.riverside.name, "ods_code": "ZR1"}
    assert body["period"]["label"] == draft.period.label
    assert body["submissions"] == [] and body["revision_requests"] == []
    metrics = {m["code"]: m for m in body["metrics"]}
    assert list(metrics) == ["DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"]
    dbs = metrics["DBS"]["answer"]
    assert dbs["values"] == {"numerator": 98, "denominator": 100} and dbs["revision"] == 1
    assert dbs["updated_by"]["id"] == world.riverside_contributor.pk
    assert dbs["unusual_value_confirmed"] is False and dbs["unusual_value_note"] == ""
    assert metrics["S11-01"]["answer"]["actions"] == rows
    assert metrics["ALLEGATIONS"]["answer"] is None
    (evidence,) = metrics["POLICY"]["answer"]["evidence"]
    assert evidence["name"] == "policy.pdf" and evidence["content_type"] == "application/pdf"
    assert evidence["size"] == len(PDF) and evidence["uploaded_by"]["id"] == world.riverside_contributor.pk
    try:
        download = reverse("returns:evidence_download", kwargs={"pk": evidence["id"]})
    except NoReverseMatch:
        assert "download_url" not in evidence  # the download page is not there yet
    else:
        assert evidence["download_url"].endswith(download)


# ------------------------------------------------------------------------------------------- saving answers


def test_answers_are_saved_by_metric_id_or_code_and_come_back_as_saved(world, as_person, catalogue, draft):
    response = post_answers(as_person("riverside_contributor"), draft, complete_answers(catalogue))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["warnings"] == {}
    assert body["changed"] == ["DBS", "ALLEGATIONS", "POLICY", "AUDIT", "S11-01", "LEADS"]
    saved = {a["code"]: a for a in body["answers"]}
    assert saved["DBS"]["values"] == {"numerator": 98, "denominator": 100} and saved["DBS"]["revision"] == 1
    assert saved["POLICY"]["values"] == {"in_place": True, "review_date": "2027-03-31"}
    answer = Answer.objects.get(metric=catalogue.allegations)
    assert answer.values == {"count": 2} and answer.history.get().history_user == world.riverside_contributor


def test_wrong_values_are_refused_with_the_services_own_messages_and_nothing_is_saved(world, as_person, catalogue,
                                                                                      draft):  # fmt: skip
    c = catalogue
    expected = refusal(
        save_answers,
        draft,
        by=world.riverside_contributor,
        answers={
            c.dbs.pk: AnswerInput({"numerator": "120", "denominator": "100"}),
            c.audit.pk: AnswerInput({"sampled": "10", "compliant": "12.5"}),
            c.policy.pk: AnswerInput({"in_place": "yes", "review_date": "31/03/2027"}),
        },
    )
    assert expected["errors"]["DBS"] == {"numerator": "“Checked” cannot be more than “Staff”."}
    response = post_answers(
        as_person("riverside_contributor"),
        draft,
        [
            {"metric": "DBS", "values": {"numerator": "120", "denominator": "100"}, "base_revision": 0},
            {"metric": c.audit.pk, "values": {"sampled": "10", "compliant": "12.5"}, "base_revision": 0},
            {"metric": "POLICY", "values": {"in_place": "yes", "review_date": "31/03/2027"}, "base_revision": 0},
        ],
    )
    assert response.status_code == 400
    assert response.json() == expected
    assert not Answer.objects.exists()


def test_a_question_the_return_does_not_ask_is_refused_in_the_services_words(world, as_person, catalogue, draft):
    c = catalogue
    expected = refusal(save_answers, draft, by=world.riverside_contributor, answers={c.annual.pk: AnswerInput({})})
    assert expected == {"errors": {str(c.annual.pk): {"metric": "This question is not part of this return."}},
                        "general": []}  # fmt: skip
    client = as_person("riverside_contributor")
    by_id = post_answers(client, draft, [{"metric": c.annual.pk, "values": {"text": "x"}, "base_revision": 0}])
    assert by_id.status_code == 400 and by_id.json() == expected
    by_code = post_answers(client, draft, [{"metric": "MADE-UP", "values": {}, "base_revision": 0}])
    assert by_code.json() == {"errors": {"MADE-UP": expected["errors"][str(c.annual.pk)]}, "general": []}
    unreadable = post_answers(client, draft, [{"metric": "DBS", "values": [1, 2], "base_revision": "one"}])
    assert unreadable.status_code == 400
    assert unreadable.json()["errors"] == {
        "DBS": {
            "values": "Send the values as an object of field names and values.",
            "base_revision": "Send the revision you started from as a whole number, like 3.",
        }
    }
    assert client.post(api(f"returns/{draft.pk}/answers/"), {}, content_type="application/json").json() == {
        "errors": {},
        "general": ['Send the answers as a list under "answers", one for each question.'],
    }


def test_an_action_plan_is_saved_and_each_row_is_checked_in_the_services_words(world, as_person, catalogue, draft):
    c = catalogue
    bad = [{"action": "Train staff", "owner": "", "due_on": "soon"}]
    values = {"grade": "not_compliant", "evidence": "x"}
    expected = refusal(
        save_answers, draft, by=world.riverside_contributor,
        answers={c.self_assessment.pk: AnswerInput(values, actions=bad)},
    )  # fmt: skip
    client = as_person("riverside_contributor")
    refused = post_answers(client, draft, [{"metric": "S11-01", "values": values, "actions": bad, "base_revision": 0}])
    assert refused.status_code == 400 and refused.json() == expected
    assert expected["errors"]["S11-01"]["actions-1-owner"] == "Action 1: say who owns the action."
    good = [{"action": "Re-audit files", "owner": "Head of HR", "due_on": "2026-01-31"}]
    saved = post_answers(client, draft, [{"metric": "S11-01", "values": values, "actions": good, "base_revision": 0}])
    assert saved.status_code == 200 and saved.json()["answers"][0]["actions"] == good
    # Without "actions" the plan stays as it is.
    kept = post_answers(client, draft, [{"metric": "S11-01", "values": values, "base_revision": 1}])
    assert kept.json()["answers"][0]["actions"] == good


def test_two_people_saving_the_same_answer_the_second_is_told_who_saved_it(world, as_person, catalogue, draft):
    first = post_answers(as_person("riverside_contributor"), draft,
                         [{"metric": "ALLEGATIONS", "values": {"count": 3}, "base_revision": 0}])  # fmt: skip
    assert first.status_code == 200
    answer = Answer.objects.get(metric=catalogue.allegations)
    client = as_person("riverside_lead")
    second = post_answers(client, draft, [{"metric": "ALLEGATIONS", "values": {"count": 5}, "base_revision": 0}])
    assert second.status_code == 409
    body = second.json()
    assert "changed by" in body["detail"]
    (conflict,) = body["conflicts"]
    contributor = world.riverside_contributor
    assert conflict["metric"] == catalogue.allegations.pk and conflict["code"] == "ALLEGATIONS"
    assert conflict["saved_by"] == {"id": contributor.pk, "name": contributor.get_full_name()}
    assert conflict["saved_values"] == {"count": 3}
    assert datetime.datetime.fromisoformat(conflict["saved_at"]) == answer.updated_at
    assert conflict["saved_revision"] == 1
    assert Answer.objects.get(metric=catalogue.allegations).values == {"count": 3}
    resaved = post_answers(client, draft, [{"metric": "ALLEGATIONS", "values": {"count": 5}, "base_revision": 1}])
    assert resaved.status_code == 200 and resaved.json()["answers"][0]["revision"] == 2


# ------------------------------------------------------------------------------------------- no blind writes


def answer_as_read(client, provider_return, code) -> dict | None:
    """The answer to a metric as a client reads it from the return in full (None when not yet saved)."""
    body = client.get(api(f"returns/{provider_return.pk}/")).json()
    return next(m["answer"] for m in body["metrics"] if m["code"] == code)


def based_on(answer: dict | None) -> int:
    return answer["revision"] if answer else 0


@pytest.mark.parametrize("sent", [{}, {"base_revision": None}], ids=["left out", "null"])
def test_a_save_that_does_not_say_which_revision_it_changed_is_refused_428_and_nothing_is_stored(
    world, as_person, catalogue, draft, sent
):
    client = as_person("riverside_contributor")
    assert post_answers(client, draft, [{"metric": "LEADS", "values": {"text": "Dr A Patel."}, "base_revision": 0}]
                        ).status_code == 200  # fmt: skip
    response = post_answers(
        client,
        draft,
        [
            {"metric": "ALLEGATIONS", "values": {"count": 4}, "base_revision": 0},
            {"metric": "LEADS", "values": {"text": "Overwritten unseen."}, **sent},
        ],
    )
    assert response.status_code == 428
    body = response.json()
    assert body["detail"].startswith("Say which revision of this answer you changed: send base_revision")
    assert "(0 for an answer not yet saved)" in body["detail"]
    assert body["errors"] == {"LEADS": {"base_revision": body["detail"]}}
    assert Answer.objects.get(metric=catalogue.narrative).values == {"text": "Dr A Patel."}
    assert not Answer.objects.filter(metric=catalogue.allegations).exists()


def test_who_may_save_and_when_come_before_a_missing_revision(world, as_person, catalogue, draft):
    refused = post_answers(as_person("newham_nurse"), draft, [{"metric": "ALLEGATIONS", "values": {"count": 1}}])
    assert refused.status_code == 403
    draft.period.submission_deadline, draft.period.lock_date = datetime.date(2025, 10, 31), datetime.date(2025, 11, 30)
    draft.period.save()
    locked = post_answers(
        as_person("riverside_contributor"), draft, [{"metric": "ALLEGATIONS", "values": {"count": 1}}]
    )
    assert locked.status_code == 400 and "was locked on 30 November 2025" in locked.json()["general"][0]
    assert not Answer.objects.exists()


def test_a_save_based_on_the_revision_now_saved_is_stored(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    for count in (1, 2, 3):
        base = based_on(answer_as_read(client, draft, "ALLEGATIONS"))
        saved = post_answers(
            client, draft, [{"metric": "ALLEGATIONS", "values": {"count": count}, "base_revision": base}]
        )
        assert saved.status_code == 200, saved.content
        assert saved.json()["answers"][0]["revision"] == base + 1
    assert Answer.objects.get(metric=catalogue.allegations).values == {"count": 3}


@pytest.mark.parametrize("base", [0, 1, 3], ids=["claims none saved", "an earlier revision", "a later revision"])
def test_a_save_based_on_a_revision_no_longer_saved_is_refused_409_with_the_answer_as_saved(
    world, as_person, catalogue, draft, base
):
    lead = as_person("riverside_lead")
    for revision, count in enumerate((4, 5)):
        post_answers(lead, draft, [{"metric": "ALLEGATIONS", "values": {"count": count}, "base_revision": revision}])
    assert Answer.objects.get(metric=catalogue.allegations).revision == 2
    stale = post_answers(as_person("riverside_contributor"), draft,
                         [{"metric": "ALLEGATIONS", "values": {"count": 9}, "base_revision": base}])  # fmt: skip
    assert stale.status_code == 409
    (conflict,) = stale.json()["conflicts"]
    assert conflict["code"] == "ALLEGATIONS" and conflict["saved_values"] == {"count": 5}
    assert conflict["saved_revision"] == 2 and conflict["saved_by"]["id"] == world.riverside_lead.pk
    answer = Answer.objects.get(metric=catalogue.allegations)
    assert (answer.values, answer.revision) == ({"count": 5}, 2)


def test_two_clients_saving_from_the_same_revision_one_is_stored_and_the_other_told(world, as_person, catalogue,
                                                                                     draft):  # fmt: skip
    lead, contributor = as_person("riverside_lead"), as_person("riverside_contributor")
    post_answers(lead, draft, [{"metric": "DBS", "values": {"numerator": 90, "denominator": 100}, "base_revision": 0}])
    read_by_lead = answer_as_read(lead, draft, "DBS")
    read_by_contributor = answer_as_read(contributor, draft, "DBS")
    first = post_answers(lead, draft, [{"metric": "DBS", "values": {"numerator": 91, "denominator": 100},
                                        "base_revision": based_on(read_by_lead)}])  # fmt: skip
    second = post_answers(contributor, draft, [{"metric": "DBS", "values": {"numerator": 92, "denominator": 100},
                                                "base_revision": based_on(read_by_contributor)}])  # fmt: skip
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["conflicts"][0]["saved_values"] == {"numerator": 91, "denominator": 100}
    assert Answer.objects.get(metric=catalogue.dbs).values == {"numerator": 91, "denominator": 100}
    # Told, the second client saves over it knowingly, from the revision the conflict gave.
    again = post_answers(
        contributor,
        draft,
        [
            {
                "metric": "DBS",
                "values": {"numerator": 92, "denominator": 100},
                "base_revision": second.json()["conflicts"][0]["saved_revision"],
            }
        ],
    )
    assert again.status_code == 200 and again.json()["answers"][0]["revision"] == 3


def test_an_action_plan_changed_since_it_was_read_is_a_conflict_not_overwritten(world, as_person, catalogue, draft):
    values = {"grade": "partially_compliant", "evidence": "Audit under way."}
    first = [{"action": "Re-audit files", "owner": "Head of HR", "due_on": "2026-01-31"}]
    lead, contributor = as_person("riverside_lead"), as_person("riverside_contributor")
    post_answers(lead, draft, [{"metric": "S11-01", "values": values, "actions": first, "base_revision": 0}])
    post_answers(lead, draft, [{"metric": "S11-01", "values": values, "actions": first * 2, "base_revision": 1}])
    stale = post_answers(contributor, draft, [{"metric": "S11-01", "values": values, "base_revision": 1,
                                               "actions": [{**first[0], "owner": "Named nurse"}]}])  # fmt: skip
    assert stale.status_code == 409
    assert Answer.objects.get(metric=catalogue.self_assessment).actions.count() == 2


def test_sending_again_what_is_saved_is_not_a_conflict(world, as_person, catalogue, draft):
    """A request retried after its answer was lost: the same values from the same base are already saved."""
    client = as_person("riverside_contributor")
    item = {"metric": "ALLEGATIONS", "values": {"count": 2}, "base_revision": 0}
    assert post_answers(client, draft, [item]).status_code == 200
    retried = post_answers(client, draft, [item])
    assert retried.status_code == 200 and retried.json()["changed"] == []
    assert Answer.objects.get(metric=catalogue.allegations).revision == 1


def test_the_api_schema_says_a_save_of_answers_needs_its_base_revision(as_person):
    schema = as_person("riverside_contributor").get(api("schema/"), {"format": "json"})
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/api/v1/returns/{id}/answers/"]["post"]
    assert {"200", "400", "403", "409", "428"} <= set(operation["responses"])
    assert "base_revision" in operation["responses"]["428"]["description"]
    assert "saved_revision" in operation["responses"]["409"]["description"]
    item = schema.json()["components"]["schemas"]["AnswerItem"]
    assert "base_revision" in item["required"] and not item["properties"]["base_revision"].get("nullable")
    assert "428" in item["properties"]["base_revision"]["description"]


def test_the_api_schema_says_a_second_submit_or_return_for_revision_answers_409(as_person):
    paths = as_person("riverside_contributor").get(api("schema/"), {"format": "json"}).json()["paths"]
    submit = paths["/api/v1/returns/{id}/submit/"]["post"]["responses"]
    revision = paths["/api/v1/returns/{id}/return-for-revision/"]["post"]["responses"]
    assert "already submitted" in submit["409"]["description"]
    assert "already returned for revision" in revision["409"]["description"]


def test_an_unusual_value_is_warned_about_and_its_confirmation_kept(world, as_person, catalogue, q1, draft):
    c = catalogue
    earlier = open_return(world.riverside, q1, by=world.riverside_contributor)
    on_time = datetime.date(2025, 7, 10)
    answers = {c.dbs.pk: AnswerInput({"numerator": "100", "denominator": "100"}),
               c.allegations.pk: AnswerInput({"count": "2"}),
               c.policy.pk: AnswerInput({"in_place": "no"}), c.audit.pk: AnswerInput({"sampled": 20, "compliant": 20}),
               c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Minutes."}),
               c.narrative.pk: AnswerInput({"text": "Dr A Patel."})}  # fmt: skip
    save_answers(earlier, by=world.riverside_contributor, answers=answers, today=on_time)
    submit_return(earlier, by=world.riverside_lead, declaration_confirmed=True, today=on_time)

    client = as_person("riverside_contributor")
    low = {"numerator": "40", "denominator": "100"}
    warned = post_answers(client, draft, [{"metric": "DBS", "values": low, "base_revision": 0}])
    recent = recent_values(world.riverside, draft.period, ["DBS"])["DBS"]
    expected = unusual_value_warning("percentage", {"numerator": 40, "denominator": 100}, recent)
    assert expected.startswith("This comes to 40.0%, far from your recent figures")
    assert warned.status_code == 200 and warned.json()["warnings"] == {"DBS": expected}
    confirmed = post_answers(client, draft, [{"metric": "DBS", "values": low, "confirm_unusual": True,
                                              "unusual_note": "New starters awaiting checks.",
                                              "base_revision": 1}])  # fmt: skip
    assert confirmed.json()["warnings"] == {}
    (answer,) = confirmed.json()["answers"]
    assert answer["unusual_value_confirmed"] is True and answer["unusual_value_note"] == "New starters awaiting checks."


@pytest.mark.parametrize("person", ["newham_nurse", "newham_committee"])
def test_commissioners_see_the_return_but_cannot_change_it(world, as_person, catalogue, draft, person):
    expected = denial(save_answers, draft, by=getattr(world, person), answers={})
    client = as_person(person)
    refused = post_answers(client, draft, [{"metric": "ALLEGATIONS", "values": {"count": 1}, "base_revision": 0}])
    assert refused.status_code == 403 and refused.json() == {"detail": expected}
    # Who may save comes before what was sent.
    assert post_answers(client, draft, [{"metric": "MADE-UP", "values": {}}]).status_code == 403
    assert upload(client, draft, catalogue.policy).status_code == 403
    assert not Answer.objects.exists()


def test_nothing_changes_once_the_period_is_locked(world, as_person, catalogue, draft):
    period = draft.period
    period.submission_deadline, period.lock_date = datetime.date(2025, 10, 31), datetime.date(2025, 11, 30)
    period.save()
    expected = refusal(save_answers, draft, by=world.riverside_contributor, answers={})
    assert "was locked on 30 November 2025" in expected["general"][0]
    client = as_person("riverside_contributor")
    refused = post_answers(client, draft, [{"metric": "ALLEGATIONS", "values": {"count": 1}, "base_revision": 0}])
    assert refused.status_code == 400 and refused.json() == expected
    assert upload(client, draft, catalogue.policy).json() == expected
    assert not Answer.objects.exists()


# ------------------------------------------------------------------------------------------- submitting and revising


def test_only_the_safeguarding_lead_submits(world, as_person, catalogue, draft):
    expected = denial(submit_return, draft, by=world.riverside_contributor, declaration_confirmed=True)
    refused = as_person("riverside_contributor").post(
        api(f"returns/{draft.pk}/submit/"), {"declaration_confirmed": True}
    )
    assert refused.status_code == 403 and refused.json() == {"detail": expected}
    assert "safeguarding lead" in expected
    assert Return.objects.get().status == ReturnStatus.DRAFT


def test_submitting_lists_every_missing_or_invalid_answer_in_the_services_words(world, as_person, catalogue, draft):
    client = as_person("riverside_lead")
    answers = [a for a in complete_answers(catalogue) if a["metric"] != "LEADS"]
    assert post_answers(client, draft, answers).status_code == 200
    expected = refusal(submit_return, draft, by=world.riverside_lead, declaration_confirmed=False)
    assert expected == {
        "errors": {"POLICY": {"evidence": "Attach the policy document."}, "LEADS": {"text": "Enter your answer."}},
        "general": ["Confirm the declaration to submit the return."],
    }
    refused = client.post(api(f"returns/{draft.pk}/submit/"), {}, content_type="application/json")
    assert refused.status_code == 400 and refused.json() == expected
    assert Return.objects.get().status == ReturnStatus.DRAFT


def test_a_complete_return_is_submitted_then_returned_for_revision_and_resubmitted(world, as_person, catalogue, draft):
    c = catalogue
    lead = as_person("riverside_lead")
    assert post_answers(lead, draft, complete_answers(c)).status_code == 200
    assert upload(lead, draft, c.policy).status_code == 201
    submitted = lead.post(api(f"returns/{draft.pk}/submit/"), {"declaration_confirmed": True},
                          content_type="application/json")  # fmt: skip
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["number"] == 1 and submitted.json()["late"] is False
    assert submitted.json()["submitted_by"]["id"] == world.riverside_lead.pk
    assert Return.objects.get().status == ReturnStatus.SUBMITTED

    draft.refresh_from_db()
    after = refusal(save_answers, draft, by=world.riverside_lead, answers={})
    changed = post_answers(lead, draft, [{"metric": "ALLEGATIONS", "values": {"count": 9}, "base_revision": 1}])
    assert changed.status_code == 400 and changed.json() == after
    assert after["general"] == ["This return has been submitted, so it can no longer be changed."]
    assert upload(lead, draft, c.policy).json() == after

    revise = api(f"returns/{draft.pk}/return-for-revision/")
    expected = denial(return_for_revision, draft, by=world.riverside_lead, comments="x")
    assert lead.post(revise, {"comments": "x"}).json() == {"detail": expected}
    assert as_person("newham_committee").post(revise, {"comments": "x"}).status_code == 403
    assert as_person("luton_nurse").post(revise, {"comments": "x"}).status_code == 404
    nurse = as_person("newham_nurse")
    blank = nurse.post(revise, {"comments": " "})
    assert blank.status_code == 400
    assert blank.json() == {
        "errors": {},
        "general": [],
        "fields": {"comments": "Say what the provider needs to revise."},
    }
    returned = nurse.post(revise, {"comments": "Include bank staff in the DBS figure."})
    assert returned.status_code == 201 and returned.json()["submission"] == 1
    again = nurse.post(revise, {"comments": "Again"})  # a retry, or a second reviewer at the same moment
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"This return was already returned for revision on {timezone.localdate():%-d %B %Y} by "
        f"{world.newham_nurse.get_full_name()}."
    }

    body = as_person("riverside_lead").get(api(f"returns/{draft.pk}/")).json()
    assert body["status"] == "returned"
    (request,) = body["revision_requests"]
    assert request["comments"] == "Include bank staff in the DBS figure."
    assert request["requested_by"]["id"] == world.newham_nurse.pk
    dbs_revision = {m["code"]: m for m in body["metrics"]}["DBS"]["answer"]["revision"]
    revised = [{"metric": "DBS", "values": {"numerator": 97, "denominator": 110}, "base_revision": dbs_revision}]
    assert post_answers(lead, draft, revised).status_code == 200
    resubmitted = lead.post(api(f"returns/{draft.pk}/submit/"), {"declaration_confirmed": "true"})
    assert resubmitted.status_code == 201 and resubmitted.json()["number"] == 2
    listed = lead.get(api("returns/")).json()["results"][0]
    assert [s["number"] for s in listed["submissions"]] == [1, 2] and listed["status"] == "submitted"


# ------------------------------------------------------------------------------------------- evidence


def test_evidence_is_attached_to_the_answer_made_for_it_and_recorded(world, as_person, catalogue, draft):
    response = upload(as_person("riverside_contributor"), draft, catalogue.policy, name="Safeguarding policy.pdf")
    assert response.status_code == 201, response.content
    evidence = Evidence.objects.get()
    assert response.json()["id"] == evidence.pk and response.json()["name"] == "Safeguarding policy.pdf"
    assert (evidence.original_name, evidence.content_type, evidence.size) == (
        "Safeguarding policy.pdf", "application/pdf", len(PDF),
    )  # fmt: skip
    assert evidence.uploaded_by == world.riverside_contributor
    assert evidence.history.get().history_user == world.riverside_contributor
    assert evidence.file.read() == PDF
    answer = evidence.answer
    assert answer.metric == catalogue.policy and answer.values == {} and answer.revision == 0
    assert answer.history.get().history_user == world.riverside_contributor


def test_a_renamed_executable_is_refused_as_evidence(world, as_person, catalogue, draft):
    with pytest.raises(ValidationError) as refused:
        check_evidence_file(SimpleUploadedFile("policy.pdf", EXECUTABLE))
    (message,) = refused.value.messages
    assert message == "policy.pdf must be a PDF, Word, Excel, PNG or JPEG file."
    response = upload(as_person("riverside_contributor"), draft, catalogue.policy, content=EXECUTABLE)
    assert response.status_code == 400
    assert response.json() == {"errors": {"POLICY": {"file": message}}, "general": []}
    assert not Evidence.objects.exists() and not Answer.objects.exists()


def test_evidence_needs_a_file_and_a_question_the_return_asks(as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    missing = client.post(api(f"returns/{draft.pk}/answers/{catalogue.policy.pk}/evidence/"), {})
    assert missing.status_code == 400 and missing.json()["fields"] == {"file": "Choose a file to upload."}
    not_asked = upload(client, draft, catalogue.annual)
    assert not_asked.json() == {"errors": {"ANNUAL": {"metric": "This question is not part of this return."}},
                                "general": []}  # fmt: skip
    assert client.post(api(f"returns/{draft.pk}/answers/987654/evidence/"), {}).status_code == 404


def test_a_return_is_downloaded_as_excel_and_a_filled_workbook_uploaded_back(world, as_person, catalogue, draft):
    import io

    from openpyxl import load_workbook

    from returns.excel import HEADER_ROW

    client = as_person("riverside_contributor")
    response = client.get(api(f"returns/{draft.pk}/workbook/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="ZR1-Q2-2025-26.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[1]
    headers = [cell.value for cell in sheet[HEADER_ROW]]
    row = next(r for r in range(HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(r, 1).value == "DBS")
    sheet.cell(row, headers.index("Numerator") + 1, 120)
    sheet.cell(row, headers.index("Denominator") + 1, 100)
    bad = io.BytesIO()
    book.save(bad)
    refused = client.post(
        api(f"returns/{draft.pk}/workbook/"), {"file": SimpleUploadedFile("return.xlsx", bad.getvalue())}
    )
    assert refused.status_code == 400
    assert any("(DBS), Numerator: “Checked” cannot be more than “Staff”." in p for p in refused.json()["general"])
    assert not draft.answers.exists()

    sheet.cell(row, headers.index("Numerator") + 1, 99)
    good = io.BytesIO()
    book.save(good)
    saved = client.post(
        api(f"returns/{draft.pk}/workbook/"), {"file": SimpleUploadedFile("return.xlsx", good.getvalue())}
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["changed"] == ["DBS"]
    assert draft.answers.get(metric=catalogue.dbs).values == {"numerator": 99, "denominator": 100}


def test_another_organisation_cannot_download_the_workbook(as_person, draft):
    assert as_person("luton_nurse").get(api(f"returns/{draft.pk}/workbook/")).status_code == 404
