"""Hostile values, fed through every way an answer arrives: the return's form, the API and a workbook upload.

Each value of one table goes through the three paths and must meet the same refusal, in the same words (those of
:func:`standards.kinds.clean_answer`), with nothing stored; values that are fine (any script, a long word within
the limit) must be stored alike by all three. A workbook cannot carry control characters (XML forbids them), so
those rows go through the form and the API only; values only JSON can carry (lists, objects, true/false, bare
``Infinity``, deep nesting) have their own tests of the API below.
"""

import html
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from returns.excel import FIRST_ROW, HEADERS, build_workbook, header_for
from returns.models import ActionPlanItem, Answer
from returns.services import AnswerInput, save_answers, submit_return
from standards.kinds import LARGEST_FIGURE, LONGEST_ANSWER_TEXT
from tests.returns.test_pages import form_of, name_of, page_url

pytestmark = pytest.mark.django_db

FORM, API, WORKBOOK = "form", "API", "workbook"
EVERY_PATH = (FORM, API, WORKBOOK)
NO_WORKBOOK = (FORM, API)  # XML 1.0, and so a workbook, cannot hold control characters

COUNT_WHOLE = "Enter the number as a whole number, like 12."
COUNT_TOO_LARGE = "Enter the number as 1,000,000 or less; a larger figure is almost certainly a typing slip."
CHECKED_WHOLE = "Enter “Checked” as a whole number, like 12."
CHECKED_TOO_LARGE = "Enter “Checked” as 1,000,000 or less; a larger figure is almost certainly a typing slip."
PASTED = "it is invisible and often comes from pasting from another program. New lines and tabs are fine."
LONG_WORD = "w" * LONGEST_ANSWER_TEXT

#: (metric code, answer field, what is typed, the refusal or None when it is fine, the paths it goes through)
HOSTILE = [
    pytest.param("ALLEGATIONS", "count", "Infinity", COUNT_WHOLE, EVERY_PATH, id="infinity"),
    pytest.param("ALLEGATIONS", "count", "-Infinity", COUNT_WHOLE, EVERY_PATH, id="minus-infinity"),
    pytest.param("ALLEGATIONS", "count", "NaN", COUNT_WHOLE, EVERY_PATH, id="nan"),
    pytest.param("ALLEGATIONS", "count", "sNaN", COUNT_WHOLE, EVERY_PATH, id="signalling-nan"),
    pytest.param("ALLEGATIONS", "count", "1e5000", COUNT_TOO_LARGE, EVERY_PATH, id="1e5000"),
    pytest.param("ALLEGATIONS", "count", "1" + "0" * 400, COUNT_TOO_LARGE, EVERY_PATH, id="10^400"),
    pytest.param("ALLEGATIONS", "count", "1000001", COUNT_TOO_LARGE, EVERY_PATH, id="one-over-the-largest"),
    pytest.param("ALLEGATIONS", "count", "-3", "Enter the number as 0 or more.", EVERY_PATH, id="negative"),
    pytest.param("ALLEGATIONS", "count", "2.5", COUNT_WHOLE, EVERY_PATH, id="fraction"),
    pytest.param("DBS", "numerator", "Infinity", CHECKED_WHOLE, EVERY_PATH, id="infinity-named-by-its-label"),
    pytest.param("DBS", "numerator", "1e5000", CHECKED_TOO_LARGE, EVERY_PATH, id="huge-named-by-its-label"),
    pytest.param(
        "AUDIT",
        "sampled",
        str(LARGEST_FIGURE["audit"] + 1),
        "Enter the number of records sampled as 100,000 or less; a larger figure is almost certainly a typing slip.",
        EVERY_PATH,
        id="more-records-than-an-audit-samples",
    ),
    pytest.param(
        "LEADS",
        "text",
        "x" * (LONGEST_ANSWER_TEXT + 1),
        "Keep your answer to 10,000 characters or fewer (it has 10,001).",
        EVERY_PATH,
        id="narrative-too-long",
    ),
    pytest.param(
        "S11-01",
        "evidence",
        "y" * (LONGEST_ANSWER_TEXT + 1),
        "Keep the evidence to 10,000 characters or fewer (it has 10,001).",
        EVERY_PATH,
        id="evidence-too-long",
    ),
    pytest.param(
        "LEADS",
        "text",
        "Lead\x00named",
        f"Remove a null character from your answer (character 5); {PASTED}",
        NO_WORKBOOK,
        id="nul",
    ),  # fmt: skip
    pytest.param(
        "LEADS",
        "text",
        "Ring\x07",
        f"Remove a bell character from your answer (character 5); {PASTED}",
        NO_WORKBOOK,
        id="bell",
    ),  # fmt: skip
    pytest.param(
        "LEADS",
        "text",
        "Pasted from Word\x0bsecond line",
        f"Remove a vertical tab (Word's line break) from your answer (character 17); {PASTED}",
        NO_WORKBOOK,
        id="vertical-tab",
    ),
    pytest.param(
        "LEADS",
        "text",
        "Escape \x1b[31m",
        f"Remove an escape character from your answer (character 8); {PASTED}",
        NO_WORKBOOK,
        id="escape",
    ),  # fmt: skip
    pytest.param("LEADS", "text", LONG_WORD, None, EVERY_PATH, id="a-word-as-long-as-the-limit"),
    pytest.param("LEADS", "text", "تم تعيين قائد الحماية.", None, EVERY_PATH, id="arabic"),
    pytest.param("LEADS", "text", "সুরক্ষা প্রধান নিযুক্ত।", None, EVERY_PATH, id="bengali"),
    pytest.param("LEADS", "text", "已任命保障负责人。", None, EVERY_PATH, id="chinese"),
    pytest.param("LEADS", "text", "Lead named 👩🏽‍⚕️ ✅", None, EVERY_PATH, id="emoji"),
    pytest.param("LEADS", "text", "First line\n\tindented line", None, EVERY_PATH, id="new-line-and-tab"),
    pytest.param("ALLEGATIONS", "count", "1000000", None, EVERY_PATH, id="the-largest-count"),
]


