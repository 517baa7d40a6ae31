"""Pages of assurance reports: the list of past reports with the forms to ask for one, a report's progress, and
its download (only through here, as an attachment, to people who may see the commissioner's or provider's data)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from returns.models import ReportingPeriod

from .. import report_services
from ..models import AssuranceReport, ReportKind, ReportPart, ReportPartKind, ReportState
from .dashboards import commissioner_options

REPORTS_PER_PAGE = 25


def _periods():
    return ReportingPeriod.objects.filter(starts_on__lte=timezone.localdate()).order_by("-ends_on")


def _choose_the_only_one(form: forms.Form, name: str) -> None:
    """An empty form starts with the one choice there is, when there is only one (a person of one commissioner)."""
    if not form.is_bound and name not in form.initial:
        only = list(form.fields[name].queryset.values_list("pk", flat=True)[:2])
        if len(only) == 1:
            form.initial[name] = only[0]


class PeriodChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class CommitteeReportForm(forms.Form):
    """A committee report: the quarter and one of the commissioners whose assurance the person sees."""

    period = PeriodChoiceField(
        queryset=ReportingPeriod.objects.none(), label="Quarter", empty_label="Choose a quarter",
        error_messages={"required": report_services.NO_PERIOD, "invalid_choice": report_services.NO_PERIOD},
    )  # fmt: skip
    commissioner = OrganisationChoiceField(
        queryset=None, label="Commissioner", empty_label="Choose a commissioner",
        error_messages={"required": report_services.NO_COMMISSIONER,
                        "invalid_choice": report_services.NO_COMMISSIONER},
    )  # fmt: skip

    field_order = ["commissioner", "period"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, prefix="committee", **kwargs)
        self.fields["period"].queryset = _periods()
        field = self.fields["commissioner"]
        field.queryset = report_services.report_commissioners(user)
        # An ICB is offered as the whole ICB, followed by each of its places, as on the assurance pages.
        field.choices = [("", field.empty_label), *commissioner_options({o.pk: o for o in field.queryset})]
        _choose_the_only_one(self, "commissioner")

    @property
    def subject(self):
        return self.cleaned_data.get("commissioner")


class ProviderReportForm(forms.Form):
    """A provider report: the quarter and one of the providers whose assurance the person sees."""

    period = PeriodChoiceField(
        queryset=ReportingPeriod.objects.none(), label="Quarter", empty_label="Choose a quarter",
        error_messages={"required": report_services.NO_PERIOD, "invalid_choice": report_services.NO_PERIOD},
    )  # fmt: skip
    provider = OrganisationChoiceField(
        queryset=None, label="Provider", empty_label="Choose a provider",
        error_messages={"required": report_services.NO_PROVIDER, "invalid_choice": report_services.NO_PROVIDER},
    )  # fmt: skip

    field_order = ["provider", "period"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, prefix="provider", **kwargs)
        self.fields["period"].queryset = _periods()
        self.fields["provider"].queryset = report_services.report_providers(user)
        _choose_the_only_one(self, "provider")

    @property
    def subject(self):
        return self.cleaned_data.get("provider")


FORMS = {ReportKind.COMMITTEE: CommitteeReportForm, ReportKind.PROVIDER: ProviderReportForm}


def visible_reports(user):
    """The reports the person may see, newest first, starting from their scope."""
    return AssuranceReport.objects.restrict(user).select_related("commissioner", "provider", "period", "requested_by")


class ReportListView(LoginRequiredMixin, View):
    """Past reports the person may see, and the forms to ask for a committee or a provider report."""

    template_name = "reviews/reports/report_list.html"

    def get(self, request, *args, **kwargs):
        return self.show(request)

    def show(self, request, *, committee_form=None, provider_form=None, form=None, status=200):
        user = request.user
        committee_form = committee_form or CommitteeReportForm(user=user, initial=self.initial(request, "commissioner"))
        provider_form = provider_form or ProviderReportForm(user=user, initial=self.initial(request, "provider"))
        page = Paginator(visible_reports(user), REPORTS_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            "committee_form": committee_form,
            "provider_form": provider_form,
            "form": form,  # the form with errors, for the error summary
            "may_ask_committee": committee_form.fields["commissioner"].queryset.exists(),
            "may_ask_provider": provider_form.fields["provider"].queryset.exists(),
            "page_obj": page,
            "paginator": page.paginator,
            "reports": page.object_list,
        }
        return render(request, self.template_name, context, status=status)

    @staticmethod
    def initial(request, subject: str) -> dict:
        """What a form starts with: the quarter and subject a link asked for (``?period=&commissioner=`` or
        ``?provider=``, as the dashboard and review pages link here), else the quarter that most recently ended."""
        initial = {"period": request.GET.get("period") or getattr(ReportingPeriod.objects.current(), "pk", None)}
        if request.GET.get(subject):
            initial[subject] = request.GET[subject]
        return initial


class ReportRequestView(ReportListView):
    """Ask for a report (POST): it is queued and the person is taken to its progress page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        kind = request.POST.get("kind")
        if kind not in FORMS:
            raise Http404("There is no such kind of report.")
        form = FORMS[kind](request.POST, user=request.user)
        if form.is_valid():
            try:
                report = report_services.request_report(
                    request.user, kind=kind, period=form.cleaned_data["period"], subject=form.subject
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                return redirect(report)
        forms_given = {"committee_form": form} if kind == ReportKind.COMMITTEE else {"provider_form": form}
        return self.show(request, form=form, **forms_given)


class ReportMixin(LoginRequiredMixin):
    def get_report(self) -> AssuranceReport:
        """The report, if the person may see it; another organisation's report is not found (404)."""
        return get_object_or_404(visible_reports(self.request.user), pk=self.kwargs["pk"])


class ReportDetailView(ReportMixin, View):
    """A report's progress: queued, being made (the page refreshes itself), ready to download, or failed and why."""

    template_name = "reviews/reports/report_detail.html"

    def get(self, request, *args, **kwargs):
        report = self.get_report()
        retry_form = None
        if report.state == ReportState.FAILED:
            data = {"kind": report.kind, "period": report.period_id}
            retry_form = {"prefix": report.kind, "subject": report.subject.pk, **data}
        return render(
            request,
            self.template_name,
            {
                "report": report,
                "progress": pack_progress(report),
                "in_progress": not report.is_finished,
                "retry": retry_form,
                "breadcrumbs": [
                    ("Assurance reports", reverse("reviews:report_list")),
                    (report.get_kind_display(), None),
                ],
            },
        )


class ReportDownloadView(ReportMixin, View):
    """The report's file as stored when it was made, byte for byte, as an attachment; never from a public path."""

    def get(self, request, *args, **kwargs):
        report = self.get_report()
        if report.state != ReportState.READY:
            return redirect(report)
        return pdf_download(report)


def pack_progress(report: AssuranceReport) -> dict | None:
    """A committee pack's parts: how many are done of how many, and its front section and annex (for their
    downloads, offered as soon as each is made, unless the pack failed). One query; None for a provider report."""
    if report.kind != ReportKind.COMMITTEE:
        return None
    counts = {"total": 0, "done": 0, "failed": 0, "reused": 0}
    whole = {}
    rows = report.parts.values_list("pk", "kind", "state", "size", "page_count", "reused_from_id").order_by()
    for pk, kind, state, size, pages, reused in rows:
        counts["total"] += 1
        counts["done"] += state == ReportState.READY
        counts["failed"] += state == ReportState.FAILED
        counts["reused"] += reused is not None
        if kind != ReportPartKind.APPENDIX:
            whole[kind] = {"pk": pk, "ready": state == ReportState.READY, "size": size, "pages": pages}
    offered = report.state != ReportState.FAILED
    return {
        **counts,
        "front": whole.get(ReportPartKind.FRONT) if offered else None,
        "annex": whole.get(ReportPartKind.ANNEX) if offered else None,
    }


class ReportPartDownloadView(ReportMixin, View):
    """One part of a committee pack (its front section, annex or a provider's appendix) as stored, as an attachment,
    once made; a part of a pack that failed is not offered (its report's page says why)."""

    def get(self, request, *args, **kwargs):
        report = self.get_report()
        part = get_object_or_404(ReportPart.objects.select_related("provider"), report=report, pk=self.kwargs["part"])
        if part.state != ReportState.READY or report.state == ReportState.FAILED:
            return redirect(report)
        return part_download(report, part)


def part_download(report: AssuranceReport, part: ReportPart) -> FileResponse:
    """A ready part's file, byte for byte as stored, as a private attachment (the page's and the API's download)."""
    try:
        stream = part.file.open("rb")
    except FileNotFoundError:
        raise Http404("The part's file is no longer in storage.") from None
    suffix = {"front": "front-section", "annex": "annex"}.get(part.kind) or f"appendix-{part.provider.ods_code}"
    response = FileResponse(stream, as_attachment=True, filename=f"{report.stem}-{suffix}.{part.extension}",
                            content_type=part.content_type)  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def pdf_download(report: AssuranceReport) -> FileResponse:
    """A ready report's file, byte for byte as stored, as a private attachment (the page's and the API's download):
    a provider report's PDF, or a committee report's pack (zip)."""
    try:
        stream = report.file.open("rb")
    except FileNotFoundError:
        raise Http404("The report's file is no longer in storage.") from None
    kind = "application/zip" if report.kind == ReportKind.COMMITTEE else "application/pdf"
    response = FileResponse(stream, as_attachment=True, filename=report.filename, content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
