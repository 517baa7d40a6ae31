"""Pages of reviews: dashboards, completeness, trends, a return's review, action plans and assurance reports."""

from django.urls import path

from .views import dashboards, moderation, reports, review

app_name = "reviews"

# Dashboards, completeness and trends: reviews/views/dashboards.py
dashboard_patterns = [
    path("reviews/dashboard/", dashboards.dashboard, name="dashboard"),
    path("reviews/dashboard/frameworks/<slug:code>/", dashboards.dashboard_framework, name="dashboard_framework"),
    path("reviews/completeness/", dashboards.completeness, name="completeness"),
    path("reviews/completeness/remind/", dashboards.remind, name="completeness_remind"),
    path("reviews/trends/<int:provider>/", dashboards.trend, name="trend"),
]

# Self-assessments beside reviewers' judgements: reviews/views/moderation.py
moderation_patterns = [
    path("reviews/moderation/", moderation.moderation, name="moderation"),
]

# A return's review, answers and action plans: reviews/views/review.py
review_patterns = [
    path("reviews/returns/<int:pk>/", review.ReturnReviewView.as_view(), name="return_review"),
    path("reviews/returns/<int:pk>/accept/", review.ReturnAcceptView.as_view(), name="return_accept"),
    path("reviews/returns/<int:pk>/answers/<str:code>/", review.AnswerReviewView.as_view(), name="answer_review"),
    path("reviews/returns/<int:pk>/answers/<str:code>/agree/", review.AnswerAgreeView.as_view(), name="answer_agree"),
    path(
        "reviews/returns/<int:pk>/answers/<str:code>/override/",
        review.AnswerOverrideView.as_view(),
        name="answer_override",
    ),
    path(
        "reviews/returns/<int:pk>/answers/<str:code>/comment/",
        review.AnswerCommentView.as_view(),
        name="answer_comment",
    ),
    path("reviews/actions/", review.ActionListView.as_view(), name="action_list"),
    path("reviews/actions/<int:pk>/", review.ActionFollowUpView.as_view(), name="action_follow_up"),
]

# Assurance reports: reviews/views/reports.py
report_patterns = [
    path("reviews/reports/", reports.ReportListView.as_view(), name="report_list"),
    path("reviews/reports/new/", reports.ReportRequestView.as_view(), name="report_request"),
    path("reviews/reports/<int:pk>/", reports.ReportDetailView.as_view(), name="report_detail"),
    path("reviews/reports/<int:pk>/download/", reports.ReportDownloadView.as_view(), name="report_download"),
    path(
        "reviews/reports/<int:pk>/parts/<int:part>/download/",
        reports.ReportPartDownloadView.as_view(),
        name="report_part_download",
    ),
]

urlpatterns = dashboard_patterns + moderation_patterns + review_patterns + report_patterns