def stored(value: str, field: str):
    return int(value) if field == "count" else value


# The three paths -----------------------------------------------------------------------------------------------


def through_form(client, draft, code, field, value) -> str:
    """Type the value (and a fine answer to another question) on the return's page; the page's text back."""
    other = ("ALLEGATIONS.count", "7") if code == "LEADS" else ("LEADS.text", "Kept as typed.")
    form = form_of(client.get(page_url(draft)))
    typed = {f"{code}.{field}": value, other[0]: other[1]}
    data = {**form, **{name_of(draft, key): text for key, text in typed.items()}, "action": "save"}
    response = client.post(page_url(draft), data)
    if response.status_code == 302:
        return ""
    assert response.status_code == 200
    shown = form_of(response)
    for key, text in typed.items():  # whatever was refused, everything typed is on the page again
        assert shown[name_of(draft, key)] == text, key
    return html.unescape(response.content.decode())


def through_api(client, draft, code, field, value) -> str:
    response = client.post(
        f"/api/v1/returns/{draft.pk}/answers/",
        {"answers": [{"metric": code, "values": {field: value}, "base_revision": 0}]},
        content_type="application/json",
    )
    if response.status_code == 200:
        return ""
    assert response.status_code == 400
    return response.json()["errors"][code][field]


def through_workbook(client, draft, code, field, value) -> str:
    workbook = load_workbook(io.BytesIO(build_workbook(draft)))
    sheet = next(name for name in workbook.sheetnames if name != workbook.sheetnames[0])
    ws = workbook[sheet]
    column = {header: index for index, header in enumerate(HEADERS, start=1)}
    row = next(r for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, column["Code"]).value == code)
    metric = Answer._meta.get_field("metric").related_model.objects.get(code=code)
    ws.cell(row, column[header_for(metric.kind, field)]).value = value
    filled = io.BytesIO()
    workbook.save(filled)
    url = reverse("returns:workbook_upload", args=[draft.pk])
    response = client.post(url, {"workbook": SimpleUploadedFile("return.xlsx", filled.getvalue())})
    if response.status_code == 302:
        return ""
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Nothing was imported" in page
    place = f"Sheet ‘{sheet}’, row {row} ({code}), {header_for(metric.kind, field)}: "
    return page.split(place, 1)[1].split("<", 1)[0] if place in page else page


PATHS = {FORM: through_form, API: through_api, WORKBOOK: through_workbook}


