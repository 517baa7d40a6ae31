"""The catalogue's pages, under ``/catalogue/``."""

from django.urls import path

from . import views

app_name = "standards"
urlpatterns = [
    path("catalogue/", views.FrameworkListView.as_view(), name="framework_list"),
    path("catalogue/frameworks/<int:pk>/", views.FrameworkDetailView.as_view(), name="framework_detail"),
    path("catalogue/standards/<int:pk>/", views.StandardDetailView.as_view(), name="standard_detail"),
    path("catalogue/metrics/", views.MetricListView.as_view(), name="metric_list"),
    path("catalogue/metrics/<int:pk>/", views.MetricDetailView.as_view(), name="metric_detail"),
]
