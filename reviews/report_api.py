"""The REST API of assurance reports: list, ask for, read and download them, with the pages' rules and messages.

``/api/v1/reports/`` lists the reports the person may see (newest first) and, with a POST of ``kind``, ``period``
and ``commissioner`` or ``provider``, asks for one (201, queued; 400 in the error shape of the returns API with the
form's own messages). ``/api/v1/reports/<id>/`` is one report with its progress; ``/api/v1/reports/<id>/download/``
its file as an attachment once ready (409 before): a provider report's PDF, or a committee report's pack (zip). A
committee report also shows its progress (``parts_done`` of ``parts_total``) and the downloads of its front section
and annex workbook, each offered once made (``/api/v1/reports/<id>/parts/<part>/download/``). Another
organisation's report is not found (404).
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from providers.models import Organisation
from returns.api import act
from returns.models import ReportingPeriod

from . import report_services
from .models import AssuranceReport, ReportKind, ReportPart, ReportPartKind, ReportState
from .views.reports import part_download, pdf_download


class AssuranceReportSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    period_label = serializers.CharField(source="period.label", read_only=True)
    subject = serializers.IntegerField(source="subject.pk", read_only=True)
    subject_name = serializers.CharField(source="subject.name", read_only=True)
    requested_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()
    parts_total = serializers.SerializerMethodField()
    parts_done = serializers.SerializerMethodField()
    front_download = serializers.SerializerMethodField()
    annex_download = serializers.SerializerMethodField()

    class Meta:
        model = AssuranceReport
        fields = [
            "id", "kind", "kind_label", "period", "period_label", "subject", "subject_name", "state", "state_label",
            "failure_reason", "requested_by", "requested_at", "started_at", "finished_at", "attempts", "size",
            "page_count", "sha256", "download", "parts_total", "parts_done", "front_download", "annex_download",
        ]  # fmt: skip
        read_only_fields = fields

    def get_requested_by(self, report) -> str:
        return report.requested_by.get_full_name() or report.requested_by.get_username()

    def _link(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_download(self, report) -> str | None:
        if report.state != ReportState.READY:
            return None
        return self._link(f"/api/v1/reports/{report.pk}/download/")

    def _part_link(self, report, part_id) -> str | None:
        if part_id is None or report.state == ReportState.FAILED:
            return None
        return self._link(f"/api/v1/reports/{report.pk}/parts/{part_id}/download/")

    def get_parts_total(self, report) -> int | None:
        """A committee pack's parts (front, annex and one appendix per provider); None for a provider report."""
        return getattr(report, "parts_total", None) if report.kind == ReportKind.COMMITTEE else None

    def get_parts_done(self, report) -> int | None:
        return getattr(report, "parts_done", None) if report.kind == ReportKind.COMMITTEE else None

    def get_front_download(self, report) -> str | None:
        return self._part_link(report, getattr(report, "front_part", None))

    def get_annex_download(self, report) -> str | None:
        return self._part_link(report, getattr(report, "annex_part", None))


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True)
    period = serializers.IntegerField(required=False, allow_null=True)
    commissioner = serializers.IntegerField(required=False, allow_null=True)
    provider = serializers.IntegerField(required=False, allow_null=True)


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assurance reports the person may see; ask for one with a POST."""

    serializer_class = AssuranceReportSerializer

    def get_queryset(self):
        def ready_part(kind):
            parts = ReportPart.objects.filter(report=OuterRef("pk"), kind=kind, state=ReportState.READY)
            return Subquery(parts.values("pk")[:1])

        return (
            AssuranceReport.objects.restrict(self.request.user)
            .select_related("commissioner", "provider", "period", "requested_by")
            .annotate(
                parts_total=Count("parts"),
                parts_done=Count("parts", filter=Q(parts__state=ReportState.READY)),
                front_part=ready_part(ReportPartKind.FRONT),
                annex_part=ready_part(ReportPartKind.ANNEX),
            )
            .order_by("-requested_at", "-id")  # a grouped query does not take the model's ordering
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

    @action(detail=True, url_path=r"parts/(?P<part>[0-9]+)/download", url_name="part-download")
    def part_download(self, request, pk=None, part=None, format=None):
        """One part of a committee pack (front section, annex or a provider's appendix) as stored, as an attachment;
        409 until it is made, or when its pack failed."""
        report = self.get_object()
        found = get_object_or_404(ReportPart.objects.select_related("provider"), report=report, pk=part)
        if found.state != ReportState.READY or report.state == ReportState.FAILED:
            raise ReportNotReady(report)
        return part_download(report, found)


class ReportNotReady(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, report: AssuranceReport):
        self.detail = {"detail": f"The report is not ready: {report.get_state_display().lower()}."}