#: Each value of the table on each path that can carry it.
HOSTILE_BY_PATH = [
    pytest.param(path, *row.values[:4], id=f"{row.id}-{path}")
    for row in HOSTILE
    for path in EVERY_PATH
    if path in row.values[4]
]


@pytest.mark.parametrize("path,code,field,value,refusal", HOSTILE_BY_PATH)
def test_every_path_refuses_a_hostile_value_in_the_same_words_and_stores_nothing(
    world, as_person, catalogue, draft, path, code, field, value, refusal
):
    client = as_person("riverside_contributor")
    said = PATHS[path](client, draft, code, field, value)
    if refusal is None:
        assert said == ""
        assert Answer.objects.get(metric__code=code).values[field] == stored(value, field)
        return
    if path == FORM:
        summary = said.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
        assert f'">{refusal}' in summary  # the message leads its line, in the label's words, with no code
        assert f"{code}:" not in summary
        beside = said.split('-error">', 1)[1].split("</p>", 1)[0]
        assert refusal in beside
    else:
        assert said == refusal
    assert not Answer.objects.exists()  # all or nothing: the fine answer typed with it was not saved either


# Values only JSON can carry ------------------------------------------------------------------------------------


def post_raw(client, draft, body: str):
    return client.post(f"/api/v1/returns/{draft.pk}/answers/", body, content_type="application/json")


