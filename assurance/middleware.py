"""Response headers that Django's own SecurityMiddleware and django-csp do not set, and compression of text."""

from django.conf import settings
from django.middleware.gzip import GZipMiddleware


class PermissionsPolicyMiddleware:
    """Sends ``Permissions-Policy``, switching off browser features the app never uses (``PERMISSIONS_POLICY``),
    so that a page, or anything injected into one, cannot ask for the camera, the microphone, the location..."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for text only: HTML pages, JSON and other text answers are compressed when the
    browser accepts gzip; files that are already compressed (PDF reports, Excel workbooks, images, evidence
    documents) are sent as they are, as compressing them again costs CPU and saves nothing.

    BREACH: Django masks the CSRF token afresh in every response and pads each compressed response with random
    bytes (Django 4.2+), so a secret on a page does not show through the compressed length.
    """

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if not (content_type.startswith("text/") or content_type in COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)


#: The types besides ``text/*`` worth compressing: JSON (the API, its schema), JavaScript, XML.
COMPRESSED_TYPES = frozenset(
    {"application/json", "application/vnd.oai.openapi+json", "application/javascript", "application/xml"}
)
