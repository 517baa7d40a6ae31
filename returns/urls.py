"""Pages of returns: the list, each return's form, its submission, versions, revision, evidence and workbook."""

from django.urls import path

from . import views

app_name = "returns"
urlpatterns = [
    path("returns/", views.ReturnListView.as_view(), name="return_list"),
    path("returns/start/", views.StartReturnView.as_view(), name="return_start"),
    path("returns/<int:pk>/", views.ReturnDetailView.as_view(), name="return_detail"),
    path("returns/<int:pk>/submit/", views.SubmitView.as_view(), name="return_submit"),
    path("returns/<int:pk>/confirm-carried/", views.ConfirmCarriedView.as_view(), name="confirm_carried"),
    path("returns/<int:pk>/submissions/<int:number>/", views.SubmissionDetailView.as_view(), name="submission_detail"),
    path("returns/<int:pk>/return-for-revision/", views.ReturnForRevisionView.as_view(), name="return_for_revision"),
    path("returns/<int:pk>/workbook.xlsx", views.WorkbookDownloadView.as_view(), name="workbook_download"),
    path("returns/<int:pk>/workbook/", views.WorkbookUploadView.as_view(), name="workbook_upload"),
    path("evidence/<int:pk>/", views.EvidenceDownloadView.as_view(), name="evidence_download"),
]