@pytest.mark.parametrize(
    "code,field,value,message",
    [
        ("LEADS", "text", ["a", "list"], "Enter your answer as text."),
        ("LEADS", "text", {"an": "object"}, "Enter your answer as text."),
        ("LEADS", "text", 12, "Enter your answer as text."),
        ("S11-01", "evidence", ["x"], "Enter the evidence as text."),
        ("ALLEGATIONS", "count", [12], COUNT_WHOLE),
        ("ALLEGATIONS", "count", {"value": 12}, COUNT_WHOLE),
        ("ALLEGATIONS", "count", True, COUNT_WHOLE),
        ("DBS", "numerator", [1], CHECKED_WHOLE),
        ("S11-01", "grade", ["compliant"], "Choose compliant, partially compliant or not compliant."),
        ("POLICY", "in_place", {"yes": True}, "Choose yes or no."),
        ("POLICY", "review_date", [2027, 3, 31], "Enter the review date as a real date, like 2026-03-31."),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_with_a_message_for_its_field(
    world, as_person, catalogue, draft, code, field, value, message
):
    response = through_api(as_person("riverside_contributor"), draft, code, field, value)
    assert response == message
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    "number,message",
    [("1e5000", COUNT_TOO_LARGE), ("1e400", COUNT_TOO_LARGE), ("9" * 5000, COUNT_TOO_LARGE), ("-1e400", None)],
)
def test_a_json_number_too_large_for_a_float_is_refused_by_its_field(
    world, as_person, catalogue, draft, number, message
):
    body = '{"answers": [{"metric": "ALLEGATIONS", "base_revision": 0, "values": {"count": ' + number + "}}]}"
    response = post_raw(as_person("riverside_contributor"), draft, body)
    assert response.status_code == 400
    assert response.json()["errors"]["ALLEGATIONS"]["count"] == (message or "Enter the number as 0 or more.")
    assert not Answer.objects.exists()


@pytest.mark.parametrize("constant", ["Infinity", "-Infinity", "NaN"])
def test_infinity_and_nan_which_are_not_json_are_refused_as_a_whole(world, as_person, catalogue, draft, constant):
    body = '{"answers": [{"metric": "ALLEGATIONS", "base_revision": 0, "values": {"count": ' + constant + "}}]}"
    response = post_raw(as_person("riverside_contributor"), draft, body)
    assert response.status_code == 400
    assert f"{constant.lstrip('-')} is not a number JSON can carry" in response.json()["detail"]
    assert not Answer.objects.exists()


@pytest.mark.parametrize("depth", [33, 5_000, 100_000])
def test_json_nested_thousands_deep_is_refused_with_a_message(world, as_person, catalogue, draft, depth):
    body = (
        '{"answers": [{"metric": "LEADS", "base_revision": 0, "values": {"text": ' + "[" * depth + "]" * depth + "}}]}"
    )
    response = post_raw(as_person("riverside_contributor"), draft, body)
    assert response.status_code == 400
    assert "nests objects and lists more than 32 deep" in response.json()["detail"]


def test_a_null_character_in_any_string_of_an_answer_is_refused_not_stored(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    for item in (
        {"metric": "ALLEGATIONS", "values": {"count": "1\x00"}},
        {"metric": "LEADS", "values": {"text": "ok"}, "unusual_note": "a\x00b"},
        {"metric": "S11-01", "values": {}, "actions": [{"action": "Train\x00", "owner": "A", "due_on": "2026-03-31"}]},
        {"metric": "POLICY", "values": {"in_place": "yes\x00", "review_date": "2027-03-31"}},
    ):
        body = json.dumps({"answers": [{**item, "base_revision": 0}]})
        response = client.post(f"/api/v1/returns/{draft.pk}/answers/", body, content_type="application/json")
        assert response.status_code == 400, item
    assert not Answer.objects.exists() and not ActionPlanItem.objects.exists()


# The other text people type: action plans, revision comments, review reasons and comments ---------------------


def test_an_action_plan_row_is_held_to_the_same_text_rules(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    row = {"action": "Train staff\x07", "owner": "o" * 201, "due_on": "2026-03-31"}
    response = client.post(
        f"/api/v1/returns/{draft.pk}/answers/",
        {
            "answers": [
                {"metric": "S11-01", "values": {"grade": "partially_compliant"}, "actions": [row], "base_revision": 0}
            ]
        },  # fmt: skip
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["S11-01"] == {
        "actions-1-action": f"Action 1: remove a bell character from the action (character 12); {PASTED}",
        "actions-1-owner": "Action 1: keep the owner to 200 characters or fewer (it has 201).",
    }
    assert not Answer.objects.exists()


@pytest.fixture
def submitted(world, catalogue, draft):
    c = catalogue
    answers = {
        c.dbs.pk: AnswerInput({"numerator": "98", "denominator": "100"}),
        c.allegations.pk: AnswerInput({"count": "2"}),
        c.policy.pk: AnswerInput({"in_place": "no"}),
        c.audit.pk: AnswerInput({"sampled": "20", "compliant": "19"}),
        c.self_assessment.pk: AnswerInput({"grade": "compliant", "evidence": "Minutes."}),
        c.narrative.pk: AnswerInput({"text": "Dr A Patel."}),
    }
    save_answers(draft, by=world.riverside_lead, answers=answers)
    submit_return(draft, by=world.riverside_lead, declaration_confirmed=True)
    return draft


@pytest.mark.parametrize(
    "sent,message",
    [
        ("c" * 5_001, "Keep your comments to 5,000 characters or fewer (it has 5,001)."),
        ("Fix\x0bthis", f"Remove a vertical tab (Word's line break) from your comments (character 4); {PASTED}"),
        (["a", "list"], "Enter your comments as text."),
    ],
)
def test_revision_comments_follow_the_text_rules_on_the_api(world, as_person, submitted, sent, message):
    client = as_person("newham_nurse")
    response = client.post(
        f"/api/v1/returns/{submitted.pk}/return-for-revision/", {"comments": sent}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert message in (body.get("fields", {}).get("comments", "") + " ".join(body.get("general", [])))


@pytest.mark.parametrize(
    "act,sent,field,message",
    [
        ("override", {"colour": "red", "reason": "r" * 5_001}, "reason", "Keep the reason to 5,000 characters"),
        ("override", {"colour": "red", "reason": ["why"]}, "reason", "Enter the reason as text."),
        ("override", {"colour": ["red"], "reason": "Why"}, "colour", "Choose"),
        ("comment", {"text": "Bell\x07"}, "text", "Remove a bell character from your comment (character 5)"),
        ("comment", {"text": {"an": "object"}}, "text", "Enter your comment as text."),
    ],
)
def test_review_reasons_and_comments_follow_the_text_rules(world, as_person, submitted, act, sent, field, message):
    client = as_person("newham_nurse")
    metric = Answer.objects.get(provider_return=submitted, metric__code="DBS").metric
    response = client.post(
        f"/api/v1/reviews/{submitted.pk}/{act}/", {"metric": metric.pk, **sent}, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["fields"][field]


@pytest.mark.parametrize("body", ["[1, 2]", "12", '"text"'])
def test_a_review_act_sent_something_other_than_an_object_is_refused_not_a_server_error(
    world, as_person, submitted, body
):
    client = as_person("newham_nurse")
    response = client.post(f"/api/v1/reviews/{submitted.pk}/comment/", body, content_type="application/json")
    assert response.status_code == 400


def test_the_form_states_each_limit_and_counts_characters_with_a_static_script(world, as_person, catalogue, draft):
    page = as_person("riverside_contributor").get(page_url(draft)).content.decode()
    c = catalogue
    hint = page.split(f'id="id_m{c.narrative.pk}-text-hint">', 1)[1].split("</div>", 1)[0]
    assert hint.strip() == "Up to 10,000 characters."
    assert f'id="id_m{c.narrative.pk}-text" name="m{c.narrative.pk}-text" rows="5" data-longest="10000"' in page
    assert "A whole number. Up to 1,000,000." in page
    assert "Records sampled" in page and "Up to 100,000." in page
    assert '<script src="/static/js/character-count.js" defer></script>' in page
    assert "<script>" not in page  # no inline script: the counter is progressive enhancement from a static file


def test_an_action_plan_row_on_the_form_is_refused_in_the_apis_words_and_kept(world, as_person, catalogue, draft):
    client = as_person("riverside_contributor")
    typed = {
        "S11-01.grade": "partially_compliant",
        "S11-01.actions-1-action": "Train staff\x07",
        "S11-01.actions-1-owner": "o" * 201,
        "S11-01.actions-1-due_on": "2026-03-31",
    }
    form = form_of(client.get(page_url(draft)))
    response = client.post(
        page_url(draft), {**form, **{name_of(draft, key): text for key, text in typed.items()}, "action": "save"}
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f'">Action 1: remove a bell character from the action (character 12); {PASTED}' in page
    assert '">Action 1: keep the owner to 200 characters or fewer (it has 201).' in page
    shown = form_of(response)
    assert "S11-01:" not in page
    assert all(shown[name_of(draft, key)] == text for key, text in typed.items())
    assert not Answer.objects.exists()


def test_a_review_comment_and_a_follow_up_note_on_their_pages_follow_the_text_rules_and_are_kept(
    world, as_person, submitted
):
    client = as_person("newham_nurse")
    url = reverse("reviews:answer_comment", args=[submitted.pk, "DBS"])
    response = client.post(url, {"text": "Please check\x0bthe figure"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"Remove a vertical tab (Word's line break) from your comment (character 13); {PASTED}" in page
    assert ">Please check\x0bthe figure</textarea>" in page
    assert "Up to 5,000 characters." in page and 'data-longest="5000"' in page

    item = ActionPlanItem.objects.create(
        answer=Answer.objects.get(provider_return=submitted, metric__code="S11-01"),
        action="Train the new starters",
        owner="Head of HR",
        due_on=submitted.period.ends_on,
        position=0,
    )
    url = reverse("reviews:action_follow_up", args=[item.pk])
    response = client.post(url, {"done": "no", "note": "n" * 2_001})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Keep the note to 2,000 characters or fewer (it has 2,001)." in page
    assert 'id="note-error"' in page and "n" * 2_001 + "</textarea>" in page


@pytest.mark.parametrize(
    "body",
    [
        '{"answers": [{"metric": "LEADS", "values": {"text": "half \\ud800 a pair"}}]}',
        '{"answers": [{"metric": "\\udfff", "values": {}}]}',
        '{"answers": [{"metric": "LEADS", "values": {"\\ud800": "x"}}]}',
    ],
)
def test_half_a_surrogate_pair_anywhere_in_the_json_is_refused_not_a_server_error(
    world, as_person, catalogue, draft, body
):
    response = post_raw(as_person("riverside_contributor"), draft, body)
    assert response.status_code == 400
    assert "broken character (half of a surrogate pair" in response.json()["detail"]
    assert not Answer.objects.exists()


def test_a_whole_emoji_written_as_a_surrogate_pair_in_json_is_kept(world, as_person, catalogue, draft):
    body = '{"answers": [{"metric": "LEADS", "base_revision": 0, "values": {"text": "Lead named \\ud83d\\udc4d"}}]}'
    response = post_raw(as_person("riverside_contributor"), draft, body)
    assert response.status_code == 200
    assert Answer.objects.get(metric__code="LEADS").values == {"text": "Lead named 👍"}
