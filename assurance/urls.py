"""Root URLs: the app's pages, Django admin, and the REST API under /api/v1/."""

from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.routers import DefaultRouter

from providers import api as providers_api
from providers import views as providers_views
from returns import api as returns_api
from reviews import api as reviews_api
from standards import api as standards_api

router = DefaultRouter()
standards_api.register(router)
providers_api.register(router)
returns_api.register(router)
reviews_api.register(router)

#: Redoc, which draws the API's documentation page, comes from its CDN with Google's fonts and sets its own styles and
#: a search worker; only that page's policy allows them.
REDOC_POLICY = {
    "script-src": ["https://cdn.jsdelivr.net"],
    "style-src": ["'unsafe-inline'", "https://fonts.googleapis.com"],
    "font-src": ["https://fonts.gstatic.com"],
    "worker-src": ["blob:"],
}
api_docs = csp_update(REDOC_POLICY)(SpectacularRedocView.as_view(url_name="api-schema"))

urlpatterns = [
    path("", providers_views.home, name="home"),
    path("accounts/", include("assurance.account_urls")),
    path("", include("standards.urls")),
    path("", include("providers.urls")),
    path("", include("returns.urls")),
    path("", include("reviews.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", api_docs, name="api-docs"),
]
