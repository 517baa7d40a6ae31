"""Root URLs: the app's pages, Django admin, and the REST API under /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.routers import DefaultRouter

from standards import api as standards_api
from standards import views as standards_views

router = DefaultRouter()
standards_api.register(router)

urlpatterns = [
    path("", standards_views.home, name="home"),
    path("accounts/", include("assurance.account_urls")),
    path("", include("standards.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
]
