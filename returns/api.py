"""The REST API of reporting periods and returns: everything a provider does on its return, and its review.

Returns are always read from ``Return.objects.restrict(user, "view")`` (:class:`ScopedQuerysetMixin`), so another
organisation's return is not found (404). Every change calls :mod:`returns.services` and answers with the
service's own words:

- 400 ``{"errors": {<metric code>: {<field>: <message>}}, "general": [<message>, ...]}``, plus ``"fields":
  {<field>: <message>}`` when a field of the request itself (not of an answer) is wrong;
- 403 ``{"detail": <message>}`` when the person may see the return but not do this to it;
- 409 ``{"detail": <message>, "conflicts": [...]}`` when someone else saved the same answer first;
- 409 ``{"detail": <message>}`` when the change was already made (a second submit, a retried request, two
  reviewers at the same moment): nothing changed, and the message says when and by whom it was made.
- 428 ``{"detail": <message>, "errors": {<metric code>: {"base_revision": <message>}}}`` when a save of answers
  does not say which revision of each answer it started from (``base_revision``, 0 for one not yet saved):
  the API never overwrites an answer blind.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework import serializers as drf
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from providers.scoping import ScopedQuerysetMixin
from providers.services import ALREADY_DONE
from standards.models import Metric

from . import services
from .excel import WorkbookProblems, build_workbook, read_workbook
from .models import Answer, Evidence, ReportingPeriod, Return, ReturnStatus, RevisionRequest, Submission
from .selectors import asked_once, metrics_for
from .serializers import (
    AnswerSerializer,
    BaseRevisionMissing,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    OpenReturnSerializer,
    PersonSerializer,
    ReportingPeriodSerializer,
    ReturnDetailSerializer,
    ReturnForRevisionSerializer,
    ReturnSerializer,
    RevisionRequestSerializer,
    SaveAnswersSerializer,
    SavedAnswersSerializer,
    SubmissionSerializer,
    SubmitSerializer,
    answer_inputs,
)
from .services import EditConflict, ReturnProblems

#: What an answer's ``carried_forward`` reads, joined into the answers' own query.
CARRIED = ("carried_from__provider_return__period", "confirmed_by")

#: The schema's words for a change made already (a retry, another tab, another person at the same moment).
ALREADY_DONE_409 = (
    "The return was already {what} (by a retry of this request, another tab or another person): nothing changed, "
    "and the message says when and by whom."
)


class Problems(exceptions.APIException):
    """400 with the error shape of every return action (see the module docstring)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, by_metric=None, general=None, fields=None):
        self.detail = {"errors": by_metric or {}, "general": general or []}
        if fields:
            self.detail["fields"] = fields


class BaseRevisionRequired(exceptions.APIException):
    """428: a save of answers that does not say which revision of each answer it started from."""

    status_code = status.HTTP_428_PRECONDITION_REQUIRED

    def __init__(self, missing: BaseRevisionMissing):
        self.detail = {
            "detail": str(missing),
            "errors": {code: {"base_revision": str(missing)} for code in missing.codes},
        }


class Conflicted(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, conflict: EditConflict):
        when = drf.DateTimeField()
        self.detail = {
            "detail": str(conflict),
            "conflicts": [
                {
                    "metric": c.metric.pk,
                    "code": c.metric.code,
                    "saved_by": PersonSerializer(c.saved_by).data if c.saved_by else None,
                    "saved_at": when.to_representation(c.saved_at),
                    "saved_values": c.saved_values,
                    "saved_revision": c.saved_revision,
                }
                for c in conflict.conflicts
            ],
        }


class AlreadyDone(exceptions.APIException):
    """409 ``{"detail": <message>}``: the change was already made, so this request changed nothing."""

    status_code = status.HTTP_409_CONFLICT
    default_code = ALREADY_DONE


def act(service, *args, **kwargs):
    """Call a service, turning its refusals into the API's answers: 403, 400 in the error shape, or 409."""
    try:
        return service(*args, **kwargs)
    except DjangoPermissionDenied as refused:
        raise exceptions.PermissionDenied(str(refused)) from refused
    except ReturnProblems as problems:
        if problems.code == ALREADY_DONE:
            raise AlreadyDone(" ".join(problems.general)) from problems
        raise Problems(problems.by_metric, problems.general) from problems
    except EditConflict as conflict:
        raise Conflicted(conflict) from conflict
    except DjangoValidationError as invalid:
        if getattr(invalid, "code", None) == ALREADY_DONE:
            raise AlreadyDone(" ".join(invalid.messages)) from invalid
        if hasattr(invalid, "error_dict"):
            fields = {name: " ".join(messages) for name, messages in invalid.message_dict.items()}
            general = fields.pop("__all__", None)
            raise Problems(general=[general] if general else [], fields=fields) from invalid
        raise Problems(general=invalid.messages) from invalid


