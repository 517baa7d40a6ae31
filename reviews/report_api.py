"""The REST API of assurance reports: list, ask for, read and download them, with the pages' rules and messages.

``/api/v1/reports/`` lists the reports the person may see (newest first) and, with a POST of ``kind``, ``period``
and ``commissioner`` or ``provider``, asks for one (201, queued; 400 in the error shape of the returns API with the
form's own messages). ``/api/v1/reports/<id>/`` is one report with its progress; ``/api/v1/reports/<id>/download/``
its PDF as an attachment once ready (409 before). Another organisation's report is not found (404).
"""

from __future__ import annotations

from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from providers.models import Organisation
from returns.api import act
from returns.models import ReportingPeriod

from . import report_services
from .models import AssuranceReport, ReportKind, ReportState
from .views.reports import pdf_download


class AssuranceReportSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    period_label = serializers.CharField(source="period.label", read_only=True)
    subject = serializers.IntegerField(source="subject.pk", read_only=True)
    subject_name = serializers.CharField(source="subject.name", read_only=True)
    requested_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = AssuranceReport
        fields = [
            "id", "kind", "kind_label", "period", "period_label", "subject", "subject_name", "state", "state_label",
            "failure_reason", "requested_by", "requested_at", "started_at", "finished_at", "attempts", "size",
            "page_count", "sha256", "download",
        ]  # fmt: skip
        read_only_fields = fields

    def get_requested_by(self, report) -> str:
        return report.requested_by.get_full_name() or report.requested_by.get_username()

    def get_download(self, report) -> str | None:
        if report.state != ReportState.READY:
            return None
        request = self.context.get("request")
        path = f"/api/v1/reports/{report.pk}/download/"
        return request.build_absolute_uri(path) if request else path


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True)
    period = serializers.IntegerField(required=False, allow_null=True)
    commissioner = serializers.IntegerField(required=False, allow_null=True)
    provider = serializers.IntegerField(required=False, allow_null=True)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assurance reports the person may see; ask for one with a POST."""

    serializer_class = AssuranceReportSerializer

    def get_queryset(self):
        return AssuranceReport.objects.restrict(self.request.user).select_related(
            "commissioner", "provider", "period", "requested_by"
        )

    def create(self, request, *args, **kwargs):
        given = ReportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        kind = data.get("kind") or ""
        subject_id = data.get("commissioner") if kind == ReportKind.COMMITTEE else data.get("provider")
        period = ReportingPeriod.objects.filter(pk=data.get("period")).first() if data.get("period") else None
        subject = Organisation.objects.filter(pk=subject_id).first() if subject_id else None
        report = act(report_services.request_report, request.user, kind=kind, period=period, subject=subject)
        report = self.get_queryset().get(pk=report.pk)
        body = self.get_serializer(report).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": report.get_absolute_url()})

    @action(detail=True)
    def download(self, request, pk=None, format=None):
        """The report's PDF as stored when it was made, as an attachment; 409 until it is ready."""
        report = self.get_object()
        if report.state != ReportState.READY:
            raise ReportNotReady(report)
        return pdf_download(report)


class ReportNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, report: AssuranceReport):
        self.detail = {"detail": f"The report is not ready: {report.get_state_display().lower()}."}
