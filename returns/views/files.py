"""Files of a return: evidence downloads from private storage, and the return as an Excel workbook, both ways."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views import View

from providers.scoping import restrict_by_period

from ..excel import WorkbookProblems, build_workbook, read_workbook
from ..forms import WorkbookUploadForm
from ..models import Evidence, Return
from ..services import may
from .common import ReturnMixin
from .page import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class EvidenceDownloadView(LoginRequiredMixin, View):
    """An evidence file, streamed from private storage only to people who may see its return (others: 404)."""

    def get(self, request, *args, **kwargs):
        visible = restrict_by_period(
            Evidence.objects.select_related("answer__provider_return"),
            request.user,
            "view",
            provider_field="answer__provider_return__provider",
            period_field="answer__provider_return__period",
        )
        evidence = get_object_or_404(visible, pk=kwargs["pk"])
        try:
            stream = evidence.file.open("rb")
        except FileNotFoundError:
            raise Http404("The file is no longer in storage.") from None
        response = FileResponse(
            stream, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


def workbook_filename(provider_return: Return) -> str:
    period = provider_return.period
    year = period.financial_year_label.replace("/", "-")
    return f"{provider_return.provider.ods_code}-return-{year}-Q{period.quarter}.xlsx"


class WorkbookDownloadView(ReturnMixin, View):
    """The return as an Excel workbook, pre-filled with its answers, for anyone who may see the return."""

    def get(self, request, *args, **kwargs):
        provider_return = self.get_return()
        response = HttpResponse(build_workbook(provider_return), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{workbook_filename(provider_return)}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class WorkbookUploadView(ReturnMixin, View):
    """Upload a filled workbook into the draft: all of it, or nothing and every problem listed."""

    template_name = "returns/workbook_upload.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.provider_return = self.get_return()
            if not may(request.user, self.provider_return, "edit_return"):
                raise PermissionDenied("You cannot change this provider's return.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.show(WorkbookUploadForm())

    def post(self, request, *args, **kwargs):
        form = WorkbookUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.show(form)
        try:
            result = read_workbook(self.provider_return, form.cleaned_data["workbook"], by=request.user)
        except WorkbookProblems as refused:
            return self.show(form, refused.problems)
        count = len(result.saved)
        changed = f"{count} answer{'' if count == 1 else 's'} changed" if count else "no answer changed"
        messages.success(request, f"The workbook is imported: {changed}.")
        if result.warnings:
            messages.warning(
                request,
                f"{len(result.warnings)} figure{' is' if len(result.warnings) == 1 else 's are'} far from your "
                "recent ones. Check them below, and tick “Yes, this figure is right” where they are.",
            )
        return HttpResponseRedirect(self.provider_return.get_absolute_url())

    def show(self, form, refused: list[str] | None = None):
        problems = [Problem(error, "id_workbook") for error in form.errors.get("workbook", [])]
        return render(
            self.request,
            self.template_name,
            {
                "provider_return": self.provider_return,
                "upload_form": form,
                "problems": problems,
                "refused": refused or [],
                "breadcrumbs": self.crumbs(self.provider_return, ("Upload a workbook", None)),
            },
        )
