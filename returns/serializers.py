"""Serializers of reporting periods, returns, answers, submissions and revision requests for the REST API.

Reading is plain serialization. Writing goes through :mod:`returns.services`: the serializers here only turn
a request into the service's inputs (:class:`returns.services.AnswerInput`), and never judge an answer's
values; :func:`standards.kinds.clean_answer`, called by the service, is the one place that does.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from providers.models import Organisation
from providers.serializers import SentAsIs
from standards.models import Metric

from .models import ActionPlanItem, Answer, Evidence, ReportingPeriod, Return, RevisionRequest, Submission
from .services import NOT_IN_RETURN, AnswerInput, ReturnProblems, carried_quarter

#: The service's words for a metric that a return does not ask (``save_answers``), for metrics the API cannot
#: even hand to the service because it does not recognise their code.


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class OrganisationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "ods_code"]


class ReportingPeriodSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="period-detail")
    locked_now = serializers.SerializerMethodField()

    class Meta:
        model = ReportingPeriod
        fields = [
            "id", "url", "financial_year", "financial_year_label", "quarter", "label", "starts_on", "ends_on",
            "submission_deadline", "lock_date", "reopened_until", "locked_now",
        ]  # fmt: skip

    def get_locked_now(self, period) -> bool:
        return period.is_locked()


class PeriodSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "label", "financial_year", "quarter", "submission_deadline", "lock_date"]


class ActionPlanItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActionPlanItem
        fields = ["action", "owner", "due_on"]


def evidence_download_url(request, evidence: Evidence) -> str | None:
    """The page that serves an evidence file to people who may see it, once that page exists."""
    try:
        path = reverse("returns:evidence_download", kwargs={"pk": evidence.pk})
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(path) if request is not None else path


class EvidenceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    uploaded_by = PersonSerializer(allow_null=True)

    class Meta:
        model = Evidence
        fields = ["id", "name", "content_type", "size", "uploaded_by", "uploaded_at"]

    def to_representation(self, evidence):
        data = super().to_representation(evidence)
        url = evidence_download_url(self.context.get("request"), evidence)
        if url:
            data["download_url"] = url
        return data


class AnswerSerializer(serializers.ModelSerializer):
    """An answer as saved: send ``revision`` back as ``base_revision`` when saving it again."""

    code = serializers.CharField(source="metric.code")
    updated_by = PersonSerializer(allow_null=True)
    actions = ActionPlanItemSerializer(many=True)
    evidence = EvidenceSerializer(many=True)
    carried_forward = serializers.SerializerMethodField(
        help_text="Null, or the quarter the answer was carried forward from and who confirmed it unchanged, when."
    )

    class Meta:
        model = Answer
        fields = [
            "id", "metric", "code", "values", "revision", "unusual_value_confirmed", "unusual_value_note",
            "updated_by", "updated_at", "actions", "evidence", "carried_forward",
        ]  # fmt: skip

    def get_carried_forward(self, answer: Answer) -> dict | None:
        if answer.carried_from_id is None:
            return None
        return {
            "from": carried_quarter(answer),
            "confirmed": answer.confirmed_at is not None,
            "confirmed_by": PersonSerializer(answer.confirmed_by).data if answer.confirmed_by else None,
            "confirmed_at": answer.confirmed_at,
        }


class MetricAskedSerializer(serializers.ModelSerializer):
    """A metric as a return asks it; ``answer`` is set by :class:`ReturnDetailSerializer`."""

    framework = serializers.CharField(source="framework.code")
    framework_version = serializers.CharField(source="framework.version")
    standard = serializers.CharField(source="standard.number", default=None)
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Metric
        fields = [
            "id", "code", "title", "group", "framework", "framework_version", "standard", "kind", "kind_display",
            "frequency", "numerator_label", "denominator_label", "sample_size", "review_interval_months",
        ]  # fmt: skip


class SubmissionSerializer(serializers.ModelSerializer):
    submitted_by = PersonSerializer()

    class Meta:
        model = Submission
        fields = ["id", "number", "submitted_by", "submitted_at", "late", "declaration"]


class RevisionRequestSerializer(serializers.ModelSerializer):
    requested_by = PersonSerializer()
    submission = serializers.IntegerField(source="submission.number")

    class Meta:
        model = RevisionRequest
        fields = ["id", "submission", "requested_by", "requested_at", "comments"]


class ReturnSerializer(serializers.ModelSerializer):
    """A return in a list: whose, for which period, its status and its submissions."""

    url = serializers.HyperlinkedIdentityField(view_name="return-detail")
    provider = OrganisationSummarySerializer()
    period = PeriodSummarySerializer()
    status_display = serializers.CharField(source="get_status_display")
    submissions = SubmissionSerializer(many=True)

    class Meta:
        model = Return
        fields = [
            "id", "url", "provider", "period", "status", "status_display", "created_at", "updated_at", "submissions",
        ]  # fmt: skip


class ReturnDetailSerializer(ReturnSerializer):
    """A return in full: every question it asks, each with its answer or null.

    ``metrics`` in the context are the return's metrics and ``asked`` their grouping
    (:func:`returns.selectors.asked_once`): a measure shared by several frameworks is one question, listed under the
    metric asked, whose ``also_counts_for`` names the other frameworks' metrics its answer serves (each judges it
    by its own threshold). Those metrics are not listed again, as the page and the workbook do not ask them again.
    """

    metrics = serializers.SerializerMethodField()
    revision_requests = RevisionRequestSerializer(many=True)

    class Meta(ReturnSerializer.Meta):
        fields = [*ReturnSerializer.Meta.fields, "revision_requests", "metrics"]

    def get_metrics(self, provider_return) -> list[dict]:
        answers = {answer.metric_id: answer for answer in provider_return.answers.all()}
        grouping = self.context["asked"]
        asked = []
        for metric in grouping.questions(self.context["metrics"]):
            data = MetricAskedSerializer(metric, context=self.context).data
            data["also_counts_for"] = [
                {"id": other.pk, "code": other.code, "framework": other.framework.code,
                 "framework_version": other.framework.version}
                for other in grouping.others(metric)
            ]  # fmt: skip
            answer = answers.get(metric.pk)
            data["answer"] = AnswerSerializer(answer, context=self.context).data if answer else None
            asked.append(data)
        return asked


class OpenReturnSerializer(serializers.Serializer):
    """A provider and a period, to open the provider's return for it. Only providers the person sees are found."""

    provider = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.none(),
        error_messages={"does_not_exist": "There is no provider with id {pk_value} that you can see."},
    )
    period = serializers.PrimaryKeyRelatedField(
        queryset=ReportingPeriod.objects.all(),
        error_messages={"does_not_exist": "There is no reporting period with id {pk_value}."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["provider"].queryset = Organisation.objects.restrict(request.user).providers()


class ActionRowSerializer(serializers.Serializer):
    """One row of an action plan, passed on as sent: the service checks and words its problems."""

    action = SentAsIs()
    owner = SentAsIs()
    due_on = SentAsIs()


class AnswerItemSerializer(serializers.Serializer):
    """One answer sent to ``returns/<id>/answers/``; ``metric`` is the metric's id or its code."""

    metric = serializers.JSONField()
    values = serializers.DictField(
        error_messages={
            "required": "Send the values as an object of field names and values.",
            "not_a_dict": "Send the values as an object of field names and values.",
            "null": "Send the values as an object of field names and values.",
        }
    )
    base_revision = serializers.IntegerField(
        min_value=0,  # missing or null is answered 428 by answer_inputs, not 400
        help_text=(
            "The answer's revision you started from, as read from GET returns/<id>/ (0 for an answer not yet "
            "saved). Required: a save without it is refused with 428; a revision that is no longer the saved one "
            "is refused with 409 and the answer as now saved."
        ),
        error_messages={
            "invalid": "Send the revision you started from as a whole number, like 3.",
            "min_value": "Send the revision you started from as a whole number, like 3.",
        },
    )
    confirm_unusual = serializers.BooleanField(
        default=False, error_messages={"invalid": "Send confirm_unusual as true or false."}
    )
    unusual_note = SentAsIs()
    confirm_carried = serializers.BooleanField(
        default=False,
        help_text="True to confirm an answer carried forward from an earlier quarter still holds (send its values "
        "unchanged); a changed answer is no longer carried forward.",
        error_messages={"invalid": "Send confirm_carried as true or false."},
    )
    actions = ActionRowSerializer(
        many=True, required=False, allow_null=True, default=None
    )  # absent or null: leave the action plan as it is

    def to_answer_input(self) -> AnswerInput:
        data = self.validated_data
        return AnswerInput(
            values=data["values"],
            base_revision=data["base_revision"],
            confirm_unusual=data["confirm_unusual"],
            unusual_note=data["unusual_note"],
            confirm_carried=data["confirm_carried"],
            actions=[dict(row) for row in data["actions"]] if data["actions"] is not None else None,
        )


#: What a save is told when an answer does not say which revision it started from (428).
BASE_REVISION_MISSING = (
    "Say which revision of this answer you changed: send base_revision, the answer's revision as read from "
    "GET returns/<id>/ (0 for an answer not yet saved), so that nobody's save is overwritten unseen."
)


class BaseRevisionMissing(Exception):
    """Some answers sent to ``returns/<id>/answers/`` do not say which revision they started from."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        super().__init__(BASE_REVISION_MISSING)


class SaveAnswersSerializer(serializers.Serializer):
    """The body of ``returns/<id>/answers/`` (read by :func:`answer_inputs`; here for the API's schema)."""

    answers = AnswerItemSerializer(many=True)


class SavedAnswersSerializer(serializers.Serializer):
    """What ``returns/<id>/answers/`` answers: the answers as saved, those changed, unusual-value warnings."""

    answers = AnswerSerializer(many=True)
    changed = serializers.ListField(child=serializers.CharField(), help_text="Codes of the answers changed.")
    warnings = serializers.DictField(child=serializers.CharField(), help_text="Metric code → unusual value warning.")


def _first_message(errors) -> str:
    """The first message of a DRF error structure (a list, or a dict of lists for a nested row)."""
    while isinstance(errors, dict | list):
        errors = next(iter(errors.values())) if isinstance(errors, dict) else errors[0]
    return str(errors)


def find_metric(reference, metrics: list[Metric]) -> Metric | None:
    """The metric of ``metrics`` that ``reference`` names, by id (a number) or by code (text)."""
    if isinstance(reference, bool) or reference in (None, ""):
        return None
    for metric in metrics:
        if isinstance(reference, str) and metric.code == reference:
            return metric
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        return next((metric for metric in metrics if metric.pk == int(reference)), None)
    return None


def answer_inputs(data, metrics: list[Metric]) -> dict[int, AnswerInput]:
    """Turn the body of ``returns/<id>/answers/`` into the service's inputs, by metric id.

    Raises :class:`ReturnProblems` keyed like the service's (metric code, then field) when an answer cannot be
    read at all: an unknown metric, values that are not an object, a revision that is not a number. Then raises
    :class:`BaseRevisionMissing` when an answer does not say which revision it started from: the API never saves
    blind.
    """
    items = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ReturnProblems(general=['Send the answers as a list under "answers", one for each question.'])
    inputs: dict[int, AnswerInput] = {}
    problems: dict[str, dict[str, str]] = {}
    general: list[str] = []
    missing: list[str] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            general.append(f"Answer {number}: send an object with the metric and its values.")
            continue
        reference = item.get("metric")
        metric = find_metric(reference, metrics)
        if metric is None:
            if reference in (None, ""):
                general.append(f"Answer {number}: say which question it answers, by the metric's id or code.")
            else:
                problems[str(reference)] = {"metric": NOT_IN_RETURN}
            continue
        if metric.pk in inputs:
            problems[metric.code] = {"metric": "This question is answered more than once; send it once."}
            continue
        serializer = AnswerItemSerializer(data=item)
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            if errors.get("base_revision") and errors["base_revision"][0].code in ("required", "null"):
                del errors["base_revision"]
                missing.append(metric.code)
            if errors:
                problems[metric.code] = {field: _first_message(found) for field, found in errors.items()}
            continue
        inputs[metric.pk] = serializer.to_answer_input()
    if problems or general:
        raise ReturnProblems(problems, general)
    if missing:
        raise BaseRevisionMissing(missing)
    return inputs


class SubmitSerializer(serializers.Serializer):
    declaration_confirmed = serializers.BooleanField(
        default=False, error_messages={"invalid": "Send declaration_confirmed as true or false."}
    )


class ReturnForRevisionSerializer(serializers.Serializer):
    comments = SentAsIs()


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # check_evidence_file says an empty file is empty, in its own words
        error_messages={"required": "Choose a file to upload.", "invalid": "Choose a file to upload."},
    )