def valid(serializer):
    """The serializer, validated; a wrong field of the request answers 400 in the error shape."""
    if not serializer.is_valid():
        fields = {name: str(errors[0]) for name, errors in serializer.errors.items()}
        raise Problems(general=fields.pop("non_field_errors", []), fields=fields)
    return serializer


class ReportingPeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """Reporting periods (quarters of the financial year), shared by everyone signed in."""

    queryset = ReportingPeriod.objects.all()
    serializer_class = ReportingPeriodSerializer
    filterset_fields = ["financial_year", "quarter"]
    ordering_fields = ["starts_on", "submission_deadline"]


class ReturnFilter(django_filters.FilterSet):
    # By id rather than by choice of every organisation, so that a filter does not confirm another's ids.
    provider = django_filters.NumberFilter(field_name="provider_id")
    period = django_filters.NumberFilter(field_name="period_id")
    status = django_filters.ChoiceFilter(choices=ReturnStatus.choices)

    class Meta:
        model = Return
        fields = ["provider", "period", "status"]


class ReturnViewSet(ScopedQuerysetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Returns the person may see; a provider's people open, answer and submit theirs; commissioners review."""

    queryset = Return.objects.all()
    serializer_class = ReturnSerializer
    filterset_class = ReturnFilter
    ordering_fields = ["updated_at", "created_at"]

    def get_queryset(self):
        queryset = (
            super()
            .get_queryset()
            .select_related("provider", "period")
            .prefetch_related(Prefetch("submissions", queryset=Submission.objects.select_related("submitted_by")))
        )
        if self.action in ("retrieve", "create"):
            queryset = queryset.prefetch_related(
                Prefetch(
                    "answers",
                    queryset=Answer.objects.select_related("metric", "updated_by", *CARRIED).prefetch_related(
                        "actions", Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by"))
                    ),
                ),
                Prefetch(
                    "revision_requests",
                    queryset=RevisionRequest.objects.select_related("requested_by", "submission"),
                ),
            )
        return queryset

    def in_full(self, provider_return: Return) -> dict:
        metrics = metrics_for(provider_return.provider, provider_return.period)
        context = {
            **self.get_serializer_context(),
            "metrics": metrics,
            "asked": asked_once(metrics, provider_return.period),
        }
        return ReturnDetailSerializer(provider_return, context=context).data

    def retrieve(self, request, *args, **kwargs):
        """The return with every metric it asks, each with its answer (or null), its submissions and requests."""
        return Response(self.in_full(self.get_object()))

    def create(self, request, *args, **kwargs):
        """Open the provider's return for the period: 201 when made now, 200 when it was already open."""
        serializer = OpenReturnSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        provider, period = serializer.validated_data["provider"], serializer.validated_data["period"]
        existed = Return.objects.filter(provider=provider, period=period).exists()
        provider_return = act(services.open_return, provider, period, by=request.user)
        provider_return = self.get_queryset().get(pk=provider_return.pk)
        made_now = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(self.in_full(provider_return), status=made_now)

    @extend_schema(
        request=SaveAnswersSerializer,
        responses={
            200: SavedAnswersSerializer,
            400: OpenApiResponse(description="Wrong values, or a body that cannot be read; nothing is saved."),
            403: OpenApiResponse(description="The person may see the return but not change it."),
            409: OpenApiResponse(
                description="Someone saved one of these answers after the revision sent as base_revision; nothing "
                "is saved. Each conflict gives the answer as now saved (saved_values, saved_revision, saved_by, "
                "saved_at): send saved_revision as base_revision to save over it knowingly."
            ),
            428: OpenApiResponse(
                description="An answer does not say which revision it started from: send base_revision (0 for an "
                "answer not yet saved). Nothing is saved."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def answers(self, request, pk=None, format=None):
        """Save answers to the draft, all or nothing; the answers as saved and any unusual-value warnings.

        Each answer says which revision it started from (``base_revision``: the answer's ``revision`` as read, 0
        for one not yet saved); without it the save is refused (428), and when someone saved the answer since,
        it is refused as a conflict (409) with the answer as now saved.
        """
        provider_return = self.get_object()
        try:
            given = answer_inputs(request.data, metrics_for(provider_return.provider, provider_return.period))
        except ReturnProblems as unreadable:
            # Saving nothing runs the service's own checks, so that who may save, and when, are answered first.
            act(services.save_answers, provider_return, by=request.user, answers={})
            raise Problems(unreadable.by_metric, unreadable.general) from unreadable
        except BaseRevisionMissing as missing:
            act(services.save_answers, provider_return, by=request.user, answers={})
            raise BaseRevisionRequired(missing) from missing
        result = act(services.save_answers, provider_return, by=request.user, answers=given)
        answers = (
            Answer.objects.filter(provider_return=provider_return, metric_id__in=list(given))
            .select_related("metric", "updated_by", *CARRIED)
            .prefetch_related("actions", Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")))
        )
        return Response(
            {
                "answers": AnswerSerializer(answers, many=True, context=self.get_serializer_context()).data,
                "changed": [answer.metric.code for answer in result.saved],
                "warnings": result.warnings,
            }
        )

    @extend_schema(
        request=SubmitSerializer,
        responses={
            201: SubmissionSerializer,
            400: OpenApiResponse(description="The return is not complete, or the declaration is not confirmed."),
            409: OpenApiResponse(description=ALREADY_DONE_409.format(what="submitted")),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, format=None):
        """The safeguarding lead submits the complete return, confirming the declaration.

        Safe to retry: a return already submitted (by a retry of this request, another tab or another person) is
        not submitted again; the answer is 409 with a message saying when and by whom it was submitted.
        """
        provider_return = self.get_object()
        confirmed = valid(SubmitSerializer(data=request.data)).validated_data["declaration_confirmed"]
        submission = act(services.submit_return, provider_return, by=request.user, declaration_confirmed=confirmed)
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReturnForRevisionSerializer,
        responses={
            201: RevisionRequestSerializer,
            409: OpenApiResponse(description=ALREADY_DONE_409.format(what="returned for revision")),
        },
    )
    @action(detail=True, methods=["post"], url_path="return-for-revision", url_name="return-for-revision")
    def return_for_revision(self, request, pk=None, format=None):
        """A designated professional of a commissioner of the provider sends the return back, with comments."""
        provider_return = self.get_object()
        comments = valid(ReturnForRevisionSerializer(data=request.data)).validated_data["comments"]
        revision_request = act(services.return_for_revision, provider_return, by=request.user, comments=comments)
        return Response(RevisionRequestSerializer(revision_request).data, status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["post"],
        url_path=r"answers/(?P<metric_pk>[0-9]+)/evidence",
        url_name="evidence",
        parser_classes=[MultiPartParser, FormParser],
    )
    def evidence(self, request, pk=None, metric_pk=None, format=None):
        """Attach a file (multipart ``file``) to the answer to a metric: a PDF, Word, Excel, PNG or JPEG file."""
        provider_return = self.get_object()
        metric = get_object_or_404(Metric, pk=metric_pk)
        upload = valid(EvidenceUploadSerializer(data=request.data)).validated_data["file"]
        evidence = act(services.attach_evidence, provider_return, metric, upload, by=request.user)
        return Response(
            EvidenceSerializer(evidence, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @action(
        detail=True,
        methods=["get", "post"],
        url_path="workbook",
        url_name="workbook",
        parser_classes=[MultiPartParser, FormParser],
    )
    def workbook(self, request, pk=None, format=None):
        """GET: the return as a pre-filled Excel workbook. POST (multipart ``file``): upload it back, all or nothing.

        A workbook with problems answers 400 with every problem, named by sheet, row and field, in ``general``.
        """
        provider_return = self.get_object()
        if request.method == "GET":
            content = build_workbook(provider_return)
            response = HttpResponse(content, content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="{workbook_filename(provider_return)}"'
            return response
        upload = valid(EvidenceUploadSerializer(data=request.data)).validated_data["file"]
        try:
            result = act(read_workbook, provider_return, upload, by=request.user)
        except WorkbookProblems as problems:
            raise Problems(general=problems.problems) from problems
        return Response({"changed": [a.metric.code for a in result.saved], "warnings": result.warnings})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_filename(provider_return: Return) -> str:
    period = provider_return.period
    return f"{provider_return.provider.ods_code}-Q{period.quarter}-{period.financial_year_label.replace('/', '-')}.xlsx"


def register(router) -> None:
    """Add the routes of reporting periods and returns to the project's API router."""
    router.register("periods", ReportingPeriodViewSet, basename="period")
    router.register("returns", ReturnViewSet, basename="return")
